"""Spans (1-based lines, columns in code points) ↔ LSP positions (0-based, in code units).

LSP counts a column in UTF-16 code units unless the client negotiates UTF-8 or UTF-32
(``positionEncoding``: pygls takes the client's first preference, and Neovim and
Helix prefer UTF-8); the parser counts code points. A character outside the Basic
Multilingual Plane (an emoji in a rule title) is one code point, two UTF-16 units and
four UTF-8 bytes, so every range the server sends and every position it receives
goes through here, with the session's ``encoding``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from lsprotocol import types as T

from ..lang import ast as A

_WORD = re.compile(r"[A-Za-z0-9_.]")


def source_lines(text: str) -> list[str]:
    """The lines of ``text`` as both the parser and LSP count them (``\\r\\n`` is one break)."""
    return [line.removesuffix("\r") for line in text.split("\n")]


UTF16 = "utf-16"


def _char_units(ch: str, encoding: str) -> int:
    if encoding == "utf-8":
        return len(ch.encode("utf-8", "surrogatepass"))
    if encoding == "utf-32":
        return 1
    return 2 if ord(ch) > 0xFFFF else 1


def units(text: str, encoding: str = UTF16) -> int:
    """How many code units of ``encoding`` (``utf-16``, ``utf-8``, ``utf-32``) ``text`` takes."""
    if encoding == "utf-32" or text.isascii():  # every range of an ASCII line, at once
        return len(text)
    return sum(_char_units(ch, encoding) for ch in text)


def to_position(lines: Sequence[str], line: int, column: int, encoding: str = UTF16) -> T.Position:
    """The LSP position of a 1-based ``line`` and code-point ``column``."""
    index = max(line - 1, 0)
    text = lines[index] if index < len(lines) else ""
    return T.Position(line=index, character=units(text[: max(column - 1, 0)], encoding))


def to_range(lines: Sequence[str], span: A.Span, encoding: str = UTF16) -> T.Range:
    """The LSP range of ``span`` (whose end is exclusive, as LSP's is)."""
    return T.Range(
        start=to_position(lines, span.line, span.column, encoding),
        end=to_position(lines, span.end_line, span.end_column, encoding),
    )


def from_position(
    lines: Sequence[str], position: T.Position, encoding: str = UTF16
) -> tuple[int, int]:
    """The 1-based line and code-point column of an LSP position (clamped to the line)."""
    text = lines[position.line] if position.line < len(lines) else ""
    count = 0
    for i, ch in enumerate(text):
        if count >= position.character:
            return position.line + 1, i + 1
        count += _char_units(ch, encoding)
    return position.line + 1, len(text) + 1


def contains(span: A.Span, line: int, column: int) -> bool:
    """Whether the 1-based ``line``/``column`` is inside ``span`` (its end included, so a
    cursor just after a word still hovers it)."""
    return (span.line, span.column) <= (line, column) <= (span.end_line, span.end_column)


def word_at(lines: Sequence[str], line: int, column: int) -> tuple[str, int]:
    """The name-like word (letters, digits, ``_``, ``.``) around a 1-based position, and the
    column where it starts."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    start = end = min(column - 1, len(text))
    while start > 0 and _WORD.match(text[start - 1]):
        start -= 1
    while end < len(text) and _WORD.match(text[end]):
        end += 1
    return text[start:end], start + 1
