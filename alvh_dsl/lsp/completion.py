"""Completion from the text before the cursor: the line being typed rarely parses, so the
context is read from the characters, and the candidates from the book's tables.

- ``condor.`` (any prefix with a dot) → the fields the state provides under it;
- after a number → units (``days``, ``points``, ``%``);
- at the start of a line → statement and clause keywords;
- after ``then`` (or ``and`` in an action list) → the actions;
- elsewhere in an expression → state names, indicators with their signatures,
  functions, the params and defines declared above the line, expression keywords.
"""

from __future__ import annotations

import re

from lsprotocol import types as T

from ..lang import ast as A
from ..lang.names import INDICATORS, LINE_KEYWORDS, STATE_NAMES, UNIT_WORDS
from ..lang.printer import format_expr, format_quantity
from .hover import signature
from .index import BookIndex
from .positions import UTF16, to_position

_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[0-9]+(\.[0-9]+)?[ \t]*$")
_PARTIAL = re.compile(r"[A-Za-z0-9_.]*$")
_CLAUSE = re.compile(r"\b(when|then|unless|cooldown)\b")
UNITS = (("days", "days"), ("points", "points"), ("%", "a percentage"))
ACTIONS = {
    "open iron condor": "open iron condor month ${1:2} short delta ${2:0.16} wings ${3:50} points",
    "roll condor to": "roll condor to month ${1:2} keeping ${2|delta,width,strikes|}",
    "close condor": "close condor",
    "close hedge": "close ${1:50%} of hedge month ${2:1}",
    "close all": "close all",
    "shift hedge": "shift ${1:50%} hedge from month ${2:1} to month ${3:2}",
    "buy VIX future": "buy ${1:1} VIX future month ${2:2}",
    "sell VIX future": "sell ${1:1} VIX future month ${2:2}",
    "buy VIX call spread": "buy VIX call spread ${1:20}/${2:30} month ${3:2}",
    "alert": 'alert "${1:message}"',
}
EXPRESSION_KEYWORDS = ("and", "or", "not", "between", "crosses above", "crosses below", "of")
_FUNCTIONS = {"abs": "abs(x)", "min": "min(a, b)", "max": "max(a, b)"}


def complete(
    index: BookIndex | None, lines: list[str], line: int, column: int, encoding: str = UTF16
) -> T.CompletionList:
    """The candidates at a 1-based position of the buffer ``lines``."""
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    before = text[: column - 1]
    partial = _PARTIAL.search(before)
    word = partial.group(0) if partial else ""
    if "." in word:
        return _items(_fields(word))
    if _NUMBER.search(before):
        return _items(_units(word, to_position(lines, line, column, encoding)))
    head = before[: len(before) - len(word)]
    if not head.strip():
        return _items(_keywords((*LINE_KEYWORDS, "and", "or")))
    clause = _last_clause(lines, line, head)
    if clause == "then":
        return _items([*_actions(), *_scope(index, line)])
    return _items([*_names(), *_scope(index, line), *_keywords(EXPRESSION_KEYWORDS)])


def _units(number: str, cursor: T.Position) -> list[T.CompletionItem]:
    """Units after a number; right after its last digit, ``days`` comes with its space (the
    edit is at the cursor, so the number typed stays)."""
    out = []
    for unit, what in UNITS:
        text = unit if not number or unit == "%" else f" {unit}"
        out.append(
            T.CompletionItem(
                label=unit,
                kind=T.CompletionItemKind.Unit,
                detail=what,
                filter_text=number + text,
                text_edit=T.TextEdit(range=T.Range(start=cursor, end=cursor), new_text=text),
            )
        )
    return out


def _items(items: object) -> T.CompletionList:
    return T.CompletionList(is_incomplete=False, items=list(items))  # type: ignore[call-overload]


def _last_clause(lines: list[str], line: int, head: str) -> str | None:
    """The clause keyword the cursor is in: the last one on the line, or on the lines above
    up to the start of the statement (a rule's clauses may span lines)."""
    found = _CLAUSE.findall(head)
    if found:
        return str(found[-1])
    for back in range(line - 2, max(line - 20, -1), -1):
        above = lines[back].split("#", 1)[0]
        found = _CLAUSE.findall(above)
        if found:
            return str(found[-1])
        if re.match(r"\s*(rule|param|define|include|rulebook|description)\b", above):
            return None
    return None


def _fields(word: str) -> list[T.CompletionItem]:
    """What may follow ``prefix.``: the state's names under it, or an indicator's fields."""
    prefix = word[: word.rfind(".") + 1]
    out = []
    seen = set()
    for name, state in STATE_NAMES.items():
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if rest and rest not in seen:
                seen.add(rest)
                out.append(
                    T.CompletionItem(
                        label=rest,
                        kind=T.CompletionItemKind.Field,
                        detail=UNIT_WORDS.get(state.unit, state.unit),
                        documentation=state.description,
                    )
                )
    base = prefix[:-1]
    spec = INDICATORS.get(base.split("(", 1)[0])
    if spec is not None:
        out += [T.CompletionItem(label=f, kind=T.CompletionItemKind.Field) for f in spec.fields]
    return out


def _keywords(words: tuple[str, ...]) -> list[T.CompletionItem]:
    return [T.CompletionItem(label=w, kind=T.CompletionItemKind.Keyword) for w in words]


def _actions() -> list[T.CompletionItem]:
    return [
        T.CompletionItem(
            label=label,
            kind=T.CompletionItemKind.Snippet,
            insert_text=snippet,
            insert_text_format=T.InsertTextFormat.Snippet,
        )
        for label, snippet in ACTIONS.items()
    ]


def _names() -> list[T.CompletionItem]:
    out = [
        T.CompletionItem(
            label=name,
            kind=T.CompletionItemKind.Variable,
            detail=UNIT_WORDS.get(state.unit, state.unit),
            documentation=state.description,
        )
        for name, state in STATE_NAMES.items()
        if name.count(".") == 0 or not name.startswith(("VIX.M", "hedge.M"))
    ]
    for spec in INDICATORS.values():
        out.append(
            T.CompletionItem(
                label=spec.name,
                kind=T.CompletionItemKind.Function,
                detail=signature(spec),
                documentation=spec.description,
            )
        )
    out += [
        T.CompletionItem(label=f, kind=T.CompletionItemKind.Function, detail=form)
        for f, form in _FUNCTIONS.items()
    ]
    return out


def _scope(index: BookIndex | None, line: int) -> list[T.CompletionItem]:
    if index is None:
        return []
    out = []
    values = index.param_values()
    for stmt in index.in_scope(line):
        if isinstance(stmt, A.Param):
            value = values.get(stmt.name, stmt.value)
            out.append(
                T.CompletionItem(
                    label=stmt.name,
                    kind=T.CompletionItemKind.Constant,
                    detail=f"param = {format_quantity(value)}",
                )
            )
        else:
            out.append(
                T.CompletionItem(
                    label=stmt.name,
                    kind=T.CompletionItemKind.Variable,
                    detail=f"define = {format_expr(stmt.expr)}",
                )
            )
    return out
