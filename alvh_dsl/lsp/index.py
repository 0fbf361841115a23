"""One open book, checked, and what the editor features ask of it: what is at a position,
where a name is declared, every place it is used.

:class:`BookIndex` wraps the :class:`~alvh_dsl.lang.program.Program` that
:func:`alvh_dsl.api.load_checked` returns for the editor's buffer (the same path the
CLI's ``alvh check`` takes). A book with syntax errors still has every statement that
parsed (the parser recovers line by line), so every feature answers from what parsed.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ..lang import ast as A
from ..lang.program import Program
from .positions import UTF16, contains, source_lines


def file_uri(path: str) -> str:
    """The ``file://`` URI of a path as the loader names it (absolute, for an open book)."""
    return Path(os.path.abspath(path)).as_uri()


@dataclass
class BookIndex:
    """A checked book and lookups over it; ``path`` is the open document's file."""

    path: str
    text: str
    program: Program
    version: int | None = None
    #: the session's position encoding (positions.UTF16 unless the client chose another)
    encoding: str = UTF16
    lines: list[str] = field(init=False)

    def __post_init__(self) -> None:
        self.lines = source_lines(self.text)

    # ------------------------------------------------------------- contents

    @property
    def statements(self) -> tuple[A.StatementNode, ...]:
        """The open file's own statements (its ``include`` lines among them)."""
        book = self.program.files.get(self.path)
        return book.statements if book is not None else ()

    def lines_of(self, file: str) -> list[str]:
        """The source lines of the open file or of a file it includes."""
        if file == self.path:
            return self.lines
        return source_lines(self.program.sources.get(file, ""))

    def param_values(self) -> dict[str, A.Number]:
        """Each param's value as the book runs it (a declared value, or an override)."""
        return {
            name: self.program.param_values.get(name, p.value)
            for name, p in self.program.params.items()
        }

    def all_statements(self) -> Iterator[A.StatementNode]:
        """Every statement of every file, the open file's included ones where they stand."""
        for book in self.program.files.values():
            yield from book.statements

    def names(self) -> Iterator[A.Name]:
        """Every name used in an expression, in every file."""
        for stmt in self.all_statements():
            for node in A.walk(stmt):
                if isinstance(node, A.Name):
                    yield node

    def includes_file(self, path: str) -> bool:
        """Whether this book includes ``path`` (directly or through another include)."""
        real = os.path.realpath(path)
        return any(
            os.path.realpath(f) == real for f in self.program.files if f != self.program.root
        )

    # --------------------------------------------------------- at a position

    def statement_at(self, line: int, column: int) -> A.StatementNode | None:
        """The open file's statement on a 1-based line (a rule's clauses are part of it)."""
        for stmt in self.statements:
            if stmt.span.line <= line <= stmt.span.end_line:
                return stmt
        return None

    def name_at(self, line: int, column: int) -> A.Name | None:
        """The name used in an expression at a position of the open file."""
        stmt = self.statement_at(line, column)
        if stmt is None:
            return None
        for node in A.walk(stmt):
            if isinstance(node, A.Name) and contains(node.span, line, column):
                return node
        return None

    def call_at(self, line: int, column: int) -> A.Call | None:
        """The call whose function name is at a position (``SMA`` in ``SMA(VIX, 20)``)."""
        stmt = self.statement_at(line, column)
        if stmt is None:
            return None
        for node in A.walk(stmt):
            if isinstance(node, A.Call) and node.span.line == line:
                start = node.span.column
                if start <= column <= start + len(node.func):
                    return node
        return None

    def action_at(self, line: int, column: int) -> A.ActionNode | None:
        """The action of a rule at a position of the open file."""
        stmt = self.statement_at(line, column)
        if not isinstance(stmt, A.Rule):
            return None
        return next((a for a in stmt.actions if contains(a.span, line, column)), None)

    def declaration(self, name: str) -> A.Param | A.Define | None:
        """The param or define ``name`` (in any file of the book)."""
        return self.program.params.get(name) or self.program.defines.get(name)

    def rule(self, rule_id: str) -> A.Rule | None:
        """The rule with this ID (in any file of the book)."""
        return next((r for r in self.program.rules if r.id == rule_id), None)

    def include_target(self, include: A.Include) -> str:
        """The file an ``include`` line names, as the loader resolves it."""
        return os.path.normpath(os.path.join(os.path.dirname(self.path), include.path))

    def in_scope(self, line: int) -> list[A.Param | A.Define]:
        """Params and defines declared before a 1-based line of the open file (included
        files' ones where their ``include`` stands), as the checker allows (E102)."""
        out: list[A.Param | A.Define] = []
        for stmt in self.program.statements:
            if stmt.span.file == self.path and stmt.span.line >= line:
                break
            if isinstance(stmt, (A.Param, A.Define)):
                out.append(stmt)
        return out
