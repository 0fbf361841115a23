"""`alvh diff OLD NEW`: two versions of a book over one history (docs/diff.md)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

import alvh_dsl
from alvh_dsl.cli import cli
from alvh_dsl.dryrun.diff import DiffResult, same_decision
from alvh_dsl.errors import RulebookError
from alvh_dsl.revisions import RevisionError, parse_book_ref

BOOKS = Path(__file__).parent / "books" / "diff"
OLD, NEW = str(BOOKS / "old.alvh"), str(BOOKS / "new.alvh")
WINDOW = {"start": "2010-01-01", "end": "2010-12-31"}
CLI_WINDOW = ["--from", "2010-01-01", "--to", "2010-12-31"]


@pytest.fixture(scope="module")
def changed() -> DiffResult:
    # The two books differ in one threshold: take profit at 30 % of the credit, not 50 %.
    return alvh_dsl.diff(OLD, NEW, **WINDOW)


def test_a_threshold_change_shows_on_the_days_it_decides(changed: DiffResult) -> None:
    assert changed.changed
    counts = changed.counts
    assert counts["days"] == 252
    assert counts["days_differing"] == len(changed.days) > 0
    first = changed.days[0]
    assert counts["first_difference"] == first["date"]
    take = next(c for c in first["rules"] if c["rule"] == "take_profit")
    # NEW takes profit first; OLD's side says why it did not, with the values that decided.
    assert take["change"] == "only_new"
    assert take["new"]["status"] == "fired"
    assert take["new"]["actions"][0]["text"] == "close condor"
    assert take["old"]["status"] == "not_met"
    assert take["old"]["trace"]["expr"] == "condor.pnl >= 50% of condor.credit"
    assert take["new"]["trace"]["expr"] == "condor.pnl >= 30% of condor.credit"
    pnl = [c for c in take["old"]["trace"]["children"] if c["expr"] == "condor.pnl"]
    assert pnl == [c for c in take["new"]["trace"]["children"] if c["expr"] == "condor.pnl"]
    kinds = [c["change"] for d in changed.days for c in d["rules"]]
    assert kinds.count("only_old") == counts["decisions_only_old"]
    assert kinds.count("only_new") == counts["decisions_only_new"]
    rules = {r["rule"]: r for r in changed.rules}
    assert rules["take_profit"]["new"] > rules["take_profit"]["old"]


def action(status: str, budget: float, text: str = "buy VIX call spread 25/35 month 2") -> dict:
    return {"kind": "buy_call_spread", "text": text, "args": {"budget": budget},
            "status": status, "fill": f"{budget}", "trades": []}  # fmt: skip


def test_what_makes_two_decisions_the_same() -> None:
    def fired(*actions: dict) -> dict:
        return {"status": "fired", "actions": list(actions)}

    # fills and trade IDs follow from the positions held: never a difference
    assert same_decision(
        fired(action("apply", 50.0)), fired({**action("apply", 50.0), "fill": "x"})
    )
    # another resolved argument that was carried out: a difference
    assert not same_decision(fired(action("apply", 50.0)), fired(action("apply", 40.0)))
    # ... but not when the action did nothing on either side
    assert same_decision(fired(action("unfilled", 50.0)), fired(action("unfilled", 40.0)))
    assert not same_decision(fired(action("unfilled", 50.0)), fired(action("apply", 40.0)))
    assert not same_decision(fired(action("superseded", 50.0)), fired(action("apply", 50.0)))
    other = action("unfilled", 50.0, text="buy VIX call spread 30/40 month 2")
    assert not same_decision(fired(action("unfilled", 50.0)), fired(other))


def test_figures_are_new_minus_old_and_say_what_they_rest_on(changed: DiffResult) -> None:
    figures = {f["key"]: f for f in changed.figures}
    pnl = figures["total_pnl"]
    assert pnl["old"] == changed.old_run.summary["total_pnl"]
    assert pnl["new"] == changed.new_run.summary["total_pnl"]
    assert pnl["difference"] == pytest.approx(pnl["new"] - pnl["old"])
    assert pnl["days"] == {"old": 252, "new": 252}
    gamma = figures["near_expiry_mean_short_eff_gamma"]
    assert gamma["rests_on"] == "near_expiry"
    assert gamma["days"]["new"] == changed.new_run.summary["near_expiry_days"]
    assert changed.paired["total_pnl_difference"] == pytest.approx(pnl["difference"])


def test_json_round_trips_and_is_versioned(changed: DiffResult) -> None:
    text = changed.to_json()
    doc = json.loads(text)
    assert doc == json.loads(json.dumps(changed.to_dict(), default=str))
    assert doc["format"] == "alvh-diff/1"
    assert json.dumps(doc, sort_keys=True, indent=2, ensure_ascii=False) == text
    assert set(doc) == {"format", "changed", "old", "new", "history", "config", "counts",
                        "figures", "paired", "rules", "days"}  # fmt: skip
    assert doc["old"]["sha256"] != doc["new"]["sha256"]


def test_text_and_repr(changed: DiffResult) -> None:
    text = changed.to_text(limit=1)
    assert f"Decisions differ on {changed.counts['days_differing']} of 252 days" in text
    assert "take_profit  only in NEW" in text
    assert "more day(s)" in text
    assert "days differ" in repr(changed) and "old.alvh" in repr(changed)


def test_html_is_self_contained(changed: DiffResult) -> None:
    page = changed.to_html()
    assert page.startswith("<!DOCTYPE html>")
    assert "<style>" in page
    for forbidden in ("<script", "http://", "https://", "src=", "<link", "@import", "url("):
        assert forbidden not in page, forbidden
    assert "take_profit" in page and "condor.pnl &gt;= 30% of condor.credit" in page


def test_identical_books_say_no_difference(tmp_path: Path) -> None:
    copy = tmp_path / "same.alvh"
    shutil.copy(OLD, copy)
    result = alvh_dsl.diff(OLD, copy, start="2010-01-01", end="2010-03-31")
    assert not result.changed and result.days == []
    assert result.to_text().splitlines()[4].startswith("No difference")
    assert result.old.sha256 == result.new.sha256  # the hash ignores where the file is
    runner = CliRunner()
    args = ["diff", OLD, str(copy), "--from", "2010-01-01", "--to", "2010-03-31"]
    done = runner.invoke(cli, [*args, "--fail-on-change"])
    assert done.exit_code == 0, done.output
    assert "No difference" in done.output


def test_cli_formats_and_fail_on_change(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "diff.json"
    done = runner.invoke(cli, ["diff", OLD, NEW, *CLI_WINDOW, "--format", "json", "-o", str(out)])
    assert done.exit_code == 0, done.output
    assert json.loads(out.read_text())["changed"] is True
    done = runner.invoke(cli, ["diff", OLD, NEW, *CLI_WINDOW, "--fail-on-change", "--limit", "1"])
    assert done.exit_code == 1
    assert "Days on which decisions differ" in done.output


@pytest.mark.parametrize(
    "args",
    [
        ["diff", OLD],  # one book
        ["diff", OLD, "missing.alvh"],
        ["diff", OLD, NEW, "--from", "2010-13-01"],
        ["diff", OLD, NEW, "--from", "2011-01-01", "--to", "2010-01-01"],
        ["diff", OLD, NEW, "--gaps", "ffill"],
        ["diff", OLD, NEW, "--from", "1990-01-01", "--to", "1990-02-01"],  # no trading day
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    assert CliRunner().invoke(cli, args).exit_code == 2


def test_the_docs_example_is_what_the_command_prints(monkeypatch: pytest.MonkeyPatch) -> None:
    root = Path(__file__).parents[1]
    doc = (root / "docs" / "diff.md").read_text(encoding="utf-8")
    example = doc.split("<!-- diff-example -->\n```\n", 1)[1].split("\n```", 1)[0] + "\n"
    monkeypatch.chdir(root)
    books = ["tests/books/diff/old.alvh", "tests/books/diff/new.alvh"]
    done = CliRunner().invoke(
        cli, ["diff", *books, "--from", "2010-01-01", "--to", "2010-03-31", "--limit", "1"]
    )
    assert done.exit_code == 0, done.output
    assert done.output == example


# ------------------------------------------------------------------ git revisions


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}  # fmt: skip
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True, env=env
    )
    return done.stdout.strip()


BOOK = """rulebook "git book" version "1"
include "lib/params.alvh"
param entry_dte   = 45 days
param short_delta = 0.16
param wing_width  = 50 points
rule open_condor "Open"
  when condor.count == 0
  then open iron condor near entry_dte short delta short_delta wings wing_width
rule take_profit "Take profit"
  when condor.pnl >= profit of condor.credit
  then close condor
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    root = tmp_path / "desk"
    (root / "books" / "lib").mkdir(parents=True)
    git(root, "init", "-q")
    (root / "books" / "book.alvh").write_text(BOOK)
    (root / "books" / "lib" / "params.alvh").write_text("param profit = 50%\n")
    git(root, "add", ".")
    git(root, "commit", "-q", "-m", "v1")
    (root / "books" / "lib" / "params.alvh").write_text("param profit = 30%\n")
    git(root, "commit", "-q", "-am", "v2")
    (root / "books" / "lib" / "params.alvh").write_text("param profit = 20%\n")  # uncommitted
    monkeypatch.chdir(root)
    return root


def test_a_revision_is_read_with_its_includes_at_that_revision(repo: Path) -> None:
    v1 = git(repo, "rev-parse", "--short", "HEAD~1")
    result = alvh_dsl.diff("books/book.alvh@HEAD~1", "books/book.alvh", **WINDOW)
    assert result.old.display == f"books/book.alvh@HEAD~1 ({v1})"
    assert result.old.commit == git(repo, "rev-parse", "HEAD~1")
    assert set(result.old.files) == {"books/book.alvh@HEAD~1", "books/lib/params.alvh@HEAD~1"}
    assert result.old.params["profit"] == "50%"  # v1's library, not the working tree's 20%
    assert result.new.params["profit"] == "20%"
    assert result.changed
    # HEAD is v2 (30%): its own library at its own revision
    head = alvh_dsl.diff("books/book.alvh@HEAD", "books/book.alvh@HEAD~1", start="2010-01-01",
                         end="2010-02-26")  # fmt: skip
    assert head.old.params["profit"] == "30%" and head.new.params["profit"] == "50%"


def test_the_cli_names_revisions(repo: Path) -> None:
    done = CliRunner().invoke(cli, ["diff", "books/book.alvh@HEAD~1", "books/book.alvh",
                                    "--from", "2010-01-01", "--to", "2010-03-31"])  # fmt: skip
    assert done.exit_code == 0, done.output
    assert re.search(r"OLD  books/book.alvh@HEAD~1 \([0-9a-f]{7,}\)", done.output)


def test_errors_in_an_old_revision_name_the_revision(repo: Path) -> None:
    (repo / "books" / "book.alvh").write_text(BOOK.replace("when condor.count", "when condor.cont"))
    git(repo, "commit", "-q", "-am", "broken")
    with pytest.raises(RulebookError) as info:
        alvh_dsl.diff("books/book.alvh@HEAD", "books/book.alvh@HEAD~1")
    assert "books/book.alvh@HEAD:" in str(info.value)
    assert "alvh-diff-" not in str(info.value)  # never the temporary copy


@pytest.mark.parametrize(
    ("argument", "message"),
    [
        ("books/book.alvh@nosuchrev", "unknown revision `nosuchrev`"),
        ("books/other.alvh@HEAD", "`books/other.alvh` is not in that revision"),
        ("books/book.alvh@--output=x", "is not a revision"),
        ("books/lib@HEAD", "is a directory"),
    ],
)
def test_bad_revisions_are_e605(repo: Path, argument: str, message: str) -> None:
    with pytest.raises(RevisionError) as info:
        alvh_dsl.diff(argument, "books/book.alvh")
    (diag,) = info.value.diagnostics
    assert diag.code == "E605"
    assert message in diag.message and argument in str(info.value)


def test_outside_a_repository_and_without_git(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    if shutil.which("git") is None:
        pytest.skip("git is not installed")
    shutil.copy(OLD, tmp_path / "b.alvh")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    done = CliRunner().invoke(cli, ["diff", "b.alvh@HEAD", "b.alvh"])
    assert done.exit_code == 1
    assert "E605" in done.output and "not a git repository" in done.output.lower()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(RevisionError, match="git is not installed"):
        alvh_dsl.diff("b.alvh@HEAD", "b.alvh")


def test_book_references() -> None:
    assert parse_book_ref("a.alvh@HEAD@{1}").revision == "HEAD@{1}"
    assert parse_book_ref("x/a.alvh@main").path == "x/a.alvh"
    assert parse_book_ref(OLD).revision is None
    assert parse_book_ref("plain.alvh").revision is None


# ------------------------------------------------------------------ real history


def test_real_history_roll_dte(shared_dir: Path, tmp_path: Path) -> None:
    history = shared_dir / "data" / "history_2004_2023.csv"
    if not history.exists():
        pytest.skip("no real history in ../shared")
    core = Path(__file__).parents[1] / "rulebooks" / "alvh_core.alvh"
    changed_book = tmp_path / "alvh_core.alvh"
    changed_book.write_text(
        core.read_text().replace("roll_dte     = 7 days", "roll_dte     = 5 days")
    )
    result = alvh_dsl.diff(core, changed_book, history, gaps="ffill", start="2008-01-01",
                           end="2008-12-31")  # fmt: skip
    assert result.changed and not result.history["synthetic"]
    rolls = [c for d in result.days for c in d["rules"] if c["rule"] == "roll_forward"]
    assert rolls and all(c["old"]["status"] != c["new"]["status"] or c["change"] == "changed"
                         for c in rolls)  # fmt: skip
