"""The shortcuts of the name, depth and action passes at 100,000 rules (issue 10 item 5).

:func:`alvh_dsl.lang.check.names.statement_uses` reads a rule's fields directly rather
than through the generic :func:`alvh_dsl.lang.ast.statement_exprs`, and reads leaves in
their parent's loop; these tests hold it to a plain walk of every statement, for every
kind of statement, action, expiry reference and expression. ``check_actions`` checks an
action whose arguments are leaves once per key (class, arguments given, their constant
values): the tests below pin what the key must tell apart.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from alvh_dsl.api import check
from alvh_dsl.lang import ast as A
from alvh_dsl.lang.check.analysis import Analysis
from alvh_dsl.lang.check.names import name_depths, statement_uses
from alvh_dsl.lang.construct import construct
from alvh_dsl.lang.loader import load_program
from alvh_dsl.lang.program import Program

ROOT = Path(__file__).resolve().parents[1]

# Every action, both expiry references, `unless`, a cooldown, and every expression class.
EVERY_SHAPE = """\
rulebook "shapes"
param trigger = 22
param wide = 50 points
define stressed = VIX > trigger or not (VIX.M1 > VIX.M2)
define far = -(SPX - SMA(SPX, 20)) / 2 > 10 and VIX crosses above VIX.M1
rule a priority 1
  when stressed and condor.DTE < 12d
  unless VIX between trigger and 40
  then open iron condor near 45 days short delta 0.16 wings wide quantity 2
  cooldown 5 days
rule b
  when far then open iron condor month 2 short delta 0.1 wings 25 points
rule c
  when abs(book.delta) > trigger then roll condor to month 3 keeping delta
rule d
  when VIX > 30 then close 50% of hedge month 2
  then shift 25% hedge from month 1 to month 3
rule e
  when max(VIX, 30) > trigger then buy 2 VIX futures month 2
  then sell VIX future month 3
  then buy 3 VIX call spread 25/35 month 2
  then buy VIX call spread 25/35 month 3 costing 2% of equity
  then alert "look"
rule f
  when VIX < trigger then close condor
"""


def _reference(stmt: A.StatementNode) -> tuple[int, list[A.Name], list[int]]:
    """A plain recursive walk of the generic statement_exprs, each name with its depth."""
    names: list[A.Name] = []
    depths: list[int] = []

    def walk(node: A.Node, d: int) -> int:
        if type(node) is A.Name:
            names.append(node)
            depths.append(d)
        return max([d, *(walk(k, d + 1) for k in A.children(node))])

    deepest = max([0, *(walk(e, 1) for e in A.statement_exprs(stmt))])
    return deepest, names, depths


def _books() -> list[Program]:
    books = [load_program("shapes.alvh", EVERY_SHAPE)]
    books += [load_program(p) for p in sorted((ROOT / "rulebooks").glob("*.alvh"))]
    return books


@pytest.mark.parametrize("program", _books(), ids=lambda p: Path(p.root).name)
def test_statement_uses_are_a_plain_walk_of_every_statement(program: Program) -> None:
    assert not [d for d in program.diagnostics if d.is_error]
    uses = statement_uses(Analysis(program))
    assert len(uses) == len(program.statements)
    for stmt, (deepest, names) in zip(program.statements, uses, strict=True):
        want_deepest, want_names, want_depths = _reference(stmt)
        assert deepest == want_deepest
        assert names == [n.name for n in want_names]
        assert [(id(n), d) for n, d in name_depths(stmt)] == [
            (id(n), d) for n, d in zip(want_names, want_depths, strict=True)
        ]


def test_every_shape_is_in_the_book_the_walk_is_held_to() -> None:
    # The comparison above covers a class only if the book has one: a new action or
    # expression class must be added to EVERY_SHAPE.
    program = load_program("shapes.alvh", EVERY_SHAPE)
    seen = {type(n) for s in program.statements for n in A.walk(s)}
    assert set(A.ACTION_TYPES) | set(A.EXPR_TYPES) | {A.ByMonth, A.NearDays} <= seen
    rules = {s.id: s for s in program.statements if isinstance(s, A.Rule)}
    assert rules["a"].unless is not None and rules["a"].cooldown is not None


def test_a_tree_deeper_than_the_recursion_limit_is_walked_all_the_same() -> None:
    # The parser refuses such a tree; one built by hand is still checked (E407), not a crash.
    span = A.Span(file="t.alvh", line=1, column=1, end_line=1, end_column=2)
    expr: A.ExprNode = construct(A.Name, span=span, name="VIX")
    for _ in range(5000):
        expr = construct(A.Not, span=span, operand=expr)
    define = construct(A.Define, span=span, name="deep", name_span=span, expr=expr)
    program = Program(root="t.alvh", statements=[define])
    ((deepest, names),) = statement_uses(Analysis(program))
    assert deepest == 5001
    assert names == ["VIX"]


def _action_findings(*actions: str, params: str = "") -> list[tuple[str, int]]:
    rules = "".join(f"rule r{i}\n  when VIX > 1 then {a}\n" for i, a in enumerate(actions))
    found = check("t.alvh", text=params + rules)
    return [(d.code, d.span.line) for d in found if d.code in _ACTION_CODES]


_ACTION_CODES = {"E208", "W203", *(f"E3{n:02}" for n in range(5, 12))}  # check_actions' codes


@pytest.mark.parametrize(
    ("actions", "params", "want"),
    [
        # The same action twice, both wrong: each reports at its own line.
        (("close hedge month 12", "close hedge month 12"), "", [("E208", 2), ("E208", 4)]),
        # The same constants through a param: its value decides, not the node's class.
        (("close hedge month 2", "close hedge month m"), "param m = 12\n", [("E208", 5)]),
        # The same constant as `near D days` (fine) and then `month N` (beyond 9).
        (
            (
                "open iron condor near 20 days short delta 0.16 wings 50 points",
                "open iron condor month 20 short delta 0.16 wings 50 points",
            ),
            "",
            [("E208", 4)],
        ),
        # The same arguments but one missing (E305).
        (
            (
                "open iron condor month 1 short delta 0.16 wings 50 points",
                "open iron condor month 1 short delta 0.16",
            ),
            "",
            [("E305", 4)],
        ),
        # The same class, another constant.
        (("close hedge month 2", "close hedge month 12"), "", [("E208", 4)]),
        # The same constants in another class's fields.
        (("buy 12 VIX futures month 1", "close 100% of hedge month 12"), "", [("E208", 4)]),
        (("close hedge month 1", "shift 25% hedge to month 1"), "", [("E310", 4)]),
        # The same constants in the same order, one field over (the first has no quantity,
        # the second no short delta).
        (
            (
                "open iron condor month 1 short delta 0.16 wings 50 points",
                "open iron condor month 1 wings 0.16 quantity 50",
            ),
            "",
            [("E305", 4)],
        ),
    ],
)
def test_an_action_checked_once_per_key_reports_what_each_one_would(
    actions: tuple[str, ...], params: str, want: list[tuple[str, int]]
) -> None:
    assert _action_findings(*actions, params=params) == want


def test_names_before_and_after_the_last_declaration_report_as_they_did() -> None:
    # check_names reads the statements past the last param or define only through the
    # distinct names they use: a name nothing declares is still reported at every use.
    book = (
        "rule a\n  when calm then close condor\n"  # line 2: before its define (E102)
        "define calm = VIX < 15\n"
        "rule b\n  when calm and vix_level > 3 then close condor\n"  # line 5: unknown (E101)
        "rule c\n  when VIX > 20 then close condor\n"
        "rule d\n  when vix_level < 2 then close condor\n"  # line 9: unknown again
    )
    found = [(d.code, d.span.line) for d in check("t.alvh", text=book) if d.code[:3] == "E10"]
    assert found == [("E102", 2), ("E101", 5), ("E101", 9)]
