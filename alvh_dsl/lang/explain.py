"""Rules and decisions in words: ``alvh explain`` and the text of ``alvh eval``.

- :func:`explain_book` says each rule in plain English, with its normalised
  form (defines inlined, params replaced by their values), and lists params
  and defines with their values and units;
- :func:`render_evaluation` prints an evaluation: what fired, what was
  superseded and by whom, why the others did not fire, and (``explain=True``)
  the value of every sub-expression.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import ast as A
from .construct import construct
from .names import INDICATORS, STATE_NAMES
from .printer import format_action, format_expr, format_number, format_quantity

if TYPE_CHECKING:  # pragma: no cover - the evaluator is imported only by who evaluates
    from .evaluate import Book
    from .runtime import Evaluation, TraceNode

MAX_INLINE_NODES = 200

_CMP_WORDS = {
    "<": "is below",
    "<=": "is at most",
    ">": "is above",
    ">=": "is at least",
    "==": "equals",
    "!=": "is not",
}


class _Speaker:
    def __init__(self, params: dict[str, A.Number], defines: dict[str, A.Define]) -> None:
        self.params = params
        self.defines = defines

    def expr(self, e: A.ExprNode) -> str:
        match e:
            case A.Number():
                return format_quantity(e)
            case A.Name():
                return self.name(e.name)
            case A.Call():
                return self.call(e)
            case A.Neg():
                return f"minus {self.expr(e.operand)}"
            case A.Not():
                return f"it is not the case that {self.expr(e.operand)}"
            case A.BoolOp():
                parts = [self._grouped(o, e.op) for o in e.operands]
                return f" {e.op} ".join(parts)
            case A.BinOp():
                op = {"+": "plus", "-": "minus", "*": "times", "/": "divided by", "of": "of"}[e.op]
                return f"{self.expr(e.left)} {op} {self.expr(e.right)}"
            case A.Compare():
                return f"{self.expr(e.left)} {_CMP_WORDS[e.op]} {self.expr(e.right)}"
            case A.Between():
                return (
                    f"{self.expr(e.value)} is between {self.expr(e.low)} and "
                    f"{self.expr(e.high)} (inclusive)"
                )
            case A.Crosses():
                return f"{self.expr(e.left)} crosses {e.direction} {self.expr(e.right)}"
        A.unhandled(e)

    def _grouped(self, e: A.ExprNode, parent: str) -> str:
        text = self.expr(e)
        if isinstance(e, A.BoolOp) and e.op != parent:
            return f"({text})"
        return text

    def name(self, name: str) -> str:
        if name in self.params:
            return f"{name} ({format_quantity(self.params[name])})"
        if name in self.defines:
            return f"“{name}”"
        state = STATE_NAMES.get(name)
        if state is not None:
            return state.description
        if name.startswith("MACD"):
            tail = name.partition(".")[2]
            what = {"signal": "the MACD signal line", "hist": "the MACD histogram"}.get(
                tail, "the MACD line"
            )
            return f"{what} of SPX (12/26/9)"
        if name == "ADLINE":
            return "the advance-decline line"
        return name

    def call(self, e: A.Call) -> str:
        func = e.func
        args = [self.expr(a) for a in e.args]
        if func == "abs":
            return f"the absolute value of {args[0]}"
        if func in ("min", "max"):
            return f"the {'smaller' if func == 'min' else 'larger'} of {args[0]} and {args[1]}"
        spec = INDICATORS.get(func)
        what = spec.description if spec else func
        if func == "RSI" and len(args) == 1:
            return f"the {format_expr(e.args[0])}-day {what} of SPX"
        if func == "MACD":
            field = {"signal": " signal line", "hist": " histogram"}.get(e.field or "", "")
            return f"the MACD{field} of {format_expr(e)}"
        if len(e.args) == 2:
            return f"the {format_expr(e.args[1]).replace(' days', '')}-day {what} of {args[0]}"
        return f"{what} {format_expr(e)}"

    def expiry(self, ref: A.ByMonth | A.NearDays, nearest: str) -> str:
        if isinstance(ref, A.ByMonth):
            return f"the month-{format_expr(ref.month)} SPX expiry"
        return f"{nearest} {self.expr(ref.days)} out"

    def action(self, a: A.ActionNode) -> str:
        match a:
            case A.OpenCondor():
                where = "an expiry"
                if a.expiry is not None:
                    where = self.expiry(a.expiry, "the monthly SPX expiry nearest")
                qty = (
                    f"{self.expr(a.quantity)} contract(s)"
                    if a.quantity is not None
                    else "1 contract"
                )
                parts = [f"open an iron condor ({qty}) on {where}"]
                if a.short_delta is not None:
                    parts.append(f"short strikes at delta {self.expr(a.short_delta)}")
                if a.wings is not None:
                    parts.append(f"wings {self.expr(a.wings)} wide")
                return ", ".join(parts)
            case A.RollCondor():
                to = self.expiry(a.to, "the monthly expiry nearest")
                keep = {
                    "delta": "its short delta",
                    "width": "its wing width",
                    "strikes": "its strikes",
                }[a.keeping or "delta"]
                return f"close the front condor and open its replacement on {to}, keeping {keep}"
            case A.Close():
                share = f"{self.expr(a.fraction)} of " if a.fraction is not None else ""
                if a.target == "condor":
                    return f"close {share}the front condor"
                if a.target == "all":
                    return f"close {share}every position"
                month = f" in VIX month {format_expr(a.month)}" if a.month is not None else ""
                return f"close {share}the VIX hedge{month}"
            case A.ShiftHedge():
                src = (
                    format_expr(a.from_month) if a.from_month is not None else "1 (the front month)"
                )
                return (
                    f"move {self.expr(a.fraction)} of the hedge notional from VIX month {src} "
                    f"to month {format_expr(a.to_month)}"
                )
            case A.TradeFuture():
                n = self.expr(a.count) if a.count is not None else "1"
                return f"{a.side} {n} VIX future(s) in month {format_expr(a.month)}"
            case A.BuyCallSpread():
                size = self.expr(a.count) if a.count is not None else "1"
                text = (
                    f"buy VIX {format_expr(a.lower)}/{format_expr(a.upper)} call spreads in month "
                    f"{format_expr(a.month)}"
                )
                if a.costing is not None:
                    return f"{text}, as many as {self.expr(a.costing)} buys"
                return f"{text} ({size})"
            case A.Alert():
                return f"raise the alert “{a.message}”"
        A.unhandled(a)

    def rule(self, rule: A.Rule) -> str:
        when = self.expr(rule.when) if rule.when is not None else "(no condition)"
        actions = ", then ".join(self.action(a) for a in rule.actions) or "(no action)"
        text = f"When {when}: {actions}."
        if rule.unless is not None:
            text += f" Not when {self.expr(rule.unless)}."
        if rule.cooldown is not None:
            text += f" After firing, it waits {self.expr(rule.cooldown)} before firing again."
        return text


def normalise(
    e: A.ExprNode, params: dict[str, A.Number], defines: dict[str, A.Define]
) -> A.ExprNode:
    """``e`` with defines inlined and params replaced by their values (if not too large)."""
    budget = [MAX_INLINE_NODES]

    def sub(node: A.Node) -> A.Node:
        budget[0] -= 1
        if budget[0] < 0:
            raise OverflowError
        if isinstance(node, A.Name):
            if node.name in params:
                v = params[node.name]
                return construct(A.Number, span=node.span, value=v.value, unit=v.unit)
            if node.name in defines:
                return sub(defines[node.name].expr)
            return node
        return A.map_children(node, sub)

    try:
        out = sub(e)
    except OverflowError:
        return e
    assert A.is_expr(out)
    return out


def explain_book(book: Book) -> str:
    """The whole book in words (``alvh explain``)."""
    program = book.program
    params: dict[str, A.Number] = dict(book.params)
    defines = program.defines
    speaker = _Speaker(params, defines)
    out: list[str] = []
    header = program.header
    title = header.name if header is not None else program.root
    if header is not None and header.version:
        title += f" (version {header.version})"
    out.append(f"{title} — {program.root}")
    if program.description:
        out.append(program.description)
    if params:
        out.append("")
        out.append("Params (override with --param NAME=VALUE):")
        width = max(len(n) for n in params)
        for name, value in params.items():
            declared = program.params[name].value
            note = (
                "" if value == declared else f"  (overridden; declared {format_quantity(declared)})"
            )
            unit = {"bare": "plain number", "percent": "percent"}.get(value.unit, value.unit)
            out.append(f"  {name.ljust(width)}  {format_quantity(value):>12}  {unit}{note}")
    if defines:
        out.append("")
        out.append("Defines:")
        for name, d in defines.items():
            out.append(f"  {name} = {format_expr(d.expr)}")
            out.append(f"      {speaker.expr(d.expr)}")
    out.append("")
    out.append("Rules, in the order they run (priority, then file order):")
    for cr in book.rules:
        rule = cr.rule
        head = f"  {rule.id}"
        if rule.title:
            head += f" — {rule.title}"
        head += f"  [priority {rule.priority}]" if rule.priority else ""
        if not rule.named:
            head += "  [unnamed: ID derived from its text]"
        out.append("")
        out.append(head)
        out.append(f"    {speaker.rule(rule)}")
        norm = []
        if rule.when is not None:
            norm.append("when " + format_expr(normalise(rule.when, params, defines)))
        if rule.unless is not None:
            norm.append("unless " + format_expr(normalise(rule.unless, params, defines)))
        if rule.actions:
            acts = [format_action(_normalise_action(a, params, defines)) for a in rule.actions]
            norm.append("then " + " and ".join(acts))
        if rule.cooldown is not None:
            norm.append("cooldown " + format_expr(normalise(rule.cooldown, params, defines)))
        out.append("    normalised: " + " ".join(norm))
    return "\n".join(out) + "\n"


def _normalise_action(
    a: A.ActionNode, params: dict[str, A.Number], defines: dict[str, A.Define]
) -> A.ActionNode:
    """``a`` with each argument normalised (an expiry reference's inside it)."""

    def arg(node: A.Node) -> A.Node:
        if A.is_expr(node):
            return normalise(node, params, defines)
        return A.map_children(node, arg)

    return A.map_children(a, arg)


def explain_json(book: Book) -> dict[str, object]:
    """The same content as :func:`explain_book`, as data."""
    program = book.program
    params: dict[str, A.Number] = dict(book.params)
    defines = program.defines
    speaker = _Speaker(params, defines)
    rules = []
    for cr in book.rules:
        rule = cr.rule
        rules.append(
            {
                "id": rule.id,
                "named": rule.named,
                "title": rule.title,
                "priority": rule.priority,
                "english": speaker.rule(rule),
                "when": format_expr(rule.when) if rule.when is not None else None,
                "normalised_when": format_expr(normalise(rule.when, params, defines))
                if rule.when is not None
                else None,
                "actions": [format_action(a) for a in rule.actions],
                "location": str(rule.span),
            }
        )
    return {
        "book": program.root,
        "name": program.header.name if program.header else None,
        "version": program.header.version if program.header else None,
        "params": {
            n: {"value": v.value, "unit": v.unit, "text": format_quantity(v)}
            for n, v in params.items()
        },
        "defines": {n: format_expr(d.expr) for n, d in defines.items()},
        "rules": rules,
    }


# ---------------------------------------------------------------- evaluations


def format_value(value: float | bool | None, unit: str) -> str:
    """A value with its unit, for people: ``7 days``, ``$1,240``, ``25%``, ``true``."""
    if value is None:
        return "unknown"
    if isinstance(value, bool):
        return "true" if value else "false"
    v = float(value)
    if unit == "percent":
        return f"{format_number(round(v * 100, 6))}%"
    if unit == "dollars":
        sign = "-" if v < 0 else ""
        return f"{sign}${abs(v):,.2f}".replace(".00", "")
    if unit == "days":
        n = format_number(round(v, 6))
        return f"{n} day" if n == "1" else f"{n} days"
    if unit == "points":
        return f"{format_number(round(v, 6))} points"
    return format_number(round(v, 10))


def _trace_lines(node: TraceNode, indent: str, out: list[str], label: str = "") -> None:
    if node.unknown is not None:
        value = f"unknown — {node.unknown}"
    else:
        value = format_value(node.value, node.unit)
    out.append(f"{indent}{label}{node.text}  →  {value}")
    for c in node.children:
        if not _is_literal(c):
            _trace_lines(c, indent + " " * (len(label) + 2), out)


def _is_literal(node: TraceNode) -> bool:
    text = node.text
    return not node.children and (text[:1].isdigit() or text[:1] in "-$") and node.unknown is None


_STATUS = {
    "fired": "FIRED",
    "not_met": "not met",
    "unknown": "unknown",
    "blocked": "blocked",
    "cooling_down": "cooling",
}


def render_evaluation(evaluation: Evaluation, book_name: str, *, explain: bool = False) -> str:
    """Text for ``alvh eval``: decisions in execution order, with traces when ``explain``."""
    decisions = evaluation.decisions
    fired = [d for d in decisions if d.fired]
    superseded = sum(1 for d in fired for a in d.actions if a.status == "superseded")
    out = [
        f"{book_name} on {evaluation.date}: {len(fired)} of {len(decisions)} rules fired"
        + (f", {superseded} action(s) superseded" if superseded else "")
    ]
    width = max((len(d.rule) for d in decisions), default=0)
    for d in decisions:
        out.append("")
        prio = f" (priority {d.priority})" if d.priority else ""
        out.append(f"  {_STATUS[d.status]:<8} {d.rule.ljust(width)}{prio}")
        for a in d.actions:
            if a.status == "apply":
                args = ", ".join(f"{k}={_arg_text(v)}" for k, v in a.args.items())
                out.append(f"           → {a.text}   [{args}]")
            elif a.status == "superseded":
                out.append(f"           ✗ {a.text}   superseded by `{a.superseded_by}`")
            else:
                out.append(f"           ✗ {a.text}   not resolved: {a.reason}")
        if d.status != "fired" and d.reason:
            reason = d.reason
            if d.near_miss:
                reason += f"; only `{d.near_miss}` failed"
            out.append(f"           {reason}")
        if explain:
            if d.trace is not None:
                _trace_lines(d.trace, "           ", out, "when ")
            if d.unless_trace is not None:
                _trace_lines(d.unless_trace, "           ", out, "unless ")
    return "\n".join(out) + "\n"


def _arg_text(v: object) -> str:
    if isinstance(v, float):
        return format_number(round(v, 10))
    return str(v)
