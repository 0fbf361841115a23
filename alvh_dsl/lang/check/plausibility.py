"""W104 and W206: books that check clean but that no desk could mean.

- :func:`check_empty`        W104: a book (the file checked, with its includes) with no rule:
  a truncated file, or a library checked on its own by mistake, must not pass CI silently.
- :func:`check_plausibility` W206: sizes that exceed the account. A book does not know the
  account it will run on, so sizes are compared with :data:`DEFAULT_ACCOUNT`, the dry-run's
  default ``starting_equity`` (a budget written as a share of ``equity`` above 100 % is
  already W203). Only constant sizes are judged (a size computed from the state is the
  run's business: the dry-run notes trades that exceed the equity of their day).

The constants are flagged in ``docs/diagnostics.md``: a condor's risk is bounded by its wing
width (the credit only lowers it); a call spread costs at most its width; a futures position
is judged by what a 10-point VIX move (:data:`VIX_SHOCK_POINTS`, a move VIX futures made in
days in 2008 and 2020) does to it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import cast

from .. import ast as A
from ..diagnostics import Diagnostic, has_errors, warning
from ..printer import format_expr
from .analysis import Analysis

DEFAULT_ACCOUNT = 250_000.0  # dollars; equals DryRunConfig().starting_equity (a test keeps it so)
SPX_MULTIPLIER = 100.0  # dollars per SPX point, per contract
VIX_OPTION_MULTIPLIER = 100.0  # dollars per VIX point, per option
VIX_FUTURE_MULTIPLIER = 1_000.0  # dollars per VIX point, per future
VIX_SHOCK_POINTS = 10.0


def check_empty(an: Analysis) -> Iterable[Diagnostic]:
    """W104: the book has no rule at all (it would do nothing, every day)."""
    program = an.program
    if program.rules or not program.files or has_errors(program.diagnostics):
        return  # a book that failed to load or parse already has its error
    root = program.root
    text = program.sources.get(root, "")
    yield warning(
        "W104",
        "this book has no rules: it would never act",
        A.Span(file=root, line=1, column=1, end_line=1, end_column=1 + len(text.split("\n")[0])),
        help="is the file truncated? A library of params and defines is checked as part of "
        "the books that `include` it",
    )


def check_plausibility(an: Analysis) -> Iterable[Diagnostic]:
    """W206: constant sizes and budgets that exceed the account."""
    for rule in an.program.rules:
        for action in rule.actions:
            # by the exact class: most actions are none of these, and a failed isinstance
            # on a pydantic model costs ~10x a hit
            kind = type(action)
            if kind is A.OpenCondor:
                yield from _condor(an, cast(A.OpenCondor, action))
            elif kind is A.BuyCallSpread:
                yield from _spread(an, cast(A.BuyCallSpread, action))
            elif kind is A.TradeFuture:
                yield from _futures(an, cast(A.TradeFuture, action))


def _money(value: float) -> str:
    return f"${value:,.0f}"


def _too_big(span: A.Span, what: str, amount: float, help: str) -> Diagnostic:
    return warning(
        "W206",
        f"{what} ({_money(amount)}) exceeds the account: the dry-run's default starting "
        f"equity is {_money(DEFAULT_ACCOUNT)}",
        span,
        help=help,
    )


def _condor(an: Analysis, action: A.OpenCondor) -> Iterator[Diagnostic]:
    if action.quantity is None or action.wings is None:
        return
    quantity, wings = an.const(action.quantity), an.const(action.wings)
    if quantity is None or wings is None:
        return
    risk = quantity * wings * SPX_MULTIPLIER
    if risk > DEFAULT_ACCOUNT:
        yield _too_big(
            action.quantity.span,
            f"quantity {format_expr(action.quantity)} of condors with {format_expr(action.wings)}"
            " wings puts at risk up to quantity × wings × $100",
            risk,
            "a condor's worst loss is its wing width less the credit; size it to the account",
        )


def _spread(an: Analysis, action: A.BuyCallSpread) -> Iterator[Diagnostic]:
    if action.costing is not None:
        yield from _budget(an, action.costing)
    if action.count is None:
        return
    count, lo, hi = an.const(action.count), an.const(action.lower), an.const(action.upper)
    if count is None or lo is None or hi is None or hi <= lo:
        return
    cost = count * (hi - lo) * VIX_OPTION_MULTIPLIER
    if cost > DEFAULT_ACCOUNT:
        yield _too_big(
            action.count.span,
            f"{format_expr(action.count)} call spreads {_number(lo)}/{_number(hi)} can cost up "
            "to count × width × $100",
            cost,
            "size the hedge with `costing P% of equity` instead of a fixed count",
        )


def _budget(an: Analysis, costing: A.ExprNode) -> Iterator[Diagnostic]:
    # `costing P% of equity` above 100 % is W203's (a percentage above 100 % taken `of`)
    amount = an.const(costing)
    if amount is not None and amount > DEFAULT_ACCOUNT:
        yield _too_big(costing.span, "a budget", amount, "e.g. `costing 0.5% of equity`")


def _futures(an: Analysis, action: A.TradeFuture) -> Iterator[Diagnostic]:
    if action.count is None:
        return
    count = an.const(action.count)
    if count is None:
        return
    swing = count * VIX_SHOCK_POINTS * VIX_FUTURE_MULTIPLIER
    if swing > DEFAULT_ACCOUNT:
        yield _too_big(
            action.count.span,
            f"a {VIX_SHOCK_POINTS:.0f}-point VIX move on {format_expr(action.count)} futures "
            "moves count × 10 × $1,000",
            swing,
            "VIX futures move 10 points in days in a crisis; size the position to the account",
        )


def _number(value: float) -> str:
    return f"{value:g}"
