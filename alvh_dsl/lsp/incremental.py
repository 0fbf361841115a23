"""Re-parsing an edited buffer: only the statements an edit touches (issue 12).

An edit changes a line or a few; the parse of the rest of the book is what it was, its
spans moved by the lines added or removed above them. :func:`reparse` builds the parse
of an edited text from the parse of the text before the edit:

- the lines the two texts share at the start and at the end are found;
- the *window* of lines parsed again starts at the last statement that begins with its
  keyword on a line of the shared start (``rule ID``, ``param``, ``define``,
  ``include``, ``rulebook``, ``description``: a line that closes whatever came before
  it, which a ``when`` line starting an unnamed rule, or a clause, does not), and ends
  before the second such statement in the shared end; the statements from the first
  of those on (the *sentinel*) are parsed again with the window, as a check;
- the window is parsed alone (:func:`~alvh_dsl.lang.parse.parse`), after as many empty
  lines as the book has before it, so its spans are the book's;
- the statements before the window are kept as they are, the comments too; those after
  it get their spans moved by the difference in lines (new nodes: the AST is frozen).

The result is used only where it is the parse of the whole text: the earlier parse had
no diagnostic at all, and the window's parse gave back the sentinel statements as they
were (moved) with every diagnostic before them — the parser was back at the start of a
line in the state the whole text's parse has there, so the rest parses as it did. A
window that runs to the end of the file needs no sentinel; a syntax error in it is
recovered from as in the whole text. Anything else — no sentinel statement where one
was needed, a diagnostic on or after it, E409 (too many errors: the rest of the file
is skipped, which the window's parse cannot), a byte-order mark, a text that may be
past the size limit — is parsed whole. ``tests/test_lsp_incremental.py`` holds every
result to the whole parse (and the diagnostics the server publishes to those of a
fresh check) over random edits of the example books and a 200-rule book.

:class:`IncrementalParses` is the session's :class:`~alvh_dsl.lang.loader.ParseCache`
that does this for a text it has not seen, from the last parse of the same file that had
no diagnostic (a book with a syntax error somewhere is parsed whole until it is fixed).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from typing import cast

from ..lang import ast as A
from ..lang.construct import construct, set_dict, set_extra, set_fields_set, set_private
from ..lang.loader import ParseCache
from ..lang.parse import MAX_FILE_BYTES, ParseResult, parse
from ..lang.transform import Comment

#: statements whose first line starts with their keyword, which ends whatever came
#: before (a named rule's ``rule`` line; an unnamed rule starts with ``when``, which
#: joins the rule above when that rule has no ``when`` yet)
_HEADS = (A.Param, A.Define, A.Include, A.Header, A.Description)
#: the longest a character is in UTF-8 (what the size limit counts)
_MAX_CHAR_BYTES = 4

_new = object.__new__
_tuple_new = tuple.__new__
_SPAN = A.Span


def is_head(stmt: A.StatementNode) -> bool:
    """Whether ``stmt`` begins with a line that closes the statement before it."""
    return isinstance(stmt, _HEADS) or (isinstance(stmt, A.Rule) and stmt.named)


def reparse(old_text: str, old: ParseResult, text: str, file: str) -> ParseResult | None:
    """``parse(text, file)``, built from ``old`` (the parse of ``old_text``), or ``None``
    where that cannot be sure to be the same (see the module docstring)."""
    if (
        old.diagnostics
        or old_text.startswith("\ufeff")
        or text.startswith("\ufeff")
        or len(text) * _MAX_CHAR_BYTES > MAX_FILE_BYTES
    ):
        return None
    old_lines, lines = old_text.split("\n"), text.split("\n")
    same_start, same_end = _shared(old_lines, lines)
    delta = len(lines) - len(old_lines)
    statements = old.book.statements
    starts = [s.span.line for s in statements]
    heads = [i for i, s in enumerate(statements) if is_head(s)]
    # The window, in the old text's lines: [first, stop); stop is past the end for EOF.
    before = [i for i in heads if starts[i] <= same_start]
    first = starts[before[-1]] if before else 1
    after = [i for i in heads if starts[i] > len(old_lines) - same_end][:2]
    sentinel = starts[after[0]] if after else len(old_lines) + 1
    stop = starts[after[1]] if len(after) > 1 else len(old_lines) + 1
    at_end = stop > len(old_lines)
    window_lines = lines[first - 1 :] if at_end else lines[first - 1 : stop - 1 + delta]
    window = parse("\n" * (first - 1) + "\n".join(window_lines), file)
    lo = bisect.bisect_left(starts, first)
    mid = bisect.bisect_left(starts, sentinel)
    hi = bisect.bisect_left(starts, stop)
    kept = statements[mid:hi]
    parsed = window.book.statements
    if not at_end:
        # The sentinel statements as they were: the parser read them from the start of
        # a line, in the state the whole text's parse has there (past E409 it skips the
        # rest of the window, sentinel included, where the whole parse would skip the
        # rest of the file). A diagnostic on them or after them would say the same.
        moved = tuple(shift(s, delta) for s in kept) if delta else kept
        if (
            len(parsed) < len(moved)
            or parsed[len(parsed) - len(moved) :] != moved
            or any(_last_line(d) >= sentinel + delta for d in window.diagnostics)
        ):
            return None
    tail = statements[hi:]
    if delta:
        tail = tuple(shift(s, delta) for s in tail)
    comments = [c for c in old.comments if c.line < first]
    comments.extend(window.comments)
    comments.extend(
        c if not delta else Comment(c.line + delta, c.column, c.text, c.trailing)
        for c in old.comments
        if c.line >= stop
    )
    span = A.Span(
        file=file,
        line=1,
        column=1,
        end_line=max(len(lines), 1),
        end_column=len(lines[-1]) + 1,
    )
    book = construct(
        A.Rulebook,
        span=span,
        file=file,
        statements=(*statements[:lo], *parsed, *tail),
    )
    return ParseResult(book, tuple(comments), window.diagnostics)


def _shared(old: Sequence[str], new: Sequence[str]) -> tuple[int, int]:
    """How many lines the two texts share at the start, and then at the end."""
    most = min(len(old), len(new))
    start = 0
    while start < most and old[start] == new[start]:
        start += 1
    end = 0
    while end < most - start and old[-1 - end] == new[-1 - end]:
        end += 1
    return start, end


def _last_line(d: object) -> int:
    """The last line a diagnostic points at (its span, fix and related spans)."""
    spans = [getattr(d, "span", None)]
    fix = getattr(d, "fix", None)
    if fix is not None:
        spans.append(fix.span)
    spans.extend(r.span for r in getattr(d, "related", ()))
    return max((s.end_line for s in spans if isinstance(s, A.Span)), default=0)


# ------------------------------------------------------------------ moving spans

#: per node class: its span fields, and its child fields (name, holds a tuple)
_Plan = tuple[tuple[str, ...], tuple[tuple[str, bool], ...]]
_PLANS: dict[type, _Plan] = {}


def _plan(cls: type[A.Node]) -> _Plan:
    spans = tuple(name for name, f in cls.model_fields.items() if f.annotation is A.Span)
    children = A.child_fields(cls)
    nodes = {name for name, _ in children}
    for name, f in cls.model_fields.items():
        if name not in spans and name not in nodes and "Span" in str(f.annotation):
            # A span held some other way (optional, in a tuple) would not be moved.
            raise TypeError(f"shift() cannot move {cls.__name__}.{name}: {f.annotation}")
    return spans, children


def shift(node: A.StatementNode, delta: int) -> A.StatementNode:
    """A copy of ``node`` with every span ``delta`` lines down (up when negative).

    Nodes and spans are copied as :func:`~alvh_dsl.lang.construct.construct` builds
    them, unvalidated, with their fields-set shared (a frozen model never changes it):
    this runs on every statement below an added or removed line, so it is written out
    rather than through ``construct`` (which would cost twice as much)."""
    return cast(A.StatementNode, _shift(node, delta))


def _shift(node: A.Node, delta: int) -> A.Node:
    cls = node.__class__
    plan = _PLANS.get(cls)
    if plan is None:
        plan = _PLANS[cls] = _plan(cls)
    span_fields, child_fields = plan
    old = node.__dict__
    values = old.copy()
    for name in span_fields:
        file, line, column, end_line, end_column = old[name]
        values[name] = _tuple_new(_SPAN, (file, line + delta, column, end_line + delta, end_column))
    for name, many in child_fields:
        value = old[name]
        if value is not None:
            values[name] = (
                tuple([_shift(c, delta) for c in value]) if many else _shift(value, delta)
            )
    out = _new(cls)
    set_dict(out, values)
    set_fields_set(out, node.__pydantic_fields_set__)
    set_extra(out, None)
    set_private(out, None)
    return out


# ------------------------------------------------------------------ the cache


class IncrementalParses(ParseCache):
    """A :class:`~alvh_dsl.lang.loader.ParseCache` that parses a text it has not seen
    with :func:`reparse` from the last clean parse of the same file (one with no
    diagnostic), when it can, and whole otherwise. :attr:`reused` counts the former."""

    def __init__(self, size: int = 32) -> None:
        super().__init__(size)
        self._bases: dict[str, tuple[str, ParseResult]] = {}
        self.reused = 0

    def parse(self, text: str, file: str) -> ParseResult:
        """``parse(text, file)``: from the cache, from an earlier parse, or whole."""
        result = super().parse(text, file)
        if not result.diagnostics:
            self._bases.pop(file, None)
            if len(self._bases) >= self.size:
                del self._bases[next(iter(self._bases))]
            self._bases[file] = (text, result)
        return result

    def fresh(self, text: str, file: str) -> ParseResult:
        """The parse of a text not in the cache, built from the file's last clean parse
        where :func:`reparse` can."""
        base = self._bases.get(file)
        if base is not None:
            found = reparse(base[0], base[1], text, file)
            if found is not None:
                self.reused += 1
                return found
        return parse(text, file)
