"""The passes about rules and their actions.

- :func:`check_rules`    E301–E303, W101: unique IDs, a condition and an action per rule,
  unnamed rules;
- :func:`check_actions`  E305–E311, E208, W203: the arguments of every action make sense
  (options given, ranges, months, counts, strikes).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .. import ast as A
from ..diagnostics import Diagnostic, error, note, warning
from ..printer import format_expr
from .analysis import Analysis
from .names import ACTION_FIELDS, EXPIRY_FIELDS


def check_rules(an: Analysis) -> Iterable[Diagnostic]:
    """E301–E303, W101: unique IDs, a condition and an action per rule; unnamed rules."""
    seen: dict[str, A.Rule] = {}
    for rule in an.program.rules:
        fields = rule.__dict__  # one read of the rule's fields: most rules report nothing
        rule_id = fields["id"]
        if (
            rule_id not in seen
            and fields["named"]
            and fields["when"] is not None
            and fields["actions"]
        ):
            seen[rule_id] = rule
        else:
            yield from _check_rule(rule, seen)


def _check_rule(rule: A.Rule, seen: dict[str, A.Rule]) -> Iterator[Diagnostic]:
    if rule.id in seen:
        other = seen[rule.id]
        what = "an identical unnamed rule" if not rule.named else f"rule `{rule.id}`"
        yield error(
            "E301",
            f"duplicate rule ID `{rule.id}`: {what} is already defined",
            rule.id_span,
            help="rule IDs must be unique across the book and its includes",
            related=[note(other.id_span, "first defined here")],
        )
    else:
        seen[rule.id] = rule
    if rule.when is None:
        yield error(
            "E302",
            f"rule `{rule.id}` has no `when` condition",
            rule.id_span,
            help="add a line `when CONDITION`",
        )
    if not rule.actions:
        yield error(
            "E303",
            f"rule `{rule.id}` has no action",
            rule.id_span if rule.named else rule.span,
            help="add a line `then ACTION` (e.g. `then close condor`)",
        )
    if not rule.named:
        yield warning(
            "W101",
            "unnamed rule",
            rule.id_span,
            help=f"its ID is derived from its text (`{rule.id}`); a `rule NAME` line above "
            "it gives reports and cooldowns a stable name",
        )


# Ten years: longer than any history a dry-run replays, and far from the calendar's
# end (a cooldown of 3,000,000 days passed the check, then overflowed the date
# arithmetic of `alvh eval` and `alvh dryrun`; `near 3000000 days` ran past the
# expiry calendar). Cooldowns and `near` expiries are both bounded by it.
MAX_DAYS = 3650


def check_actions(an: Analysis) -> Iterable[Diagnostic]:
    """E305–E311, E208, W203: the arguments of every action make sense."""
    # What an action reports is a function of its class, which arguments it has, their
    # constant values and (for W203) their inner `of`s, and of nothing else but the spans
    # and texts its diagnostics quote. An action whose arguments are leaves (`month 2`,
    # `wings wide`: no `of` below) is therefore keyed by the first three: one with a
    # key that reported nothing before reports nothing again, and is not checked twice.
    clean: set[tuple[object, ...]] = set()
    const = an.types.const  # an.const without its call through the analysis
    leaves = (A.Number, A.Name)
    for rule in an.program.rules:
        for action in rule.actions:
            cls = type(action)
            values = action.__dict__
            key: list[object] = [cls]
            for field in ACTION_FIELDS[cls]:
                value = values[field]
                if value is None:
                    key.append(None)
                    continue
                ref = type(value)
                inner = EXPIRY_FIELDS.get(ref)
                expr = value if inner is None else value.__dict__[inner]
                if type(expr) not in leaves:
                    break  # an inner node: checked in full, every time
                key.append((ref, const(expr)))
            else:
                found = tuple(key)
                if found in clean:
                    continue
                reported = [*_check_action(an, action), *_percent_of_all(an, action)]
                if not reported:
                    clean.add(found)
                yield from reported
                continue
            yield from _check_action(an, action)
            yield from _percent_of_all(an, action)
        if rule.cooldown is not None:
            v = an.const(rule.cooldown)
            if v is not None and v < 0:
                yield error("E311", "cooldown cannot be negative", rule.cooldown.span)
            elif v is not None and v > MAX_DAYS:
                yield error(
                    "E311",
                    f"cooldown {format_expr(rule.cooldown)} is longer than {MAX_DAYS} days",
                    rule.cooldown.span,
                    help="a cooldown is at most ten years; to fire once, test a state value "
                    "in `when` instead",
                )


def _percent_of_all(an: Analysis, action: A.ActionNode) -> Iterator[Diagnostic]:
    for expr in A.action_exprs(action):
        yield from _percent_of_warnings(an, expr)


def _check_action(an: Analysis, action: A.ActionNode) -> Iterator[Diagnostic]:
    # By the exact class, not `match`: a failed isinstance on a pydantic model costs ~10x
    # a hit, and this runs for every action of a book.
    if type(action) is A.Close:
        yield from _check_month(an, action.month)
        yield from _check_fraction(an, action.fraction, "closing")
    elif type(action) is A.RollCondor:
        yield from _check_expiry(an, action.to)
    elif type(action) is A.ShiftHedge:
        yield from _check_shift(an, action)
    elif type(action) is A.OpenCondor:
        yield from _check_open(an, action)
    elif type(action) is A.TradeFuture:
        yield from _check_positive_int(an, action.count, "the number of futures")
        yield from _check_month(an, action.month)
    elif type(action) is A.BuyCallSpread:
        yield from _check_spread(an, action)
    elif type(action) is not A.Alert:
        A.unhandled(action)  # type: ignore[arg-type]  # mypy narrows on isinstance only


def _check_open(an: Analysis, action: A.OpenCondor) -> Iterator[Diagnostic]:
    """E305: the options `open iron condor` needs; E311: delta and wings in range."""
    missing = [
        word
        for word, value in (
            ("month N` or `near D days", action.expiry),
            ("short delta D", action.short_delta),
            ("wings W", action.wings),
        )
        if value is None
    ]
    if missing:
        yield error(
            "E305",
            "`open iron condor` needs " + " and ".join(f"`{m}`" for m in missing),
            action.span,
            help="e.g. `open iron condor month 1 short delta 0.16 wings 50 points`",
        )
    yield from _check_expiry(an, action.expiry)
    if action.short_delta is not None:
        v = an.const(action.short_delta)
        if v is not None and not 0 < v < 1:
            yield error(
                "E311",
                f"short delta {format_expr(action.short_delta)} is not between 0 and 1",
                action.short_delta.span,
                help="write the delta as a fraction: 0.16 for a 16-delta short strike",
            )
    if action.wings is not None:
        v = an.const(action.wings)
        if v is not None and v <= 0:
            yield error("E311", "wings must be wider than 0 points", action.wings.span)
    yield from _check_positive_int(an, action.quantity, "quantity")


def _check_shift(an: Analysis, action: A.ShiftHedge) -> Iterator[Diagnostic]:
    """E307, E208 for its parts; E310: the hedge moves to another month."""
    yield from _check_fraction(an, action.fraction, "shifting")
    yield from _check_month(an, action.from_month)
    yield from _check_month(an, action.to_month)
    src = an.const(action.from_month) if action.from_month is not None else 1.0
    if src is not None and src == an.const(action.to_month):
        yield error(
            "E310",
            f"the hedge is shifted from month {_number_text(src)} to the same month",
            action.span,
            help="`shift P% hedge [from month A] to month B` needs A ≠ B (A is 1 by default)",
        )


def _check_spread(an: Analysis, action: A.BuyCallSpread) -> Iterator[Diagnostic]:
    """E308, E208 for its parts; E309: rising strikes; E306: a count or a budget."""
    yield from _check_positive_int(an, action.count, "the number of spreads")
    yield from _check_month(an, action.month)
    lo, hi = an.const(action.lower), an.const(action.upper)
    if lo is not None and hi is not None and not 0 < lo < hi:
        yield error(
            "E309",
            f"call spread strikes {format_expr(action.lower)}/{format_expr(action.upper)} "
            "must be positive and rising",
            action.span,
            help="write the long (lower) strike first: `25/35`",
        )
    if action.costing is not None and action.count is not None:
        yield error(
            "E306",
            "a call spread takes a count or `costing`, not both",
            action.span,
            help="`costing` sizes the count from the budget",
        )


def _check_expiry(an: Analysis, ref: A.ByMonth | A.NearDays | None) -> Iterator[Diagnostic]:
    """E208 for `month N`; E311 for `near D days` beyond :data:`MAX_DAYS`."""
    if isinstance(ref, A.ByMonth):
        yield from _check_month(an, ref.month)
    elif isinstance(ref, A.NearDays):
        v = an.const(ref.days)
        if v is not None and v > MAX_DAYS:
            yield error(
                "E311",
                f"near {format_expr(ref.days)} is further out than {MAX_DAYS} days",
                ref.days.span,
                help="condors are opened at most ten years out, e.g. `near 45 days`",
            )


def _check_month(an: Analysis, expr: A.ExprNode | None) -> Iterator[Diagnostic]:
    if expr is None:
        return
    v = an.const(expr)
    if v is None:
        return  # non-constant months are reported by the type pass
    if v != int(v) or not 1 <= v <= 9:
        yield error(
            "E208",
            f"month {format_expr(expr)} is not a whole number from 1 to 9",
            expr.span,
            help="month 1 is the nearest unexpired expiry, month 2 the next, …",
        )


def _check_positive_int(an: Analysis, expr: A.ExprNode | None, what: str) -> Iterator[Diagnostic]:
    if expr is None:
        return
    v = an.const(expr)
    if v is not None and (v != int(v) or v < 1):
        yield error(
            "E308", f"{what} must be a positive whole number, not {format_expr(expr)}", expr.span
        )


def _check_fraction(an: Analysis, expr: A.ExprNode | None, what: str) -> Iterator[Diagnostic]:
    if expr is None:
        return
    v = an.const(expr)
    if v is not None and not 0 < v <= 1:
        yield error(
            "E307",
            f"{what} {format_expr(expr)} is outside 0%–100%",
            expr.span,
            help="a share of a position is above 0% and at most 100%",
        )


def _number_text(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


def _percent_of_warnings(an: Analysis, expr: A.ExprNode) -> Iterator[Diagnostic]:
    """W203: ``P of X`` with ``P`` over 100%."""
    if type(expr) is A.Number or type(expr) is A.Name:
        return  # most arguments: no `of` below a leaf
    for node in A.walk(expr):
        if type(node) is A.BinOp and node.op == "of":
            v = an.const(node.left)
            if v is not None and v > 1:
                yield warning(
                    "W203",
                    f"{format_expr(node.left)} of {format_expr(node.right)} is more than all of it",
                    node.left.span,
                    help="percentages of a budget are usually at most 100%",
                )
