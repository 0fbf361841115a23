"""The bad-input catalogue, part 3 (issue 10): ``--out`` never loses a file, and line
separators never shift a diagnostic.

Rows as in tests/test_bad_inputs.py: each is run through the CLI (click's runner, in a
temporary working directory) and must exit with the row's status, print the row's code
at the row's location, show no traceback and leave the user's files as they were.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from alvh_dsl.cli.main import cli
from alvh_dsl.dryrun.report.files import MANIFEST, MANIFEST_FORMAT, clean_leftovers

from .conftest import ROOT

CORE = str(ROOT / "rulebooks" / "alvh_core.alvh")
WINDOW = ("--from", "2010-01-01", "--to", "2010-03-31")


def alvh(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def lay_out(root: Path, files: dict[str, str | bytes]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.rglob("*") if p.is_file()}


@pytest.fixture
def cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.chdir(tmp_path)
    yield tmp_path


# ------------------------------------------------------------ --out: data loss


def manifest(*files: str, fmt: str = MANIFEST_FORMAT) -> str:
    return json.dumps({"format": fmt, "files": list(files)})


USERS_OWN = {
    "summary.json": '{"my": "notes"}',
    "trades.csv": "date,ticker\n2024-03-14,SPY\n",
    "state-2024-03-14.json": "{}",
    "baseline/trades.csv": "mine too\n",
}

OUT_ROWS = [
    pytest.param(USERS_OWN, id="run-like-names-no-manifest"),
    pytest.param({"summary.json": "{}"}, id="one-run-like-name"),
    pytest.param(
        {**USERS_OWN, MANIFEST: manifest("summary.json", "trades.csv")},
        id="manifest-lists-less-than-held",
    ),
    pytest.param(
        {MANIFEST: manifest("summary.json", "trades.csv")}, id="manifest-lists-missing-files"
    ),
    pytest.param(
        {"summary.json": "{}", MANIFEST: manifest("summary.json", fmt="alvh-run/0")},
        id="manifest-unknown-format",
    ),
    pytest.param({"summary.json": "{}", MANIFEST: "{not json"}, id="manifest-not-json"),
    pytest.param(
        {"summary.json": "{}", MANIFEST: json.dumps({"format": MANIFEST_FORMAT})},
        id="manifest-without-files",
    ),
    pytest.param(
        {"notes.txt": "x", MANIFEST: manifest("notes.txt")}, id="manifest-lists-a-foreign-file"
    ),
    pytest.param({"summary.json": "{}", MANIFEST: b"\xff\xfe"}, id="manifest-not-utf8"),
]


@pytest.mark.parametrize("files", OUT_ROWS)
def test_out_refuses_a_directory_that_is_not_a_run(
    cwd: Path, files: dict[str, str | bytes]
) -> None:
    out = cwd / "mine"
    lay_out(out, files)
    before = tree(out)
    result = alvh("dryrun", CORE, "--out", "mine", *WINDOW)
    assert result.exit_code == 2, result.output
    assert "mine: E603 " in result.output
    assert "Traceback" not in result.output
    assert tree(out) == before  # the user's files, byte for byte
    assert sorted(p.name for p in cwd.iterdir()) == ["mine"]  # no temp dir left


def test_out_refuses_a_manifest_that_is_a_symbolic_link(cwd: Path) -> None:
    lay_out(cwd, {"real.json": manifest("summary.json"), "mine/summary.json": "{}"})
    (cwd / "mine" / MANIFEST).symlink_to(cwd / "real.json")
    result = alvh("dryrun", CORE, "--out", "mine", *WINDOW)
    assert result.exit_code == 2 and "mine: E603 " in result.output
    assert (cwd / "mine" / "summary.json").read_text() == "{}"


def test_a_run_directory_lists_what_it_holds_and_is_replaced(cwd: Path) -> None:
    first = alvh("dryrun", CORE, "--out", "run", *WINDOW)
    assert first.exit_code == 0, first.output
    held = tree(cwd / "run")
    doc = json.loads(held[MANIFEST])
    assert doc == {"format": MANIFEST_FORMAT, "files": sorted(set(held) - {MANIFEST})}
    again = alvh("dryrun", CORE, "--out", "run", *WINDOW)
    assert again.exit_code == 0, again.output
    assert tree(cwd / "run") == held  # byte-identical, manifest included
    # One file more than the manifest lists, and the run is no longer replaced.
    (cwd / "run" / "notes.txt").write_text("mine")
    refused = alvh("dryrun", CORE, "--out", "run", *WINDOW)
    assert refused.exit_code == 2 and "run: E603 " in refused.output
    assert (cwd / "run" / "notes.txt").read_text() == "mine"


def _dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.mark.skipif(os.name != "posix", reason="the liveness check is POSIX's")
def test_leftovers_of_killed_runs_are_removed_and_live_ones_kept(cwd: Path) -> None:
    dead = _dead_pid()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        stale = [f".run.{dead}.abcd_123.tmp", f".run.{dead}.zz9yx8w7.old"]
        kept = [
            f".run.{live.pid}.abcd_123.tmp",  # a live process owns it
            f".other.{dead}.abcd_123.tmp",  # another target's
            ".run.abcd_123.tmp",  # no owner in the name: not ours to judge
            f".run.{dead}.abcd_123.tmp.bak",  # not a name write_run makes
        ]
        for name in stale + kept:
            lay_out(cwd / name, {"summary.json": "{}"})
        (cwd / f".run.{dead}.linklink.tmp").symlink_to(cwd / kept[0])
        kept.append(f".run.{dead}.linklink.tmp")  # a link is never followed or removed
        result = alvh("dryrun", CORE, "--out", "run", *WINDOW)
        assert result.exit_code == 0, result.output
        assert sorted(p.name for p in cwd.iterdir()) == sorted([*kept, "run"])
        assert clean_leftovers(cwd / "run") == []  # nothing left to remove
    finally:
        live.kill()
        live.wait()


# ------------------------------------------------------------ line separators


@dataclass(frozen=True)
class Book:
    """A book with a hostile character; the line the diagnostic must show under it."""

    id: str
    text: bytes
    code: str
    where: str
    shown: str  # the source line printed under the header (`N | ...`)


COOLDOWN = b"  when VIX > 3\n  then close condor\n  cooldown 3000000 days\n"
SEPARATORS = {
    "form-feed": "\x0c",
    "vertical-tab": "\x0b",
    "file-separator": "\x1c",
    "next-line": "\x85",
    "line-separator": "\u2028",
    "paragraph-separator": "\u2029",
}
BOOKS = [
    *(
        Book(
            f"{name}-in-a-comment",
            b"rule r # a" + ch.encode() + b"b\n" + COOLDOWN,
            "E311",
            "a.alvh:4:12",
            "4 |   cooldown 3000000 days",
        )
        for name, ch in SEPARATORS.items()
    ),
    Book(
        "crlf-lines",
        (b"rule r\n" + COOLDOWN).replace(b"\n", b"\r\n"),
        "E311",
        "a.alvh:4:12",
        "4 |   cooldown 3000000 days\n",
    ),
    Book(
        "lone-cr-lines",
        (b"rule r\n" + COOLDOWN).replace(b"\n", b"\r"),
        "E002",
        "a.alvh:1:7",
        "1 | rule r\ufffd  when VIX > 3\ufffd",
    ),
    Book(
        "arabic-indic-digits",
        "rule r\n  when VIX > ٣٠\n  then close condor\n".encode(),
        "E002",
        "a.alvh:2:14",
        "2 |   when VIX > ٣٠",
    ),
    Book(
        "fullwidth-digit",
        "rule r\n  when VIX > ３\n  then close condor\n".encode(),
        "E002",
        "a.alvh:2:14",
        "2 |   when VIX > ３",
    ),
    Book(
        "fullwidth-digit-with-unit",
        "rule r\n  when VIX > 3\n  then close condor\n  cooldown ３ days\n".encode(),
        "E002",
        "a.alvh:4:12",
        "4 |   cooldown ３ days",
    ),
]


@pytest.mark.parametrize("book", BOOKS, ids=lambda b: b.id)
def test_line_separators_and_digits(cwd: Path, book: Book) -> None:
    (cwd / "a.alvh").write_bytes(book.text)
    result = alvh("check", "a.alvh")
    assert result.exit_code == 1, result.output
    assert f"{book.where}: {book.code} " in result.output
    assert book.shown in result.output
    assert "Traceback" not in result.output
    assert "\r" not in result.output  # never printed raw: it would overwrite the line
    assert sorted(p.name for p in cwd.iterdir()) == ["a.alvh"]


def test_a_lone_cr_is_named_escaped_with_a_fix(cwd: Path) -> None:
    (cwd / "a.alvh").write_bytes(b"rule r\r  when VIX > 3\r  then close condor\r")
    result = alvh("check", "a.alvh")
    assert "E002 unexpected character `\\r`" in result.output
    assert "help: a carriage return alone does not end a line" in result.output
