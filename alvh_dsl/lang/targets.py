"""Supersession targets: what an action closes, rolls or shifts away.

One evaluation skips an action whose target an earlier (higher-priority or
earlier-in-file) rule already consumed in the same step, and the checker warns
(W202) when two rules of the same priority act on one target. Both read the
targets from :func:`consumed_targets`, the single definition.

A target is ``"condor"`` or a hedge month ``"hedge.M1"`` … ``"hedge.M9"``.
"""

from __future__ import annotations

from collections.abc import Callable

from .ast import Action, Close, Expr, RollCondor, ShiftHedge

HEDGE_MONTHS: tuple[str, ...] = tuple(f"hedge.M{m}" for m in range(1, 10))
"""Every hedge-month target, nearest first."""


def _no_constants(expr: Expr) -> float | None:
    return None


def consumed_targets(
    action: Action, const: Callable[[Expr], float | None] = _no_constants
) -> tuple[str, ...]:
    """The targets ``action`` consumes, ``"condor"`` first, then months in order.

    ``const`` gives the value of a constant expression (the checker's
    :meth:`~alvh_dsl.lang.check.Analysis.const`); a month it cannot resolve
    stands for every month. Actions that only open or add (``open iron
    condor``, futures, call spreads, alerts) consume nothing.
    """
    if isinstance(action, RollCondor):
        return ("condor",)
    if isinstance(action, Close):
        if action.target == "condor":
            return ("condor",)
        if action.target == "all":
            return ("condor", *HEDGE_MONTHS)
        return _month_targets(action.month, const) if action.month is not None else HEDGE_MONTHS
    if isinstance(action, ShiftHedge):
        if action.from_month is None:
            return ("hedge.M1",)  # `shift P% hedge to month B` shifts from month 1
        return _month_targets(action.from_month, const)
    return ()


def _month_targets(expr: Expr, const: Callable[[Expr], float | None]) -> tuple[str, ...]:
    v = const(expr)
    return (f"hedge.M{int(v)}",) if v is not None else HEDGE_MONTHS


__all__ = ["HEDGE_MONTHS", "consumed_targets"]
