"""What makes `alvh check` fast at 100,000 rules must not change what it reports (issue 10).

The timings are benchmarks/bench_scale.py's; these tests pin the shortcuts taken for them:
W202's conditions folded once per rule and compared pairwise without re-reading them, the
rest of a comparison window dropped once it has joined, W201 and W202 sharing one reading
of each condition, and the cyclic collector paused for a whole `alvh check`.
"""

from __future__ import annotations

import gc

import pytest
from click.testing import CliRunner

from alvh_dsl.api import check
from alvh_dsl.cli.main import cli


def _rules(*rows: tuple[str, str]) -> str:
    return "".join(
        f"rule r{i}\n  when {when} then {action}\n" for i, (when, action) in enumerate(rows)
    )


def _w202(book: str) -> list[str]:
    return [d.message for d in check("t.alvh", text=book) if d.code == "W202"]


_CLOSE, _ROLL2, _ROLL3 = "close condor", "roll condor to month 2", "roll condor to month 3"


def test_after_joining_one_rule_the_rest_of_the_window_is_still_compared() -> None:
    # r2 joins r0 first (the window's first text); r1, which cannot fire with r0, is still
    # compared with r2 and joins through it: one group of three, not two rules.
    book = _rules(("VIX > 30", _CLOSE), ("VIX < 20", _ROLL2), ("VIX > 10", _ROLL3))
    assert _w202(book) == [
        "rules `r0`, `r1` and `r2` have the same priority (0) and all act on the condor"
    ]


@pytest.mark.parametrize(
    ("first", "second", "conflict"),
    [
        ("VIX > 20", "VIX <= 20", False),  # a tie with one side exclusive: never both
        ("VIX >= 20", "VIX <= 20", True),  # both inclusive: VIX = 20
        ("VIX == 20", "VIX != 20", False),
        ("VIX > 20", "VIX >= 20 and VIX <= 20", False),  # ties: the exclusive bound wins
        ("VIX < 20", "VIX >= 20 and VIX <= 20", False),
        ("VIX >= 20", "VIX >= 20 and VIX <= 20", True),
        ("VIX >= 20 and VIX <= 20", "VIX != 20", False),
        ("VIX == 20", "VIX != 21", True),
        ("VIX between 10 and 20", "VIX > 20", False),
        ("VIX between 10 and 20", "VIX >= 20", True),
        ("VIX > 20 and VIX < 10", "SPX > 1", False),  # the first can never fire (W201)
        ("VIX > 20", "condor.DTE < 5d", True),  # different expressions bound nothing
    ],
)
def test_W202_skips_rules_that_cannot_fire_together_as_W201_reads_them(
    first: str, second: str, conflict: bool
) -> None:
    found = _w202(_rules((first, _CLOSE), (second, _ROLL2)))
    assert bool(found) == conflict, found


def test_W201_reads_a_condition_with_its_unless_after_W202_read_it_alone() -> None:
    # W202 reads r0's `when` alone (and caches it); W201 must still add the `unless`.
    book = _rules(("VIX > 30", _CLOSE), ("VIX > 20", _ROLL2)).replace(
        "then close condor", "unless VIX > 25 then close condor", 1
    )
    found = [d for d in check("t.alvh", text=book) if d.code == "W201"]
    assert [d.message for d in found] == ["rule `r0` can never fire: its `unless` always blocks it"]


def test_alvh_check_pauses_the_collector_until_the_report_is_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from alvh_dsl.lang import diagnostics

    seen: list[bool] = []
    real = diagnostics.to_json

    def spy(*args: object, **kwargs: object) -> str:
        seen.append(gc.isenabled())
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(diagnostics, "to_json", spy)
    assert gc.isenabled()
    book = _rules(("VIX > 30", _CLOSE))
    result = CliRunner().invoke(
        cli, ["check", "--format", "json", "--stdin-filename", "t.alvh", "-"], input=book
    )
    assert result.exit_code == 0, result.output
    assert seen == [False]  # off while the report is written
    assert gc.isenabled()  # and back on afterwards (tests run the CLI in one process)


def test_a_name_used_before_its_define_is_typed_from_the_define_on() -> None:
    # The inferrer keeps each name's type once it is final: not the "unknown yet" of a use
    # above the define, or the rule below would lose its W204 (a percentage read as 500%).
    book = (
        "rule a\n  when s > 5 then close condor\n"
        "define s = VIX.term_slope\n"
        "rule b\n  when s > 5 then close condor\n"
    )
    w204 = [d.span.line for d in check("t.alvh", text=book) if d.code == "W204"]
    assert w204 == [5]


def test_the_plain_comparison_shortcut_still_reports_what_compare_reports() -> None:
    # Comparisons of compatible units skip the full comparison check, except a percentage
    # against a bare number (W204) and anything true/false (E205) or incompatible (E201).
    book = (
        "rule a\n  when VIX.term_slope > 5 then close condor\n"
        "rule b\n  when VIX > 2 days then close condor\n"
        "rule c\n  when (VIX > 1) > 2 then close condor\n"
        "rule d\n  when VIX > 20 and VIX.term_slope < 5% then close condor\n"
    )
    found = sorted((d.span.line, d.code) for d in check("t.alvh", text=book) if d.code[0] in "EW")
    assert [(line, code) for line, code in found if code in ("W204", "E201", "E205")] == [
        (2, "W204"),
        (4, "E201"),
        (6, "E205"),
    ]


def _define_chain(n: int) -> str:
    """Defines d0..d{n-1}, each one `and` deeper than the last (d{i} is 2i + 2 deep)."""
    lines = ["define d0 = VIX > 1"]
    lines += [f"define d{i} = d{i - 1} and SPX > {i}" for i in range(1, n)]
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("nots", "levels"), [(0, None), (1, None), (2, 129), (3, 130)])
def test_a_shallow_rule_crossing_the_depth_limit_through_its_define_is_E407(
    nots: int, levels: int | None
) -> None:
    # E407 skips the names of a rule whose depth plus the deepest define's is within the
    # limit: d62 is 126 deep, so under two `not`s (the name 3 down) it is 129 > 128, and the
    # rule is read though it and its define are both within the limit on their own.
    book = _define_chain(63) + f"rule r\n  when {'not ' * nots}d62 then close condor\n"
    found = [d.message for d in check("t.alvh", text=book) if d.code == "E407"]
    deep = f"rule `r` is nested too deeply with its defines expanded ({levels} levels,"
    assert found == ([f"{deep} the limit is 128)"] if levels else [])


def test_W202_reads_one_rules_two_actions_on_a_target_in_the_order_their_texts_appeared() -> None:
    # W202 reads a group's actions as its rules are read, but one rule's two actions on the
    # condor in the order their texts first appeared there: r2's `close condor` (r0's text)
    # before its `roll ... 3`, so r2's first conflict is its close with r1, not its roll
    # with r0 (which cannot fire with r1).
    book = (
        "rule r0\n  when VIX > 30 then close condor\n"
        "rule r1\n  when VIX < 20 then roll condor to month 2\n"
        "rule r2\n  when SPX > 1 then roll condor to month 3 and close condor\n"
    )
    found = [d for d in check("t.alvh", text=book) if d.code == "W202"]
    assert [(d.span.line, d.span.column, d.related[0].message) for d in found] == [
        (6, 48, "`r1` acts on it here")
    ]


def test_W202_counts_a_never_true_condition_in_the_window_it_skips() -> None:
    # An entry whose condition is never true (W201) joins nothing and is skipped unread,
    # but it still takes its place in the window: r65's window is the 64 most recent
    # closes, r1..r64, so r0 is out of it; with one close fewer in between, r0 is in it.
    never = "VIX > 50 and VIX < 40"
    for between, found in ((63, True), (64, False)):
        rows = [("VIX > 30", _CLOSE), *[(never, _CLOSE)] * between, ("VIX > 35", _ROLL2)]
        last = f"r{between + 1}"
        expected = [
            f"rules `r0` and `{last}` have the same priority (0) and both act on the condor"
        ]
        assert _w202(_rules(*rows)) == (expected if found else []), between


_BY_PRIORITY = [
    (1, "VIX > 30", _CLOSE),
    (2, "VIX > 30", _CLOSE),
    (1, "VIX > 35", _ROLL2),
    (2, "VIX > 35", _ROLL2),
]


def test_W202_groups_one_written_action_by_each_rules_priority() -> None:
    # The same written action at two priorities: its text is read once, its entries are
    # each priority's own (two groups, not one of four rules).
    book = "".join(
        f"rule r{i} priority {p}\n  when {when} then {action}\n"
        for i, (p, when, action) in enumerate(_BY_PRIORITY)
    )
    assert _w202(book) == [
        "rules `r0` and `r2` have the same priority (1) and both act on the condor",
        "rules `r1` and `r3` have the same priority (2) and both act on the condor",
    ]


def test_W201_reports_each_rule_of_a_repeated_never_true_condition_at_its_own_place() -> None:
    # Rules written alike share one folded condition, but each W201 points at the rule's
    # own comparisons (and a book with no source text is read node by node, the same).
    book = _rules(("VIX > 30 and VIX < 20", _CLOSE), ("VIX > 30 and VIX < 20", _CLOSE))
    found = [d for d in check("t.alvh", text=book) if d.code == "W201"]
    assert [(d.span.line, d.span.column, d.related[0].span.line) for d in found] == [
        (2, 8, 2),
        (4, 8, 4),
    ]
    assert [d.help for d in found] == ["`VIX > 30` and `VIX < 20` cannot both hold"] * 2


def test_W201_and_W202_read_a_book_without_its_source_text_as_with_it() -> None:
    # Texts are read once per distinct written text; a book whose files' texts are not
    # at hand (a Program built from parsed files alone) is read node by node, the same.
    from alvh_dsl.lang.check import Analysis, run_checks
    from alvh_dsl.lang.loader import load_program

    book = _rules(
        ("VIX > 30", _CLOSE),
        ("VIX > 30 and VIX < 20", _ROLL2),
        ("VIX > 35", _ROLL2),
        ("VIX > 35", _ROLL2),
    )
    with_text = load_program("t.alvh", files={"t.alvh": book})
    without = load_program("t.alvh", files={"t.alvh": book})
    without.sources.clear()
    codes = ("W201", "W202")
    seen = [
        [(d.code, d.message, d.span, d.help) for d in run_checks(Analysis(p)) if d.code in codes]
        for p in (with_text, without)
    ]
    assert seen[0] == seen[1]
    assert [message for _code, message, *_ in seen[0]] == [
        "rule `r1` can never fire: its condition is never true",
        "rules `r0`, `r2` and `r3` have the same priority (0) and all act on the condor",
    ]
