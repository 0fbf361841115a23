"""Go to definition, find references, the document outline, and whole-document formatting.

Definitions and references cover params, defines, rules and include paths, across the
book and the files it includes. Formatting is :func:`alvh_dsl.lang.fmt.format_source`,
as ``alvh fmt`` does it; a book it refuses (syntax errors, E010) gets no edit.
"""

from __future__ import annotations

import os

from lsprotocol import types as T

from ..errors import RulebookError
from ..lang import ast as A
from ..lang.fmt import format_source
from ..lang.printer import format_expr, format_quantity
from .index import BookIndex, file_uri
from .positions import UTF16, contains, to_position, to_range


def _location(index: BookIndex, span: A.Span) -> T.Location:
    return T.Location(
        uri=file_uri(span.file), range=to_range(index.lines_of(span.file), span, index.encoding)
    )


def _symbol_at(index: BookIndex, line: int, column: int) -> tuple[str, str] | None:
    """The param, define or rule (kind, name) or include (``include``, path) at a position."""
    stmt = index.statement_at(line, column)
    if stmt is None:
        return None
    name = index.name_at(line, column)
    if name is not None:
        return "name", name.name
    if isinstance(stmt, (A.Param, A.Define)) and contains(stmt.name_span, line, column):
        return "name", stmt.name
    if isinstance(stmt, A.Rule) and contains(stmt.id_span, line, column):
        return "rule", stmt.id
    if isinstance(stmt, A.Include) and contains(stmt.path_span, line, column):
        return "include", index.include_target(stmt)
    return None


def definition(index: BookIndex, line: int, column: int) -> list[T.Location]:
    """Where the param, define, rule or included file at a position is declared."""
    found = _symbol_at(index, line, column)
    if found is None:
        return []
    kind, name = found
    if kind == "include":
        if not os.path.isfile(name):
            return []
        start = T.Position(line=0, character=0)
        return [T.Location(uri=file_uri(name), range=T.Range(start=start, end=start))]
    if kind == "rule":
        rule = index.rule(name)
        return [_location(index, rule.id_span)] if rule is not None else []
    decl = index.declaration(name)
    return [_location(index, decl.name_span)] if decl is not None else []


def references(
    index: BookIndex, line: int, column: int, *, declaration: bool = True
) -> list[T.Location]:
    """Every use of the param, define or rule at a position (and its declaration), or every
    ``include`` of the same file."""
    found = _symbol_at(index, line, column)
    if found is None:
        return []
    kind, name = found
    out: list[T.Location] = []
    if kind == "include":
        for file, book in index.program.files.items():
            for stmt in book.statements:
                if not isinstance(stmt, A.Include):
                    continue
                target = os.path.normpath(os.path.join(os.path.dirname(file), stmt.path))
                if target == name:
                    out.append(_location(index, stmt.path_span))
        return out
    if kind == "rule":
        rule = index.rule(name)
        return [_location(index, rule.id_span)] if rule is not None and declaration else []
    decl = index.declaration(name)
    if decl is not None and declaration:
        out.append(_location(index, decl.name_span))
    out += [_location(index, n.span) for n in index.names() if n.name == name]
    return out


def symbols(index: BookIndex) -> list[T.DocumentSymbol]:
    """The open file's outline: its params, defines, rules (title, priority) and includes."""
    out = []
    for stmt in index.statements:
        whole = to_range(index.lines, stmt.span, index.encoding)
        if isinstance(stmt, A.Param):
            name, kind, detail, sel = (
                stmt.name, T.SymbolKind.Constant, format_quantity(stmt.value), stmt.name_span,
            )  # fmt: skip
        elif isinstance(stmt, A.Define):
            name, kind, detail, sel = (
                stmt.name, T.SymbolKind.Variable, format_expr(stmt.expr), stmt.name_span,
            )  # fmt: skip
        elif isinstance(stmt, A.Rule):
            bits = [stmt.title or ""] + ([f"priority {stmt.priority}"] if stmt.priority else [])
            name, kind, detail, sel = (
                stmt.id, T.SymbolKind.Event, " · ".join(b for b in bits if b), stmt.id_span,
            )  # fmt: skip
        elif isinstance(stmt, A.Include):
            name, kind, detail, sel = stmt.path, T.SymbolKind.File, "include", stmt.path_span
        else:
            continue
        out.append(
            T.DocumentSymbol(
                name=name,
                kind=kind,
                detail=detail or None,
                range=whole,
                selection_range=to_range(index.lines, sel, index.encoding),
            )
        )
    return out


def formatting(text: str, path: str, encoding: str = UTF16) -> list[T.TextEdit]:
    """One edit that replaces the whole document with its canonical form; none when it is
    formatted already, or when ``fmt`` refuses it (syntax errors: the diagnostics say)."""
    try:
        formatted = format_source(text, path)
    except RulebookError:
        return []
    if formatted == text:
        return []
    lines = text.split("\n")
    end = to_position(lines, len(lines), len(lines[-1]) + 1, encoding)
    return [
        T.TextEdit(
            range=T.Range(start=T.Position(line=0, character=0), end=end), new_text=formatted
        )
    ]
