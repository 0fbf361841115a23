"""Seeded synthetic daily history: SPX, VIX, VVIX, VIX futures, rates and breadth.

The built-in default for demos and tests when the user has no data (``alvh data synth
--years 20 --seed 7 -o synth.parquet``; :func:`default_history`).
It is *plausible*, not calibrated to any period: the point is to exercise rules on calm
stretches, slow grinds, sudden VIX spikes, contango and backwardation.

Model, per NYSE trading day (``dt = 1/252``):

- ``x = ln VIX`` follows a mean-reverting (Ornstein-Uhlenbeck) process with upward jumps::

      x[t] = x[t-1] + κ (ln θ − x[t-1]) dt + ξ √dt ε_v[t] + J[t]

  ``J`` arrives at ``jump_rate`` per year with exponential size (mean ``jump_mean``), so
  VIX spikes and then decays back; half-life ``ln 2 / κ``.
- SPX is a stochastic-volatility diffusion whose vol is the previous day's VIX scaled by
  ``realized_ratio`` (realised vol runs below implied), with shocks correlated ``rho``
  with the VIX shocks (the spot-vol correlation), and a drop of ``jump_beta · J`` on VIX
  jump days. The open gaps from the previous close; high / low bracket open and close.
- VVIX rises with the VIX level and with recent jumps, with its own AR(1) noise.
- VIX futures ``vx1``…``vx9`` come from the term-structure model
  (:func:`~alvh_dsl.market.termstructure.model_futures`) at each contract's real DTE on
  the VIX calendar, times a small persistent noise that vanishes at expiry; hence contango
  on most days and backwardation when VIX is above the model's long-run level.
- ``rate`` and ``dividend_yield`` drift slowly; ``advances`` / ``declines`` follow the
  day's SPX return.

The output is deterministic for a seed (NumPy ``default_rng``) and marked synthetic in
its provenance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy.signal import lfilter
from scipy.special import ndtr

from .calendars import nth_expiries, to_days, trading_days
from .history import History, Provenance, Source
from .termstructure import TermStructureConfig, model_futures

__all__ = [
    "DEFAULT_SEED",
    "DEFAULT_START",
    "DEFAULT_YEARS",
    "SynthConfig",
    "default_history",
    "synthesize",
]

DEFAULT_SEED = 7
DEFAULT_YEARS = 20
DEFAULT_START = "2005-01-03"

FloatArray = npt.NDArray[np.float64]
_DT = 1.0 / 252.0


@dataclass(frozen=True)
class SynthConfig:
    """Parameters of the synthetic generator (annualised where it applies)."""

    spx_start: float = 1200.0
    vix_start: float = 14.0
    drift: float = 0.07
    vix_floor: float = 7.0
    vix_level: float = 16.5
    vix_kappa: float = 4.5
    vix_vol: float = 1.3
    jump_rate: float = 2.0
    jump_mean: float = 0.25
    rho: float = -0.72
    realized_ratio: float = 0.82
    jump_beta: float = 0.10
    vvix_level: float = 88.0
    vvix_beta: float = 0.45
    futures_noise: float = 0.025
    rate_start: float = 0.02
    dividend_yield: float = 0.019
    issues: int = 3000


def _ar1(shocks: FloatArray, phi: float, start: float = 0.0) -> FloatArray:
    # y[t] = phi * y[t-1] + shocks[t], vectorised through a linear filter.
    initial = np.array([phi * start])
    out, _ = lfilter([1.0], [1.0, -phi], shocks, zi=initial)
    return np.asarray(out, dtype=np.float64)


def _vix(
    n: int, cfg: SynthConfig, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray]:
    eps_v = rng.standard_normal(n)
    jumps = (rng.random(n) < cfg.jump_rate * _DT) * rng.exponential(cfg.jump_mean, n)
    phi = 1.0 - cfg.vix_kappa * _DT
    mean = np.log(cfg.vix_level - cfg.vix_floor)
    shocks = cfg.vix_vol * np.sqrt(_DT) * eps_v + jumps
    x = mean + _ar1(shocks, phi, np.log(cfg.vix_start - cfg.vix_floor) - mean)
    return cfg.vix_floor + np.exp(x), eps_v, jumps


def _spx(
    vix: FloatArray,
    eps_v: FloatArray,
    jumps: FloatArray,
    cfg: SynthConfig,
    rng: np.random.Generator,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    n = len(vix)
    eps_s = cfg.rho * eps_v + np.sqrt(1.0 - cfg.rho**2) * rng.standard_normal(n)
    prev_vix = np.concatenate([[cfg.vix_start], vix[:-1]])
    sigma = cfg.realized_ratio * prev_vix / 100.0
    daily = sigma * np.sqrt(_DT)
    # The drift compensates the expected jump losses so that `drift` is the mean return.
    jump_drag = cfg.jump_rate * cfg.jump_beta * cfg.jump_mean
    ret = (cfg.drift + jump_drag - 0.5 * sigma**2) * _DT + daily * eps_s - cfg.jump_beta * jumps
    close = cfg.spx_start * np.exp(np.cumsum(ret))
    prev_close = np.concatenate([[cfg.spx_start], close[:-1]])
    opening = prev_close * np.exp(0.25 * daily * rng.standard_normal(n))
    top = np.maximum(opening, close) * np.exp(0.4 * daily * np.abs(rng.standard_normal(n)))
    bottom = np.minimum(opening, close) * np.exp(-0.4 * daily * np.abs(rng.standard_normal(n)))
    return opening, top, bottom, close, ret / daily


def synthesize(
    years: float = DEFAULT_YEARS,
    seed: int = DEFAULT_SEED,
    start: Any = DEFAULT_START,
    config: SynthConfig | None = None,
) -> History:
    """Generate ``years`` of NYSE trading days of synthetic history from ``start``.

    Deterministic for ``(years, seed, start, config)``. Columns: ``spx_open/high/low``,
    ``spx``, ``vix``, ``vvix``, ``vx1``…``vx9``, ``vx1_expiry``, ``vx2_expiry``, ``rate``,
    ``dividend_yield``, ``advances``, ``declines``; prices rounded to 2 decimals.
    """
    cfg = config or SynthConfig()
    if years <= 0:
        raise ValueError("years must be positive")
    first = to_days(start)
    last = first + np.timedelta64(round(years * 365.25) - 1, "D")
    days = trading_days(first, last)
    n = len(days)
    if n < 2:
        raise ValueError("the span holds fewer than two trading days")
    rng = np.random.default_rng(seed)
    raw_vix, eps_v, jumps = _vix(n, cfg, rng)
    vix = np.round(raw_vix, 2)
    opening, top, bottom, close, z = _spx(vix, eps_v, jumps, cfg, rng)
    spx = np.round(close, 2)
    spx_open = np.round(opening, 2)
    spx_high = np.maximum(np.round(top, 2), np.maximum(spx, spx_open))
    spx_low = np.minimum(np.round(bottom, 2), np.minimum(spx, spx_open))

    jump_memory = _ar1(jumps, 0.9)
    vvix_noise = _ar1(0.035 * rng.standard_normal(n), 0.93)
    level = cfg.vvix_beta * np.log(raw_vix / cfg.vix_level)
    vvix_raw = cfg.vvix_level * np.exp(level + 0.4 * jump_memory + vvix_noise)
    vvix = np.round(np.clip(vvix_raw, 50.0, 220.0), 2)

    columns: dict[str, Any] = {
        "spx_open": spx_open,
        "spx_high": spx_high,
        "spx_low": spx_low,
        "spx": spx,
        "vix": vix,
        "vvix": vvix,
    }
    ts_cfg = TermStructureConfig()
    months = ts_cfg.months
    expiries = np.stack([nth_expiries(days, k, "vix") for k in range(1, months + 1)], axis=1)
    dte = (expiries - days[:, None]).astype(np.float64)
    common = _ar1(cfg.futures_noise * 0.3 * rng.standard_normal(n), 0.95)
    own = _ar1(cfg.futures_noise * 0.2 * rng.standard_normal((months, n)).ravel(), 0.9)
    noise = common[:, None] + own.reshape(months, n).T
    # Noise fades as a contract nears expiry, where the future must converge to VIX.
    fade = np.sqrt(np.minimum(dte / 30.0, 1.0))
    futures = model_futures(vix[:, None], dte, ts_cfg) * np.exp(noise * fade)
    for k in range(months):
        columns[f"vx{k + 1}"] = np.round(futures[:, k], 2)
    columns["vx1_expiry"] = expiries[:, 0].astype("datetime64[ns]")
    columns["vx2_expiry"] = expiries[:, 1].astype("datetime64[ns]")

    rate = cfg.rate_start + _ar1(0.0008 * rng.standard_normal(n), 0.999)
    columns["rate"] = np.round(np.clip(rate, 0.0, 0.08), 5)
    dividend = cfg.dividend_yield * np.exp(_ar1(0.01 * rng.standard_normal(n), 0.995))
    columns["dividend_yield"] = np.round(dividend, 5)
    share_up = ndtr(0.9 * z + 0.35 * rng.standard_normal(n))
    traded = np.round(cfg.issues * (0.96 + 0.02 * rng.random(n)))
    advances = np.round(traded * share_up)
    columns["advances"] = advances
    columns["declines"] = traded - advances

    frame = pd.DataFrame(
        columns, index=pd.DatetimeIndex(days.astype("datetime64[ns]"), name="date")
    )
    provenance = _provenance(years, seed, first, cfg)
    # Validated like any loaded file, so a generator change cannot yield bad data quietly.
    return History.from_frame(frame, source=f"synthetic:seed={seed}", provenance=provenance)


def _provenance(
    years: float, seed: int, first: npt.NDArray[np.datetime64], cfg: SynthConfig
) -> Provenance:
    """Marked synthetic, with the call that regenerates it."""
    generator = (
        f"alvh_dsl.market.synth.synthesize(years={years!r}, seed={seed!r}, "
        f"start='{np.datetime_as_string(first)}')"
    )
    non_default = {k: v for k, v in asdict(cfg).items() if getattr(SynthConfig(), k) != v}
    if non_default:
        generator += f" with {non_default}"
    return Provenance(
        sources=(Source(f"synthetic:seed={seed}", "", "synthetic"),),
        notes=("synthetic history: generated, not market data",),
        synthetic=True,
        generator=generator,
    )


def default_history() -> History:
    """The built-in synthetic history: :func:`synthesize` with its defaults (seed 7, 20
    years of NYSE trading days), generated once per process.

    Each call returns a fresh copy of the frame, so a caller cannot alter the cached one.
    """
    cached = _default_synthetic()
    return History(cached.frame.copy(), cached.provenance)


@lru_cache(maxsize=1)
def _default_synthetic() -> History:
    return synthesize()
