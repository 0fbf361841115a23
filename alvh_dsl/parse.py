"""Text → AST: the Lark parser, line joining, AST building and syntax diagnostics.

- :func:`parser` is the one cached factory for the LALR parser built from
  ``grammar/alvh.lark`` (shipped in the wheel). Parse tables are cached on disk,
  so a cold start does not rebuild them.
- :class:`_Lines` is the post-lexer: it drops blank lines and joins a line to
  the next when it ends in an operator or sits inside parentheses.
- :class:`_Builder` turns grammar rules into :mod:`alvh_dsl.ast` nodes *while*
  parsing (Lark's inline transformer), so no parse tree is ever built. Spans
  come from token positions, so every node knows where it came from.
- :func:`parse` recovers from syntax errors line by line: it reports the
  error, keeps what parsed before it and carries on after it, so one run shows
  every broken line, each as a :class:`~alvh_dsl.diagnostics.Diagnostic`.
"""

from __future__ import annotations

import contextvars
import functools
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token, Transformer
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ast as A
from .diagnostics import Diagnostic, Related, error
from .names import ACTION_KEYWORDS, KEYWORDS, LINE_KEYWORDS, suggest

MAX_FILE_BYTES = 8 * 1024 * 1024
MAX_EXPR_DEPTH = 64
MAX_SYNTAX_ERRORS = 50
MAX_NUMBER = 1e15

# ------------------------------------------------------------------ the factory


def grammar_path() -> Path:
    """The grammar file: inside the installed package, else the source tree's ``grammar/``."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "grammar" / "alvh.lark", here.parent / "grammar" / "alvh.lark"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError("grammar/alvh.lark not found beside the alvh_dsl package")


def _cache_dir() -> Path | None:
    base = os.environ.get("ALVH_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = Path(xdg) / "alvh-dsl" if xdg else Path.home() / ".cache" / "alvh-dsl"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


@functools.lru_cache(maxsize=1)
def parser() -> Lark:
    """The LALR parser, built once per process and cached on disk across processes."""
    text = grammar_path().read_text(encoding="utf-8")
    options: dict[str, Any] = {
        "parser": "lalr",
        "lexer": "contextual",
        "postlex": _Lines(),
        "transformer": _Builder(),
        "lexer_callbacks": {"COMMENT": _on_comment},
        "maybe_placeholders": False,
        # Positions are propagated by _Builder from token positions into each
        # node's span: Lark's propagate_positions only annotates Tree objects,
        # which the inline transformer never builds.
        "propagate_positions": False,
    }
    key = hashlib.sha256(
        (text + lark.__version__ + sys.version.split()[0] + "v1").encode()
    ).hexdigest()[:20]
    cache = _cache_dir()
    cached = cache / f"grammar-{key}.lark" if cache else None
    if cached is not None and cached.is_file():
        try:
            with cached.open("rb") as f:
                return Lark.load(
                    f,
                    postlex=options["postlex"],
                    transformer=options["transformer"],
                    lexer_callbacks=options["lexer_callbacks"],
                )
        except Exception:  # noqa: BLE001 - a stale or partial cache is rebuilt, never fatal
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


# ------------------------------------------------------- per-parse context

# The parser (and its transformer) is shared; per-parse state lives here.
@dataclass
class _Ctx:
    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    line_starts: list[int] = field(default_factory=list)
    open_parens: list[Token] = field(default_factory=list)
    depth: dict[int, int] = field(default_factory=dict)


_CTX: contextvars.ContextVar[_Ctx] = contextvars.ContextVar("alvh_parse_ctx")


@dataclass(frozen=True)
class Comment:
    """A ``#`` comment: where it is and whether code precedes it on its line."""

    line: int
    column: int
    text: str
    trailing: bool


def _on_comment(tok: Token) -> Token:
    ctx = _CTX.get()
    ctx.comments.append(Comment(tok.line or 0, tok.column or 0, str(tok).rstrip(), False))
    return tok


# Tokens after which a newline does not end the logical line.
_JOINERS = frozenset(
    """AND OR NOT PLUS MINUS STAR SLASH OF COMMA LPAR COMP_OP EQUAL BETWEEN CROSSES
    WHEN THEN UNLESS COOLDOWN""".split()
)


class _Lines:
    """Post-lexer: one ``_NL`` between logical lines, none inside parentheses.

    Lines are joined when a line ends with an operator or ``(``; a line that
    starts with ``and`` / ``or`` is joined by the CONT_AND / CONT_OR terminals.
    """

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        ctx = _CTX.get()
        prev: str | None = None
        parens = ctx.open_parens
        line_starts = ctx.line_starts
        for tok in stream:
            kind = tok.type
            if kind == "_NL":
                if prev is None or prev == "_NL" or parens or prev in _JOINERS:
                    continue
            else:
                if prev is None or prev == "_NL":
                    line_starts.append(tok.line or 0)
                if kind == "LPAR":
                    parens.append(tok)
                elif kind == "RPAR" and parens:
                    parens.pop()
            prev = kind
            yield tok


# ------------------------------------------------------------------- spans


def _span(first: Any, last: Any = None) -> A.Span:
    """The span from the start of ``first`` to the end of ``last`` (tokens or nodes)."""
    file = _CTX.get().file
    last = first if last is None else last
    if isinstance(first, Token):
        line, col = first.line, first.column
    else:
        start = first if isinstance(first, A.Span) else first.span
        line, col = start.line, start.column
    if isinstance(last, Token):
        end_line, end_col = last.end_line, last.end_column
    else:
        end = last if isinstance(last, A.Span) else last.span
        end_line, end_col = end.end_line, end.end_column
    return A.new(A.Span, file=file, line=line, column=col, end_line=end_line, end_column=end_col)


# ---------------------------------------------------- intermediate line items


@dataclass
class _Clause:
    kind: str  # when | then | unless | cooldown
    span: A.Span
    expr: Any = None
    actions: tuple[Any, ...] = ()


@dataclass
class _RuleHead:
    id: str
    id_span: A.Span
    title: str | None
    priority: int
    span: A.Span
    clauses: list[_Clause]


@dataclass
class _ClauseLine:
    clauses: list[_Clause]


@dataclass
class _ErrorLine:
    line: int
    first_word: str


_UNIT_RE = re.compile(r"(\d+(?:\.\d+)?)[ \t]*([A-Za-z]+)")
_UNIT_OF = {
    "days": "days",
    "day": "days",
    "d": "days",
    "points": "points",
    "point": "points",
    "pts": "points",
    "pt": "points",
}
_ESCAPES = {'"': '"', "\\": "\\", "n": "\n", "t": "\t"}


def _string_value(tok: Token) -> str:
    raw = str(tok)
    body = raw[3:-3] if raw.startswith('"""') else raw[1:-1]
    if "\\" not in body:
        return body
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(0)), body, flags=re.S)


def _number(tok: Token) -> A.Number:
    text = str(tok)
    kind = tok.type
    if kind == "PERCENT":
        value, unit = float(text[:-1]), "percent"
    elif kind == "DOLLARS":
        value, unit = float(text[1:]), "dollars"
    elif kind == "UNIT_NUMBER":
        m = _UNIT_RE.match(text)
        assert m is not None
        value, unit = float(m.group(1)), _UNIT_OF[m.group(2)]
    else:
        value, unit = float(text), "bare"
    if value > MAX_NUMBER:
        ctx = _CTX.get()
        ctx.diagnostics.append(
            error("E009", f"number `{text}` is too large", _span(tok), help="numbers must be below 1e15")
        )
        value = 0.0
    node = A.new(A.Number, span=_span(tok), value=value, unit=unit)
    return node


# ---------------------------------------------------------------- the builder


class _Builder(Transformer[Token, Any]):
    """Grammar rule → AST node, called by the LALR parser as each rule is reduced."""

    # -- helpers
    @staticmethod
    def _track(node: Any, *kids: Any) -> Any:
        """Record expression depth; deep expressions are refused at statement level."""
        depth = _CTX.get().depth
        d = 1
        for k in kids:
            kd = depth.get(id(k), 1)
            if kd >= d:
                d = kd + 1
        depth[id(node)] = d
        return node

    # -- file and lines
    def start(self, items: list[Any]) -> list[Any]:
        return items

    def header(self, c: list[Any]) -> Any:
        version = _string_value(c[3]) if len(c) > 3 else None
        return A.new(A.Header, span=_span(c[0], c[-1]), name=_string_value(c[1]), version=version)

    def description(self, c: list[Any]) -> Any:
        return A.new(A.Description, span=_span(c[0], c[-1]), text=_string_value(c[1]))

    def param(self, c: list[Any]) -> Any:
        return A.new(
            A.Param, span=_span(c[0], c[-1]), name=str(c[1]), name_span=_span(c[1]), value=c[3]
        )

    def define(self, c: list[Any]) -> Any:
        return A.new(
            A.Define, span=_span(c[0], c[-1]), name=str(c[1]), name_span=_span(c[1]), expr=c[3]
        )

    def include(self, c: list[Any]) -> Any:
        return A.new(
            A.Include, span=_span(c[0], c[-1]), path=_string_value(c[1]), path_span=_span(c[1])
        )

    def rule_head(self, c: list[Any]) -> Any:
        title = None
        priority = 0
        clauses: list[_Clause] = []
        for item in c[2:]:
            if isinstance(item, Token):
                title = _string_value(item)
            elif isinstance(item, tuple):
                priority = item[0]
            elif isinstance(item, _Clause):
                clauses.append(item)
            elif isinstance(item, _ErrorLine):
                return item
        return _RuleHead(str(c[1]), _span(c[1]), title, priority, _span(c[0], c[1]), clauses)

    def priority(self, c: list[Any]) -> Any:
        value = int(float(c[-1]))
        if len(c) == 3:
            value = -value
        return (value, _span(c[0], c[-1]))

    def clause_line(self, c: list[Any]) -> Any:
        for item in c:
            if isinstance(item, _ErrorLine):
                return item
        return _ClauseLine(list(c))

    def when_clause(self, c: list[Any]) -> Any:
        actions = c[2] if len(c) > 2 else ()
        return _Clause("when", _span(c[0], c[-1] if not actions else actions[-1]), c[1], actions)

    def then_clause(self, c: list[Any]) -> Any:
        return _Clause("then", _span(c[0], c[1][-1]), None, c[1])

    def unless_clause(self, c: list[Any]) -> Any:
        return _Clause("unless", _span(c[0], c[1]), c[1])

    def cooldown_clause(self, c: list[Any]) -> Any:
        tok = c[1]
        value = A.new(A.Name, span=_span(tok), name=str(tok)) if tok.type == "NAME" else _number(tok)
        return _Clause("cooldown", _span(c[0], tok), value)

    # -- expressions
    def _boolop(self, c: list[Any], op: str) -> Any:
        operands = tuple(x for x in c if not isinstance(x, Token))
        node = A.new(A.BoolOp, span=_span(c[0], c[-1]), op=op, operands=operands)
        return self._track(node, *operands)

    def or_test(self, c: list[Any]) -> Any:
        return self._boolop(c, "or")

    def and_test(self, c: list[Any]) -> Any:
        return self._boolop(c, "and")

    def not_(self, c: list[Any]) -> Any:
        return self._track(A.new(A.Not, span=_span(c[0], c[1]), operand=c[1]), c[1])

    def compare(self, c: list[Any]) -> Any:
        node = A.new(A.Compare, span=_span(c[0], c[2]), op=str(c[1]), left=c[0], right=c[2])
        return self._track(node, c[0], c[2])

    def between(self, c: list[Any]) -> Any:
        node = A.new(A.Between, span=_span(c[0], c[4]), value=c[0], low=c[2], high=c[4])
        return self._track(node, c[0], c[2], c[4])

    def crosses(self, c: list[Any]) -> Any:
        node = A.new(
            A.Crosses, span=_span(c[0], c[3]), direction=str(c[2]), left=c[0], right=c[3]
        )
        return self._track(node, c[0], c[3])

    def _chain(self, c: list[Any]) -> Any:
        left = c[0]
        for i in range(1, len(c), 2):
            right = c[i + 1]
            node = A.new(A.BinOp, span=_span(left, right), op=str(c[i]), left=left, right=right)
            left = self._track(node, left, right)
        return left

    sum = _chain
    product = _chain

    def of(self, c: list[Any]) -> Any:
        node = A.new(A.BinOp, span=_span(c[0], c[2]), op="of", left=c[0], right=c[2])
        return self._track(node, c[0], c[2])

    def neg(self, c: list[Any]) -> Any:
        operand = c[1]
        if isinstance(operand, A.Number):
            # `-3.5` is a literal, not an operation: fold so `-3.5` and `- 3.5` agree.
            return A.new(
                A.Number, span=_span(c[0], operand), value=-operand.value, unit=operand.unit
            )
        return self._track(A.new(A.Neg, span=_span(c[0], operand), operand=operand), operand)

    def name(self, c: list[Any]) -> Any:
        return A.new(A.Name, span=_span(c[0]), name=str(c[0]))

    def paren(self, c: list[Any]) -> Any:
        return c[1]

    def literal(self, c: list[Any]) -> Any:
        return _number(c[0])

    def signed_literal(self, c: list[Any]) -> Any:
        num = c[-1]
        if len(c) == 2:
            return A.new(A.Number, span=_span(c[0], num), value=-num.value, unit=num.unit)
        return num

    def call(self, c: list[Any]) -> Any:
        args: list[Any] = []
        field_name = None
        i = 2
        while i < len(c):
            item = c[i]
            if isinstance(item, Token):
                if item.type == "DOT":
                    field_name = str(c[i + 1])
                    break
            else:
                args.append(item)
            i += 1
        node = A.new(
            A.Call, span=_span(c[0], c[-1]), func=str(c[0]), args=tuple(args), field=field_name
        )
        return self._track(node, *args)

    # -- actions
    def action_list(self, c: list[Any]) -> Any:
        return tuple(x for x in c if not isinstance(x, Token))

    def expiry_ref(self, c: list[Any]) -> Any:
        if c[0].type == "MONTH":
            return A.new(A.ByMonth, span=_span(c[0], c[1]), month=c[1])
        return A.new(A.NearDays, span=_span(c[0], c[1]), days=c[1])

    def short_delta(self, c: list[Any]) -> Any:
        return ("short_delta", c[2], _span(c[0], c[2]))

    def wings(self, c: list[Any]) -> Any:
        return ("wings", c[1], _span(c[0], c[1]))

    def quantity(self, c: list[Any]) -> Any:
        return ("quantity", c[1], _span(c[0], c[1]))

    def open_action(self, c: list[Any]) -> Any:
        fields: dict[str, Any] = {}
        ctx = _CTX.get()
        for item in c[3:]:
            if isinstance(item, tuple):
                key, value, span = item
            else:
                key, value, span = "expiry", item, item.span
            if key in fields:
                ctx.diagnostics.append(
                    error(
                        "E306",
                        f"`{_OPTION_WORDS[key]}` is given twice in `open iron condor`",
                        span,
                        help="keep one",
                    )
                )
                continue
            fields[key] = value
        last = c[-1]
        end = last[2] if isinstance(last, tuple) else last
        return A.new(A.OpenCondor, span=_span(c[0], end), **fields)

    def roll_action(self, c: list[Any]) -> Any:
        keeping = c[4] if len(c) > 4 else None
        end = c[-1]
        if isinstance(end, tuple):
            end = end[1]
        return A.new(A.RollCondor, span=_span(c[0], end), to=c[3], keeping=keeping and keeping[0])

    def keeping(self, c: list[Any]) -> Any:
        return (str(c[1]), c[1])

    def close_action(self, c: list[Any]) -> Any:
        target = c[-1]
        fraction = c[1] if len(c) == 4 else None
        return A.new(
            A.Close, span=_span(c[0], target[2]), target=target[0], month=target[1], fraction=fraction
        )

    def close_target(self, c: list[Any]) -> Any:
        month = c[2] if len(c) == 3 else None
        return (str(c[0]), month, c[-1])

    def fraction(self, c: list[Any]) -> Any:
        if len(c) == 3:
            return c[1]
        return self._leaf(c[0])

    def _leaf(self, tok: Token) -> Any:
        if tok.type == "NAME":
            return A.new(A.Name, span=_span(tok), name=str(tok))
        return _number(tok)

    def count(self, c: list[Any]) -> Any:
        return c[1] if len(c) == 3 else self._leaf(c[0])

    def strike(self, c: list[Any]) -> Any:
        return self._leaf(c[0])

    def month_ref(self, c: list[Any]) -> Any:
        return self._leaf(c[0])

    def shift_action(self, c: list[Any]) -> Any:
        fraction = c[1]
        rest = [x for x in c[2:] if not (isinstance(x, Token) and x.type == "OF")]
        # rest: HEDGE [FROM MONTH m] TO MONTH m
        from_month = rest[3] if rest[1].type == "FROM" else None
        return A.new(
            A.ShiftHedge,
            span=_span(c[0], c[-1]),
            fraction=fraction,
            from_month=from_month,
            to_month=c[-1],
        )

    def future_action(self, c: list[Any]) -> Any:
        count = c[1] if not isinstance(c[1], Token) else None
        return A.new(
            A.TradeFuture, span=_span(c[0], c[-1]), side=str(c[0]), count=count, month=c[-1]
        )

    def spread_action(self, c: list[Any]) -> Any:
        count = c[1] if not isinstance(c[1], Token) else None
        nodes = [x for x in c[1:] if not isinstance(x, Token)]
        if count is not None:
            nodes = nodes[1:]
        lower, upper, month = nodes[0], nodes[1], nodes[2]
        costing = nodes[3] if len(nodes) > 3 else None
        return A.new(
            A.BuyCallSpread,
            span=_span(c[0], c[-1]),
            count=count,
            lower=lower,
            upper=upper,
            month=month,
            costing=costing,
        )

    def alert_action(self, c: list[Any]) -> Any:
        return A.new(A.Alert, span=_span(c[0], c[1]), message=_string_value(c[1]))


_OPTION_WORDS = {
    "expiry": "month / near",
    "short_delta": "short delta",
    "wings": "wings",
    "quantity": "quantity",
}

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
    """Parse rulebook text into a :class:`~alvh_dsl.ast.Rulebook`.

    Never raises on bad input: syntax problems come back as diagnostics, and
    the statements that did parse are kept.
    """
    if len(text.encode("utf-8", "surrogatepass")) > MAX_FILE_BYTES:
        span = A.new(A.Span, file=file, line=1, column=1, end_line=1, end_column=1)
        diag = error(
            "E406",
            f"file is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
            span,
            help="split it into included files",
        )
        return ParseResult(A.new(A.Rulebook, span=span, file=file), (), (diag,))
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = text.split("\n")
    items: list[Any] = []
    diagnostics: list[Diagnostic] = []
    comments: list[Comment] = []
    first = 1  # first line of the chunk still to parse
    while True:
        chunk = "\n" * (first - 1) + "\n".join(lines[first - 1 :])
        ok, result, ctx = _attempt(chunk, file)
        if ok:
            items.extend(_guard_depth(result, ctx))
            diagnostics.extend(ctx.diagnostics)
            comments.extend(ctx.comments)
            break
        exc: UnexpectedInput = result
        err_line = _error_line(exc, lines)
        starts = [s for s in ctx.line_starts if s <= err_line]
        logical = starts[-1] if starts else err_line
        diagnostics.append(_syntax_diagnostic(exc, file, lines, ctx.open_parens))
        if logical > first:
            prefix = "\n" * (first - 1) + "\n".join(lines[first - 1 : logical - 1])
            ok, result, pctx = _attempt(prefix, file)
            if ok:
                items.extend(_guard_depth(result, pctx))
                diagnostics.extend(pctx.diagnostics)
                comments.extend(pctx.comments)
        items.append(_ErrorLine(logical, _first_word(lines, logical)))
        first = err_line + 1
        while first <= len(lines) and re.match(r"\s*(and|or)\b", lines[first - 1]):
            first += 1
        if len(diagnostics) >= MAX_SYNTAX_ERRORS:
            span = A.new(A.Span, file=file, line=err_line, column=1, end_line=err_line, end_column=1)
            diagnostics.append(
                error("E409", f"stopped after {MAX_SYNTAX_ERRORS} syntax errors", span)
            )
            break
        if first > len(lines):
            break
    statements = _group(items, file, diagnostics)
    comments = _mark_trailing(comments, lines)
    end_line = max(len(lines), 1)
    span = A.new(
        A.Span,
        file=file,
        line=1,
        column=1,
        end_line=end_line,
        end_column=len(lines[-1]) + 1 if lines else 1,
    )
    book = A.new(A.Rulebook, span=span, file=file, statements=tuple(statements))
    return ParseResult(book, tuple(comments), tuple(diagnostics))


def _attempt(text: str, file: str) -> tuple[bool, Any, _Ctx]:
    ctx = _Ctx(file)
    token = _CTX.set(ctx)
    try:
        return True, parser().parse(text), ctx
    except UnexpectedInput as exc:
        return False, exc, ctx
    finally:
        _CTX.reset(token)


def _guard_depth(items: list[Any], ctx: _Ctx) -> list[Any]:
    """Refuse statements whose expressions nest deeper than MAX_EXPR_DEPTH.

    Later stages walk expressions recursively; refusing here means a hostile
    book gets a diagnostic instead of a RecursionError.
    """
    depth = ctx.depth
    out: list[Any] = []
    for item in items:
        exprs: list[Any] = []
        if isinstance(item, A.Define):
            exprs.append(item.expr)
        elif isinstance(item, _RuleHead | _ClauseLine):
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
            word = "define" if isinstance(item, A.Define) else (
                "rule" if isinstance(item, _RuleHead) else item.clauses[0].kind
            )
            out.append(_ErrorLine(worst.span.line, word))
        else:
            out.append(item)
    return out


def _error_line(exc: UnexpectedInput, lines: Sequence[str]) -> int:
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


# ------------------------------------------------------- syntax diagnostics

_TERMINAL_WORDS = {
    "NAME": "a name",
    "NUMBER": "a number",
    "UNIT_NUMBER": "a quantity such as `7 days`",
    "PERCENT": "a percentage",
    "DOLLARS": "a dollar amount",
    "STRING": 'a "string"',
    "_NL": "the end of the line",
    "$END": "the end of the file",
    "COMP_OP": "a comparison",
    "EQUAL": "`=`",
    "PLUS": "`+`",
    "MINUS": "`-`",
    "STAR": "`*`",
    "SLASH": "`/`",
    "LPAR": "`(`",
    "RPAR": "`)`",
    "COMMA": "`,`",
    "DOT": "`.`",
    "CONT_AND": "`and`",
    "CONT_OR": "`or`",
}
_EXPR_START = {"NAME", "NUMBER", "LPAR"}
# Tokens that could continue an expression: an error on one of them is not "missing `)`".
_EXPR_CONTINUE = {"COMP_OP", "EQUAL", "PLUS", "MINUS", "STAR", "SLASH", "OF", "AND", "OR", "COMMA"}
_ACTION_STARTS = {k.upper() for k in ACTION_KEYWORDS}


def _describe_expected(expected: set[str]) -> str:
    expected = {e for e in expected if e not in ("CONT_AND", "CONT_OR")}
    words: list[str] = []
    if _EXPR_START <= expected:
        words.append("an expression")
        expected -= {"NAME", "NUMBER", "UNIT_NUMBER", "PERCENT", "DOLLARS", "LPAR", "MINUS", "NOT"}
    if _ACTION_STARTS <= expected:
        words.append("an action")
        expected -= _ACTION_STARTS
    line_kw = {k.upper() for k in LINE_KEYWORDS}
    if len(expected & line_kw) >= 5:
        words.append("a statement (`rule`, `when`, `param`, `define`, `include`, …)")
        expected -= line_kw
    if "COMP_OP" in expected and "PLUS" in expected:
        words.append("an operator")
        expected -= {"COMP_OP", "PLUS", "MINUS", "STAR", "SLASH", "OF", "BETWEEN", "CROSSES"}
    for name in sorted(expected):
        words.append(_TERMINAL_WORDS.get(name, f"`{name.lower()}`" if name.isalpha() else name))
    if not words:
        return "something else"
    if len(words) > 6:
        words = [*words[:6], "…"]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    if tok.type == "_NL":
        return "the end of the line"
    return f"`{tok}`"


def _syntax_diagnostic(
    exc: UnexpectedInput, file: str, lines: Sequence[str], open_parens: Sequence[Token] = ()
) -> Diagnostic:
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line, exc.column
        ch = lines[line - 1][col - 1] if 1 <= line <= len(lines) and col <= len(lines[line - 1]) else ""
        span = A.new(A.Span, file=file, line=line, column=col, end_line=line, end_column=col + 1)
        if ch == '"':
            return error("E003", "this string is never closed", span, help='end it with `"` on the same line, or use """triple quotes""" for text over several lines')
        rest = lines[line - 1][col - 1 : col + 1] if 1 <= line <= len(lines) else ""
        hint = {"&&": "use `and`", "||": "use `or`", "!": "use `not` (or `!=`)"}.get(
            rest, None
        ) or ({"&": "use `and`", "|": "use `or`"}.get(ch))
        return error("E002", f"unexpected character `{ch}`", span, help=hint)
    if isinstance(exc, UnexpectedEOF):
        n = len(lines)
        span = A.new(A.Span, file=file, line=n, column=1, end_line=n, end_column=1)
        return error("E001", "unexpected end of file", span)
    assert isinstance(exc, UnexpectedToken)
    tok = exc.token
    expected = set(exc.expected)
    if tok.type in ("$END", "_NL"):
        line = tok.line if isinstance(tok.line, int) and tok.line > 0 else len(lines)
        col = tok.column if isinstance(tok.column, int) and tok.column > 0 else 1
        if tok.type == "$END":
            line = len(lines)
            while line > 1 and not lines[line - 1].strip():
                line -= 1
            col = len(lines[line - 1].rstrip()) + 1 if lines else 1
        span = A.new(A.Span, file=file, line=line, column=col, end_line=line, end_column=col + 1)
    else:
        span = _tok_span(tok, file)
    found = _token_text(tok)
    if open_parens and "RPAR" in expected and tok.type not in _EXPR_CONTINUE:
        lpar = open_parens[-1]
        where = A.new(
            A.Span, file=file, line=lpar.line, column=lpar.column,
            end_line=lpar.line, end_column=(lpar.column or 0) + 1,
        )
        return error(
            "E001",
            f"expected `)`, found {found}",
            span,
            help="add the missing `)`",
            related=[Related(span=where, message="unclosed `(`")],
        )
    if tok.type == "COMP_OP" and "AND" in expected:
        return error(
            "E004",
            "comparisons cannot be chained",
            span,
            help="write `X between A and B`, or join two comparisons with `and`",
        )
    if tok.type == "EQUAL" and "COMP_OP" in expected:
        return error("E005", "`=` is not a comparison", span, help="use `==` to compare")
    if tok.type in _ACTION_STARTS and "THEN" in expected and "WHEN" in expected:
        return error(
            "E006",
            f"{found} starts an action on its own line",
            span,
            help=f"write `then {tok}` …, or put the action after the condition on the `when` line",
        )
    message = f"expected {_describe_expected(expected)}, found {found}"
    help = None
    if tok.type == "NAME":
        word = str(tok)
        if {k.upper() for k in LINE_KEYWORDS} & expected:
            guess = suggest(word, LINE_KEYWORDS)
            if guess:
                help = f"did you mean `{guess}`?"
        if help is None and _ACTION_STARTS <= expected:
            guess = suggest(word, ACTION_KEYWORDS)
            if guess:
                help = f"did you mean the action `{guess}`?"
        if help is None:
            pool = [k for k in KEYWORDS if k.upper() in expected]
            guess = suggest(word, pool) if pool else None
            if guess:
                help = f"did you mean `{guess}`?"
    elif tok.type == "_NL" and _EXPR_START <= expected:
        help = "the line ends where an expression should be"
    return error("E001", message, span, help=help)


def _tok_span(tok: Token, file: str) -> A.Span:
    line = tok.line or 1
    col = tok.column or 1
    end_line = tok.end_line or line
    end_col = tok.end_column or col + len(str(tok))
    if tok.type in ("CONT_AND", "CONT_OR"):
        # The token starts at the previous line's newline; point at the word itself.
        text = str(tok)
        word = text.lstrip("\r\n \t")
        line, col = end_line, end_col - len(word)
    return A.new(A.Span, file=file, line=line, column=col, end_line=end_line, end_column=end_col)


# ------------------------------------------------------------------ grouping


def _group(items: list[Any], file: str, diagnostics: list[Diagnostic]) -> list[Any]:
    """Group line items into statements: clauses attach to the rule before them.

    A ``when`` clause starts a new (unnamed) rule when there is no open rule or
    the open rule already has one. A syntax error inside a rule poisons it: the
    partial rule is dropped so its missing clauses do not pile up more errors.
    """
    out: list[Any] = []
    current: _RuleAcc | None = None

    def flush() -> None:
        nonlocal current
        if current is not None and not current.poisoned:
            out.append(current.build(file, diagnostics))
        current = None

    for item in items:
        if isinstance(item, _RuleHead):
            flush()
            current = _RuleAcc(item)
            for clause in item.clauses:
                current = _add_clause(current, clause, flush, diagnostics)
        elif isinstance(item, _ClauseLine):
            for clause in item.clauses:
                current = _add_clause(current, clause, flush, diagnostics)
        elif isinstance(item, _ErrorLine):
            word = item.first_word
            if word == "rule" or (word == "when" and (current is None or current.has_when)):
                flush()
                current = _RuleAcc(None)
                current.poisoned = True
            elif word in ("when", "then", "unless", "cooldown", "and", "or") and current:
                current.poisoned = True
            elif word in ("open", "roll", "close", "shift", "buy", "sell", "alert") and current:
                current.poisoned = True
            else:
                flush()
        else:
            flush()
            out.append(item)
    flush()
    return out


def _add_clause(
    current: _RuleAcc | None, clause: _Clause, flush: Any, diagnostics: list[Diagnostic]
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

    def __init__(self, head: _RuleHead | None) -> None:
        self.head = head
        self.poisoned = False
        self.when: Any = None
        self.unless: Any = None
        self.cooldown: Any = None
        self.actions: list[Any] = []
        self.first: A.Span | None = head.span if head else None
        self.last: A.Span | None = head.span if head else None

    @property
    def has_when(self) -> bool:
        return self.when is not None

    def add(self, clause: _Clause, diagnostics: list[Diagnostic]) -> None:
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
                prev = self.unless
                ops = prev.operands if prev.kind == "boolop" and prev.op == "or" else (prev,)
                self.unless = A.new(
                    A.BoolOp,
                    span=prev.span.cover(clause.expr.span),
                    op="or",
                    operands=(*ops, clause.expr),
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
        fields: dict[str, Any] = {
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
            return A.new(A.Rule, **fields)
        draft = A.new(A.Rule, id="", id_span=span, named=False, **fields)
        from .fmt import derived_rule_id  # formatting is only needed for unnamed rules

        first_line = A.new(
            A.Span,
            file=file,
            line=span.line,
            column=span.column,
            end_line=span.line,
            end_column=span.column + 4,
        )
        return A.new(
            A.Rule, id=derived_rule_id(draft), id_span=first_line, named=False, **fields
        )
