"""The ``alvh lsp`` language server (pygls, over stdio).

Every feature reads a :class:`~alvh_dsl.lsp.index.BookIndex`: the open buffer checked
by :func:`~alvh_dsl.lsp.checking.check_buffer` (the API the CLI uses, no second
parser), with the session's :class:`~alvh_dsl.lsp.incremental.IncrementalParses`, so
included files are parsed again only when their text changes, and an edited buffer (or
library) only around the lines the edit changed. A change that comes after a quiet spell
(``debounce``, in seconds: ``initializationOptions: {"debounce": 0.05}``) is checked at
once; one that comes sooner (after another change, or a check that just ended) is part
of a burst, checked once the burst pauses for ``debounce``: a burst of keystrokes costs
two checks (its first and last change), and a single edit waits for no timer. A request
that arrives first checks the buffer itself. Saving a file (or the client's file watcher
reporting a change) re-checks every open book that includes it. Each handler answers
from what parsed and never lets an exception escape: an editor's server must survive any
half-typed book.
"""

from __future__ import annotations

import asyncio
import functools
import math
import traceback
from collections.abc import Callable
from typing import Any, TypeVar

from lsprotocol import types as T
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from .. import __version__
from ..perf import paused_gc
from . import completion, diagnostics, hover, navigation, tokens
from .checking import check_buffer
from .incremental import IncrementalParses
from .index import BookIndex
from .positions import UTF16, from_position

DEFAULT_DEBOUNCE = 0.05  # seconds; changes closer than this are a burst
R = TypeVar("R")


class AlvhServer(LanguageServer):
    """The server's state: the checked books of the open documents."""

    def __init__(self) -> None:
        super().__init__(
            "alvh", __version__, text_document_sync_kind=T.TextDocumentSyncKind.Incremental
        )
        self.books: dict[str, BookIndex] = {}
        self.pending: dict[str, asyncio.Task[None]] = {}
        self.debounce = DEFAULT_DEBOUNCE
        #: uri -> when its last change came or its last check ended (loop time)
        self.last_activity: dict[str, float] = {}
        self.parses = IncrementalParses()

    @property
    def encoding(self) -> str:
        """The position encoding negotiated at ``initialize`` (UTF-16 unless the client
        prefers UTF-8 or UTF-32)."""
        try:
            chosen = self.server_capabilities.position_encoding
        except Exception:  # before initialize
            return UTF16
        return str(chosen) if chosen else UTF16

    def path_of(self, uri: str) -> str:
        """The file path of a document URI (the URI itself for one that is not a file)."""
        return to_fs_path(uri) or uri

    def book(self, uri: str) -> BookIndex:
        """The open document checked as it is now (re-checked if it changed)."""
        doc = self.workspace.get_text_document(uri)
        index = self.books.get(uri)
        if index is None or index.text != doc.source:
            path = self.path_of(uri)
            index = check_buffer(path, doc.source, doc.version, self.encoding, self.parses)
            self.books[uri] = index
        return index

    def is_library(self, uri: str) -> bool:
        """Whether another open book includes this document."""
        path = self.path_of(uri)
        return any(u != uri and b.includes_file(path) for u, b in self.books.items())

    def publish(self, uri: str) -> None:
        """Check a document and send its diagnostics."""
        if uri not in self.workspace.text_documents:
            return
        # The collector stays off until the diagnostics are sent: a check allocates a
        # new AST whose first collection (a scan of every node) would otherwise land
        # inside the check, on the latency the user waits for, instead of after it.
        with paused_gc():
            index = self.book(uri)
            self.text_document_publish_diagnostics(
                T.PublishDiagnosticsParams(
                    uri=uri,
                    version=index.version,
                    diagnostics=diagnostics.to_lsp(index, library=self.is_library(uri)),
                )
            )

    def schedule(self, uri: str) -> None:
        """Check a document after a change: at once when it was idle (no change and no
        check of it within :attr:`debounce`), else once the burst pauses for
        :attr:`debounce` seconds. A check just finished counts: the changes that queued
        up while it ran are a burst, not each an idle edit."""
        loop = asyncio.get_running_loop()
        now = loop.time()
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()  # a newer text supersedes the one it would have checked
        idle = task is None and now - self.last_activity.get(uri, -math.inf) >= self.debounce
        self.last_activity[uri] = now
        self.pending[uri] = loop.create_task(self._later(uri, 0.0 if idle else self.debounce))

    async def _later(self, uri: str, delay: float) -> None:
        await asyncio.sleep(delay)
        self.pending.pop(uri, None)
        guarded(self, lambda: self.publish(uri), None)
        self.last_activity[uri] = asyncio.get_running_loop().time()

    def includers_changed(self, path: str) -> None:
        """Re-check the open books that include ``path`` (a library saved or changed)."""
        for uri, index in list(self.books.items()):
            if index.path != path and index.includes_file(path):
                self.books.pop(uri, None)
                self.publish(uri)


def guarded(ls: LanguageServer, run: Callable[[], R], fallback: R) -> R:
    """``run()``, or ``fallback`` with the traceback logged: a bug in one feature must not
    take the editor's server down."""
    try:
        return run()
    except Exception:
        ls.window_log_message(
            T.LogMessageParams(type=T.MessageType.Error, message=traceback.format_exc())
        )
        return fallback


def _position(ls: AlvhServer, uri: str, position: T.Position) -> tuple[BookIndex, int, int]:
    index = ls.book(uri)
    line, column = from_position(index.lines, position, index.encoding)
    return index, line, column


def make_server() -> AlvhServer:  # Long: one registration per LSP feature, in one place
    """A new server with every feature registered."""
    server = AlvhServer()

    def feature(method: str, options: Any = None) -> Callable[[Callable[..., R]], Any]:
        def register(fn: Callable[..., R]) -> Any:
            @functools.wraps(fn)
            def handler(ls: AlvhServer, params: Any) -> Any:
                return guarded(ls, lambda: fn(ls, params), None)

            return server.feature(method, options)(handler)

        return register

    @feature(T.INITIALIZE)
    def initialize(ls: AlvhServer, params: T.InitializeParams) -> None:
        options = params.initialization_options
        if isinstance(options, dict) and isinstance(options.get("debounce"), (int, float)):
            ls.debounce = max(0.0, float(options["debounce"]))

    @feature(T.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: AlvhServer, params: T.DidOpenTextDocumentParams) -> None:
        ls.publish(params.text_document.uri)

    @feature(T.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: AlvhServer, params: T.DidChangeTextDocumentParams) -> None:
        ls.schedule(params.text_document.uri)

    @feature(T.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: AlvhServer, params: T.DidSaveTextDocumentParams) -> None:
        ls.includers_changed(ls.path_of(params.text_document.uri))

    @feature(T.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: AlvhServer, params: T.DidCloseTextDocumentParams) -> None:
        uri = params.text_document.uri
        ls.books.pop(uri, None)
        ls.last_activity.pop(uri, None)
        task = ls.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        ls.text_document_publish_diagnostics(T.PublishDiagnosticsParams(uri=uri, diagnostics=[]))

    @feature(T.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def watched(ls: AlvhServer, params: T.DidChangeWatchedFilesParams) -> None:
        for change in params.changes:
            ls.includers_changed(ls.path_of(change.uri))

    @feature(T.TEXT_DOCUMENT_HOVER)
    def on_hover(ls: AlvhServer, params: T.HoverParams) -> T.Hover | None:
        index, line, column = _position(ls, params.text_document.uri, params.position)
        text = hover.hover_text(index, line, column)
        if text is None:
            return None
        return T.Hover(contents=T.MarkupContent(kind=T.MarkupKind.Markdown, value=text))

    @feature(
        T.TEXT_DOCUMENT_COMPLETION,
        T.CompletionOptions(trigger_characters=[".", " "]),
    )
    def on_completion(ls: AlvhServer, params: T.CompletionParams) -> T.CompletionList:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        lines = [ln.removesuffix("\r") for ln in doc.source.split("\n")]
        line, column = from_position(lines, params.position, ls.encoding)
        # The last checked version is good enough for what is in scope: the line being
        # typed rarely parses, and re-checking on every keystroke is what debounce avoids.
        return completion.complete(ls.books.get(uri), lines, line, column, ls.encoding)

    @feature(T.TEXT_DOCUMENT_DEFINITION)
    def on_definition(ls: AlvhServer, params: T.DefinitionParams) -> list[T.Location]:
        return navigation.definition(*_position(ls, params.text_document.uri, params.position))

    @feature(T.TEXT_DOCUMENT_REFERENCES)
    def on_references(ls: AlvhServer, params: T.ReferenceParams) -> list[T.Location]:
        index, line, column = _position(ls, params.text_document.uri, params.position)
        return navigation.references(
            index, line, column, declaration=params.context.include_declaration
        )

    @feature(T.TEXT_DOCUMENT_DOCUMENT_SYMBOL)
    def on_symbols(ls: AlvhServer, params: T.DocumentSymbolParams) -> list[T.DocumentSymbol]:
        return navigation.symbols(ls.book(params.text_document.uri))

    @feature(T.TEXT_DOCUMENT_FORMATTING)
    def on_formatting(ls: AlvhServer, params: T.DocumentFormattingParams) -> list[T.TextEdit]:
        uri = params.text_document.uri
        doc = ls.workspace.get_text_document(uri)
        return navigation.formatting(doc.source, ls.path_of(uri), ls.encoding)

    @feature(
        T.TEXT_DOCUMENT_CODE_ACTION,
        T.CodeActionOptions(code_action_kinds=[T.CodeActionKind.QuickFix]),
    )
    def on_code_action(ls: AlvhServer, params: T.CodeActionParams) -> list[T.CodeAction]:
        return diagnostics.quick_fixes(params.text_document.uri, params.context.diagnostics)

    @feature(T.TEXT_DOCUMENT_SEMANTIC_TOKENS_FULL, tokens.LEGEND)
    def on_tokens(ls: AlvhServer, params: T.SemanticTokensParams) -> T.SemanticTokens:
        return tokens.semantic_tokens(ls.book(params.text_document.uri))

    return server


def serve() -> None:
    """Run the server on stdin/stdout until the client says ``exit``."""
    make_server().start_io()
