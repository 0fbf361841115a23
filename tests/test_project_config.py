"""Project configuration (alvh.toml / [tool.alvh]) and the reverse includes of check_paths."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from alvh_dsl.api import check_paths
from alvh_dsl.cli.main import cli
from alvh_dsl.lang.diagnostics import DataSpan
from alvh_dsl.project import find_config, glob_match, load_project

from .helpers import codes, write

RULE = "rule r\n  when VIX > 1 then close condor\n"
# W101 (unnamed rule), W102 (unused param), W201 (never fires)
NOISY = (
    "param spare = 3\nwhen VIX > 2 close condor\n"
    "rule n\n  when VIX > 30 and VIX < 20\n  then close hedge\n"
)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A project directory that is a git root, so discovery stops there."""
    (tmp_path / ".git").mkdir()
    return tmp_path


def check(repo: Path, *names: str, **kw: object) -> list[str]:
    return codes(check_paths([str(repo / n) for n in names], **kw).diagnostics)  # type: ignore[arg-type]


def test_strict_comes_from_the_config(repo: Path) -> None:
    write(repo, {"a.alvh": NOISY})
    assert not check_paths([str(repo)]).strict
    write(repo, {"alvh.toml": "strict = true\n"})
    assert check_paths([str(repo)]).strict
    assert not check_paths([str(repo)], isolated=True).strict


def test_nearest_config_wins_and_pyproject_without_table_is_passed_over(repo: Path) -> None:
    write(
        repo,
        {
            "alvh.toml": 'ignore = ["W101"]\n',
            "desk/pyproject.toml": '[project]\nname = "desk"\n',
            "desk/a.alvh": NOISY,
            "other/pyproject.toml": '[tool.alvh]\nignore = ["W102"]\n',
            "other/a.alvh": NOISY,
        },
    )
    assert find_config(str(repo / "desk" / "a.alvh")) == str(repo / "alvh.toml")
    assert sorted(check(repo, "desk/a.alvh")) == ["W102", "W201"]
    assert sorted(check(repo, "other/a.alvh")) == ["W101", "W201"]
    # alvh.toml before pyproject.toml in the same directory
    write(repo, {"other/alvh.toml": 'ignore = ["W201"]\n'})
    assert sorted(check(repo, "other/a.alvh")) == ["W101", "W102"]


def test_discovery_stops_at_the_git_root(tmp_path: Path) -> None:
    write(tmp_path, {"alvh.toml": 'ignore = ["W1", "W2"]\n', "repo/a.alvh": NOISY})
    assert sorted(check(tmp_path, "repo/a.alvh")) == []
    (tmp_path / "repo" / ".git").mkdir()
    assert find_config(str(tmp_path / "repo" / "a.alvh")) is None
    assert sorted(check(tmp_path, "repo/a.alvh")) == ["W101", "W102", "W201"]


def test_select_and_ignore_take_prefixes_and_never_drop_errors(repo: Path) -> None:
    write(repo, {"a.alvh": NOISY + "when VIX > nope close condor\n"})
    write(repo, {"alvh.toml": 'select = ["W2"]\n'})
    assert sorted(check(repo, "a.alvh")) == ["E101", "W201"]
    write(repo, {"alvh.toml": 'ignore = ["W1", "W201"]\n'})
    assert check(repo, "a.alvh") == ["E101"]


def test_per_file_ignores_and_exclude_are_globs_relative_to_the_config(repo: Path) -> None:
    write(
        repo,
        {
            "desk/alvh.toml": (
                'exclude = ["drafts", "**/old_*.alvh"]\n'
                '[per-file-ignores]\n"books/*.alvh" = ["W101", "W102"]\n'
            ),
            "desk/books/a.alvh": NOISY,
            "desk/other/a.alvh": NOISY,
            "desk/drafts/deep/x.alvh": "when VIX > nope close condor\n",
            "desk/books/old_1.alvh": "when VIX > nope close condor\n",
        },
    )
    report = check_paths([str(repo / "desk")])
    assert sorted(Path(b).name for b in report.books) == ["a.alvh", "a.alvh"]
    by_file = {(Path(d.span.file).parent.name, d.code) for d in report.diagnostics}  # type: ignore[union-attr]
    assert ("books", "W201") in by_file and ("books", "W101") not in by_file
    assert ("other", "W101") in by_file
    # a file named on the command line is excluded too (pre-commit names every changed file)
    assert check_paths([str(repo / "desk" / "books" / "old_1.alvh")]).books == []


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("*.alvh", "a/b/c.alvh", True),  # no slash: a name at any depth
        ("books/*.alvh", "books/a.alvh", True),
        ("books/*.alvh", "books/sub/a.alvh", False),
        ("books/**/*.alvh", "books/sub/deep/a.alvh", True),
        ("books/**/*.alvh", "books/a.alvh", True),
        ("vendor", "vendor/x/y.alvh", True),  # a directory matches what is under it
        ("./lib/", "lib/a.alvh", True),
        ("lib_[ab].alvh", "lib_c.alvh", False),
        ("lib_[!ab].alvh", "lib_c.alvh", True),
        ("a?.alvh", "ab.alvh", True),
        ("a?.alvh", "a/.alvh", False),
    ],
)
def test_globs(pattern: str, path: str, hit: bool) -> None:
    assert glob_match(pattern, path) is hit


def test_default_params_apply_under_the_command_line(repo: Path) -> None:
    # W201 reads param values: with gate = 30 the condition cannot hold, with 25 it can
    book = "param gate = 30\nrule r\n  when VIX > gate and VIX < 28 then close condor\n"
    write(repo, {"a.alvh": book, "b.alvh": RULE})
    assert check(repo, "a.alvh") == ["W201"]
    write(repo, {"alvh.toml": "[params]\ngate = 25\nonly_in_a = 3\n"})
    # b declares neither: a project's defaults apply to the books that declare them
    assert check(repo, "a.alvh", "b.alvh") == []
    assert check(repo, "a.alvh", params={"gate": "31"}) == ["W201"]  # --param wins


def test_a_default_param_of_the_wrong_unit_is_e604_at_its_key(repo: Path) -> None:
    write(repo, {"a.alvh": "param gate = 30\nrule r\n  when VIX > gate then close condor\n"})
    write(repo, {"pyproject.toml": '[tool.alvh.params]\ngate = "5 days"\n'})
    report = check_paths([str(repo / "a.alvh")])
    (d,) = report.diagnostics
    assert d.code == "E604" and isinstance(d.span, DataSpan)
    assert d.span.path == "tool.alvh.params.gate"
    assert "plain number" in d.message
    # --param wins over the default: no complaint about the default then
    assert check_paths([str(repo / "a.alvh")], {"gate": "20"}).diagnostics == []


@pytest.mark.parametrize(
    ("text", "key", "words"),
    [
        ("strct = true\n", "strct", "Extra inputs"),
        ('strict = "yes"\n', "strict", "boolean"),
        ('ignore = ["E101"]\n', "ignore", "errors cannot be ignored"),
        ('select = ["W9"]\n', "select", "not a warning code"),
        ('ignore = ["W105"]\n', "ignore", "removing the suppression"),
        ('[per-file-ignores]\n"lib/*.alvh" = ["W1O1"]\n', 'per-file-ignores."lib/*.alvh"', "W1O1"),
        ("exclude = [1]\n", "exclude[0]", "string"),
        ("params = { x = nan }\n", "params.x", ""),
        ("strict = \n", None, "not valid TOML"),
    ],
)
def test_invalid_config_is_e604_with_the_key_path(
    repo: Path, text: str, key: str | None, words: str
) -> None:
    write(repo, {"alvh.toml": text, "a.alvh": NOISY})
    report = check_paths([str(repo / "a.alvh")])
    bad = [d for d in report.diagnostics if d.code == "E604"]
    assert bad, codes(report.diagnostics)
    assert isinstance(bad[0].span, DataSpan) and bad[0].span.file == str(repo / "alvh.toml")
    assert (bad[0].span.path or "").startswith(key or "") and (
        key is not None or bad[0].span.path is None
    )
    assert words in bad[0].message
    assert "W101" in codes(report.diagnostics)  # an invalid config is not applied
    assert report.errors  # and fails the check


def test_pyproject_keys_are_under_tool_alvh(repo: Path) -> None:
    write(repo, {"pyproject.toml": "[tool.alvh]\nstrict = 1\n"})
    project, problems = load_project(str(repo / "pyproject.toml"))
    assert [p.span.path for p in problems] == ["tool.alvh.strict"]  # type: ignore[union-attr]
    assert project.config.strict is False


def test_a_config_larger_than_the_limit_is_refused(repo: Path) -> None:
    write(repo, {"alvh.toml": "# x\n" * (2**20 // 4 + 1)})
    _, problems = load_project(str(repo / "alvh.toml"))
    assert [p.code for p in problems] == ["E604"] and "larger than" in problems[0].message


def test_config_option_names_one_file_for_every_path(repo: Path) -> None:
    write(repo, {"a.alvh": NOISY, "alvh.toml": 'ignore = ["W1"]\n', "ci.toml": 'ignore = ["W2"]\n'})
    assert sorted(check(repo, "a.alvh")) == ["W201"]
    assert sorted(check(repo, "a.alvh", config=str(repo / "ci.toml"))) == ["W101", "W102"]
    assert sorted(check(repo, "a.alvh", isolated=True)) == ["W101", "W102", "W201"]


# ------------------------------------------------------------------ reverse includes

LIB_BOOKS = {
    "books/main.alvh": 'include "lib/params.alvh"\nrule r\n  when VIX > gate then close condor\n',
    "books/lib/params.alvh": "param gate = 30\nparam spare = 2\n",
    "books/other.alvh": RULE,
}


def test_a_named_library_is_checked_through_the_books_that_include_it(repo: Path) -> None:
    write(repo, LIB_BOOKS)
    report = check_paths([str(repo / "books" / "lib" / "params.alvh")])
    assert [Path(b).name for b in report.books] == ["main.alvh"]
    assert "W102" not in codes(report.diagnostics)  # no spurious unused-param warning
    # a change to the library that breaks the book fails
    write(repo, {"books/lib/params.alvh": "param gait = 30\n"})
    report = check_paths([str(repo / "books" / "lib" / "params.alvh")])
    assert "E101" in codes(report.diagnostics) and report.errors


def test_nested_libraries_resolve_to_the_outermost_book(repo: Path) -> None:
    write(
        repo,
        {
            "main.alvh": 'include "mid.alvh"\n' + RULE,
            "mid.alvh": 'include "leaf.alvh"\n',
            "leaf.alvh": "param p = 1\n",
        },
    )
    assert [Path(b).name for b in check_paths([str(repo / "leaf.alvh")]).books] == ["main.alvh"]


def test_a_file_nobody_includes_is_checked_on_its_own(repo: Path) -> None:
    write(repo, LIB_BOOKS)
    report = check_paths([str(repo / "books" / "other.alvh")])
    assert [Path(b).name for b in report.books] == ["other.alvh"]


def test_an_excluded_book_does_not_claim_a_library(repo: Path) -> None:
    write(repo, {**LIB_BOOKS, "alvh.toml": 'exclude = ["books/main.alvh"]\n'})
    report = check_paths([str(repo / "books" / "lib" / "params.alvh")])
    assert [Path(b).name for b in report.books] == ["params.alvh"]


# ------------------------------------------------------------------------ the CLI


def alvh(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_cli_config_and_isolated(repo: Path) -> None:
    write(repo, {"a.alvh": NOISY, "alvh.toml": "strict = true\n", "lax.toml": "strict = false\n"})
    book = str(repo / "a.alvh")
    assert alvh("check", book).exit_code == 1  # strict from the project: warnings fail
    assert alvh("check", "--isolated", book).exit_code == 0
    assert alvh("check", "--config", str(repo / "lax.toml"), book).exit_code == 0
    both = alvh("check", "--isolated", "--config", str(repo / "lax.toml"), book)
    assert both.exit_code == 2 and "exclude each other" in both.output


def test_cli_a_file_excluded_by_the_config_passes(repo: Path) -> None:
    # pre-commit names every changed file: an excluded one is no failure
    write(repo, {"old.alvh": "when VIX > nope close condor\n", "alvh.toml": 'exclude = ["old*"]\n'})
    assert alvh("check", str(repo / "old.alvh")).exit_code == 0
    assert alvh("check", "--isolated", str(repo / "old.alvh")).exit_code == 1


def test_a_broken_config_of_a_file_only_scanned_is_not_reported(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # No configuration and no git: the scan's root is the working directory, which may
    # hold other projects (a home directory, /tmp); their configurations are read to
    # honour their `exclude`, but their errors belong to checks of their own files.
    write(tmp_path, {"mine/a.alvh": RULE, "other/b.alvh": RULE, "other/alvh.toml": "strct = 1\n"})
    monkeypatch.chdir(tmp_path)
    assert check_paths([str(tmp_path / "mine" / "a.alvh")]).diagnostics == []
    # checked itself, the other project's configuration is reported, once
    report = check_paths([str(tmp_path / "mine" / "a.alvh"), str(tmp_path / "other" / "b.alvh")])
    assert codes(report.diagnostics) == ["E604"]


LIB_USER = 'include "lib.alvh"\nrule r\n  when VIX > gate then close condor\n'


def test_the_scan_lists_a_bounded_number_of_directories(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import alvh_dsl.project as project

    write(tmp_path, {"z/y/x/lib.alvh": "param gate = 3\n", "z/y/x/book.alvh": LIB_USER})
    monkeypatch.chdir(tmp_path)
    named = [str(tmp_path / "z" / "y" / "x" / "lib.alvh")]
    assert [Path(b).name for b in check_paths(named).books] == ["book.alvh"]
    monkeypatch.setattr(project, "MAX_SCANNED_DIRS", 3)  # the book is in the fourth
    assert [Path(b).name for b in check_paths(named).books] == ["lib.alvh"]
