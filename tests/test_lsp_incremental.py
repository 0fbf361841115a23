"""The language server's incremental re-parse (alvh_dsl/lsp/incremental.py) changes no
diagnostic: seeded random edits of the example books, of ../shared's and of a 200-rule
book — characters typed and deleted, lines added, removed, replaced and moved, edits in
comments and blank lines, syntax errors made and undone, and edits of an included
library on disk — each checked through one editor session's parse cache and from
scratch, the diagnostics compared as the server publishes them (the JSON, byte for byte)
and the parse compared whole (statements, spans, comments, diagnostics).
"""

from __future__ import annotations

import importlib.util
import json
import random
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("pygls")
from lsprotocol import types as T
from pygls.protocol import default_converter

from alvh_dsl.lang import ast as A
from alvh_dsl.lang.parse import parse
from alvh_dsl.lsp import diagnostics
from alvh_dsl.lsp.checking import check_buffer
from alvh_dsl.lsp.incremental import IncrementalParses, reparse, shift
from alvh_dsl.lsp.index import BookIndex

ROOT = Path(__file__).resolve().parents[1]
CONVERTER = default_converter()

#: lines an edit may add: statements, clauses, continuations, comments, blanks, and
#: lines that do not parse
LINES = [
    "",
    "   ",
    "# a comment",
    "  # an indented comment, inside a rule",
    "param extra = 3",
    "param extra = ",
    "define hot = VIX > 30 and",
    "define calm = VIX < 15  # trailing comment",
    "rule added priority 2",
    'rule added2 "A title" priority 1',
    "  when VIX > 25",
    "  when VIX > 25 then close hedge month 2",
    "  then close condor",
    "  and VIX < 40",
    "  or condor.DTE < 3d",
    "  unless VIX < 12",
    "  cooldown 5 days",
    "  cooldown 2d",
    "when hedge.DTE < 3 then shift 50% hedge to month 2",
    '  then alert "look"',
    "rule",
    "  when (VIX > 20",
    "  when VIX >",
    'include "lib/signals.alvh"',
    'include "missing.alvh"',
    'rulebook "again"',
    'description "text"',
    "  then open iron condor near 45 days short delta 0.16 wings 50 points",
    "param q = 1e99",
]
#: what typing puts in a line
TYPED = [" ", "x", "1", "(", ")", "<", ">", "=", "+", "and ", "or ", "#", '"', "d", "%", ".", "\t"]


def published(index: BookIndex) -> str:
    """The JSON of the diagnostics the server would publish for this check."""
    params = T.PublishDiagnosticsParams(
        uri="file:///book", version=index.version, diagnostics=diagnostics.to_lsp(index)
    )
    return json.dumps(CONVERTER.unstructure(params))


def edit(rng: random.Random, text: str) -> str:  # Long: one branch per kind of edit
    """One edit, as an editor makes them: in a line, or over lines."""
    lines = text.split("\n")
    i = rng.randrange(len(lines))
    kind = rng.randrange(10)
    if kind == 0:  # a character typed
        line = lines[i]
        at = rng.randrange(len(line) + 1)
        lines[i] = line[:at] + rng.choice(TYPED) + line[at:]
    elif kind == 1 and lines[i]:  # characters deleted
        line = lines[i]
        at = rng.randrange(len(line))
        lines[i] = line[:at] + line[at + rng.randrange(1, 4) :]
    elif kind == 2:  # a line added
        lines.insert(i, rng.choice(LINES))
    elif kind == 3 and len(lines) > 1:  # a line removed
        del lines[i]
    elif kind == 4:  # lines replaced by others
        lines[i : i + rng.randrange(1, 5)] = rng.choices(LINES, k=rng.randrange(4))
    elif kind == 5 and len(lines) > 1:  # a line moved
        moved = lines.pop(i)
        lines.insert(rng.randrange(len(lines) + 1), moved)
    elif kind == 6:  # in a comment: its text, or a comment added at the end of a line
        commented = [j for j, line in enumerate(lines) if "#" in line] or [i]
        j = rng.choice(commented)
        line = lines[j]
        lines[j] = line + rng.choice([" more", "#", ""]) if "#" in line else line + "  # note"
    elif kind == 7:  # a blank line added or removed
        blank = [j for j, line in enumerate(lines) if not line.strip()]
        if blank and rng.random() < 0.5:
            del lines[rng.choice(blank)]
        else:
            lines.insert(i, "")
    elif kind == 8:  # a multi-line paste of lines from elsewhere in the book
        j = rng.randrange(len(lines))
        lines[i:i] = lines[j : j + rng.randrange(1, 6)]
    else:  # a line's end cut (half typed)
        lines[i] = lines[i][: rng.randrange(len(lines[i]) + 1)]
    return "\n".join(lines)


def walk(
    rng: random.Random,
    text: str,
    steps: int,
    check: Callable[[str, int], None],
    restart: float = 0.05,
) -> None:
    """A random editing session from ``text``: mostly edits of the current text, some
    undone (back to an earlier version: errors made and removed), some (``restart``)
    from the start."""
    history = [text]
    current = text
    for step in range(steps):
        r = rng.random()
        if r < 0.1:
            current = rng.choice(history)  # undo / redo
        elif r < 0.1 + restart:
            current = edit(rng, text)
        else:
            current = edit(rng, current)
        history.append(current)
        check(current, step + 2)


def bench_book(n: int) -> str:
    spec = importlib.util.spec_from_file_location("bench_scale", ROOT / "benchmarks/bench_scale.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return str(module.generate(n)) + "\n"


def session_equals_scratch(
    path: Path, text: str, steps: int, seed: int, restart: float = 0.05
) -> IncrementalParses:
    """Walk random edits of the buffer ``path``; every check of the session equals a
    check from scratch. The session's cache, for its counts."""
    cache = IncrementalParses()
    book = str(path)
    check_buffer(book, text, 1, cache=cache)

    def check(current: str, version: int) -> None:
        session = check_buffer(book, current, version, cache=cache)
        scratch = check_buffer(book, current, version)
        assert published(session) == published(scratch), (seed, version, current)
        # The parse whole: scratch's is parse(current, book), the session's its cache's.
        assert session.program.files[book] == scratch.program.files[book], (seed, current)
        assert session.program.comments[book] == scratch.program.comments[book]
        assert [d for d in session.program.diagnostics if d.code[:2] in ("E0", "E4")] == [
            d for d in scratch.program.diagnostics if d.code[:2] in ("E0", "E4")
        ]

    walk(random.Random(seed), text, steps, check, restart)
    return cache


def example_books() -> list[Path]:
    return sorted((ROOT / "rulebooks").rglob("*.alvh")) + sorted(
        (ROOT / "tests" / "books").glob("*.alvh")
    )


@pytest.fixture()
def books(tmp_path: Path) -> Path:
    """rulebooks/ copied, so that an included library can be edited on disk."""
    shutil.copytree(ROOT / "rulebooks", tmp_path / "rulebooks")
    return tmp_path / "rulebooks"


# ------------------------------------------------------------------ random edits


@pytest.mark.parametrize("name", [p.relative_to(ROOT).as_posix() for p in example_books()])
def test_random_edits_of_an_example_book_publish_what_a_fresh_check_does(
    name: str, books: Path, tmp_path: Path
) -> None:
    source = ROOT / name
    path = (
        books / source.relative_to(ROOT / "rulebooks")
        if name.startswith("rulebooks/")
        else (tmp_path / source.name)
    )
    text = source.read_text(encoding="utf-8")
    cache = session_equals_scratch(path, text, 60, seed=sum(map(ord, name)))
    assert cache.reused > 30  # most changes were re-parsed from the last parse, not whole


def test_random_edits_of_a_200_rule_book_publish_what_a_fresh_check_does(
    tmp_path: Path,
) -> None:
    # Edits mostly of the book as generated: syntax errors piling up would make each
    # whole parse (Lark's recovery, from every error to the end) slow, not the test better.
    book = tmp_path / "rules_200.alvh"
    cache = session_equals_scratch(book, bench_book(200), 24, seed=200, restart=0.5)
    assert cache.reused > 12


def test_random_edits_of_the_shared_books(shared_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(shared_dir / "rulebooks", tmp_path / "shared")
    for i, path in enumerate(sorted((tmp_path / "shared").rglob("*.alvh"))):
        text = path.read_text(encoding="utf-8")
        cache = session_equals_scratch(path, text, 40, seed=1000 + i)
        assert cache.reused > 20


def test_random_edits_of_an_included_library_publish_what_a_fresh_check_does(
    books: Path,
) -> None:
    """The library is read from disk (saved), the including book's buffer unchanged."""
    book, lib = books / "regime_layers.alvh", books / "lib" / "signals.alvh"
    text = book.read_text(encoding="utf-8")
    cache = IncrementalParses()
    check_buffer(str(book), text, 1, cache=cache)

    def check(current: str, version: int) -> None:
        lib.write_text(current, encoding="utf-8")
        session = check_buffer(str(book), text, version, cache=cache)
        scratch = check_buffer(str(book), text, version)
        assert published(session) == published(scratch), (version, current)
        assert session.program.files.get(str(lib)) == scratch.program.files.get(str(lib))

    walk(random.Random(7), lib.read_text(encoding="utf-8"), 60, check)
    assert cache.reused > 30


# ------------------------------------------------------------------ what is reused


def test_a_line_edited_reuses_every_statement_outside_its_window() -> None:
    text = bench_book(200)
    old = parse(text, "b.alvh")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.split(" ")[:2] == ["rule", "r100"])
    lines[at + 1] = lines[at + 1].replace("when ", "when VIX > 2 and ", 1)
    new = reparse(text, old, "\n".join(lines), "b.alvh")
    assert new is not None and new == parse("\n".join(lines), "b.alvh")
    same = [a is b for a, b in zip(new.book.statements, old.book.statements, strict=True)]
    assert same.count(False) <= 3  # r100, and the sentinel after it (parsed again)
    assert all(same[:90]) and all(same[-90:])


@pytest.mark.parametrize("added", [1, 2, -1])
def test_lines_added_or_removed_above_move_the_statements_below(added: int) -> None:
    text = bench_book(200)
    old = parse(text, "b.alvh")
    lines = text.split("\n")
    at = next(i for i, line in enumerate(lines) if line.split(" ")[:2] == ["rule", "r10"])
    if added > 0:
        lines[at:at] = [f"param moved{j} = {j}" for j in range(added)]
    else:
        del lines[at - 1]  # the clause line of r9: r9 is parsed again
    edited = "\n".join(lines)
    new = reparse(text, old, edited, "b.alvh")
    assert new is not None and new == parse(edited, "b.alvh")
    assert new.book.statements[-1].span.line == old.book.statements[-1].span.line + added


def test_shift_is_the_parse_of_the_text_moved_down() -> None:
    for path in example_books():
        text = path.read_text(encoding="utf-8")
        moved = parse("\n\n\n" + text, "x.alvh").book.statements
        assert tuple(shift(s, 3) for s in parse(text, "x.alvh").book.statements) == moved
        back = tuple(shift(s, -3) for s in moved)
        assert back == parse(text, "x.alvh").book.statements
        assert all(
            a.__pydantic_fields_set__ == b.__pydantic_fields_set__
            for s, t in zip(back, parse(text, "x.alvh").book.statements, strict=True)
            for a, b in zip(A.walk(s), A.walk(t), strict=True)
        )


# ------------------------------------------------------------------ parsed whole


def test_a_book_with_a_syntax_error_is_no_base_to_reparse_from() -> None:
    text = "param a = 1\nrule r\n  when VIX > then close condor\n"
    text += "rule s\n  when VIX > 1 then close hedge\n"
    cache = IncrementalParses()
    cache.parse(text, "b.alvh")
    fixed = text.replace("VIX > then", "VIX > 2 then")
    assert cache.parse(fixed, "b.alvh") == parse(fixed, "b.alvh")
    assert cache.reused == 0  # parsed whole: the earlier parse had an error
    again = fixed.replace("VIX > 1", "VIX > 3")
    assert cache.parse(again, "b.alvh") == parse(again, "b.alvh")
    assert cache.reused == 1  # from the clean parse of `fixed`


def test_what_reparse_leaves_to_a_whole_parse() -> None:
    text = "param a = 1\n" + "".join(
        f"rule r{i}\n  when VIX > {i} then close condor\n" for i in range(80)
    )
    old = parse(text, "b.alvh")
    # A byte-order mark (the parse drops it, which moves every column of line 1).
    assert reparse(text, old, "\ufeff" + text, "b.alvh") is None
    # More than 50 syntax errors: past E409 the whole parse skips the rest of the file,
    # the window's parse the rest of the window, sentinel included.
    broken = text.replace("when VIX >", "when VIX > >", 60)
    assert reparse(text, old, broken, "b.alvh") is None
    cache = IncrementalParses()
    cache.parse(text, "b.alvh")
    assert cache.parse(broken, "b.alvh") == parse(broken, "b.alvh")
    # ... which is the same when the window runs to the end of the file.
    at_end = text[: text.index("rule r20\n")] + text[text.index("rule r20\n") :].replace(
        "when VIX >", "when VIX > >"
    )
    assert reparse(text, old, at_end, "b.alvh") == parse(at_end, "b.alvh")
    assert any(d.code == "E409" for d in parse(at_end, "b.alvh").diagnostics)
    # A line that no longer ends where the sentinel's statement began: `param a =`
    # dangles into `rule r0`, which is then read as the value (the error is on line 1).
    dangling = text.replace("param a = 1", "param a =", 1)
    assert cache.parse(dangling, "b.alvh") == parse(dangling, "b.alvh")


def test_the_server_re_parses_an_edited_buffer_from_its_last_parse() -> None:
    from pygls.workspace import Workspace

    from alvh_dsl.lsp.server import AlvhServer

    server = AlvhServer()
    server.protocol._workspace = Workspace(None)
    uri = "file:///book.alvh"
    text = 'rulebook "b"\nparam a = 1\nrule r\n  when VIX > a then close condor\n'
    server.workspace.put_text_document(
        T.TextDocumentItem(uri=uri, language_id="alvh", version=1, text=text)
    )
    sent: list[T.PublishDiagnosticsParams] = []
    server.text_document_publish_diagnostics = sent.append  # type: ignore[method-assign]
    server.publish(uri)
    edited = text.replace("VIX > a", "VIX > b")
    server.workspace.get_text_document(uri).apply_change(
        T.TextDocumentContentChangeWholeDocument(text=edited)
    )
    server.publish(uri)
    assert isinstance(server.parses, IncrementalParses) and server.parses.reused == 1
    assert [d.code for d in sent[-1].diagnostics] == [
        d.code for d in diagnostics.to_lsp(check_buffer("/book.alvh", edited))
    ]
    assert any(d.code == "E101" for d in sent[-1].diagnostics)  # `b` is unknown
