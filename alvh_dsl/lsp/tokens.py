"""Semantic tokens: colours for editors that do not read TextMate grammars (Neovim).

One pass of a regex over each line (comments, strings, numbers with their units,
words, operators), each word classed by the book's own tables: a keyword of the
language, a param (read-only), a define, a name the state provides or an indicator
(``defaultLibrary``), a rule's ID. No second parser: what a word *is* comes from the
last check of the book; the regex only finds where words are.
"""

from __future__ import annotations

import re

from lsprotocol import types as T

from ..lang.names import FUNCTIONS, INDICATORS, KEYWORDS, STATE_NAMES
from .index import BookIndex
from .positions import units

TYPES = ["keyword", "comment", "string", "number", "variable", "function", "operator"]
MODIFIERS = ["declaration", "readonly", "defaultLibrary"]
LEGEND = T.SemanticTokensLegend(token_types=TYPES, token_modifiers=MODIFIERS)

_TOKEN = re.compile(
    r"(?P<comment>#.*)"
    r'|(?P<triple>""")'
    r'|(?P<string>"(?:[^"\\]|\\.)*"?)'
    r"|(?P<number>\$?[0-9]+(?:\.[0-9]+)?"
    r"(?:%|[ \t]*(?:days|day|d|points|point|pts|pt)(?![A-Za-z0-9_]))?)"
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)"
    r"|(?P<operator><=|>=|==|!=|[<>=+\-*/])"
)
_DECLARES = {"param", "define", "rule"}


def _bits(*names: str) -> int:
    return sum(1 << MODIFIERS.index(n) for n in names)


def _word(index: BookIndex, word: str, previous: str) -> tuple[str, int] | None:
    if previous in _DECLARES:
        kind = "function" if previous == "rule" else "variable"
        return kind, _bits("declaration", *(["readonly"] if previous == "param" else []))
    if word in index.program.params:
        return "variable", _bits("readonly")
    if word in index.program.defines:
        return "variable", 0
    if word in KEYWORDS and word != "VIX":
        return "keyword", 0
    if word in STATE_NAMES:
        return "variable", _bits("defaultLibrary", "readonly")
    base = word.split(".", 1)[0]
    if base in INDICATORS or word in FUNCTIONS:
        return "function", _bits("defaultLibrary")
    return None


def semantic_tokens(index: BookIndex) -> T.SemanticTokens:
    """Every token of the open buffer, encoded as LSP wants (relative positions)."""
    data: list[int] = []
    last_line = last_start = 0
    in_triple = False
    for number, line in enumerate(index.lines):
        previous = ""
        pos = 0
        while pos < len(line):
            if in_triple:  # inside a triple-quoted string that started on a line above
                end = line.find('"""', pos)
                stop = len(line) if end < 0 else end + 3
                kind, bits, start, pos = "string", 0, pos, stop
                in_triple = end < 0
            else:
                m = _TOKEN.search(line, pos)
                if m is None:
                    break
                start, pos, group = m.start(), m.end(), m.lastgroup or ""
                if group == "triple":
                    end = line.find('"""', pos)
                    pos = len(line) if end < 0 else end + 3
                    in_triple = end < 0
                    kind, bits = "string", 0
                elif group == "word":
                    found = _word(index, m.group(), previous)
                    previous = m.group()
                    if found is None:
                        continue
                    kind, bits = found
                else:
                    kind, bits = group, 0
            column = units(line[:start], index.encoding)
            delta_line = number - last_line
            delta_start = column - last_start if delta_line == 0 else column
            data += [delta_line, delta_start, units(line[start:pos], index.encoding)]
            data += [TYPES.index(kind), bits]
            last_line, last_start = number, column
    return T.SemanticTokens(data=data)
