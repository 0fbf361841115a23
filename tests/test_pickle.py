"""Books and dry-run results pickle (issue 11): a Dask task carries text and data, never
closures, so a book travels as its files' text and is rebuilt where it lands."""

from __future__ import annotations

import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import alvh_dsl
from alvh_dsl.api import dryrun_history
from alvh_dsl.lang.loader import load_program
from alvh_dsl.lang.state import parse_state

LIB = "param trigger = 30\ndefine stressed = VIX > trigger\n"
BOOK = (
    'rulebook "travels"\ninclude "lib/common.alvh"\n'
    "rule calm\n  when not stressed and condor.DTE < 10 days then close condor\n"
    "rule storm\n  when stressed then shift 50% hedge to month 2\n"
)


def _write(root: Path) -> Path:
    (root / "lib").mkdir(parents=True)
    (root / "lib" / "common.alvh").write_text(LIB)
    (root / "book.alvh").write_text(BOOK)
    return root / "book.alvh"


def test_a_book_pickles_and_evaluates_the_same(project_root: Path) -> None:
    book = alvh_dsl.load(project_root / "rulebooks" / "alvh_core.alvh", {"roll_dte": "5d"})
    copy = pickle.loads(pickle.dumps(book))
    state = parse_state((project_root / "examples" / "state_near_expiry.json").read_text())
    assert copy.params == book.params and copy.params["roll_dte"].value == 5
    assert copy.evaluate(state) == book.evaluate(state)
    assert [d.code for d in copy.diagnostics] == [d.code for d in book.diagnostics]


def test_a_book_is_rebuilt_without_its_files(tmp_path: Path, project_root: Path) -> None:
    path = _write(tmp_path / "books")
    blob = tmp_path / "book.pickle"
    blob.write_bytes(pickle.dumps(alvh_dsl.load(path, {"trigger": "20"})))
    shutil.rmtree(tmp_path / "books")  # the worker has no copy of the files
    state = project_root / "examples" / "state_near_expiry.json"
    code = (
        "import pickle, sys\n"
        "from alvh_dsl.lang.state import parse_state\n"
        "book = pickle.loads(open(sys.argv[1], 'rb').read())\n"
        "ev = book.evaluate(parse_state(open(sys.argv[2]).read()))\n"
        "print(book.name, book.params['trigger'].value, sorted(d.rule for d in ev.fired))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(blob), str(state)],
        capture_output=True,
        text=True,
        check=True,
        cwd=tmp_path,
    ).stdout
    name, trigger, fired = out.split(" ", 2)
    assert (name, float(trigger)) == ("travels", 20.0)
    # VIX is 23.4 in the example state: above the overridden trigger, below the written 30
    assert "storm" in fired


def test_loading_from_texts_keeps_the_include_guards(tmp_path: Path) -> None:
    root = str(tmp_path / "book.alvh")
    files = {root: 'include "../outside.alvh"\n', str(tmp_path.parent / "outside.alvh"): LIB}
    assert [d.code for d in load_program(root, files=files).diagnostics] == ["E404"]
    missing = load_program(root, files={root: 'include "nowhere.alvh"\n'})
    assert [d.code for d in missing.diagnostics] == ["E401"]
    assert [d.code for d in load_program(root, files={}).diagnostics] == ["E401"]


def test_a_book_with_indicators_pickles(project_root: Path) -> None:
    book = alvh_dsl.load(project_root / "rulebooks" / "regime_layers.alvh")
    assert book.uses_history
    copy = pickle.loads(pickle.dumps(book))
    history = dryrun_history(None)
    a = alvh_dsl.dryrun(book, history, start="2019-01-02", end="2019-06-28", baseline=None)
    b = alvh_dsl.dryrun(copy, history, start="2019-01-02", end="2019-06-28", baseline=None)
    assert a.run.summary == b.run.summary


def test_a_dry_run_result_pickles(project_root: Path) -> None:
    result = alvh_dsl.dryrun(
        project_root / "rulebooks" / "alvh_core.alvh", start="2020-01-02", end="2020-03-31"
    )
    copy = pickle.loads(pickle.dumps(result))
    assert copy.run.summary == result.run.summary
    assert copy.comparison == result.comparison
    assert copy.daily.equals(result.daily)


def test_an_error_pickles_whole(tmp_path: Path) -> None:
    from alvh_dsl.errors import AlvhError, RulebookError

    path = tmp_path / "bad.alvh"
    path.write_text("rule r\n  when VIX > 1 $\n  then close condor\n")
    try:
        alvh_dsl.load(path)
    except RulebookError as exc:
        error = exc
    copy = pickle.loads(pickle.dumps(error))
    assert type(copy) is RulebookError and isinstance(copy, AlvhError)
    assert copy.diagnostics == error.diagnostics and copy.sources == error.sources
    assert (copy.subject, copy.omitted, copy.hint) == (error.subject, error.omitted, error.hint)
    assert str(copy) == str(error)
