"""`alvh lsp` driven as an editor drives it: pytest-lsp sessions over stdio.

One server for the module (start-up is most of the cost): it opens the example books
in rulebooks/ and broken ones, and asks for diagnostics, hover, completion, definition,
references, the outline, formatting and quick fixes, then shuts down. Broken books
are written under a temporary directory, so their includes resolve as a user's would.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

pytest_lsp = pytest.importorskip("pytest_lsp")
from lsprotocol import types as T  # noqa: E402
from pytest_lsp import ClientServerConfig, LanguageClient  # noqa: E402

from alvh_dsl.lang.loader import ParseCache  # noqa: E402
from alvh_dsl.lsp import tokens  # noqa: E402
from alvh_dsl.lsp.positions import from_position, source_lines, to_position  # noqa: E402
from alvh_dsl.lsp.server import AlvhServer  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BOOKS = ROOT / "rulebooks"
CORE = BOOKS / "alvh_core.alvh"
REGIME = BOOKS / "regime_layers.alvh"
SERVER = [sys.executable, "-c", "from alvh_dsl.cli import main; main()", "lsp"]
TIMEOUT = 20.0

session = pytest.mark.asyncio(loop_scope="module")  # every session test, one server


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def client(lsp_client: LanguageClient) -> AsyncIterator[None]:
    await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("visual-studio-code"),
            initialization_options={"debounce": 0.01},
            root_uri=ROOT.as_uri(),
        )
    )
    yield
    await lsp_client.shutdown_session()


@pytest_lsp.fixture(config=ClientServerConfig(server_command=SERVER), scope="module")
async def nvim(lsp_client: LanguageClient) -> AsyncIterator[None]:
    """A second server, for a client that prefers UTF-8 positions (Neovim 0.11 does)."""
    result = await lsp_client.initialize_session(
        T.InitializeParams(
            capabilities=pytest_lsp.client_capabilities("neovim@v0.11.0"),
            initialization_options={"debounce": 0.01},
        )
    )
    assert result.capabilities.position_encoding == T.PositionEncodingKind.Utf8
    yield
    await lsp_client.shutdown_session()


@pytest.fixture(scope="module")
def workdir() -> AsyncIterator[Path]:
    with tempfile.TemporaryDirectory(prefix="alvh-lsp-") as tmp:
        yield Path(tmp)  # type: ignore[misc]


# ------------------------------------------------------------------ helpers


async def open_book(client: LanguageClient, path: Path, text: str | None = None) -> str:
    """Open a document and wait for its diagnostics."""
    uri = path.as_uri()
    client.diagnostics.pop(uri, None)
    client.text_document_did_open(
        T.DidOpenTextDocumentParams(
            text_document=T.TextDocumentItem(
                uri=uri,
                language_id="alvh",
                version=1,
                text=path.read_text(encoding="utf-8") if text is None else text,
            )
        )
    )
    await diagnostics_of(client, uri)
    return uri


async def diagnostics_of(client: LanguageClient, uri: str) -> list[T.Diagnostic]:
    async def wait() -> list[T.Diagnostic]:
        while uri not in client.diagnostics:
            await client.wait_for_notification(T.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
        return list(client.diagnostics[uri])

    return await asyncio.wait_for(wait(), TIMEOUT)


async def change(client: LanguageClient, uri: str, version: int, text: str) -> list[T.Diagnostic]:
    """Replace a document's text and wait for the diagnostics of the new version."""
    client.diagnostics.pop(uri, None)
    client.text_document_did_change(
        T.DidChangeTextDocumentParams(
            text_document=T.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[T.TextDocumentContentChangeWholeDocument(text=text)],
        )
    )
    return await diagnostics_of(client, uri)


def at(path_or_text: Path | str, needle: str, offset: int = 0, nth: int = 0) -> T.Position:
    """The LSP position of the ``nth`` occurrence of ``needle`` (plus ``offset`` characters)."""
    text = (
        path_or_text.read_text(encoding="utf-8") if isinstance(path_or_text, Path) else path_or_text
    )
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    column = index - (text.rfind("\n", 0, index) + 1)
    return to_position(source_lines(text), line + 1, column + 1)


async def hover_at(client: LanguageClient, uri: str, position: T.Position) -> str:
    result = await client.text_document_hover_async(
        T.HoverParams(text_document=T.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert result is not None
    assert isinstance(result.contents, T.MarkupContent)
    return result.contents.value


async def labels_at(client: LanguageClient, uri: str, position: T.Position) -> dict[str, str]:
    result = await client.text_document_completion_async(
        T.CompletionParams(text_document=T.TextDocumentIdentifier(uri=uri), position=position)
    )
    assert isinstance(result, T.CompletionList)
    return {item.label: item.detail or "" for item in result.items}


# ------------------------------------------------------------ the sessions


@session
@pytest.mark.parametrize("book", sorted(p.name for p in BOOKS.glob("*.alvh")))
async def test_every_example_book_opens_clean(client: LanguageClient, book: str) -> None:
    uri = await open_book(client, BOOKS / book)
    errors = [d for d in client.diagnostics[uri] if d.severity == T.DiagnosticSeverity.Error]
    assert errors == []


@session
async def test_hover_says_what_names_params_defines_and_rules_mean(
    client: LanguageClient,
) -> None:
    uri = await open_book(client, CORE)
    param = await hover_at(client, uri, at(CORE, "condor.DTE <= roll_dte", 15))
    assert "param roll_dte = 7 days" in param and "declared at" in param
    assert f"{CORE}:10" in param
    state = await hover_at(client, uri, at(CORE, "condor.DTE <= roll_dte", 2))
    assert "days to expiry of the front condor" in state and "days" in state
    define = await hover_at(client, uri, at(CORE, "when stressed", 6))
    assert "define stressed = VIX > vix_trigger or backwardation" in define
    assert "normalised: `VIX > 22 or VIX.M1 > VIX.M2`" in define
    rule = await hover_at(client, uri, at(CORE, "rule roll_forward", 6))
    assert "**rule roll_forward** — Roll the front condor forward (priority 10)" in rule
    assert "When days to expiry of the front condor is at most roll_dte (7 days)" in rule
    action = await hover_at(client, uri, at(CORE, "open iron condor near", 2))
    assert "open iron condor near 45 days short delta 0.16 wings 50 points" in action
    assert "as written: `open iron condor near entry_dte" in action


@session
async def test_hover_on_an_indicator_gives_its_signature(
    client: LanguageClient, workdir: Path
) -> None:
    text = (
        'rulebook "t"\nrule calm\n  when VIX < SMA(VIX, 20) and RSI(14) > 30\n  then close condor\n'
    )
    uri = await open_book(client, workdir / "calm.alvh", text)
    sma = await hover_at(client, uri, at(text, "SMA", 1))
    assert "SMA(series, window)" in sma and "simple moving average" in sma
    rsi = await hover_at(client, uri, at(text, "RSI", 1))
    assert "RSI(window)" in rsi and "the series defaults to SPX" in rsi


@session
async def test_completion_offers_fields_units_keywords_actions_and_scope(
    client: LanguageClient, workdir: Path
) -> None:
    path = workdir / "typing.alvh"
    text = "param gap = 3 days\ndefine calm = VIX < 15\nrule r\n  when condor.\n"
    uri = await open_book(client, path, text)
    fields = await labels_at(client, uri, T.Position(line=3, character=14))
    assert {"delta", "DTE", "pnl"} <= set(fields) and "SPX" not in fields
    assert fields["delta"] == "a plain number"
    await change(client, uri, 2, text + "  when condor.DTE < 7")
    units = await labels_at(client, uri, T.Position(line=4, character=21))
    assert set(units) == {"days", "points", "%"}
    await change(client, uri, 3, text + "  when hedge.DTE < gap and ")
    names = await labels_at(client, uri, T.Position(line=4, character=27))
    assert names["gap"] == "param = 3 days" and names["calm"] == "define = VIX < 15"
    assert names["SMA"] == "SMA(series, window)" and "condor.delta" in names
    assert "between" in names and "rule" not in names
    await change(client, uri, 4, text + "  then ")
    actions = await labels_at(client, uri, T.Position(line=4, character=7))
    assert {"open iron condor", "roll condor to", "shift hedge", "alert"} <= set(actions)
    await change(client, uri, 5, text + "  ")
    lines = await labels_at(client, uri, T.Position(line=4, character=2))
    assert {"rule", "when", "then", "param", "define", "include"} <= set(lines)


@session
async def test_definition_and_references(client: LanguageClient) -> None:
    uri = await open_book(client, CORE)
    doc = T.TextDocumentIdentifier(uri=uri)
    found = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=at(CORE, "condor.DTE <= roll_dte", 15))
    )
    assert isinstance(found, list) and len(found) == 1
    assert found[0].uri == uri and found[0].range.start == at(CORE, "roll_dte", nth=0)
    refs = await client.text_document_references_async(
        T.ReferenceParams(
            text_document=doc,
            position=at(CORE, "define stressed", 8),
            context=T.ReferenceContext(include_declaration=True),
        )
    )
    assert refs is not None
    assert sorted(r.range.start for r in refs) == [
        at(CORE, "stressed", nth=n) for n in range(2)
    ]  # the declaration and the use in layer_up


@session
async def test_definition_follows_includes_into_the_library(client: LanguageClient) -> None:
    uri = await open_book(client, REGIME)
    doc = T.TextDocumentIdentifier(uri=uri)
    lib = (BOOKS / "lib" / "signals.alvh").as_uri()
    on_path = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=at(REGIME, '"lib/signals.alvh"', 3))
    )
    assert isinstance(on_path, list) and [loc.uri for loc in on_path] == [lib]
    on_define = await client.text_document_definition_async(
        T.DefinitionParams(text_document=doc, position=at(REGIME, "vol_spike", 2))
    )
    assert isinstance(on_define, list) and [loc.uri for loc in on_define] == [lib]
    includes = await client.text_document_references_async(
        T.ReferenceParams(
            text_document=doc,
            position=at(REGIME, '"lib/signals.alvh"', 3),
            context=T.ReferenceContext(include_declaration=True),
        )
    )
    assert includes is not None
    assert [(r.uri, r.range.start) for r in includes] == [(uri, at(REGIME, '"lib/signals'))]


@session
async def test_document_symbols_are_the_books_outline(client: LanguageClient) -> None:
    uri = await open_book(client, CORE)
    symbols = await client.text_document_document_symbol_async(
        T.DocumentSymbolParams(text_document=T.TextDocumentIdentifier(uri=uri))
    )
    assert symbols is not None
    outline = {s.name: (s.kind, s.detail) for s in symbols if isinstance(s, T.DocumentSymbol)}
    assert outline["roll_dte"] == (T.SymbolKind.Constant, "7 days")
    assert outline["stressed"][0] == T.SymbolKind.Variable
    assert outline["roll_forward"] == (
        T.SymbolKind.Event, "Roll the front condor forward · priority 10"
    )  # fmt: skip


@session
async def test_semantic_tokens_class_words_by_the_books_tables(client: LanguageClient) -> None:
    uri = await open_book(client, CORE)
    result = await client.text_document_semantic_tokens_full_async(
        T.SemanticTokensParams(text_document=T.TextDocumentIdentifier(uri=uri))
    )
    assert isinstance(result, T.SemanticTokens)
    legend = tokens.LEGEND
    lines = source_lines(CORE.read_text(encoding="utf-8"))
    found: dict[tuple[int, str], tuple[str, set[str]]] = {}
    line = column = 0
    data = result.data
    for i in range(0, len(data), 5):
        delta_line, delta_start, length, kind, bits = data[i : i + 5]
        line += delta_line
        column = delta_start if delta_line else column + delta_start
        modifiers = {m for b, m in enumerate(legend.token_modifiers) if bits >> b & 1}
        found[line, lines[line][column : column + length]] = (legend.token_types[kind], modifiers)
    roll = at(CORE, "condor.DTE <= roll_dte").line
    assert found[roll, "condor.DTE"] == ("variable", {"readonly", "defaultLibrary"})
    assert found[roll, "roll_dte"] == ("variable", {"readonly"})
    assert found[roll, "when"] == ("keyword", set())
    declared = at(CORE, "param roll_dte").line
    assert found[declared, "roll_dte"] == ("variable", {"declaration", "readonly"})
    assert found[declared, "7 days"] == ("number", set())
    assert found[at(CORE, "rule roll_forward").line, "roll_forward"][0] == "function"
    assert any(kind == "comment" for kind, _ in found.values())


@session
async def test_formatting_is_one_whole_document_edit(client: LanguageClient, workdir: Path) -> None:
    messy = "param  p=7d\nrule r\n  when   DTE<p then close condor\n"
    uri = await open_book(client, workdir / "messy.alvh", messy)
    edits = await client.text_document_formatting_async(
        T.DocumentFormattingParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            options=T.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert edits is not None and len(edits) == 1
    assert edits[0].new_text == "param p = 7 days\n\nrule r\n  when DTE < p\n  then close condor\n"
    assert edits[0].range.start == T.Position(line=0, character=0)
    assert edits[0].range.end == T.Position(line=3, character=0)
    broken = await open_book(client, workdir / "broken_fmt.alvh", "rule r\n  when VIX > > 3\n")
    none = await client.text_document_formatting_async(
        T.DocumentFormattingParams(
            text_document=T.TextDocumentIdentifier(uri=broken),
            options=T.FormattingOptions(tab_size=2, insert_spaces=True),
        )
    )
    assert not none


@session
async def test_a_broken_book_gets_diagnostics_fixes_and_answers_from_what_parsed(
    client: LanguageClient, workdir: Path
) -> None:
    text = (
        "param trigger = 22\n"
        "rule spike\n  when VIX > SMAA(VIX, 20)\n  then close condor\n"
        "rule half\n  when VIX > > trigger\n  then close hedge\n"
    )
    uri = await open_book(client, workdir / "broken.alvh", text)
    found = {d.code: d for d in client.diagnostics[uri]}
    assert "E001" in found and "E107" in found
    e107 = found["E107"]
    assert e107.source == "alvh" and e107.range.start == at(text, "SMAA")
    assert "help:" in e107.message
    actions = await client.text_document_code_action_async(
        T.CodeActionParams(
            text_document=T.TextDocumentIdentifier(uri=uri),
            range=e107.range,
            context=T.CodeActionContext(diagnostics=[e107]),
        )
    )
    assert actions is not None and len(actions) == 1
    fix = actions[0]
    assert isinstance(fix, T.CodeAction) and fix.kind == T.CodeActionKind.QuickFix
    assert fix.edit is not None and fix.edit.changes is not None
    (edit,) = fix.edit.changes[uri]
    assert edit.new_text == "SMA" and edit.range.start == at(text, "SMAA")
    # hover still answers on what parsed
    assert "param trigger = 22" in await hover_at(client, uri, at(text, "trigger", 2))
    # and a change that fixes the book clears its diagnostics
    fixed = await change(client, uri, 2, text.replace("SMAA", "SMA").replace("> >", ">"))
    assert [d.code for d in fixed if d.severity == T.DiagnosticSeverity.Error] == []


@session
async def test_ranges_are_in_utf16_code_units(client: LanguageClient, workdir: Path) -> None:
    text = 'rule r "🙂 calm" when VIX > nope then close condor\n'
    uri = await open_book(client, workdir / "emoji.alvh", text)
    (e101,) = [d for d in client.diagnostics[uri] if d.code == "E101"]
    # 🙂 is one code point but two UTF-16 units: `nope` starts at unit 28, code point 27
    assert e101.range.start == T.Position(line=0, character=text.index("nope") + 1)
    assert e101.range.end.character == e101.range.start.character + 4


@session
async def test_ranges_follow_a_client_that_negotiates_utf8(
    nvim: LanguageClient, workdir: Path
) -> None:
    text = 'param nope2 = 3\nrule r "🙂 calm" when VIX > nope then close condor\n'
    uri = await open_book(nvim, workdir / "emoji8.alvh", text)
    (e101,) = [d for d in nvim.diagnostics[uri] if d.code == "E101"]
    # 🙂 is four UTF-8 bytes: `nope` starts three units later than its code point
    start = text.splitlines()[1].index("nope") + 3
    assert e101.range.start == T.Position(line=1, character=start)
    hovered = await hover_at(nvim, uri, T.Position(line=1, character=start + 10))
    assert "raise the alert" not in hovered and "close condor" in hovered
    param = await hover_at(nvim, uri, T.Position(line=0, character=7))
    assert "param nope2 = 3" in param


@session
async def test_a_saved_library_re_checks_the_books_that_include_it(
    client: LanguageClient, workdir: Path
) -> None:
    lib = workdir / "lib.alvh"
    lib.write_text("define calm = VIX < 15\n", encoding="utf-8")
    book = workdir / "uses_lib.alvh"
    text = 'include "lib.alvh"\nrule r\n  when calm\n  then close condor\n'
    uri = await open_book(client, book, text)
    assert [d.code for d in client.diagnostics[uri]] == []
    lib_uri = await open_book(client, lib)
    assert list(client.diagnostics[lib_uri]) == []  # a library's defines are used by its books
    lib.write_text("define quiet = VIX < 15\n", encoding="utf-8")
    client.diagnostics.pop(uri, None)
    client.text_document_did_save(
        T.DidSaveTextDocumentParams(text_document=T.TextDocumentIdentifier(uri=lib_uri))
    )
    after = await diagnostics_of(client, uri)
    assert "E101" in [d.code for d in after]
    (e101,) = [d for d in after if d.code == "E101"]
    assert e101.range.start.line == 2  # in the book itself: the use of the removed define


@session
async def test_a_diagnostic_in_an_included_file_is_shown_on_the_include_line(
    client: LanguageClient, workdir: Path
) -> None:
    (workdir / "bad_lib.alvh").write_text("define odd = VIX < nope\n", encoding="utf-8")
    text = 'include "bad_lib.alvh"\nrule r\n  when odd\n  then close condor\n'
    uri = await open_book(client, workdir / "uses_bad_lib.alvh", text)
    (e101,) = [d for d in client.diagnostics[uri] if d.code == "E101"]
    assert e101.range.start.line == 0 and "bad_lib.alvh:1:20" in e101.message
    assert e101.related_information is not None
    assert e101.related_information[0].location.uri == (workdir / "bad_lib.alvh").as_uri()


@session
async def test_requests_on_half_typed_input_never_fail(
    client: LanguageClient, workdir: Path
) -> None:
    text = 'rulebook "\nrule\n  when (VIX > \n  then shift\n\x00 param = \n'
    uri = await open_book(client, workdir / "half.alvh", text)
    doc = T.TextDocumentIdentifier(uri=uri)
    for line in range(6):
        for character in (0, 3, 7, 40):
            pos = T.Position(line=line, character=character)
            await client.text_document_hover_async(T.HoverParams(text_document=doc, position=pos))
            await client.text_document_completion_async(
                T.CompletionParams(text_document=doc, position=pos)
            )
            await client.text_document_definition_async(
                T.DefinitionParams(text_document=doc, position=pos)
            )
    assert client.error is None


# ------------------------------------------------------------- no session


def test_position_conversion_round_trips_astral_characters() -> None:
    lines = source_lines("a🙂b\r\nc")
    assert lines == ["a🙂b", "c"]
    assert to_position(lines, 1, 3) == T.Position(line=0, character=3)
    assert from_position(lines, T.Position(line=0, character=3)) == (1, 3)
    assert from_position(lines, T.Position(line=0, character=99)) == (1, 4)


def test_positions_in_utf8_and_utf32() -> None:
    lines = source_lines("a🙂é b")
    assert to_position(lines, 1, 4, "utf-8") == T.Position(line=0, character=7)
    assert to_position(lines, 1, 4, "utf-32") == T.Position(line=0, character=3)
    assert from_position(lines, T.Position(line=0, character=7), "utf-8") == (1, 4)
    assert from_position(lines, T.Position(line=0, character=3), "utf-32") == (1, 4)


def test_a_burst_of_changes_is_checked_once() -> None:
    server = AlvhServer()
    server.debounce = 0.05
    published: list[str] = []
    server.publish = published.append  # type: ignore[method-assign]

    async def burst() -> None:
        for _ in range(5):
            server.schedule("file:///book.alvh")
        await asyncio.sleep(0.3)
        server.schedule("file:///other.alvh")
        await asyncio.sleep(0.3)

    asyncio.run(burst())
    assert published == ["file:///book.alvh", "file:///other.alvh"]


def test_a_change_after_a_pause_is_checked_at_once_and_a_burst_when_it_pauses() -> None:
    server = AlvhServer()
    server.debounce = 0.5
    published: list[tuple[str, float]] = []

    async def run() -> None:
        loop = asyncio.get_running_loop()
        server.publish = lambda uri: published.append((uri, loop.time()))  # type: ignore[method-assign]
        start = loop.time()
        server.schedule("file:///book.alvh")  # idle: no timer
        await asyncio.sleep(0.1)
        assert [u for u, _ in published] == ["file:///book.alvh"]
        assert published[0][1] - start < 0.1
        server.schedule("file:///book.alvh")  # 0.1 s after the last change: a burst
        server.schedule("file:///book.alvh")
        await asyncio.sleep(0.2)
        assert len(published) == 1  # the burst waits for its pause
        await asyncio.sleep(0.5)
        assert len(published) == 2 and published[1][1] - start >= 0.6

    asyncio.run(run())


def test_changes_that_queued_up_during_a_check_are_a_burst() -> None:
    server = AlvhServer()
    server.debounce = 0.1
    published: list[str] = []

    def slow_check(uri: str) -> None:
        time.sleep(0.3)  # a check longer than the debounce, as on a large book
        published.append(uri)

    server.publish = slow_check  # type: ignore[method-assign]

    async def run() -> None:
        server.schedule("file:///book.alvh")  # idle: checked at once
        await asyncio.sleep(0.01)  # the check runs (and blocks the loop) here
        assert published == ["file:///book.alvh"]
        server.schedule("file:///book.alvh")  # came in while it ran: not idle
        await asyncio.sleep(0.02)
        assert len(published) == 1
        await asyncio.sleep(0.6)
        assert len(published) == 2

    asyncio.run(run())


def test_a_session_parses_an_unchanged_included_file_once(tmp_path: Path) -> None:
    from alvh_dsl.lsp.checking import check_buffer

    (tmp_path / "lib.alvh").write_text("param trigger = 22\ndefine hot = VIX > trigger\n")
    book = str(tmp_path / "book.alvh")
    text = 'rulebook "b"\ninclude "lib.alvh"\nrule r\n  when hot then close condor\n'
    cache = ParseCache()
    first = check_buffer(book, text, 1, cache=cache)
    second = check_buffer(book, text.replace("rule r", "rule s"), 2, cache=cache)
    assert cache.hits == 1  # lib.alvh, not the changed buffer
    lib = str(tmp_path / "lib.alvh")
    assert second.program.files[lib] is first.program.files[lib]
    assert [d.code for d in second.program.diagnostics] == [
        d.code for d in check_buffer(book, text.replace("rule r", "rule s"), 2).program.diagnostics
    ]


def test_alvh_lsp_loads_no_numpy_or_pandas() -> None:
    code = (
        "import sys\n"
        "from alvh_dsl.cli.main import cli\n"
        "import click\n"
        "cmd = cli.get_command(click.Context(cli), 'lsp')\n"
        "from alvh_dsl.lsp.server import make_server\n"
        "make_server()\n"
        "heavy = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('numpy', 'pandas', 'scipy', 'matplotlib', 'pyarrow'))\n"
        "print('HEAVY:', heavy, cmd.name)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=120
    )
    assert "HEAVY: [] lsp" in done.stdout, done.stdout + done.stderr


def test_alvh_help_lists_lsp() -> None:
    from click.testing import CliRunner

    from alvh_dsl.cli.main import cli

    listed = CliRunner().invoke(cli, ["--help"])
    assert "lsp" in listed.output and "language server" in listed.output
    own = CliRunner().invoke(cli, ["lsp", "--help"])
    assert own.exit_code == 0 and "--stdio" in own.output


def test_the_collector_is_paused_until_the_diagnostics_are_sent() -> None:
    import gc

    server = AlvhServer()
    seen: list[tuple[str, bool]] = []
    uri = "file:///book.alvh"
    from pygls.workspace import Workspace

    server.protocol._workspace = Workspace(None)
    server.workspace.put_text_document(
        T.TextDocumentItem(uri=uri, language_id="alvh", version=1, text='rulebook "b"\n')
    )
    real_book = server.book
    server.book = lambda u: (seen.append(("check", gc.isenabled())), real_book(u))[1]  # type: ignore[method-assign]
    server.text_document_publish_diagnostics = lambda p: seen.append(("send", gc.isenabled()))  # type: ignore[method-assign]
    assert gc.isenabled()
    server.publish(uri)
    assert seen == [("check", False), ("send", False)]
    assert gc.isenabled()  # and on again afterwards
