"""Text → AST: the parser factory, the parse driver and the grouping of lines into rules.

- :func:`parser` is the one cached factory for the LALR parser built from
  ``grammar/alvh.lark`` (shipped in the wheel). Parse tables are cached on disk,
  so a cold start does not rebuild them. Between Lark's lexer and parser sits
  :class:`~alvh_dsl.lang.postlex.PostLexer`, which joins continued lines; the
  :class:`~alvh_dsl.lang.transform.Builder` turns grammar rules into AST nodes
  *while* parsing, so no parse tree is ever built.
- :func:`parse` recovers from syntax errors line by line: it reports the
  error (in the words of :mod:`alvh_dsl.lang.syntax_errors`), keeps what parsed
  before it and carries on after it, so one run shows every broken line, each
  as a :class:`~alvh_dsl.lang.diagnostics.Diagnostic`.
- :func:`_group` attaches clause lines (``when``, ``then``, …) to the rule
  before them.
"""

from __future__ import annotations

import functools
import os
import re
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, cast

from ..fileio import cache_dir
from ..perf import paused_gc
from . import ast as A
from . import fastparse
from .construct import construct
from .diagnostics import Diagnostic, error
from .transform import CTX, Clause, ClauseLine, Comment, ErrorLine, LineItem, ParseContext, RuleHead

# Lark, the post-lexer and the syntax errors' words are imported where Lark parses: the
# fast parser reads most books whole, and `alvh check` of those never loads Lark (issue 11).
if TYPE_CHECKING:  # pragma: no cover
    from lark import Lark
    from lark.exceptions import UnexpectedInput

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_EXPR_DEPTH = 64
MAX_SYNTAX_ERRORS = 50

# ------------------------------------------------------------------ the factory


def grammar_path() -> Path:
    """The grammar file: inside the installed package, else the source tree's ``grammar/``."""
    package = Path(__file__).resolve().parent.parent  # alvh_dsl/
    for candidate in (package / "grammar" / "alvh.lark", package.parent / "grammar" / "alvh.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("grammar/alvh.lark not found beside the alvh_dsl package")


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once per process and cached on disk across processes."""
    import hashlib
    import tempfile

    import lark
    from lark import Lark

    from .postlex import PostLexer
    from .transform import Builder, on_comment

    text = grammar_path().read_text(encoding="utf-8")
    options: dict[str, object] = {
        "parser": "lalr",
        "lexer": "basic",  # see the grammar's header: one regex, every keyword reserved
        "postlex": PostLexer(),
        "transformer": Builder(),
        "lexer_callbacks": {"COMMENT": on_comment},
        "maybe_placeholders": False,
        # Positions are propagated by Builder from token positions into each
        # node's span: Lark's propagate_positions only annotates Tree objects,
        # which the inline transformer never builds.
        "propagate_positions": False,
    }
    key = hashlib.sha256(
        (text + lark.__version__ + sys.version.split()[0] + "v1").encode()
    ).hexdigest()[:20]
    cache = cache_dir()
    cached = cache / f"grammar-{key}.lark" if cache else None
    if cached is not None and cached.is_file():
        try:
            with cached.open("rb") as f:
                # Lark.load() takes no options; _load() is what Lark's own cache
                # uses to re-attach the post-lexer, transformer and callbacks.
                loaded: Lark = Lark.__new__(Lark)._load(
                    f,
                    postlex=options["postlex"],
                    transformer=options["transformer"],
                    lexer_callbacks=options["lexer_callbacks"],
                )
                return loaded
        except Exception:
            pass
    built = Lark(text, **options)
    if cached is not None:
        try:
            fd, tmp = tempfile.mkstemp(dir=cached.parent, prefix=".grammar-")
            with os.fdopen(fd, "wb") as f:
                built.save(f)
            os.replace(tmp, cached)
        except OSError:
            pass
    return built


# ---------------------------------------------------------------- the driver


@dataclass(frozen=True)
class ParseResult:
    """What :func:`parse` returns: the AST (possibly partial), comments and diagnostics."""

    book: A.Rulebook
    comments: tuple[Comment, ...]
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def parse(text: str, file: str = "<string>") -> ParseResult:
    """Parse rulebook text into a :class:`~alvh_dsl.lang.ast.Rulebook`.

    Never raises on bad input: syntax problems come back as diagnostics, and
    the statements that did parse are kept.
    """
    with paused_gc():  # every node of a large book is alive until the end, and acyclic
        return _parse(text, file)


@dataclass
class _Parsed:
    """What the parse of a file has gathered so far, chunk by chunk."""

    items: list[LineItem]
    diagnostics: list[Diagnostic]
    comments: list[Comment]

    def take(self, items: list[LineItem], ctx: ParseContext) -> None:
        self.items.extend(_guard_depth(items, ctx))
        self.diagnostics.extend(ctx.diagnostics)
        self.comments.extend(ctx.comments)


def _parse(text: str, file: str) -> ParseResult:
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        span = A.Span(file=file, line=1, column=1, end_line=1, end_column=1)
        diag = error(
            "E406",
            f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
            span,
            help="split it into included files",
        )
        return ParseResult(construct(A.Rulebook, span=span, file=file), (), (diag,))
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    parsed = _Parsed([], [], [])
    first = 1  # first line of the chunk still to parse
    while first <= len(lines):
        chunk = "\n" * (first - 1) + "\n".join(lines[first - 1 :])
        result, ctx = _attempt(chunk, file)
        if isinstance(result, list):  # else the syntax error that stopped it
            parsed.take(result, ctx)
            break
        first = _recover(result, ctx, parsed, lines, first, file)
    statements = _group(parsed.items, file, parsed.diagnostics)
    comments = _mark_trailing(parsed.comments, lines)
    end_line = max(len(lines), 1)
    span = A.Span(
        file=file,
        line=1,
        column=1,
        end_line=end_line,
        end_column=len(lines[-1]) + 1 if lines else 1,
    )
    book = construct(A.Rulebook, span=span, file=file, statements=tuple(statements))
    return ParseResult(book, tuple(comments), tuple(parsed.diagnostics))


def _recover(
    exc: UnexpectedInput,
    ctx: ParseContext,
    parsed: _Parsed,
    lines: Sequence[str],
    first: int,
    file: str,
) -> int:
    """Report a syntax error, keep the lines before it; the line to carry on from.

    Past :data:`MAX_SYNTAX_ERRORS`, E409 is reported and the rest of the file skipped.
    """
    from lark.exceptions import UnexpectedToken

    from .syntax_errors import dangling_line_end, syntax_diagnostic

    err_line = _error_line(exc, lines)
    starts = [s for s in ctx.line_starts if s <= err_line]
    logical = starts[-1] if starts else err_line
    dangling = dangling_line_end(exc, lines, logical, ctx.recent)
    parsed.diagnostics.append(syntax_diagnostic(exc, file, lines, ctx.open_parens, at=dangling))
    # When a line ended too early, the statement keyword that follows it
    # starts a good line: carry on from there instead of skipping it.
    resume = exc.token.line if dangling is not None and isinstance(exc, UnexpectedToken) else 0
    if logical > first:
        prefix = "\n" * (first - 1) + "\n".join(lines[first - 1 : logical - 1])
        result, pctx = _attempt(prefix, file)
        if isinstance(result, list):
            parsed.take(result, pctx)
    parsed.items.append(ErrorLine(logical, _first_word(lines, logical)))
    first = resume if resume is not None and resume > logical else err_line + 1
    while first <= len(lines) and re.match(r"\s*(and|or)\b", lines[first - 1]):
        first += 1
    if len(parsed.diagnostics) >= MAX_SYNTAX_ERRORS:
        span = A.Span(file=file, line=err_line, column=1, end_line=err_line, end_column=1)
        parsed.diagnostics.append(
            error("E409", f"stopped after {MAX_SYNTAX_ERRORS} syntax errors", span)
        )
        return len(lines) + 1
    return first


def _attempt(text: str, file: str) -> tuple[list[LineItem] | UnexpectedInput, ParseContext]:
    """Parse ``text`` whole: its line items, or the error that stopped it.

    The hand-written parser (:mod:`alvh_dsl.lang.fastparse`) reads it first; whatever it
    leaves (any error, anything unusual) Lark reads, which alone reports syntax errors.
    """
    ctx = ParseContext(file)
    if fastparse.enabled():
        fast = fastparse.parse_items(text, file)
        if fast is not None:
            ctx.comments = fast[1]
            return fast[0], ctx
    from lark.exceptions import UnexpectedInput

    token = CTX.set(ctx)
    try:
        # With the Builder as inline transformer, Lark's parse returns Builder.start's value.
        return cast(list[LineItem], parser().parse(text)), ctx
    except UnexpectedInput as exc:
        return exc, ctx
    finally:
        CTX.reset(token)


def _guard_depth(items: list[LineItem], ctx: ParseContext) -> list[LineItem]:
    """Refuse statements whose expressions nest deeper than MAX_EXPR_DEPTH.

    Later stages walk expressions recursively; refusing here means a hostile
    book gets a diagnostic instead of a RecursionError.
    """
    depth = ctx.depth
    if not depth:  # every expression counts 1 (the fast path makes sure of it)
        return items
    out: list[LineItem] = []
    for item in items:
        exprs: list[A.ExprNode] = []
        if isinstance(item, A.Define):
            exprs.append(item.expr)
        elif isinstance(item, RuleHead | ClauseLine):
            for clause in item.clauses:
                if clause.expr is not None:
                    exprs.append(clause.expr)
                for action in clause.actions:
                    exprs.extend(A.action_exprs(action))
        worst = max(exprs, key=lambda e: depth.get(id(e), 1), default=None)
        d = depth.get(id(worst), 1) if worst is not None else 0
        if worst is not None and d > MAX_EXPR_DEPTH:
            ctx.diagnostics.append(
                error(
                    "E407",
                    f"expression is nested too deeply ({d} levels, the limit is {MAX_EXPR_DEPTH})",
                    worst.span,
                    help="split it into named `define`s",
                )
            )
            if isinstance(item, A.Define):
                word = "define"
            elif isinstance(item, RuleHead):
                word = "rule"
            else:
                assert isinstance(item, ClauseLine)
                word = item.clauses[0].kind
            out.append(ErrorLine(worst.span.line, word))
        else:
            out.append(item)
    return out


def _error_line(exc: UnexpectedInput, lines: Sequence[str]) -> int:
    from lark.exceptions import UnexpectedToken

    line = getattr(exc, "line", -1)
    if isinstance(exc, UnexpectedToken) and exc.token.type == "$END":
        return len(lines)
    if not isinstance(line, int) or line < 1:
        return len(lines)
    return line


def _first_word(lines: Sequence[str], line: int) -> str:
    if 1 <= line <= len(lines):
        m = re.match(r"\s*([A-Za-z_]\w*)", lines[line - 1])
        if m:
            return m.group(1)
    return ""


def _mark_trailing(comments: list[Comment], lines: Sequence[str]) -> list[Comment]:
    out = []
    for c in sorted(comments, key=lambda c: (c.line, c.column)):
        before = lines[c.line - 1][: c.column - 1] if 1 <= c.line <= len(lines) else ""
        out.append(Comment(c.line, c.column, c.text, bool(before.strip())))
    return out


# ------------------------------------------------------------------ grouping


_STATEMENT_WORDS = frozenset({"rulebook", "description", "param", "define", "include", "rule"})


def _group(
    items: list[LineItem], file: str, diagnostics: list[Diagnostic]
) -> list[A.StatementNode]:
    """Group line items into statements: clauses attach to the rule before them.

    A ``when`` clause starts a new (unnamed) rule when there is no open rule or
    the open rule already has one. A syntax error inside a rule poisons it: the
    partial rule is dropped so its missing clauses do not pile up more errors.
    """
    out: list[A.StatementNode] = []
    current: _RuleAcc | None = None

    def flush() -> None:
        nonlocal current
        if current is not None and not current.poisoned:
            out.append(current.build(file, diagnostics))
        current = None

    for item in items:
        if isinstance(item, RuleHead):
            flush()
            current = _RuleAcc(item)
            for clause in item.clauses:
                current = _add_clause(current, clause, flush, diagnostics)
        elif isinstance(item, ClauseLine):
            for clause in item.clauses:
                current = _add_clause(current, clause, flush, diagnostics)
        elif isinstance(item, ErrorLine):
            word = item.first_word
            if word == "rule" or (word == "when" and (current is None or current.has_when)):
                flush()
                current = _RuleAcc(None)
                current.poisoned = True
            elif current is not None and word not in _STATEMENT_WORDS:
                # A clause, an action, or a misspelt word (`wehn`) inside the rule:
                # the rule is incomplete, so drop it rather than report what it lacks.
                current.poisoned = True
            else:
                flush()
            if word == "when" and current is not None:
                # The broken line was this rule's `when`: a later `when` line starts
                # a new rule instead of being dropped with this one.
                current.broken_when = True
        else:
            flush()
            out.append(item)
    flush()
    return out


def _add_clause(
    current: _RuleAcc | None,
    clause: Clause,
    flush: Callable[[], None],
    diagnostics: list[Diagnostic],
) -> _RuleAcc | None:
    if clause.kind == "when" and (current is None or current.has_when):
        flush()
        current = _RuleAcc(None)
    if current is None:
        diagnostics.append(
            error(
                "E007",
                f"`{clause.kind}` clause does not belong to any rule",
                clause.span,
                help="start a rule with `rule ID` or a `when` line above it",
            )
        )
        return None
    current.add(clause, diagnostics)
    return current


class _RuleAcc:
    """Accumulates the clauses of one rule."""

    def __init__(self, head: RuleHead | None) -> None:
        self.head = head
        self.poisoned = False
        self.broken_when = False
        self.when: A.ExprNode | None = None
        self.unless: A.ExprNode | None = None
        self.cooldown: A.ExprNode | None = None
        self.actions: list[A.ActionNode] = []
        self.first: A.Span | None = head.span if head else None
        self.last: A.Span | None = head.span if head else None

    @property
    def has_when(self) -> bool:
        return self.when is not None or self.broken_when

    def add(self, clause: Clause, diagnostics: list[Diagnostic]) -> None:
        if self.first is None:
            self.first = clause.span
        self.last = clause.span if self.last is None else self.last.cover(clause.span)
        if clause.kind == "when":
            self.when = clause.expr
            self.actions.extend(clause.actions)
        elif clause.kind == "then":
            self.actions.extend(clause.actions)
        elif clause.kind == "unless":
            if self.unless is None:
                self.unless = clause.expr
            else:
                # Several `unless` lines block the rule if any of them holds.
                prev, more = self.unless, clause.expr
                assert more is not None
                ops = prev.operands if isinstance(prev, A.BoolOp) and prev.op == "or" else (prev,)
                self.unless = construct(
                    A.BoolOp, span=prev.span.cover(more.span), op="or", operands=(*ops, more)
                )
        elif clause.kind == "cooldown":
            if self.cooldown is not None:
                diagnostics.append(
                    error("E304", "`cooldown` is given twice", clause.span, help="keep one")
                )
            else:
                self.cooldown = clause.expr

    def build(self, file: str, diagnostics: list[Diagnostic]) -> A.Rule:
        assert self.first is not None and self.last is not None
        span = self.first.cover(self.last)
        fields: dict[str, object] = {
            "span": span,
            "when": self.when,
            "unless": self.unless,
            "actions": tuple(self.actions),
            "cooldown": self.cooldown,
        }
        if self.head is not None:
            fields.update(
                id=self.head.id,
                id_span=self.head.id_span,
                title=self.head.title,
                priority=self.head.priority,
            )
            return construct(A.Rule, **fields)
        draft = construct(A.Rule, id="", id_span=span, named=False, **fields)
        from .printer import derived_rule_id  # printing is only needed for unnamed rules

        first_line = A.Span(
            file=file,
            line=span.line,
            column=span.column,
            end_line=span.line,
            end_column=span.column + 4,
        )
        return construct(
            A.Rule, id=derived_rule_id(draft), id_span=first_line, named=False, **fields
        )
