"""Every model choice of a dry-run, as one pydantic model read from TOML.

:class:`DryRunConfig` has ``starting_equity`` and four sections: :class:`CostsSection`
(the simulator fills with it), :class:`PricingSection` and :class:`TermStructureSection`
(turned into the market layer's :class:`~alvh_dsl.market.pricing.PricingConfig` and
:class:`~alvh_dsl.market.termstructure.TermStructureConfig`, whose defaults they share),
and :class:`RiskSection` (the effective-gamma grid the valuations use). Each is frozen and
refuses unknown keys, so a typo in a config file is an error, not a silent default.
"""

from __future__ import annotations

import datetime as dt
import os
import sys
from typing import Any

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError
from ..lang.diagnostics import data_span, error
from ..market.pricing import PricingConfig
from ..market.termstructure import TermStructureConfig

__all__ = [
    "DEFAULT_SCENARIO_MOVES",
    "ConfigError",
    "CostsSection",
    "DryRunConfig",
    "PricingSection",
    "RiskSection",
    "StressWindow",
    "TermStructureSection",
    "load_config",
    "model_notes",
    "response_notes",
]

_PRICING = PricingConfig()
_CURVE = TermStructureConfig()
# The SPX moves of the scenario P&L, the headline of a dry-run (docs/dryrun.md).
DEFAULT_SCENARIO_MOVES = (-0.10, -0.07, -0.05, -0.03, 0.03, 0.05)


class _Section(BaseModel):
    # allow_inf_nan=False: TOML spells `nan` and `inf`, and no field means either (a NaN
    # threshold compares false everywhere; an infinite equity makes every ratio 0 or NaN).
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class CostsSection(_Section):
    """Slippage in points per contract and leg; commissions in $ per contract and leg."""

    spx_option_slippage: float = Field(0.05, ge=0)
    vix_option_slippage: float = Field(0.02, ge=0)
    vix_future_slippage: float = Field(0.02, ge=0)
    spx_option_commission: float = Field(0.65, ge=0)
    vix_option_commission: float = Field(0.65, ge=0)
    vix_future_commission: float = Field(1.50, ge=0)


class PricingSection(_Section):
    """Constants for inputs the history lacks, and the SPX skew (see docs/pricing.md)."""

    rate: float = _PRICING.rate
    dividend_yield: float = _PRICING.dividend_yield
    skew: float = _PRICING.skew
    # Fixes the VIX option vol on days without VVIX; None: each month's realised vol.
    vix_option_vol: float | None = Field(None, gt=0, le=10)
    strike_grid: float = Field(_PRICING.strike_grid, gt=0)

    def market_config(self) -> PricingConfig:
        return PricingConfig(
            rate=self.rate,
            dividend_yield=self.dividend_yield,
            skew=self.skew,
            vix_option_vol=self.vix_option_vol or _PRICING.vix_option_vol,
            strike_grid=self.strike_grid,
        )


class TermStructureSection(_Section):
    """The modelled VIX futures curve, where the history has no settlements."""

    long_run: float = Field(_CURVE.long_run, gt=0)
    kappa: float = Field(_CURVE.kappa, ge=0)

    def market_config(self) -> TermStructureConfig:
        return TermStructureConfig(long_run=self.long_run, kappa=self.kappa)


class RiskSection(_Section):
    """How the dry-run measures risk (see docs/dryrun.md and
    :mod:`alvh_dsl.dryrun.valuation`): the SPX scenario moves of the headline, the
    spot–vol response every repricing uses, the effective-gamma stencil and profile grid,
    near-expiry days, and the bootstrap of the paired statistics.

    ``beta_down``, ``beta_up``, ``futures_dampening`` left out (None) are fitted from the
    history (:mod:`alvh_dsl.market.calibration`); a value here fixes them.
    """

    scenario_moves: list[float] = Field(default_factory=lambda: list(DEFAULT_SCENARIO_MOVES))
    headline_move: float = -0.05
    gamma_step: float = Field(0.001, gt=0, le=0.01)
    grid_low: float = -0.05
    grid_high: float = 0.05
    grid_step: float = Field(0.01, gt=0)
    beta_down: float | None = Field(None, ge=0, le=50)
    beta_up: float | None = Field(None, ge=0, le=50)
    futures_dampening: list[float] | None = None  # one weight per month 1..9; None: fitted
    near_expiry_dte: int = Field(7, ge=0)
    bootstrap_resamples: int = Field(2000, ge=100, le=100_000)
    bootstrap_seed: int = Field(0, ge=0)

    @model_validator(mode="after")
    def _consistent(self) -> RiskSection:
        # A grid that misses 0, or has no move on one side, would make the profile
        # meaningless: refuse it when the config loads.
        if not self.grid_low < 0 < self.grid_high:
            raise ValueError("the grid must span 0: grid_low < 0 < grid_high")
        if self.grid_step > min(-self.grid_low, self.grid_high) + 1e-12:
            raise ValueError(
                f"grid_step {self.grid_step:g} leaves no move on one side of 0 "
                f"(grid {self.grid_low:g} .. {self.grid_high:g})"
            )
        if (self.grid_high - self.grid_low) / self.grid_step > 400:
            raise ValueError("the grid has more than 400 points: widen grid_step")
        if self.grid_step < self.gamma_step - 1e-12:
            raise ValueError(f"grid_step must be at least gamma_step ({self.gamma_step:g})")
        if self.futures_dampening is not None and (
            not self.futures_dampening or any(not 0 <= w <= 2 for w in self.futures_dampening)
        ):
            raise ValueError("futures_dampening: one weight per month, each between 0 and 2")
        moves = self.scenario_moves
        if not moves or len(moves) > 20 or any(not -0.5 <= m <= 0.5 or m == 0 for m in moves):
            raise ValueError("scenario_moves: 1 to 20 SPX moves, each non-zero, within ±50 %")
        if len(set(moves)) != len(moves):
            raise ValueError("scenario_moves: each move once")
        if not any(abs(m - self.headline_move) < 1e-12 for m in moves):
            raise ValueError(f"headline_move {self.headline_move:g} is not in scenario_moves")
        return self

    @property
    def moves(self) -> npt.NDArray[np.float64]:
        """The SPX moves of the gamma-profile grid, always including 0."""
        n_down = round(-self.grid_low / self.grid_step)
        n_up = round(self.grid_high / self.grid_step)
        return np.arange(-n_down, n_up + 1, dtype=np.float64) * self.grid_step

    @property
    def centre(self) -> int:
        """The index of the move 0 in :attr:`moves`."""
        return round(-self.grid_low / self.grid_step)


class StressWindow(_Section):
    """A named stretch of days whose P&L and drawdown the report shows, book vs baseline."""

    name: str = Field(min_length=1, max_length=80)
    start: dt.date
    end: dt.date

    @model_validator(mode="after")
    def _ordered(self) -> StressWindow:
        if self.end < self.start:
            raise ValueError(f"stress window {self.name!r} ends before it starts")
        return self


class DryRunConfig(_Section):
    """Every model choice of a dry-run. Load one from TOML with :func:`load_config`."""

    starting_equity: float = Field(250_000.0, gt=0)
    costs: CostsSection = CostsSection()
    pricing: PricingSection = PricingSection()
    term_structure: TermStructureSection = TermStructureSection()
    risk: RiskSection = RiskSection()
    stress_windows: list[StressWindow] = Field(default_factory=list, max_length=100)


def load_config(path: str | os.PathLike[str]) -> DryRunConfig:
    """Read a TOML config: ``starting_equity`` and sections ``[costs]``, ``[pricing]``,
    ``[term_structure]``, ``[risk]`` (see :class:`DryRunConfig`)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]
    from pydantic import ValidationError

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise _config_error(path, [(None, f"cannot read: {exc.strerror or exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise _config_error(path, [(None, f"not valid TOML: {exc}")]) from None
    except UnicodeDecodeError as exc:
        raise _config_error(path, [(None, f"not UTF-8 text ({exc.reason})")]) from None
    try:
        return DryRunConfig.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = [
            (".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]
        raise _config_error(path, problems) from None


def _config_error(
    path: str | os.PathLike[str], problems: list[tuple[str | None, str]]
) -> ConfigError:
    """One E602 per (key path, message); no key path for the file as a whole."""
    file = os.fspath(path)
    diagnostics = [error("E602", msg, data_span(file, path=key)) for key, msg in problems]
    return ConfigError(diagnostics, subject=file)


def model_notes(config: DryRunConfig) -> list[str]:
    """The model choices of ``config`` in words, for the report's notes (the fitted
    responses are :func:`response_notes`)."""
    r, p, c = config.risk, config.pricing, config.costs
    moves = ", ".join(
        f"{m:+.0%}" if m * 100 == round(m * 100) else f"{m:+.1%}" for m in r.scenario_moves
    )
    return [
        "SPX options: Black–Scholes–Merton, implied vol VIX / 100"
        + (f" with skew {p.skew:g} per unit log-moneyness" if p.skew else " (no skew)"),
        "VIX options: Black-76 on the future of their expiry, vol = the month's fitted "
        "scale × VVIX / 100, else "
        + (f"{p.vix_option_vol:g}" if p.vix_option_vol is not None else "the month's realised vol"),
        f"fills at model mid ± slippage (SPX {c.spx_option_slippage:g}, VIX options "
        f"{c.vix_option_slippage:g}, VIX futures {c.vix_future_slippage:g} points per contract "
        f"and leg), never below zero; commissions ${c.spx_option_commission:g} / "
        f"${c.vix_option_commission:g} / ${c.vix_future_commission:g} per contract and leg",
        f"scenario P&L: full revaluation at SPX moves {moves}; ln(VIX′/VIX) = −β·m, "
        "ln(F′/F) = w·ln(VIX′/VIX) per futures month, VIX option vols unchanged",
        f"effective gamma: one-sided second-order stencils of {r.gamma_step:.2%} on each side "
        f"of the current level; profile sampled every {r.grid_step:.2%} from "
        f"{r.grid_low:+.0%} to {r.grid_high:+.0%} (daily.parquet only)",
        f"near expiry: front condor DTE ≤ {r.near_expiry_dte} before the day's actions; "
        f"paired bootstrap over expiry cycles, {r.bootstrap_resamples} resamples, "
        f"seed {r.bootstrap_seed}",
    ]


def response_notes(fits: dict[str, Any]) -> list[str]:
    """The market responses a run used, each with where it came from (fitted from the
    history with its sample size and standard error, a default constant, or the config)."""

    def one(name: str, f: dict[str, Any]) -> str:
        value = f"{f['value']:.3g}"
        if f["source"] == "fitted":
            se = f", SE {f['se']:.2g}" if f.get("se") is not None else ""
            return f"{name} {value} (fitted: n = {f['n']:,}{se})"
        if f["source"] == "config":
            return f"{name} {value} (config)"
        return f"{name} {value} (default constant: the history cannot support a fit)"

    out = [one("spot–vol beta_down", fits["beta_down"]), one("spot–vol beta_up", fits["beta_up"])]
    for key, label in (
        ("futures_response", "futures response w"),
        ("option_vol_scale", "VIX option vol / (VVIX/100)"),
        ("option_vol", "VIX option vol without VVIX"),
    ):
        out.append(
            f"{label} by month: "
            + "; ".join(one(f"M{k}", f) for k, f in enumerate(fits.get(key, ()), 1))
        )
    return out
