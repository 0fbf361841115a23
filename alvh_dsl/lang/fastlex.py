"""The fast parser's tokenizer: text → the token stream Lark's lexer and post-lexer make.

:mod:`alvh_dsl.lang.fastparse` reads rulebooks without Lark when it can (see its
docstring); this module gives it the tokens. It reproduces, for every text it accepts,
what ``grammar/alvh.lark``'s basic lexer followed by
:class:`~alvh_dsl.lang.postlex.PostLexer` hand the LALR parser: the same token kinds
(the grammar's terminal names), values, and Lark's positions (1-based lines counted in
``\\n`` only, columns in characters, the end exclusive), with blank lines, newlines
inside parentheses or after an operator, whitespace and comments gone, and a keyword
right after ``param``, ``define`` or ``rule`` handed over as a ``NAME``. Comments are
kept as :class:`~alvh_dsl.lang.transform.Comment`, as the lexer callback keeps them.

The terminals are the grammar's, in the order Lark tries them (priority, then width):
``CONT_AND``/``CONT_OR`` (4), the unit, percent and dollar literals (3), ``NUMBER`` (2),
then the rest, of which only ``COMP_OP`` and ``EQUAL`` can both match at one place
(``==``), and ``COMP_OP`` comes first as the wider. Keywords are not terminals of their
own but ``NAME``s that equal a keyword, as Lark's lexer re-types them.

One ``re.split`` call cuts the whole text; any character no terminal matches is left
in a gap between tokens, where only blanks may be, and the text is refused (``None``):
Lark then reads it and reports the error. ``tests/test_fastparse.py`` holds the stream equal to
Lark's own.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .names import KEYWORDS
from .transform import Comment

# The grammar's terminals, as written in grammar/alvh.lark, in Lark's order.
_TERMINALS = [
    r"\r?\n[\t ]*and(?![A-Za-z0-9_.])",  # CONT_AND
    r"\r?\n[\t ]*or(?![A-Za-z0-9_.])",  # CONT_OR
    r"[0-9]+(?:\.[0-9]+)?[ \t]*(?:days|day|d|points|point|pts|pt)(?![A-Za-z0-9_])",  # UNIT_NUMBER
    r"[0-9]+(?:\.[0-9]+)?%",  # PERCENT
    r"\$[0-9]+(?:\.[0-9]+)?",  # DOLLARS
    r"[0-9]+(?:\.[0-9]+)?",  # NUMBER
    r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*",  # NAME (and the keywords)
    r'"""[^"\\]*(?:(?:\\.|"(?!""))[^"\\]*)*"""|"[^"\\\r\n]*(?:\\.[^"\\\r\n]*)*"',  # STRING
    r"(?:\r?\n[\t ]*)+",  # _NL
    r"#[^\r\n]*",  # COMMENT
    r"<=|>=|==|!=|<|>",  # COMP_OP
    r"[=+\-*/(),.]",  # EQUAL PLUS MINUS STAR SLASH LPAR RPAR COMMA DOT
]
# The same alternatives in the order the regex engine tries them fastest. Only terminals
# that can start with the same character compete, and those keep Lark's order among
# themselves: the newline ones (CONT_AND, CONT_OR before _NL), the numbers (UNIT_NUMBER,
# PERCENT, NUMBER: one alternative, its suffix tried unit first, then `%`, then none: a
# digit is no unit, so giving up a digit never lets a unit match), COMP_OP before EQUAL.
# The rest start with characters of their own, so the commonest go first: a name no
# longer fails six alternatives before its own (a quarter of lex()'s time at 100k rules).
_FAST_ORDER = [
    _TERMINALS[6],  # NAME
    r"[0-9]+(?:\.[0-9]+)?(?:[ \t]*(?:days|day|d|points|point|pts|pt)(?![A-Za-z0-9_])|%)?",
    _TERMINALS[10],  # COMP_OP
    _TERMINALS[11],  # EQUAL ... DOT
    _TERMINALS[0],  # CONT_AND
    _TERMINALS[1],  # CONT_OR
    _TERMINALS[8],  # _NL
    _TERMINALS[7],  # STRING
    _TERMINALS[9],  # COMMENT
    _TERMINALS[4],  # DOLLARS
]
# re.split cuts the text into [gap, token, gap, token, ..., gap]: no terminal starts with
# a blank, so each gap is the whitespace (the ignored WS terminal) before a token, unless
# a character no terminal matches is in it. Strings only, no tuple per token (findall's).
_TOKEN = re.compile("(" + "|".join(_FAST_ORDER) + ")")
_BLANKS = " \t\f"

_FIXED: dict[str, str] = {kw: kw.upper() for kw in KEYWORDS}
_FIXED.update(
    {
        "=": "EQUAL",
        "<=": "COMP_OP",
        ">=": "COMP_OP",
        "==": "COMP_OP",
        "!=": "COMP_OP",
        "<": "COMP_OP",
        ">": "COMP_OP",
        "+": "PLUS",
        "-": "MINUS",
        "*": "STAR",
        "/": "SLASH",
        ",": "COMMA",
        ".": "DOT",
    }
)
# Declaring words and parentheses change how later tokens are read: lex() sees to them.
for _word in ("param", "define", "rule"):
    del _FIXED[_word]
_DECLARING = {"param": "PARAM", "define": "DEFINE", "rule": "RULE"}
_DIGITS = frozenset("0123456789")

# As in postlex.py: after these a newline does not end the logical line ...
JOINERS = frozenset(
    "AND OR NOT PLUS MINUS STAR SLASH OF COMMA LPAR COMP_OP EQUAL BETWEEN CROSSES "
    "WHEN THEN UNLESS COOLDOWN".split()
)
# ... and after these a keyword is the name being declared.
DECLARERS = frozenset({"PARAM", "DEFINE", "RULE"})
KEYWORD_TYPES = frozenset(k.upper() for k in KEYWORDS)

Where = tuple[int, int, int, int]
"""A token's line, column, end line and end column, as Lark's tokens have them."""


@dataclass
class Lexed:
    """A text's tokens after the post-lexer, ending in ``$END``; its comments."""

    kinds: list[str]
    values: list[str]
    where: list[Where]
    comments: list[Comment]
    # For each logical line, the index of the token that ends it (an `_NL` or `$END`).
    line_ends: list[int]


def lex(text: str) -> Lexed | None:  # Long: one loop over every token is the hot path
    """The tokens of ``text`` as the parser receives them, or ``None`` if Lark's
    lexer would refuse a character of it."""
    kinds: list[str] = []
    values: list[str] = []
    where: list[Where] = []
    comments: list[Comment] = []
    line_ends: list[int] = []
    fixed = _FIXED.get
    add_kind, add_value, add_where = kinds.append, values.append, where.append
    pos = 0
    line = 1
    base = -1  # offset of the current line's first character, less one: column = pos - base
    parens = 0
    declaring = False  # the last token handed over was `param`, `define` or `rule`
    parts = _TOKEN.split(text)
    if "".join(parts[::2]).strip(_BLANKS):
        return None  # a character no terminal matches: Lark reports it
    pairs = iter(parts)
    # zip hands back the same tuple each time (it is unpacked at once): one per text. The
    # last gap, the blanks at the very end, is left over.
    for ws, tok in zip(pairs, pairs, strict=False):
        kind = fixed(tok)
        if kind is not None:  # a keyword or an operator: most tokens
            if declaring:
                declaring = False
                if kind in KEYWORD_TYPES:
                    kind = "NAME"
            start = pos + len(ws)
            pos = start + len(tok)
            add_kind(kind)
            add_value(tok)
            add_where((line, start - base, line, pos - base))
            continue
        pos += len(ws)
        if tok > "@":  # starts with a letter or `_`: a name, or a word that declares one
            start = pos
            pos += len(tok)
            kind = _DECLARING.get(tok)
            if kind is None or declaring:
                kind = "NAME"
                declaring = False
            else:
                declaring = True
            add_kind(kind)
            add_value(tok)
            add_where((line, start - base, line, pos - base))
            continue
        first = tok[0]
        column = pos - base
        start_line = line
        if first > "/":  # a digit
            last = tok[-1]
            kind = "PERCENT" if last == "%" else "NUMBER" if last in _DIGITS else "UNIT_NUMBER"
            declaring = False
        else:  # newlines, strings, comments, dollars, parentheses
            if first == "\n" or first == "\r":
                last = tok[-1]
                kind = "CONT_AND" if last == "d" else "CONT_OR" if last == "r" else "_NL"
            elif first == '"':
                kind = "STRING"
            elif first == "#":
                comments.append(Comment(line, column, tok.rstrip(), False))
                pos += len(tok)
                continue  # ignored, as the grammar's COMMENT is (the callback keeps it)
            elif first == "$":
                kind = "DOLLARS"
            elif first == "(":
                kind = "LPAR"
                parens += 1
            else:
                kind = "RPAR"
                if parens:
                    parens -= 1
            if "\n" in tok:
                line += tok.count("\n")
                base = pos + tok.rindex("\n")
            if kind == "_NL":
                prev = kinds[-1] if kinds else "_NL"
                if prev == "_NL" or parens or prev in JOINERS:
                    pos += len(tok)
                    continue
                line_ends.append(len(kinds))
            declaring = False
        pos += len(tok)
        add_kind(kind)
        add_value(tok)
        add_where((start_line, column, line, pos - base))
    pos += len(parts[-1])  # the blanks at the very end
    line_ends.append(len(kinds))
    kinds.append("$END")
    values.append("")
    where.append((line, pos - base, line, pos - base))
    return Lexed(kinds, values, where, comments, line_ends)


__all__ = ["DECLARERS", "JOINERS", "KEYWORD_TYPES", "Lexed", "Where", "lex"]
