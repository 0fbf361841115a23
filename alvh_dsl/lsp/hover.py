"""Hover: what a name means and its unit, a param's value and where it is declared, a
define's normalised expression, a rule in plain English, an action in its resolved form.

The words come from the tables the checker and ``alvh explain`` use
(:mod:`alvh_dsl.lang.names`, :mod:`alvh_dsl.lang.explain`), so the editor says what
the CLI says.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast

from ..lang import ast as A
from ..lang.explain import explain_json, normalise
from ..lang.names import INDICATORS, STATE_NAMES, UNIT_WORDS, Indicator
from ..lang.printer import format_action, format_expr, format_quantity
from .index import BookIndex

if TYPE_CHECKING:  # pragma: no cover
    from ..lang.evaluate import Book

_FUNCTIONS = {
    "abs": ("abs(x)", "the absolute value; its unit is x's"),
    "min": ("min(a, b)", "the smaller of a and b (same unit)"),
    "max": ("max(a, b)", "the larger of a and b (same unit)"),
}


def hover_text(index: BookIndex, line: int, column: int) -> str | None:
    """Markdown for what is at a 1-based position of the open file, or ``None``."""
    call = index.call_at(line, column)
    if call is not None:
        return call_text(call.func)
    name = index.name_at(line, column)
    if name is not None:
        return name_text(index, name.name)
    stmt = index.statement_at(line, column)
    if isinstance(stmt, A.Rule):
        action = index.action_at(line, column)
        if action is not None:
            return action_text(index, action)
        return rule_text(index, stmt)
    if isinstance(stmt, A.Param) and _on(stmt.name_span, line, column):
        return name_text(index, stmt.name)
    if isinstance(stmt, A.Define) and _on(stmt.name_span, line, column):
        return name_text(index, stmt.name)
    if isinstance(stmt, A.Include):
        return f"includes `{index.include_target(stmt)}`"
    return None


def _on(span: A.Span, line: int, column: int) -> bool:
    return span.line == line and span.column <= column <= span.end_column


def signature(spec: Indicator) -> str:
    """How an indicator is called: ``SMA(series, window)``, ``RSI([series = SPX,] window)``."""
    forms = []
    for n in spec.arities:
        if n == 0:
            forms.append(spec.name)
            continue
        if spec.defaults:  # MACD: the windows come as a group, the series before them
            windows = len(spec.defaults) if n >= len(spec.defaults) else 0
        elif spec.default_series and n < max(spec.arities):
            windows = n  # the series left out: RSI(14)
        else:
            windows = n - spec.series_args
        names = ["series"] * (n - windows)
        names += ["fast", "slow", "signal"] if spec.defaults and windows else ["window"] * windows
        forms.append(f"{spec.name}({', '.join(names)})")
    if spec.fields:
        forms.append(f"{spec.name}(…).{{{','.join(spec.fields)}}}")
    return " · ".join(dict.fromkeys(forms))


def _unit(unit: str | None) -> str:
    return "the unit of its series" if unit is None else UNIT_WORDS.get(unit, unit)


def call_text(func: str) -> str | None:
    """An indicator's or function's signature, unit and meaning."""
    spec = INDICATORS.get(func)
    if spec is not None:
        default = f"; the series defaults to {spec.default_series}" if spec.default_series else ""
        return f"```alvh\n{signature(spec)}\n```\n{spec.description} ({_unit(spec.unit)}){default}"
    if func in _FUNCTIONS:
        form, what = _FUNCTIONS[func]
        return f"```alvh\n{form}\n```\n{what}"
    return None


def name_text(index: BookIndex, name: str) -> str | None:
    """A name: a param, a define, a name the state provides, or a bare indicator."""
    params = index.param_values()
    program = index.program
    if name in program.params:
        declared = program.params[name]
        value = params[name]
        where = f"{declared.name_span.file}:{declared.name_span.line}"
        over = (
            f" (overridden; declared {format_quantity(declared.value)})"
            if value != declared.value
            else ""
        )
        return (
            f"```alvh\nparam {name} = {format_quantity(value)}\n```\n"
            f"{_unit(value.unit)}{over}, declared at {where}"
        )
    if name in program.defines:
        d = program.defines[name]
        norm = format_expr(normalise(d.expr, params, program.defines))
        text = f"```alvh\ndefine {name} = {format_expr(d.expr)}\n```\n"
        if norm != format_expr(d.expr):
            text += f"normalised: `{norm}`\n\n"
        return text + f"declared at {d.name_span.file}:{d.name_span.line}"
    state = STATE_NAMES.get(name)
    if state is not None:
        history = "; has a recent history (indicators, `crosses`)" if state.history else ""
        return f"```alvh\n{name}\n```\n{state.description} ({_unit(state.unit)}){history}"
    base, _, tail = name.partition(".")
    spec = INDICATORS.get(base)
    if spec is not None and (not tail or tail in spec.fields):
        return call_text(base)
    return None


@dataclass
class _BookView:
    """What :func:`~alvh_dsl.lang.explain.explain_json` reads of a book: a broken book
    (which does not compile) is still explained, from what parsed."""

    program: object
    params: dict[str, A.Number]
    rules: list[_RuleView]


@dataclass
class _RuleView:
    rule: A.Rule


def rule_text(index: BookIndex, rule: A.Rule) -> str:
    """A rule's title, priority and plain-English explanation, and its normalised condition."""
    view = _BookView(index.program, index.param_values(), [_RuleView(rule)])
    try:
        entry = cast("list[dict[str, object]]", explain_json(cast("Book", view))["rules"])[0]
    except Exception:  # an explanation must never take the server down
        entry = {}
    head = f"**rule {rule.id}**"
    if rule.title:
        head += f" — {rule.title}"
    if rule.priority:
        head += f" (priority {rule.priority})"
    parts = [head]
    if entry.get("english"):
        parts.append(str(entry["english"]))
    norm = entry.get("normalised_when")
    if norm and norm != entry.get("when"):
        parts.append(f"normalised: `when {norm}`")
    return "\n\n".join(parts)


def resolve_action(index: BookIndex, action: A.ActionNode) -> A.ActionNode:
    """An action with params replaced by their values and defines inlined."""
    params, defines = index.param_values(), index.program.defines

    def arg(node: A.Node) -> A.Node:
        if A.is_expr(node):
            return normalise(node, params, defines)
        return A.map_children(node, arg)

    return A.map_children(action, arg)


def action_text(index: BookIndex, action: A.ActionNode) -> str:
    """An action as written and resolved (params replaced by their values)."""
    written = format_action(action)
    resolved = format_action(resolve_action(index, action))
    text = f"```alvh\n{resolved}\n```"
    if resolved != written:
        text += f"\nas written: `{written}`"
    return text
