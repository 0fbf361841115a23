"""The post-lexer: tokens → logical lines, between Lark's lexer and its parser.

A newline ends a logical line unless the line ends in an operator or ``(``,
or sits inside parentheses; a line that starts with ``and`` / ``or`` is joined
by the grammar's CONT_AND / CONT_OR terminals. Blank lines vanish.

It also records, in the parse's :class:`~alvh_dsl.lang.transform.ParseContext`,
what the syntax-error diagnostics need: where each logical line starts, the
open parentheses, and the last tokens handed to the parser.
"""

from __future__ import annotations

from collections.abc import Iterator

from lark import Token

from .names import KEYWORDS
from .transform import CTX

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


class PostLexer:
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


__all__ = ["PostLexer"]
