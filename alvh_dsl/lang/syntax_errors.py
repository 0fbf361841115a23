"""Syntax errors → diagnostics that say what was expected and how to fix it.

Lark reports where parsing stopped and which terminals the parser state
accepts; :func:`syntax_diagnostic` turns that into words (``expected an
expression, found `)```), points at the right place (the unclosed ``(``, the
end of a line that stopped too early, see :func:`dangling_line_end`) and
recognises the usual mistakes: chained comparisons (E004), ``=`` for ``==``
(E005), an action on a line of its own (E006), misspelt keywords, unclosed
strings (E003) and stray characters such as ``&&`` (E002).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lark import Token
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from . import ast as A
from .diagnostics import Diagnostic, error, fix, note
from .names import ACTION_KEYWORDS, KEYWORDS, LINE_KEYWORDS, suggest

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


def dangling_line_end(
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


def syntax_diagnostic(
    exc: UnexpectedInput,
    file: str,
    lines: Sequence[str],
    open_parens: Sequence[Token] = (),
    at: Token | None = None,
) -> Diagnostic:
    """The diagnostic for a Lark error; ``at`` replaces the offending token (same parser state)."""
    if isinstance(exc, UnexpectedCharacters):
        return _unexpected_character(exc, file, lines)
    if isinstance(exc, UnexpectedEOF):
        n = len(lines)
        span = A.Span(file=file, line=n, column=1, end_line=n, end_column=1)
        return error("E001", "unexpected end of file", span)
    assert isinstance(exc, UnexpectedToken)
    return _unexpected_token(exc, file, lines, open_parens, at if at is not None else exc.token)


def _unexpected_character(exc: UnexpectedCharacters, file: str, lines: Sequence[str]) -> Diagnostic:
    """E002 for a character no token starts with; E003 for an unclosed string."""
    line, col = exc.line, exc.column
    ch = lines[line - 1][col - 1] if 1 <= line <= len(lines) and col <= len(lines[line - 1]) else ""
    span = A.Span(file=file, line=line, column=col, end_line=line, end_column=col + 1)
    if ch == '"':
        if col >= 3 and lines[line - 1][col - 3 : col] == '"""':
            # An unclosed `"""` lexes as the empty string `""` and then a lone `"`:
            # point at the opening triple quote, not at its third character.
            span = A.Span(file=file, line=line, column=col - 2, end_line=line, end_column=col + 1)
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
    hints["\r"] = "a carriage return alone does not end a line: save the file with \\n line ends"
    hint = hints.get(rest) or hints.get(ch)
    shown = ch if ch.isprintable() else ch.encode("unicode_escape").decode()  # never raw
    return error("E002", f"unexpected character `{shown}`", span, help=hint)


def _unexpected_token(
    exc: UnexpectedToken,
    file: str,
    lines: Sequence[str],
    open_parens: Sequence[Token],
    tok: Token,
) -> Diagnostic:
    """E001 (with the likely fix when there is one), E004–E006 for the common mistakes."""
    expected = _expected(exc)
    span = _line_end_span(tok, file, lines) if tok.type in ("$END", "_NL") else _tokspan(tok, file)
    found = _token_text(tok)
    if open_parens and "RPAR" in expected and tok.type not in _EXPR_CONTINUE:
        lpar = open_parens[-1]
        where = A.Span(
            file=file,
            line=lpar.line or 0,  # typed optional; the lexer always sets it
            column=lpar.column or 0,
            end_line=lpar.line or 0,
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
    help_text, replacement = _token_hint(tok, expected, lines)
    edit = fix(span, replacement) if replacement is not None else None
    return error("E001", message, span, help=help_text, fix=edit)


def _line_end_span(tok: Token, file: str, lines: Sequence[str]) -> A.Span:
    """Where a line (``_NL``) or the file (``$END``) ended too early."""
    line = tok.line if isinstance(tok.line, int) and tok.line > 0 else len(lines)
    col = tok.column if isinstance(tok.column, int) and tok.column > 0 else 1
    if tok.type == "$END":
        line = len(lines)
        while line > 1 and not lines[line - 1].strip():
            line -= 1
        col = len(lines[line - 1].rstrip()) + 1 if lines else 1
    return A.Span(file=file, line=line, column=col, end_line=line, end_column=col + 1)


_ACTIONS_ARE = "the actions are " + ", ".join(f"`{a}`" for a in ACTION_KEYWORDS[:-1])
_ACTIONS_ARE += f" and `{ACTION_KEYWORDS[-1]}`"
# Words traders write for an action the language spells otherwise (no letters in common).
_ACTION_SYNONYMS = {
    "migrate": "shift",
    "move": "shift",
    "exit": "close",
    "flatten": "close",
    "liquidate": "close",
    "enter": "open",
    "notify": "alert",
    "warn": "alert",
}
_AFTER_NUMBER = re.compile(r"[0-9]+(\.[0-9]+)?[ \t]*$")


def _token_hint(
    tok: Token, expected: set[str], lines: Sequence[str]
) -> tuple[str | None, str | None]:
    """A "did you mean" (help, and the replacement for the token) for a misspelt keyword,
    unit or action; the list of actions where one was expected; or why a line ended too
    early."""
    if tok.type == "_NL" and expected >= _EXPR_START:
        return "the line ends where an expression should be", None
    actions = expected >= _ACTION_STARTS
    if tok.type != "NAME":
        return (_ACTIONS_ARE if actions else None), None
    word = str(tok)
    unit = _unit_guess(tok, lines)
    if unit == "":
        return "durations are written in days, e.g. `21 days`", None
    if unit is not None:
        return f"did you mean `{unit}`?", unit
    if {k.upper() for k in LINE_KEYWORDS} & expected:
        guess = suggest(word, LINE_KEYWORDS)
        if guess:
            return f"did you mean `{guess}`?", guess
    if actions:
        guess = suggest(word, ACTION_KEYWORDS) or _ACTION_SYNONYMS.get(word.lower())
        if guess:
            return f"did you mean the action `{guess}`? ({_ACTIONS_ARE})", guess
        return _ACTIONS_ARE, None
    pool = [k for k in KEYWORDS if k.upper() in expected]
    guess = suggest(word, pool) if pool else None
    return (f"did you mean `{guess}`?", guess) if guess else (None, None)


def _unit_guess(tok: Token, lines: Sequence[str]) -> str | None:
    """``21 dyas`` → ``days``: a word right after a number that is close to a unit word;
    ``""`` for a calendar unit the language does not have (``3 weeks``)."""
    line, col = tok.line, tok.column
    if not isinstance(line, int) or not isinstance(col, int) or not 1 <= line <= len(lines):
        return None
    before = _AFTER_NUMBER.search(lines[line - 1][: col - 1])
    if before is None:
        return None
    word = str(tok).lower()
    if word.rstrip("s") in ("week", "wk", "month", "mo", "mth", "year", "yr"):
        return ""
    one = before.group(0).strip() == "1"
    return suggest(word, ("day", "point") if one else ("days", "points"))


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
    return A.Span(file=file, line=line, column=col, end_line=end_line, end_column=end_col)


__all__ = ["dangling_line_end", "syntax_diagnostic"]
