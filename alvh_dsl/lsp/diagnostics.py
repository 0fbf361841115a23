"""The checker's diagnostics as LSP diagnostics, and their fixes as quick-fix code actions.

A diagnostic in the open file keeps its range; one in a file the book includes is shown
on the ``include`` line that brings that file in (an editor shows a book's problems on
the book), with its real place as related information. A diagnostic that carries a
:class:`~alvh_dsl.lang.diagnostics.Fix` (a did-you-mean) holds the edit in ``data``, so
a code-action request answers from what the client sends back, with no state kept.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from lsprotocol import types as T

from ..lang import ast as A
from ..lang.diagnostics import Diagnostic
from .index import BookIndex, file_uri
from .positions import to_range

SOURCE = "alvh"
#: a library (a file other open books include) is not at fault for leaving a param or
#: define unused, or for having no rules: the books that include it use them, and rule
LIBRARY_QUIET = frozenset({"W102", "W103", "W104"})
_FIX_KEY = "alvhFix"


def to_lsp(index: BookIndex, *, library: bool = False) -> list[T.Diagnostic]:
    """Every diagnostic of the book, placed in the open file."""
    out = []
    for d in index.program.diagnostics:
        if library and d.code in LIBRARY_QUIET:
            continue
        converted = _convert(index, d)
        if converted is not None:
            out.append(converted)
    return out


def _convert(index: BookIndex, d: Diagnostic) -> T.Diagnostic | None:
    span = d.span if isinstance(d.span, A.Span) else None
    related = [
        T.DiagnosticRelatedInformation(
            location=T.Location(uri=file_uri(r.span.file), range=_range(index, r.span)),
            message=r.message,
        )
        for r in d.related
    ]
    message = d.message + (f"\nhelp: {d.help}" if d.help else "")
    if span is None:
        where = T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
    elif span.file == index.path:
        where = to_range(index.lines, span, index.encoding)
    else:  # in an included file: on the include line that brings it in
        include = _include_for(index, span.file)
        where = (
            to_range(index.lines, include.path_span, index.encoding)
            if include is not None
            else T.Range(start=T.Position(line=0, character=0), end=T.Position(line=0, character=0))
        )
        message = f"{span}: {message}"
        related.insert(
            0,
            T.DiagnosticRelatedInformation(
                location=T.Location(uri=file_uri(span.file), range=_range(index, span)),
                message=d.message,
            ),
        )
    data: dict[str, Any] | None = None
    if d.fix is not None and d.fix.span.file == index.path:
        data = {
            _FIX_KEY: {
                "range": _range_json(to_range(index.lines, d.fix.span, index.encoding)),
                "newText": d.fix.replacement,
            }
        }
    return T.Diagnostic(
        range=where,
        message=message,
        severity=T.DiagnosticSeverity.Error if d.is_error else T.DiagnosticSeverity.Warning,
        code=d.code,
        source=SOURCE,
        related_information=related or None,
        data=data,
    )


def _range(index: BookIndex, span: A.Span) -> T.Range:
    return to_range(index.lines_of(span.file), span, index.encoding)


def _range_json(r: T.Range) -> dict[str, dict[str, int]]:
    return {
        "start": {"line": r.start.line, "character": r.start.character},
        "end": {"line": r.end.line, "character": r.end.character},
    }


def _include_for(index: BookIndex, file: str) -> A.Include | None:
    """The open file's ``include`` through which ``file`` is loaded (directly or not)."""
    includes = [s for s in index.statements if isinstance(s, A.Include)]
    for inc in includes:
        if index.include_target(inc) == file:
            return inc
    # Included through a library: the include whose file (transitively) includes it.
    parents = _parents(index)
    seen = set()
    while file in parents and file not in seen:
        seen.add(file)
        file = parents[file]
        for inc in includes:
            if index.include_target(inc) == file:
                return inc
    return includes[0] if includes else None


def _parents(index: BookIndex) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, book in index.program.files.items():
        for stmt in book.statements:
            if isinstance(stmt, A.Include):
                out[os.path.normpath(os.path.join(os.path.dirname(name), stmt.path))] = name
    return out


def quick_fixes(uri: str, diagnostics: Iterable[T.Diagnostic]) -> list[T.CodeAction]:
    """A quick fix for each diagnostic the client sends back that carries an edit."""
    out = []
    for d in diagnostics:
        edit = d.data.get(_FIX_KEY) if isinstance(d.data, dict) else None
        if not isinstance(edit, dict):
            continue
        try:
            start, end = edit["range"]["start"], edit["range"]["end"]
            text_edit = T.TextEdit(
                range=T.Range(
                    start=T.Position(line=int(start["line"]), character=int(start["character"])),
                    end=T.Position(line=int(end["line"]), character=int(end["character"])),
                ),
                new_text=str(edit["newText"]),
            )
        except (KeyError, TypeError, ValueError):
            continue  # not an edit this server made
        out.append(
            T.CodeAction(
                title=f"Replace with `{text_edit.new_text}`",
                kind=T.CodeActionKind.QuickFix,
                diagnostics=[d],
                is_preferred=True,
                edit=T.WorkspaceEdit(changes={uri: [text_edit]}),
            )
        )
    return out
