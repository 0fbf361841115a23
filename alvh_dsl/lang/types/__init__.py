"""Types and units of expressions, and constant folding (used by the checker).

Every expression is either true/false (``bool``) or a number with a unit:
days, points, dollars, percent, count, number (dimensionless with a meaning:
a delta, an RSI reading) or bare (a number written without a unit, which takes
the unit of what it meets: ``DTE < 2`` compares days with days).

Rules, in short (``docs/language.md`` has the full table):

- comparisons, ``between``, ``+``/``-``, ``min``/``max`` need matching units
  (bare matches anything; number and percent are both ratios and match);
- ``*`` needs at least one side without a dimension; ``/`` of like units is a
  plain number; ``P of X`` needs a ratio ``P`` and has the unit of ``X``;
- ``crosses`` and indicator series need values with a history (market data,
  indicators, constants), not book values like ``condor.pnl``;
- indicator windows are constant whole numbers (of observations).

Modules: :mod:`.ty` (the type, the unit algebra, the table of results),
:mod:`.infer` (statements, actions, operators and comparisons), :mod:`.calls`
(functions and indicators).
"""

from __future__ import annotations

from .calls import split_args
from .infer import infer_types
from .ty import BOOL, ERROR, SCALARS, Ty, TypeTable, compatible, merge

__all__ = [
    "BOOL",
    "ERROR",
    "SCALARS",
    "Ty",
    "TypeTable",
    "compatible",
    "infer_types",
    "merge",
    "split_args",
]
