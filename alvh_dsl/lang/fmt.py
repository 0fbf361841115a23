"""``alvh fmt``: a parsed file → its canonical text, with every comment put back.

The layout is canonical (one answer per book, whatever the input spacing) and
idempotent, every comment is kept, and the meaning never changes: parsing the
output gives the same AST as parsing the input, spans aside. That property is
what lets the printer add parentheses for readability (``(a and b) or c``) but
never drop ones the AST needs (``a - (b - c)``, ``a and (b and c)``).

Layout:
- statements in source order; one blank line around multi-line rules, and
  otherwise the author's blank lines (at most one) are kept;
- consecutive ``param`` (or ``define``) lines align their ``=``;
- named rules put each clause on its own line, indented two spaces, in the
  order ``when``, ``unless``, ``then``, ``cooldown``; unnamed rules keep the
  one-line form ``when COND ACTION``;
- a clause longer than :data:`MAX_WIDTH` breaks before top-level ``and``/``or``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from . import ast as A
from .diagnostics import error
from .printer import (
    MAX_WIDTH,
    Line,
    format_expr,
    format_quantity,
    long_quote,
    quote,
    rule_lines,
)
from .transform import Comment

if TYPE_CHECKING:
    from .parse import ParseResult

__all__ = ["MAX_WIDTH", "format_book", "format_source"]


# ----------------------------------------------------------------------- files


@dataclass
class _Block:
    """A top-level statement's output lines, with the comments placed around it."""

    stmt: A.StatementNode
    lines: list[Line]
    first_source_line: int  # including its leading comments
    leading: list[str] = field(default_factory=list)
    leading_lines: list[int] = field(default_factory=list)  # source line of each

    @property
    def multiline(self) -> bool:
        return len(self.lines) > 1


def _statement_lines(stmt: A.StatementNode) -> list[Line]:
    match stmt:
        case A.Rule():
            return rule_lines(stmt)
        case A.Header():
            text = f"rulebook {quote(stmt.name)}"
            if stmt.version is not None:
                text += f" version {quote(stmt.version)}"
        case A.Description():
            text = f"description {long_quote(stmt.text)}"
        case A.Param():
            text = f"param {stmt.name} = {format_quantity(stmt.value)}"
        case A.Define():
            text = f"define {stmt.name} = {format_expr(stmt.expr)}"
        case A.Include():
            text = f"include {quote(stmt.path)}"
        case _:
            A.unhandled(stmt)
    return [Line(text, (stmt.span.line, stmt.span.end_line), stmt.span.line)]


def format_book(
    book: A.Rulebook, comments: tuple[Comment, ...] = (), source: str | None = None
) -> str:
    """Canonical text of a parsed file, with its comments put back.

    ``source`` (the original text) is used only to keep the author's blank lines.
    """
    src_lines = source.split("\n") if source is not None else []
    blocks = [_Block(s, _statement_lines(s), s.span.line) for s in book.statements]
    end_comments: list[str] = []

    for c in sorted(comments, key=lambda c: (c.line, c.column)):
        block = next(
            (b for b in blocks if b.stmt.span.line <= c.line <= b.stmt.span.end_line), None
        )
        if block is not None:
            if c.trailing:
                line = _line_for(block.lines, c.line)
                if line.commented:
                    # A second comment for the same output line goes above its
                    # clause: between a line and its `and`/`or` continuation a
                    # comment line would end the clause (a syntax error).
                    _clause_start(block.lines, line).before.append(c.text)
                else:
                    line.text = f"{line.text}  {c.text}"
                    line.commented = True
            else:
                target = _first_line_after(block.lines, c.line)
                if target is None:  # above the last clause (not inside it, see _clause_start)
                    target = _clause_start(block.lines, block.lines[-1])
                target.before.append(c.text)
            continue
        following = next((b for b in blocks if b.stmt.span.line > c.line), None)
        if following is None:
            end_comments.append(c.text)
        else:
            following.leading.append(c.text)
            following.leading_lines.append(c.line)
            following.first_source_line = min(following.first_source_line, c.line)

    out: list[str] = []
    prev: _Block | None = None
    for b in blocks:
        if prev is not None and (
            prev.multiline or b.multiline or _blank_between(src_lines, prev, b)
        ):
            out.append("")
        # The author's blank lines among leading comments and before the statement
        # are kept (at most one), like those between statements.
        marks = [*b.leading_lines, b.stmt.span.line]
        for i, text in enumerate(b.leading):
            out.append(text)
            if _blank_in(src_lines, marks[i] + 1, marks[i + 1]):
                out.append("")
        for line in b.lines:
            indent = _indent_of(line.text)
            out.extend(f"{indent}{text}" for text in line.before)
            out.append(line.text)
        prev = b
    if end_comments:
        if out:
            out.append("")
        out.extend(end_comments)
    text = "\n".join(_align(out))
    return text.rstrip("\n") + "\n" if text.strip() else ""


def _line_for(lines: list[Line], source_line: int) -> Line:
    """The output line standing for a source line (the last one whose anchors cover it)."""
    best = None
    for line in lines:
        if line.anchors and line.anchors[0] <= source_line <= line.anchors[1]:
            best = line
    if best is None:
        best = next((ln for ln in reversed(lines) if ln.anchors), lines[-1])
    return best


def _clause_start(lines: list[Line], line: Line) -> Line:
    """The first output line of the clause ``line`` belongs to (it may be a continuation)."""
    i = next(k for k, ln in enumerate(lines) if ln is line)
    while i > 0 and lines[i].text.lstrip().startswith(("and ", "or ")):
        i -= 1
    return lines[i]


def _first_line_after(lines: list[Line], source_line: int) -> Line | None:
    later = [ln for ln in lines if ln.leading_from is not None and ln.leading_from > source_line]
    return min(later, key=lambda ln: ln.leading_from or 0) if later else None


def _indent_of(text: str) -> str:
    return text[: len(text) - len(text.lstrip())]


def _blank_in(src: list[str], start: int, end: int) -> bool:
    """Is one of the source lines ``start`` … ``end - 1`` (1-based) blank?"""
    return any(not src[i - 1].strip() for i in range(start, end) if 0 < i <= len(src))


def _blank_between(src: list[str], a: _Block, b: _Block) -> bool:
    """Did the author leave a blank line between two statements (or their comments)?"""
    return any(
        not src[i - 1].strip()
        for i in range(a.stmt.span.end_line + 1, b.first_source_line)
        if 0 < i <= len(src)
    )


_ASSIGN = re.compile(r"^(param|define) (\S+) = ")


def _align(lines: list[str]) -> list[str]:
    """Align the ``=`` of consecutive param lines (and, separately, define lines)."""
    out = list(lines)
    i = 0
    while i < len(out):
        m = _ASSIGN.match(out[i])
        if not m:
            i += 1
            continue
        j = i
        names: list[str] = []
        while j < len(out):
            mj = _ASSIGN.match(out[j])
            if mj is None or mj.group(1) != m.group(1):
                break
            names.append(mj.group(2))
            j += 1
        width = max(len(n) for n in names)
        for k in range(i, j):
            mk = _ASSIGN.match(out[k])
            assert mk is not None
            out[k] = f"{mk.group(1)} {mk.group(2).ljust(width)} = {out[k][mk.end() :]}"
        i = j
    return out


def format_source(text: str, file: str = "<string>") -> str:
    """Format rulebook text canonically.

    Raises :class:`~alvh_dsl.errors.RulebookError` when the text has
    syntax errors (a formatter must never guess at broken code), and with E010
    when the output would not parse back to the same statements.
    """
    from ..errors import RulebookError
    from .parse import parse

    result = parse(text, file)
    if not result.ok:
        raise RulebookError([d for d in result.diagnostics if d.is_error], {file: text})
    out = format_book(result.book, result.comments, text)
    # The printer is trusted only as far as its output reads back to the same
    # statements: a book it cannot reproduce is refused, never rewritten into one
    # that means something else or does not parse (issue 10).
    span = _first_unfaithful(result.book, parse(out, file))
    if span is not None:
        raise RulebookError(
            [
                error(
                    "E010",
                    "`alvh fmt` cannot print this statement back as written: the file is "
                    "left as it is",
                    span,
                    help="run `alvh check` on it: its errors may be the cause; "
                    "otherwise please report this as a bug",
                )
            ],
            {file: text},
        )
    return out


def _first_unfaithful(book: A.Rulebook, again: ParseResult) -> A.Span | None:
    """Where the formatted text stops meaning what ``book`` means (``None``: nowhere)."""
    after = again.book.statements if again.ok else ()
    for i, stmt in enumerate(book.statements):
        if i >= len(after) or A.strip_spans(stmt) != A.strip_spans(after[i]):
            return stmt.span
    if len(after) != len(book.statements) or not again.ok:
        return book.span
    return None
