"""A rule's status in data: the ``detail`` of ``rule_status.parquet``, rendered from the
values each comparison compared.

The statuses (:mod:`alvh_dsl.dryrun.statuses`) hold one comparison's day as a
:data:`Rec` — ``(result, operand values...)``, read off a trace or written by an observed
evaluation (:mod:`alvh_dsl.lang.observe`) — and this module turns those into what ``alvh
why`` and the near misses say: the failing comparisons and their values, a near miss's
margin, the actions that did not apply. Plain Python (no NumPy).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..lang.state import Unknown

if TYPE_CHECKING:  # pragma: no cover
    from .statuses import Comparison, RulePlan

__all__ = [
    "FALSE",
    "NULL",
    "TRUE",
    "UNSEEN",
    "Rec",
    "Template",
    "action_detail",
    "compact",
    "failed",
    "failed_json",
    "false_renderer",
    "false_templater",
    "miss_margin",
    "number",
    "rec_values",
    "value_text",
]

Rec = tuple[Any, ...]
"""One comparison's day: ``(result, operand values...)``, the result an ``Unknown`` when
unknown (what an observed evaluation writes, :mod:`alvh_dsl.lang.observe`; read off a
trace by :func:`_trace_recs`); an operand's value may be an ``Unknown`` (or None)."""


def number(value: Any) -> float | None:
    """A finite number to 6 significant digits (what words and ranges need), or None."""
    t = type(value)
    if t is float:
        # NaN and infinities are the only floats for which x - x is not 0.
        return float(f"{value:.6g}") if value - value == 0 else None
    if t is int:
        return float(value)
    return None


def rec_values(cmp: Comparison, rec: Rec, units: tuple[str, ...]) -> list[list[Any]]:
    """:func:`comparison_values` of a :data:`Rec`."""
    return [[text, number(rec[i + 1]), units[i]] for i, text in cmp.operands if i + 1 < len(rec)]


def _false_inside(
    plan: RulePlan, c: int, recs: Sequence[Rec | None]
) -> list[tuple[Comparison, Rec, int]]:
    """The comparisons of conjunct ``c`` that were false (all of them when none was)."""
    inside = [
        (cmp, rec, k)
        for k, (cmp, rec) in enumerate(zip(plan.comparisons, recs, strict=True))
        if rec is not None and cmp.conjunct == c
    ]
    return [x for x in inside if x[1][0] is False] or inside


def failed(
    plan: RulePlan,
    conj: Sequence[Any],
    recs: Sequence[Rec | None],
    units: Sequence[tuple[str, ...]],
) -> list[dict[str, Any]]:
    out = []
    for c, text in enumerate(plan.conjuncts):
        if c >= len(conj) or conj[c] is not False:
            continue
        out.append(
            {
                "conjunct": text,
                "comparisons": [
                    {
                        "expr": cmp.text,
                        "held": _held(rec[0]),
                        "values": rec_values(cmp, rec, units[k]),
                    }
                    for cmp, rec, k in _false_inside(plan, c, recs)
                ],
            }
        )
    return out


def _held(v: Any) -> bool | None:
    """A comparison's value as its trace node holds it (None when unknown)."""
    return None if type(v) is Unknown else v


_JSON_TEXT: dict[str, str] = {}


def _json_text(text: str) -> str:
    """``text`` as a JSON string, memoised: expressions, operand names and units repeat
    on every row."""
    out = _JSON_TEXT.get(text)
    if out is None:
        out = _JSON_TEXT[text] = json.dumps(text, ensure_ascii=False)
    return out


def _num_text(value: Any) -> str:
    v = number(value)
    return "null" if v is None else repr(v)


def failed_json(
    plan: RulePlan,
    conj: Sequence[Any],
    recs: Sequence[Rec | None],
    units: Sequence[tuple[str, ...]],
) -> str:
    """``{"failed": failed(...)}`` as compact JSON, written directly: the row detail of
    nearly every rule on nearly every day, so it skips building the dictionaries
    (tests/test_why.py checks it parses to the same data)."""
    parts = []
    for c, text in enumerate(plan.conjuncts):
        if c >= len(conj) or conj[c] is not False:
            continue
        cmps = []
        for cmp, rec, k in _false_inside(plan, c, recs):
            values = []
            u = units[k]
            for i, name in cmp.operands:
                if i + 1 < len(rec):
                    x = rec[i + 1]
                    # JSON's number text at 6 significant digits, as _number gives.
                    shown = f"{x:.6g}" if type(x) is float and x - x == 0 else _num_text(x)
                    values.append(f"[{_json_text(name)},{shown},{_json_text(u[i])}]")
            v = rec[0]
            held = "true" if v is True else "false" if v is False else "null"
            cmps.append(
                f'{{"expr":{_json_text(cmp.text)},"held":{held},"values":[{",".join(values)}]}}'
            )
        parts.append(f'{{"conjunct":{_json_text(text)},"comparisons":[{",".join(cmps)}]}}')
    return f'{{"failed":[{",".join(parts)}]}}'


def miss_margin(cmp: Comparison, rec: Rec) -> float | None:
    """How far a failed threshold missed: |value − threshold| ÷ the larger of the two
    (``between``: the nearer bound); None without two numbers."""
    values = [number(x) for x in rec[1:]]
    if cmp.op == "between":
        if len(values) < 3 or any(v is None for v in values):
            return None
        x, low, high = (float(v) for v in values[:3])  # type: ignore[arg-type]
        value, threshold = x, (low if abs(x - low) <= abs(x - high) else high)
    else:
        if len(values) < 2 or values[0] is None or values[1] is None:
            return None
        value, threshold = values[0], values[1]
    scale = max(abs(value), abs(threshold))
    return abs(value - threshold) / scale if scale > 0 else 0.0


def action_detail(a: Mapping[str, Any], priority: Mapping[str, int]) -> dict[str, Any]:
    out: dict[str, Any] = {"action": a.get("text"), "status": a.get("status")}
    by = a.get("superseded_by")
    if by is not None:
        out["by"] = by
        out["priority"] = priority.get(by, 0)
    elif a.get("reason"):
        out["reason"] = a["reason"]
    elif a.get("fill"):
        out["reason"] = a["fill"]
    return out


# One encoder for every row (json.dumps with options makes one per call); the details'
# keys are written in a fixed order, so no sorting is needed for byte-identical files.
_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def compact(value: Any) -> str:
    return _ENCODER.encode(value)


_Pieces = tuple[list[str], list[list[tuple[int, str, tuple[tuple[int, str, str], ...]]]]]


def _pieces(plan: RulePlan, units: Sequence[tuple[str, ...]]) -> _Pieces:
    """The fixed text of a rule's false details: each conjunct's head, and per conjunct
    its comparisons (index, head, and per operand its Rec index and the text around)."""
    heads = [f'{{"conjunct":{_json_text(t)},"comparisons":[' for t in plan.conjuncts]
    by_conj: list[list[tuple[int, str, tuple[tuple[int, str, str], ...]]]] = [[] for _ in heads]
    for k, cmp in enumerate(plan.comparisons):
        if cmp.conjunct >= len(by_conj):
            continue
        u = units[k]
        ops = tuple(
            (i + 1, f"[{_json_text(name)},", f",{_json_text(u[i])}]")
            for i, name in cmp.operands
            if i < len(u)
        )
        by_conj[cmp.conjunct].append((k, f'{{"expr":{_json_text(cmp.text)},"held":', ops))
    return heads, by_conj


Template = tuple[tuple[str, ...], tuple[tuple[int, int], ...]]
"""A false detail's fixed text, as the pieces between its values (``%`` escaped, for a
``%`` template), and per value the comparison and the Rec index it is read from."""

UNSEEN, FALSE, TRUE, NULL = range(4)
"""A comparison's day as a template sees it: no Rec, false, true, or neither."""


def false_templater(
    plan: RulePlan, units: Sequence[tuple[str, ...]]
) -> Callable[[Sequence[bool], Sequence[int]], Template]:
    """The template of the text :func:`false_renderer` gives on the days whose conjuncts
    are false where ``failed`` says, and whose comparisons are ``held`` (one of
    :data:`UNSEEN`, :data:`FALSE`, :data:`TRUE`, :data:`NULL` each): the same walk, with
    each value's text left out (tests/test_observed.py compares the two)."""
    heads, by_conj = _pieces(plan, units)

    def template(failed: Sequence[bool], held: Sequence[int]) -> Template:
        parts = []
        positions: list[tuple[int, int]] = []
        for c, value in enumerate(failed):
            if not value or c >= len(heads):
                continue
            inside = [(k, head, ops) for k, head, ops in by_conj[c] if held[k] != UNSEEN]
            cmps = []
            for k, head, ops in [x for x in inside if held[x[0]] == FALSE] or inside:
                h = held[k]
                text = "true" if h == TRUE else "false" if h == FALSE else "null"
                values = []
                for j, pre, post in ops:
                    values.append(f"{pre}\x00{post}")  # JSON text holds no raw NUL
                    positions.append((k, j))
                cmps.append(f'{head}{text},"values":[{",".join(values)}]}}')
            parts.append(heads[c] + ",".join(cmps) + "]}")
        whole = '{"failed":[' + ",".join(parts) + "]}"
        return tuple(whole.replace("%", "%%").split("\x00")), tuple(positions)

    return template


def value_text(x: Any) -> str:
    """A value's text in a false detail: 6 significant digits, an int as a float, else
    null (what :func:`false_renderer` writes)."""
    if type(x) is float and x - x == 0:
        return f"{x:.6g}"
    return _num_text(x)


def false_renderer(
    plan: RulePlan, units: Sequence[tuple[str, ...]]
) -> Callable[[Sequence[Any], Sequence[Rec | None]], str]:
    """:func:`failed_json` for one rule whose operands' units are known in advance (an
    observed evaluation's): every fixed piece of the JSON text — expressions, names,
    units — is written once, here, and a day only fills in the values (the same bytes:
    tests/test_why.py compares the two)."""
    heads, by_conj = _pieces(plan, units)

    def render(conj: Sequence[Any], recs: Sequence[Rec | None]) -> str:
        parts = []
        for c, value in enumerate(conj):
            if value is not False or c >= len(heads):
                continue
            inside = [
                (rec, head, ops) for k, head, ops in by_conj[c] if (rec := recs[k]) is not None
            ]
            cmps = []
            for rec, head, ops in [x for x in inside if x[0][0] is False] or inside:
                v = rec[0]
                held = "true" if v is True else "false" if v is False else "null"
                values = []
                for j, pre, post in ops:
                    x = rec[j]
                    # As failed_json: 6 significant digits, an int as a float, else null.
                    if type(x) is float and x - x == 0:
                        values.append(f"{pre}{x:.6g}{post}")
                    else:
                        values.append(pre + _num_text(x) + post)
                cmps.append(f'{head}{held},"values":[{",".join(values)}]}}')
            parts.append(heads[c] + ",".join(cmps) + "]}")
        return '{"failed":[' + ",".join(parts) + "]}"

    return render
