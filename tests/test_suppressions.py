"""Inline suppressions: `# alvh: ignore[CODE]`, what they cover, and W105 for the unused."""

from __future__ import annotations

from pathlib import Path

import pytest

from alvh_dsl.api import check_paths
from alvh_dsl.lang.ast import Span
from alvh_dsl.lang.diagnostics import Diagnostic

from .helpers import write

NEVER = "  when VIX > 30 and VIX < 20\n  then close hedge\n"  # W201 on the `when` line


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    (tmp_path / ".git").mkdir()
    return tmp_path


def run(repo: Path, text: str, **files: str) -> list[Diagnostic]:
    write(repo, {"a.alvh": text, **files})
    return check_paths([str(repo / "a.alvh")]).diagnostics


def where(ds: list[Diagnostic]) -> list[tuple[str, int, int]]:
    out = []
    for d in ds:
        assert isinstance(d.span, Span)
        out.append((d.code, d.span.line, d.span.column))
    return out


def test_a_trailing_suppression_covers_its_line_only(repo: Path) -> None:
    body = "param b = 2\nrule r\n  when VIX > 3 then close condor\n"
    assert where(run(repo, "param a = 1\n" + body)) == [("W102", 1, 7), ("W102", 2, 7)]
    assert where(run(repo, "param a = 1  # alvh: ignore[W102]\n" + body)) == [("W102", 2, 7)]


def test_several_codes_and_one_that_suppresses_nothing(repo: Path) -> None:
    text = "param a = 1  # alvh: ignore[W102, W201]\nrule r\n  when VIX > 3 then close condor\n"
    ds = run(repo, text)
    assert where(ds) == [("W105", 1, 35)]
    assert "`# alvh: ignore[W201]` suppresses nothing" in ds[0].message
    assert text.splitlines()[0][34:38] == "W201"


def test_an_own_line_suppression_covers_the_statement_that_follows(repo: Path) -> None:
    text = "# alvh: ignore[W201]  reviewed: kept as a placeholder\nrule n\n" + NEVER
    assert where(run(repo, text)) == []
    # ... and nothing after it
    text += "rule m\n" + NEVER
    assert where(run(repo, text)) == [("W201", 6, 8)]


def test_an_own_line_suppression_inside_a_rule_covers_the_rest_of_it(repo: Path) -> None:
    text = "rule n\n  # alvh: ignore[W201]\n" + NEVER
    assert where(run(repo, text)) == []
    text = (
        "rule n\n"
        + NEVER
        + "  # alvh: ignore[W201]\n"
        + "rule m\n  when VIX > 1 then close condor\n"
    )
    assert [c for c, *_ in where(run(repo, text))] == ["W201", "W105"]


def test_a_suppression_at_the_end_of_the_file_covers_nothing(repo: Path) -> None:
    ds = run(repo, "rule n\n" + NEVER + "# alvh: ignore[W201]\n")
    assert [d.code for d in ds] == ["W201", "W105"]
    assert "nothing follows" in (ds[1].help or "")


def test_errors_cannot_be_suppressed(repo: Path) -> None:
    ds = run(repo, "rule r\n  when VIX > nope then close condor  # alvh: ignore[E101]\n")
    assert [d.code for d in ds] == ["E101", "W105"]
    assert "errors cannot be suppressed" in ds[1].message


@pytest.mark.parametrize(
    ("comment", "words"),
    [
        ("# alvh: ignore W102", "not a suppression comment"),
        ("# alvh: ignroe[W102]", "not a suppression comment"),
        ("# alvh: ignore[W999]", "not a warning code"),
        ("# alvh: ignore[w102]", "not a warning code"),
        ("# alvh: ignore[W105]", "cannot be suppressed"),
    ],
)
def test_malformed_suppressions_are_w105(repo: Path, comment: str, words: str) -> None:
    ds = run(repo, f"param a = 1  {comment}\nrule r\n  when VIX > 3 then close condor\n")
    assert [d.code for d in ds] == ["W102", "W105"]
    assert words in ds[1].message


def test_other_comments_are_left_alone(repo: Path) -> None:
    ds = run(
        repo,
        "# a note about alvh: ignore[W102] in prose\nrule r\n  when VIX > 3 then close condor\n",
    )
    assert ds == []


def test_w105_is_not_ignored_by_the_config(repo: Path) -> None:
    ds = run(
        repo,
        "rule r  # alvh: ignore[W101]\n  when VIX > 3 then close condor\n",
        **{"alvh.toml": 'ignore = ["W1"]\n'},
    )
    assert [d.code for d in ds] == ["W105"]


def test_a_suppression_is_applied_before_the_config_filters(repo: Path) -> None:
    # the config ignoring W102 does not make the comment "unused"
    ds = run(repo, "param a = 1  # alvh: ignore[W102]\n", **{"alvh.toml": 'ignore = ["W104"]\n'})
    assert ds == []


def test_a_library_suppression_used_by_one_book_of_two_is_used(repo: Path) -> None:
    write(
        repo,
        {
            "lib.alvh": "param spare = 1  # alvh: ignore[W102]\n",
            "one.alvh": 'include "lib.alvh"\nrule r\n  when VIX > spare then close condor\n',
            "two.alvh": 'include "lib.alvh"\nrule r\n  when VIX > 3 then close condor\n',
        },
    )
    assert check_paths([str(repo)]).diagnostics == []
    assert check_paths([str(repo / "one.alvh")]).diagnostics != []  # one alone: it is unused


def test_no_w105_in_a_book_with_syntax_errors(repo: Path) -> None:
    ds = run(repo, "param a = 1  # alvh: ignore[W102]\nrule r\n  when VIX >> 3 then close condor\n")
    assert [d.code for d in ds] == ["E001"]
