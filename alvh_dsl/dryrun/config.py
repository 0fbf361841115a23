"""Every model choice of a dry-run, as one pydantic model read from TOML.

:class:`DryRunConfig` has ``starting_equity`` and four sections: :class:`CostsSection`
(the simulator fills with it), :class:`PricingSection` and :class:`TermStructureSection`
(turned into the market layer's :class:`~alvh_dsl.market.pricing.PricingConfig` and
:class:`~alvh_dsl.market.termstructure.TermStructureConfig`, whose defaults they share),
and :class:`RiskSection` (the effective-gamma grid the valuations use). Each is frozen and
refuses unknown keys, so a typo in a config file is an error, not a silent default.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError
from ..lang.diagnostics import data_span, error
from ..market.pricing import PricingConfig
from ..market.termstructure import TermStructureConfig

__all__ = [
    "ConfigError",
    "CostsSection",
    "DryRunConfig",
    "PricingSection",
    "RiskSection",
    "TermStructureSection",
    "load_config",
    "model_notes",
]

_PRICING = PricingConfig()
_CURVE = TermStructureConfig()


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


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
    vix_option_vol: float = Field(_PRICING.vix_option_vol, gt=0)
    strike_grid: float = Field(_PRICING.strike_grid, gt=0)

    def market_config(self) -> PricingConfig:
        return PricingConfig(
            rate=self.rate,
            dividend_yield=self.dividend_yield,
            skew=self.skew,
            vix_option_vol=self.vix_option_vol,
            strike_grid=self.strike_grid,
        )


class TermStructureSection(_Section):
    """The modelled VIX futures curve, where the history has no settlements."""

    long_run: float = Field(_CURVE.long_run, gt=0)
    kappa: float = Field(_CURVE.kappa, ge=0)

    def market_config(self) -> TermStructureConfig:
        return TermStructureConfig(long_run=self.long_run, kappa=self.kappa)


class RiskSection(_Section):
    """The effective-gamma grid and the spot–vol response (see docs/dryrun.md and
    :mod:`alvh_dsl.dryrun.valuation`); ``near_expiry_dte`` bounds the summary's
    near-expiry figures."""

    grid_low: float = -0.05
    grid_high: float = 0.05
    grid_step: float = Field(0.01, gt=0)
    beta_down: float = Field(6.0, ge=0)
    beta_up: float = Field(3.0, ge=0)
    futures_dampening: list[float] | None = None  # one weight per month 1..9; None: exp(−κτ)
    near_expiry_dte: int = Field(7, ge=0)

    @model_validator(mode="after")
    def _grid_spans_zero(self) -> RiskSection:
        # A grid that misses 0, or has no move on one side, would make every second
        # difference meaningless (or silently zero): refuse it when the config loads.
        if not self.grid_low < 0 < self.grid_high:
            raise ValueError("the grid must span 0: grid_low < 0 < grid_high")
        if self.grid_step > min(-self.grid_low, self.grid_high) + 1e-12:
            raise ValueError(
                f"grid_step {self.grid_step:g} leaves no move on one side of 0 "
                f"(grid {self.grid_low:g} .. {self.grid_high:g})"
            )
        if self.futures_dampening is not None and (
            not self.futures_dampening or any(not 0 <= w <= 2 for w in self.futures_dampening)
        ):
            raise ValueError("futures_dampening: one weight per month, each between 0 and 2")
        return self

    @property
    def moves(self) -> npt.NDArray[np.float64]:
        """The SPX moves of the grid, always including 0."""
        n_down = round(-self.grid_low / self.grid_step)
        n_up = round(self.grid_high / self.grid_step)
        return np.arange(-n_down, n_up + 1, dtype=np.float64) * self.grid_step

    @property
    def centre(self) -> int:
        """The index of the move 0 in :attr:`moves`."""
        return round(-self.grid_low / self.grid_step)

    def vix_factor(self) -> npt.NDArray[np.float64]:
        """VIX′ / VIX for each grid move."""
        m = self.moves
        beta = np.where(m < 0, self.beta_down, self.beta_up)
        return np.asarray(np.exp(-beta * m), dtype=np.float64)


class DryRunConfig(_Section):
    """Every model choice of a dry-run. Load one from TOML with :func:`load_config`."""

    starting_equity: float = Field(250_000.0, gt=0)
    costs: CostsSection = CostsSection()
    pricing: PricingSection = PricingSection()
    term_structure: TermStructureSection = TermStructureSection()
    risk: RiskSection = RiskSection()


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
    """The model choices of ``config`` in words, for the report's notes."""
    r, p, c = config.risk, config.pricing, config.costs
    return [
        "SPX options: Black–Scholes–Merton, implied vol VIX / 100"
        + (f" with skew {p.skew:g} per unit log-moneyness" if p.skew else " (no skew)"),
        "VIX options: Black-76 on the future of their expiry, vol VVIX / 100 "
        f"(else {p.vix_option_vol:g})",
        f"fills at model mid ± slippage (SPX {c.spx_option_slippage:g}, VIX options "
        f"{c.vix_option_slippage:g}, VIX futures {c.vix_future_slippage:g} points per contract "
        f"and leg); commissions ${c.spx_option_commission:g} / ${c.vix_option_commission:g} / "
        f"${c.vix_future_commission:g} per contract and leg",
        f"effective gamma: SPX moves {r.grid_low:+.0%} … {r.grid_high:+.0%} in "
        f"{r.grid_step:.0%} steps; ln(VIX′/VIX) = −β·m with β = {r.beta_down:g} down, "
        f"{r.beta_up:g} up; futures move exp(−κτ) times as much in log terms"
        + (f" (dampening {r.futures_dampening})" if r.futures_dampening else ""),
        f"near expiry: front condor DTE ≤ {r.near_expiry_dte}",
    ]
