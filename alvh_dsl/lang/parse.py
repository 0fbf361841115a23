"""Text → AST: the Lark parser, line joining, AST building and syntax diagnostics.

- :func:`parser` is the one cached factory for the LALR parser built from
  ``grammar/alvh.lark`` (shipped in the wheel). Parse tables are cached on disk,
  so a cold start does not rebuild them.
- :class:`_Lines` is the post-lexer: it drops blank lines and joins a line to
  the next when it ends in an operator or sits inside parentheses.
- :class:`Builder` turns grammar rules into :mod:`alvh_dsl.lang.ast` nodes *while*
  parsing (Lark's inline transformer), so no parse tree is ever built. Spans
  come from token positions, so every node knows where it came from.
- :func:`parse` recovers from syntax errors line by line: it reports the
  error, keeps what parsed before it and carries on after it, so one run shows
  every broken line, each as a :class:`~alvh_dsl.lang.diagnostics.Diagnostic`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lark
from lark import Lark, Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from ..perf import paused_gc
from . import ast as A
from .diagnostics import Diagnostic, error, note
from .names import ACTION_KEYWORDS, KEYWORDS, LINE_KEYWORDS, suggest
from .transform import (
    CTX,
    Builder,
    Clause,
    ClauseLine,
    Comment,
    ErrorLine,
    ParseContext,
    RuleHead,
    on_comment,
)

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
        "lexer": "basic",  # see the grammar's header: one regex, every keyword reserved
        "postlex": _Lines(),
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
    cache = _cache_dir()
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


# Tokens after which a newline does not end the logical line.
_JOINERS = frozenset(
    [
        "AND",
        "OR",
        "NOT",
        "PLUS",
        "MINUS",
        "STAR",
        "SLASH",
        "OF",
        "COMMA",
        "LPAR",
        "COMP_OP",
        "EQUAL",
        "BETWEEN",
        "CROSSES",
        "WHEN",
        "THEN",
        "UNLESS",
        "COOLDOWN",
    ]
)


# After these, a keyword is read as the name being declared, so that the
# checker can say "`month` is a reserved word" (E105) instead of a syntax error.
_DECLARERS = frozenset({"PARAM", "DEFINE", "RULE"})
_KEYWORD_TYPES = frozenset(k.upper() for k in KEYWORDS)


class _Lines:
    """Post-lexer: one ``_NL`` between logical lines, none inside parentheses.

    Lines are joined when a line ends with an operator or ``(``; a line that
    starts with ``and`` / ``or`` is joined by the CONT_AND / CONT_OR terminals.

    The lexer reads every keyword as a keyword; right after ``param``,
    ``define`` or ``rule`` one is handed over as a NAME so that the checker
    reports the reserved word (E105) rather than a syntax error.
    """

    always_accept = ("_NL",)  # Lark's post-lexer protocol

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        ctx = CTX.get()
        prev: str | None = None
        parens = ctx.open_parens
        line_starts = ctx.line_starts
        recent = ctx.recent
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
                elif prev in _DECLARERS and kind in _KEYWORD_TYPES:
                    tok = Token.new_borrow_pos("NAME", tok.value, tok)
                    kind = "NAME"
            prev = kind
            recent.append(tok)
            if len(recent) > 2:
                del recent[0]
            yield tok


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


def _parse(text: str, file: str) -> ParseResult:
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
        dangling = _dangling_line_end(exc, lines, logical, ctx.recent)
        diagnostics.append(_syntax_diagnostic(exc, file, lines, ctx.open_parens, at=dangling))
        # When a line ended too early, the statement keyword that follows it
        # starts a good line: carry on from there instead of skipping it.
        resume = exc.token.line if dangling is not None and isinstance(exc, UnexpectedToken) else 0
        if logical > first:
            prefix = "\n" * (first - 1) + "\n".join(lines[first - 1 : logical - 1])
            ok, result, pctx = _attempt(prefix, file)
            if ok:
                items.extend(_guard_depth(result, pctx))
                diagnostics.extend(pctx.diagnostics)
                comments.extend(pctx.comments)
        items.append(ErrorLine(logical, _first_word(lines, logical)))
        first = resume if resume > logical else err_line + 1
        while first <= len(lines) and re.match(r"\s*(and|or)\b", lines[first - 1]):
            first += 1
        if len(diagnostics) >= MAX_SYNTAX_ERRORS:
            span = A.new(
                A.Span, file=file, line=err_line, column=1, end_line=err_line, end_column=1
            )
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


def _attempt(text: str, file: str) -> tuple[bool, Any, ParseContext]:
    ctx = ParseContext(file)
    token = CTX.set(ctx)
    try:
        return True, parser().parse(text), ctx
    except UnexpectedInput as exc:
        return False, exc, ctx
    finally:
        CTX.reset(token)


def _guard_depth(items: list[Any], ctx: ParseContext) -> list[Any]:
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
            word = (
                "define"
                if isinstance(item, A.Define)
                else ("rule" if isinstance(item, RuleHead) else item.clauses[0].kind)
            )
            out.append(ErrorLine(worst.span.line, word))
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


_ARITH_OPS = {"PLUS", "MINUS", "STAR", "SLASH", "OF"}
_COMPARE_OPS = {"COMP_OP", "BETWEEN", "CROSSES"}
_LINE_ENDS = {"_NL", "$END"}


def _describe_expected(expected: set[str]) -> str:
    expected = {e for e in expected if e not in ("CONT_AND", "CONT_OR")}
    ends = bool(expected & _LINE_ENDS)
    expected -= _LINE_ENDS
    words: list[str] = []
    if expected >= _EXPR_START:
        words.append("an expression")
        expected -= {
            "NAME", "VIX", "NUMBER", "UNIT_NUMBER", "PERCENT", "DOLLARS", "LPAR", "MINUS", "NOT",
        }  # fmt: skip
    if expected >= _ACTION_STARTS:
        words.append("an action")
        expected -= _ACTION_STARTS
    line_kw = {k.upper() for k in LINE_KEYWORDS}
    if len(expected & line_kw) >= 5:
        words.append("a statement (`rule`, `when`, `param`, `define`, `include`, …)")
        expected -= line_kw
        ends = False  # where a statement may start, "the end of the line" is only a blank line
    if expected >= {"PLUS", "STAR"} or expected >= {"COMP_OP", "PLUS"}:
        words.append("an operator")
        expected -= _ARITH_OPS | _COMPARE_OPS
    for name in sorted(expected):
        words.append(_TERMINAL_WORDS.get(name, f"`{name.lower()}`" if name.isalpha() else name))
    if len(words) > 6:
        words = [*words[:6], "…"]
    if ends:
        words.append("the end of the line")
    if not words:
        return "something else"
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _token_text(tok: Token) -> str:
    if tok.type == "$END":
        return "the end of the file"
    if tok.type == "_NL":
        return "the end of the line"
    if tok.type in ("CONT_AND", "CONT_OR"):
        return f"`{str(tok).strip()}`"  # the token holds the newline before the word
    return f"`{tok}`"


def _expected(exc: UnexpectedToken) -> set[str]:
    """The terminals the parser could really take where ``exc`` happened.

    ``exc.expected`` is the lexer's (or the LALR state's) lookahead set, which
    merges the lookaheads of every context the state is shared by: after
    ``define x = 1`` it lists actions, ``cooldown`` and ``keeping``. Asking the
    parser which terminals it would accept gives the exact set.
    """
    ip = getattr(exc, "interactive_parser", None)
    if ip is not None:
        try:
            accepted = set(ip.accepts())
        except Exception:  # pragma: no cover - a best effort; fall back to Lark's set
            accepted = set()
        if accepted:
            return accepted
    return set(exc.expected)


def _dangling_line_end(
    exc: UnexpectedInput, lines: Sequence[str], logical: int, recent: Sequence[Token]
) -> Token | None:
    """A line that ends too early, read as continued because it ends in an operator.

    ``param p =`` followed by ``rule r`` on the next line is read as ``param p = rule r``
    (a line ending in ``=`` continues). When the token the parser refuses is a
    statement keyword at the start of a later line, the real error is the end
    of the line before: return an ``_NL`` token placed there, else ``None``.
    """
    if not isinstance(exc, UnexpectedToken):
        return None
    tok = exc.token
    line, col = tok.line, tok.column
    if tok.type in ("$END", "_NL") or not isinstance(line, int) or not isinstance(col, int):
        return None
    if line <= logical or str(tok) not in LINE_KEYWORDS or lines[line - 1][: col - 1].strip():
        return None
    before = [t for t in recent if t is not tok and (t.line or 0) < line]
    if not before:
        return None
    last = before[-1]
    end_line = last.end_line or last.line or line - 1
    end_col = last.end_column or 1
    return Token("_NL", "\n", line=end_line, column=end_col, end_line=end_line, end_column=end_col)


def _syntax_diagnostic(
    exc: UnexpectedInput,
    file: str,
    lines: Sequence[str],
    open_parens: Sequence[Token] = (),
    at: Token | None = None,
) -> Diagnostic:
    """The diagnostic for a Lark error; ``at`` replaces the offending token (same parser state)."""
    if isinstance(exc, UnexpectedCharacters):
        line, col = exc.line, exc.column
        ch = (
            lines[line - 1][col - 1]
            if 1 <= line <= len(lines) and col <= len(lines[line - 1])
            else ""
        )
        span = A.new(A.Span, file=file, line=line, column=col, end_line=line, end_column=col + 1)
        if ch == '"':
            if col >= 3 and lines[line - 1][col - 3 : col] == '"""':
                # An unclosed `"""` lexes as the empty string `""` and then a lone `"`:
                # point at the opening triple quote, not at its third character.
                span = A.new(
                    A.Span, file=file, line=line, column=col - 2, end_line=line, end_column=col + 1
                )
                return error(
                    "E003",
                    'this """triple-quoted""" string is never closed',
                    span,
                    help='end it with """',
                )
            return error(
                "E003",
                "this string is never closed",
                span,
                help='close it on this line; text over several lines needs """triple quotes"""',
            )
        rest = lines[line - 1][col - 1 : col + 1] if 1 <= line <= len(lines) else ""
        # Two-character spellings first (`&&`, `||`), then the single character.
        hints = {"&&": "use `and`", "||": "use `or`", "&": "use `and`", "|": "use `or`"}
        hints["!"] = "use `not` (or `!=`)"
        hint = hints.get(rest) or hints.get(ch)
        return error("E002", f"unexpected character `{ch}`", span, help=hint)
    if isinstance(exc, UnexpectedEOF):
        n = len(lines)
        span = A.new(A.Span, file=file, line=n, column=1, end_line=n, end_column=1)
        return error("E001", "unexpected end of file", span)
    assert isinstance(exc, UnexpectedToken)
    tok = at if at is not None else exc.token
    expected = _expected(exc)
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
        span = _tokspan(tok, file)
    found = _token_text(tok)
    if open_parens and "RPAR" in expected and tok.type not in _EXPR_CONTINUE:
        lpar = open_parens[-1]
        where = A.new(
            A.Span,
            file=file,
            line=lpar.line,
            column=lpar.column,
            end_line=lpar.line,
            end_column=(lpar.column or 0) + 1,
        )
        return error(
            "E001",
            f"expected `)`, found {found}",
            span,
            help="add the missing `)`",
            related=[note(where, "unclosed `(`")],
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
        if help is None and expected >= _ACTION_STARTS:
            guess = suggest(word, ACTION_KEYWORDS)
            if guess:
                help = f"did you mean the action `{guess}`?"
        if help is None:
            pool = [k for k in KEYWORDS if k.upper() in expected]
            guess = suggest(word, pool) if pool else None
            if guess:
                help = f"did you mean `{guess}`?"
    elif tok.type == "_NL" and expected >= _EXPR_START:
        help = "the line ends where an expression should be"
    return error("E001", message, span, help=help)


def _tokspan(tok: Token, file: str) -> A.Span:
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


_STATEMENT_WORDS = frozenset({"rulebook", "description", "param", "define", "include", "rule"})


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
    current: _RuleAcc | None, clause: Clause, flush: Any, diagnostics: list[Diagnostic]
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
        self.when: Any = None
        self.unless: Any = None
        self.cooldown: Any = None
        self.actions: list[Any] = []
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
        from .printer import derived_rule_id  # printing is only needed for unnamed rules

        first_line = A.new(
            A.Span,
            file=file,
            line=span.line,
            column=span.column,
            end_line=span.line,
            end_column=span.column + 4,
        )
        return A.new(A.Rule, id=derived_rule_id(draft), id_span=first_line, named=False, **fields)
