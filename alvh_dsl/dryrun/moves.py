"""The SPX moves every position is valued at, and what the book's values under them say.

:class:`MoveSet` lays out, once per run, the moves of the scenario P&L, the one-sided
effective-gamma stencils and the gamma-profile grid in one array, so that a position's
valuation is one vectorised call over all of them and the book's values on a day are one
sum (:class:`alvh_dsl.dryrun.book_state.Marks`). :func:`grid_risk` turns the book's values
into effective gamma and scenario P&L (the method: :mod:`alvh_dsl.dryrun.valuation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

__all__ = ["FloatArray", "GridRisk", "MoveSet", "grid_risk", "grid_risk_rows", "scenario_column"]

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class MoveSet:
    """Every SPX move a position is valued at, and where each figure finds its moves.

    ``moves[zero] == 0``; ``down`` / ``up`` index ``0, ∓h, ∓2h, ∓3h`` (the one-sided
    gamma stencils); ``scenario`` the scenario moves in config order; ``profile`` one
    row ``(m − h, m, m + h)`` per non-zero grid move ``m``.
    """

    moves: FloatArray
    step: float
    zero: int
    down: npt.NDArray[np.intp]
    up: npt.NDArray[np.intp]
    scenario: npt.NDArray[np.intp]
    scenario_moves: tuple[float, ...]
    profile: npt.NDArray[np.intp]

    @classmethod
    def build(cls, scenario_moves: tuple[float, ...], step: float, grid: FloatArray) -> MoveSet:
        index: dict[float, int] = {}

        def at(m: float) -> int:
            key = round(m, 12)  # so that 3 × 0.001 and 0.003 are one move
            if key not in index:
                index[key] = len(index)
            return index[key]

        zero = at(0.0)
        down = [at(-k * step) for k in range(4)]
        up = [at(k * step) for k in range(4)]
        scenario = [at(m) for m in scenario_moves]
        profile = [[at(m - step), at(m), at(m + step)] for m in grid if abs(m) > step / 2]
        moves = np.array(sorted(index, key=index.__getitem__), dtype=np.float64)
        return cls(
            moves=moves,
            step=step,
            zero=zero,
            down=np.array(down, dtype=np.intp),
            up=np.array(up, dtype=np.intp),
            scenario=np.array(scenario, dtype=np.intp),
            scenario_moves=tuple(scenario_moves),
            profile=np.array(profile, dtype=np.intp).reshape(-1, 3),
        )


@dataclass(frozen=True)
class GridRisk:
    """What the book's values under the moves say, in $ and $ per SPX point²."""

    gamma_down: float  # Γ↓, one-sided, at the current level
    gamma_up: float  # Γ↑
    profile_min: float  # the most negative Γ sampled on the profile grid (Γ↓, Γ↑ included)
    scenario: tuple[float, ...]  # $ P&L under each scenario move

    @property
    def short(self) -> float:
        """The short effective gamma: the size of the more negative side (0 if neither)."""
        return max(0.0, -min(self.gamma_down, self.gamma_up))

    @property
    def long(self) -> float:
        """The long effective gamma: the larger positive side (0 if neither)."""
        return max(0.0, self.gamma_down, self.gamma_up)


def grid_risk(values: FloatArray, moves: MoveSet, spx: float) -> GridRisk:
    """Effective gamma and scenario P&L from the book's $ values at ``moves`` on one day."""
    hs2 = (moves.step * spx) ** 2
    d, u = values[moves.down], values[moves.up]
    # Second-order one-sided stencils (coefficients 2, −5, 4, −1): exact for a cubic.
    gamma_down = float((2.0 * d[0] - 5.0 * d[1] + 4.0 * d[2] - d[3]) / hs2)
    gamma_up = float((2.0 * u[0] - 5.0 * u[1] + 4.0 * u[2] - u[3]) / hs2)
    lowest = min(gamma_down, gamma_up)
    if len(moves.profile):
        p = values[moves.profile]
        lowest = min(lowest, float(((p[:, 0] - 2.0 * p[:, 1] + p[:, 2]) / hs2).min()))
    base = values[moves.zero]
    scenario = tuple(float(v - base) for v in values[moves.scenario])
    return GridRisk(gamma_down, gamma_up, lowest, scenario)


def grid_risk_rows(
    values: FloatArray, moves: MoveSet, hs2: FloatArray
) -> tuple[list[float], list[float], list[float], list[tuple[float, ...]]]:
    """:func:`grid_risk` of many days at once: ``values`` is ``[days, moves]``, ``hs2`` each
    day's ``(step · SPX)²``. Returns Γ↓, Γ↑, the profile minimum and the scenario P&L per
    day, equal to the bit to :func:`grid_risk` day by day (the same operations on the same
    numbers; ``min`` keeps Python's rule, the first argument unless the second is lower).
    """
    d, u = values[:, moves.down], values[:, moves.up]
    gamma_down = (2.0 * d[:, 0] - 5.0 * d[:, 1] + 4.0 * d[:, 2] - d[:, 3]) / hs2
    gamma_up = (2.0 * u[:, 0] - 5.0 * u[:, 1] + 4.0 * u[:, 2] - u[:, 3]) / hs2
    lowest = np.where(gamma_up < gamma_down, gamma_up, gamma_down)
    if len(moves.profile):
        p = values[:, moves.profile]  # [days, points, 3]
        profile = ((p[:, :, 0] - 2.0 * p[:, :, 1] + p[:, :, 2]) / hs2[:, None]).min(axis=1)
        lowest = np.where(profile < lowest, profile, lowest)
    scenario = values[:, moves.scenario] - values[:, moves.zero][:, None]
    return (
        gamma_down.tolist(),
        gamma_up.tolist(),
        lowest.tolist(),
        [tuple(row) for row in scenario.tolist()],
    )


def scenario_column(move: float) -> str:
    """The daily column of the scenario P&L under ``move``: ``scen_dn10`` for −10 %."""
    return f"scen_{'dn' if move < 0 else 'up'}{abs(move) * 100:g}"
