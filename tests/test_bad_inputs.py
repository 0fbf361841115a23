"""The bad-input catalogue (issue 10): hostile books, states and files, one row each.

Every row is run through the CLI (``alvh_dsl.cli.main.cli`` under click's runner, in a
temporary directory that is the working directory): it must exit with the row's status,
print the row's diagnostic code at the row's location (``file:line:col`` in a book, a
JSON path in a state), show no traceback, raise nothing but ``SystemExit``, and write
nothing. Every row is also watched by an alarm, so a read that would hang fails the
test instead of hanging the suite. Where the API is natural, the same input goes
through it too.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

import alvh_dsl
from alvh_dsl.cli.main import cli
from alvh_dsl.errors import RulebookError
from alvh_dsl.lang import ast as A
from alvh_dsl.lang import fmt as fmt_module
from alvh_dsl.lang.fmt import format_source
from alvh_dsl.lang.parse import parse

from .conftest import ROOT
from .helpers import snapshot

EXAMPLE_STATE = json.loads((ROOT / "examples" / "state_near_expiry.json").read_text())


def state(**changes: object) -> str:
    """The example state with top-level keys replaced, as JSON text."""
    return json.dumps({**EXAMPLE_STATE, **changes})


@dataclass(frozen=True)
class Special:
    """A file laid out specially: a FIFO, a symbolic link to /dev/zero, a sparse big file."""

    kind: str


FIFO = Special("fifo")
BIG = Special("sparse file one byte over the 8 MiB limit")
ZERO = Special("zero")


@dataclass(frozen=True)
class Case:
    """One hostile input: the files to lay out, the command, what it must say."""

    id: str
    files: dict[str, str | bytes | Special]
    argv: tuple[str, ...]
    code: str
    # Printed as `WHERE: CODE` (a book's file:line:col, a state's `file: $.path`, a
    # history's `file:row`); a book that cannot be read at all is placed at its first
    # line: `FILE:1:1: CODE cannot read `FILE``.
    where: str
    exit_code: int = 1
    api: bool = False  # also through alvh_dsl.load (the book is argv[1])

    @property
    def marker(self) -> str:
        if self.where.startswith("`"):
            return f"{self.where.strip('`')}:1:1: {self.code} cannot read {self.where}"
        return f"{self.where}: {self.code} "


COOLDOWN_BOOK = "rule r\n  when VIX > 3\n  then close condor\n  cooldown 3000000 days\n"

BOOKS = [
    Case(
        "unnamed-rule-strike-in-days",
        {"a.alvh": "when VIX > 30 then buy VIX call spread 25d/35d month 2\n"},
        ("check", "a.alvh"),
        "E206",
        "a.alvh:1:40",
        api=True,
    ),
    Case(
        "priority-overflow",
        {"a.alvh": "rule r priority 1" + "0" * 309 + "\n  when VIX > 1\n  then close condor\n"},
        ("check", "a.alvh"),
        "E009",
        "a.alvh:1:17",
        api=True,
    ),
    Case(
        "include-nul",
        {"a.alvh": 'include "a\0b.alvh"\n'},
        ("check", "a.alvh"),
        "E408",
        "a.alvh:1:9",
        api=True,
    ),
    Case(
        "include-name-too-long",
        {"a.alvh": f'include "{"x" * 300}.alvh"\n'},
        ("check", "a.alvh"),
        "E408",
        "a.alvh:1:9",
        api=True,
    ),
    Case(
        "cooldown-too-long-check",
        {"c.alvh": COOLDOWN_BOOK},
        ("check", "c.alvh"),
        "E311",
        "c.alvh:4:12",
        api=True,
    ),
    Case(
        "cooldown-too-long-eval",
        {"c.alvh": COOLDOWN_BOOK, "s.json": state(last_fired={"r": "2024-03-11"})},
        ("eval", "c.alvh", "--state", "s.json"),
        "E311",
        "c.alvh:4:12",
    ),
    Case(
        "cooldown-too-long-dryrun",
        {"c.alvh": COOLDOWN_BOOK},
        ("dryrun", "c.alvh"),
        "E311",
        "c.alvh:4:12",
    ),
    Case(
        "near-too-far-dryrun",
        {
            "n.alvh": "rule o\n  when condor.count == 0\n"
            "  then open iron condor near 3000000 days short delta 0.16 wings 50 points\n"
        },
        ("dryrun", "n.alvh"),
        "E311",
        "n.alvh:3:30",
        api=True,
    ),
    Case(
        "parentheses-10000-deep",
        {"p.alvh": "when " + "(" * 10_000 + "VIX" + ")" * 10_000 + " > 1 close condor\n"},
        ("check", "p.alvh"),
        "E407",
        "p.alvh:1:10006",
        api=True,
    ),
]


def _with(path: tuple[str | int, ...], value: object) -> str:
    """The example state with one value replaced (at a key path), as JSON text."""
    data = json.loads(json.dumps(EXAMPLE_STATE))
    here = data
    for key in path[:-1]:
        here = here[key]
    here[path[-1]] = value
    return json.dumps(data)


BOOK = "rule r\n  when VIX > 3\n  then close condor\n  cooldown 10 days\n"


def state_case(id: str, text: str, where: str, book: str = BOOK) -> Case:
    """A state row: `alvh eval --state s.json` must refuse it with E504 at a JSON path."""
    return Case(
        f"state-{id}",
        {"b.alvh": book, "s.json": text},
        ("eval", "b.alvh", "--state", "s.json", "--explain"),
        "E504",
        f"s.json: {where}",
    )


_DUPLICATE = json.dumps(EXAMPLE_STATE)[:-1] + ', "equity": 1.0}'
STATES = [
    state_case("nested-5000-deep", '{"market": ' + "[" * 5000 + "]" * 5000 + "}", "$"),
    state_case("nan-credit", _with(("condors", 0, "credit"), float("nan")), "$.condors[0].credit"),
    state_case("infinite-equity", _with(("equity",), float("inf")), "$.equity"),
    state_case(
        "quantity-400-digits", _with(("condors", 0, "quantity"), 10**400), "$.condors[0].quantity"
    ),
    state_case("price-as-string", _with(("market", "SPX"), "5150.5"), "$.market.SPX"),
    state_case("price-as-true", _with(("market", "SPX"), True), "$.market.SPX"),
    state_case("duplicate-key", _DUPLICATE, "$.equity"),
    state_case("unix-date", _with(("date",), 1710374400), "$.date"),
    state_case(
        "expired-condor", _with(("condors", 0, "expiry"), "2000-01-01"), "$.condors[0].expiry"
    ),
    state_case(
        "last-fired-year-9999", _with(("last_fired",), {"r": "9999-12-30"}), "$.last_fired.r"
    ),
]

GOOD = "rule r\n  when VIX > 3\n  then close condor\n"
FILES = [
    Case("check-fifo", {"f.alvh": FIFO}, ("check", "f.alvh"), "E408", "`f.alvh`", api=True),
    Case("fmt-fifo", {"f.alvh": FIFO}, ("fmt", "f.alvh"), "E408", "`f.alvh`"),
    Case(
        "check-dir-with-a-fifo-book",
        {"d/ok.alvh": GOOD, "d/x.alvh": FIFO},
        ("check", "d"),
        "E408",
        "`d/x.alvh`",
    ),
    Case("check-dev-zero", {"z.alvh": ZERO}, ("check", "z.alvh"), "E408", "`z.alvh`", api=True),
    # issue 10: E406 on the book named on the command line had no location
    Case("check-too-large", {"big.alvh": BIG}, ("check", "big.alvh"), "E406", "big.alvh:1:1"),
    Case("fmt-too-large", {"big.alvh": BIG}, ("fmt", "big.alvh"), "E406", "big.alvh:1:1"),
    Case(
        "include-fifo",
        {"a.alvh": 'include "f.alvh"\n', "f.alvh": FIFO},
        ("check", "a.alvh"),
        "E408",
        "a.alvh:1:9",
        api=True,
    ),
    Case(
        "include-directory",
        {"a.alvh": 'include "lib.alvh"\n', "lib.alvh/x.txt": ""},
        ("check", "a.alvh"),
        "E408",
        "a.alvh:1:9",
        api=True,
    ),
    Case(
        "state-dev-zero",
        {"b.alvh": GOOD, "z.json": ZERO},
        ("eval", "b.alvh", "--state", "z.json"),
        "E504",
        "z.json: $",
    ),
    Case(
        "state-fifo",
        {"b.alvh": GOOD, "f.json": FIFO},
        ("eval", "b.alvh", "--state", "f.json"),
        "E504",
        "f.json: $",
    ),
    Case(
        "history-dev-zero",
        {"b.alvh": GOOD, "z.csv": ZERO},
        ("dryrun", "b.alvh", "--history", "z.csv"),
        "E601",
        "z.csv:0",
    ),
    Case(
        "history-fifo",
        {"b.alvh": GOOD, "f.csv": FIFO},
        ("dryrun", "b.alvh", "--history", "f.csv"),
        "E601",
        "f.csv:0",
    ),
]

CASES = BOOKS + STATES + FILES


def _lay_out(root: Path, files: dict[str, str | bytes | Special]) -> None:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if content == FIFO:
            os.mkfifo(path)
        elif content == ZERO:
            path.symlink_to("/dev/zero")
        elif content == BIG:
            with open(path, "wb") as f:
                f.truncate(8 * 1024 * 1024 + 1)  # sparse: cheap to create
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _run(argv: tuple[str, ...]) -> Result:
    return CliRunner().invoke(cli, list(argv))


@dataclass
class Outcome:
    result: Result
    written: list[str] = field(default_factory=list)


def _invoke(root: Path, case: Case, monkeypatch: pytest.MonkeyPatch) -> Outcome:
    _lay_out(root, case.files)
    monkeypatch.chdir(root)
    before = snapshot(root)
    result = _run(case.argv)
    after = snapshot(root)
    written = sorted(k for k in after.keys() | before.keys() if after.get(k) != before.get(k))
    return Outcome(result, written)


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input_cli(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alarm: None
) -> None:
    out = _invoke(tmp_path, case, monkeypatch)
    result = out.result
    text = result.stdout + result.stderr
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(
        result.exception
    )
    assert "Traceback" not in text
    assert case.marker in result.stderr, result.stderr[-2000:]
    assert result.exit_code == case.exit_code, result.stderr[-2000:]
    assert out.written == []


API_CASES = [c for c in CASES if c.api]


@pytest.mark.parametrize("case", API_CASES, ids=[c.id for c in API_CASES])
def test_bad_input_api(
    case: Case, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alarm: None
) -> None:
    _lay_out(tmp_path, case.files)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(RulebookError) as info:
        alvh_dsl.load(case.argv[1])
    assert case.code in [d.code for d in info.value.diagnostics]


# ------------------------------------------------------------------------ alvh fmt

# E206 books whose count or fraction is `(VIX)`: `buy VIX VIX futures` does not parse.
# Written off-canonical (two spaces) so that fmt has something to rewrite.
FMT_BOOKS = [
    "rule r\n  when VIX > 30\n  then  buy (VIX) VIX futures month 2\n",
    "rule r\n  when VIX > 30\n  then  shift (VIX) hedge to month 2\n",
    "rule r\n  when VIX > 30\n  then  close (VIX) of condor\n",
    "when VIX > 30 then  buy (VIX) VIX call spread 25/35 month 2\n",
]


def _meaning(text: str) -> object:
    result = parse(text, "f.alvh")
    assert result.ok, [d.message for d in result.diagnostics]
    return A.strip_spans(result.book)["statements"]  # type: ignore[index]


@pytest.mark.parametrize("text", FMT_BOOKS)
def test_fmt_never_writes_a_book_that_parses_worse(
    text: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _lay_out(tmp_path, {"f.alvh": text})
    monkeypatch.chdir(tmp_path)
    result = _run(("fmt", "f.alvh"))
    assert result.exit_code == 0, result.stderr
    assert _meaning((tmp_path / "f.alvh").read_text()) == _meaning(text)


def test_fmt_refuses_what_its_printer_cannot_reproduce(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The round-trip guard (E010): a printer that drops parentheses is caught, the file kept."""
    real = fmt_module.rule_lines

    def drops_parentheses(rule: A.Rule, *, wrap: bool = True) -> list:  # type: ignore[type-arg]
        lines = real(rule, wrap=wrap)
        for line in lines:
            line.text = line.text.replace("(VIX)", "VIX")
        return lines

    monkeypatch.setattr(fmt_module, "rule_lines", drops_parentheses)
    text = FMT_BOOKS[0]
    with pytest.raises(RulebookError) as info:
        format_source(text, "f.alvh")
    assert [d.code for d in info.value.diagnostics] == ["E010"]
    _lay_out(tmp_path, {"f.alvh": text})
    monkeypatch.chdir(tmp_path)
    result = _run(("fmt", "f.alvh"))
    assert result.exit_code == 1
    assert "f.alvh:1:1: E010 " in result.stderr
    assert (tmp_path / "f.alvh").read_text() == text
