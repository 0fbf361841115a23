"""Seeded synthetic daily history: SPX, VIX, VVIX, VIX futures, rates and breadth.

The built-in default for demos and tests when the user has no data (``alvh data synth
--years 20 --seed 7 -o synth.parquet``; :func:`default_history`).
It is *plausible*, not a replay of any period: the point is to exercise rules on calm
stretches, slow grinds, sudden VIX spikes, contango and backwardation, with the market
responses that :func:`alvh_dsl.market.calibration.calibrate` measures on real data
(``docs/calibration.md``): the spot–vol betas, each futures month's response to VIX and
its realised vol against VVIX.

Model, per NYSE trading day (``dt = 1/252``):

- VIX is a displaced two-factor log process with upward jumps,
  ``VIX = floor + exp(m + f + s)`` with ``m = ln(vix_level − floor)``::

      f[t] = f[t-1] − κ_f f[t-1] dt + ξ_f √dt ε_f[t] + J[t]     (spikes, half-life ~9 days)
      s[t] = s[t-1] − κ_s s[t-1] dt + ξ_s √dt ε_s[t]            (regimes, half-life ~4 months)

  ``ε_f`` and ``ε_s`` are correlated ``factor_correlation``; ``J`` arrives at
  ``jump_rate`` per year with exponential size (mean ``jump_mean``). One factor cannot
  match real data: VIX spikes decay within weeks, yet its level a year later still
  depends on today's (autocorrelation 0.23 at 252 days), and month 6 moves a fifth as
  much as VIX from day to day but follows its regimes.
- SPX is a stochastic-volatility diffusion whose vol is the previous day's VIX scaled by
  ``realized_ratio`` (realised vol runs below implied), with shocks correlated ``rho``
  with the VIX shocks (the spot-vol correlation), and a drop of ``jump_beta · J`` on VIX
  jump days. The open gaps from the previous close; high / low bracket open and close.
- VVIX rises with the VIX level and with recent jumps, with its own AR(1) noise.
- VIX futures ``vx1``…``vx9``, at each contract's real DTE ``τ`` on the VIX calendar, are
  each factor's expected value at expiry plus a term premium::

      F(τ) = floor + exp(m + π(τ) + f e^(−κ_f^Q τ) + s e^(−κ_s^Q τ) + noise)
      π(τ) = π_f (1 − e^(−κ_f^Q τ)) + π_s (1 − e^(−κ_s^Q τ))

  with the pricing measure's speeds ``futures_kappa`` / ``futures_slow_kappa`` (slower
  than the real ones: the market prices persistence, the volatility risk premium) and a
  small persistent noise that vanishes at expiry. So F = VIX at expiry; a spike (``f``)
  moves month 1 more than month 6, a change of regime (``s``) moves all months; the
  curve is in contango on most days (the premium) and in backwardation when VIX is far
  enough above its level.
- ``rate`` and ``dividend_yield`` drift slowly; ``advances`` / ``declines`` follow the
  day's SPX return.

The parameters were fitted (a Nelder-Mead search over seeds 7-10, then rounded) so that
``calibrate`` gives about what it gives on the shared 2004-2023 history, with VIX's
distribution, autocorrelation and term premium near the real ones: on seeds 7-14 every
response, option vol and VVIX scale is within 0.1 of the real fit and the betas within
0.7 (``docs/data.md`` has the figures). The output is deterministic for a seed
(NumPy ``default_rng``) and marked synthetic in its provenance.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from functools import lru_cache
from itertools import accumulate, islice
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import pandas as pd

from .calendars import nth_expiries, to_days, trading_days
from .history import History, Provenance, Source
from .special import ndtr
from .validation import FUTURES_MONTHS

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
    """Parameters of the synthetic generator (annualised where it applies).

    VIX: ``vix_floor``, ``vix_level`` (VIX with both factors at zero), the fast factor's
    ``vix_kappa`` / ``vix_vol`` and jumps (``jump_rate``, ``jump_mean``), the slow one's
    ``vix_slow_kappa`` / ``vix_slow_vol``, their ``factor_correlation``. Futures: the
    pricing-measure speeds ``futures_kappa`` / ``futures_slow_kappa``, the term premia
    ``premium_fast`` / ``premium_slow`` (in log points at long maturities) and
    ``futures_noise``. See the module docstring for the equations.
    """

    spx_start: float = 1200.0
    vix_start: float = 14.0
    drift: float = 0.07
    vix_floor: float = 6.5
    vix_level: float = 19.0
    vix_kappa: float = 20.0
    vix_vol: float = 1.0
    vix_slow_kappa: float = 2.2
    vix_slow_vol: float = 0.9
    factor_correlation: float = 0.35
    jump_rate: float = 2.0
    jump_mean: float = 0.33
    rho: float = -0.73
    realized_ratio: float = 0.82
    jump_beta: float = 0.075
    vvix_level: float = 88.0
    vvix_beta: float = 0.45
    futures_kappa: float = 18.0
    futures_slow_kappa: float = 1.25
    premium_fast: float = 0.15
    premium_slow: float = 0.26
    futures_noise: float = 0.025
    rate_start: float = 0.02
    dividend_yield: float = 0.019
    issues: int = 3000


def ar1(shocks: FloatArray, phi: float, start: float = 0.0) -> FloatArray:
    """The AR(1) path ``y[t] = phi * y[t-1] + shocks[t]`` from ``y[-1] = start``."""
    # y[t] = phi * y[t-1] + shocks[t]. The same multiply and add, in the same order, as
    # scipy.signal.lfilter([1], [1, -phi], shocks, zi=[phi * start]) — bit for bit (a test
    # keeps it so) — without importing scipy.signal, which cost `alvh dryrun` ~0.7 s of
    # start-up for this one filter.
    steps = accumulate(shocks.tolist(), lambda y, s: phi * y + s, initial=start)
    return np.fromiter(islice(steps, 1, None), dtype=np.float64, count=len(shocks))


class _Vix(NamedTuple):
    vix: FloatArray
    fast: FloatArray  # the fast factor of x = ln(VIX - floor), jumps included
    slow: FloatArray  # the slow factor
    shock: FloatArray  # the day's standardised diffusive shock to x
    jumps: FloatArray


def _vix(n: int, cfg: SynthConfig, rng: np.random.Generator) -> _Vix:
    eps_fast = rng.standard_normal(n)
    c = cfg.factor_correlation
    eps_slow = c * eps_fast + np.sqrt(1.0 - c * c) * rng.standard_normal(n)
    jumps = (rng.random(n) < cfg.jump_rate * _DT) * rng.exponential(cfg.jump_mean, n)
    mean = np.log(cfg.vix_level - cfg.vix_floor)
    start = np.log(cfg.vix_start - cfg.vix_floor) - mean
    fast_shock = cfg.vix_vol * np.sqrt(_DT) * eps_fast
    slow_shock = cfg.vix_slow_vol * np.sqrt(_DT) * eps_slow
    fast = ar1(fast_shock + jumps, 1.0 - cfg.vix_kappa * _DT, start)
    slow = ar1(slow_shock, 1.0 - cfg.vix_slow_kappa * _DT)
    variance = cfg.vix_vol**2 + cfg.vix_slow_vol**2 + 2 * c * cfg.vix_vol * cfg.vix_slow_vol
    total_vol = np.sqrt(variance * _DT)
    vix = cfg.vix_floor + np.exp(mean + fast + slow)
    return _Vix(vix, fast, slow, (fast_shock + slow_shock) / total_vol, jumps)


def _spx(
    vix: FloatArray, path: _Vix, cfg: SynthConfig, rng: np.random.Generator
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, FloatArray]:
    n = len(vix)
    eps_s = cfg.rho * path.shock + np.sqrt(1.0 - cfg.rho**2) * rng.standard_normal(n)
    prev_vix = np.concatenate([[cfg.vix_start], vix[:-1]])
    sigma = cfg.realized_ratio * prev_vix / 100.0
    daily = sigma * np.sqrt(_DT)
    # The drift compensates the expected jump losses so that `drift` is the mean return.
    jump_drag = cfg.jump_rate * cfg.jump_beta * cfg.jump_mean
    drift = cfg.drift + jump_drag - 0.5 * sigma**2
    ret = drift * _DT + daily * eps_s - cfg.jump_beta * path.jumps
    close = cfg.spx_start * np.exp(np.cumsum(ret))
    prev_close = np.concatenate([[cfg.spx_start], close[:-1]])
    opening = prev_close * np.exp(0.25 * daily * rng.standard_normal(n))
    top = np.maximum(opening, close) * np.exp(0.4 * daily * np.abs(rng.standard_normal(n)))
    bottom = np.minimum(opening, close) * np.exp(-0.4 * daily * np.abs(rng.standard_normal(n)))
    return opening, top, bottom, close, ret / daily


def _futures(
    days: npt.NDArray[np.datetime64], path: _Vix, cfg: SynthConfig, rng: np.random.Generator
) -> dict[str, Any]:
    """``vx1``…``vx9`` and the first two expiries: each factor's expected value at the
    contract's expiry, plus a term premium, plus a small noise that fades at expiry."""
    n, months = len(days), FUTURES_MONTHS
    expiries = np.stack([nth_expiries(days, k, "vix") for k in range(1, months + 1)], axis=1)
    dte = (expiries - days[:, None]).astype(np.float64)
    tau = dte / 365.0
    fast_weight = np.exp(-cfg.futures_kappa * tau)
    slow_weight = np.exp(-cfg.futures_slow_kappa * tau)
    # The premium is 0 at expiry (F = VIX) and grows with maturity: contango unless VIX
    # is far enough above its level for the factors' expected decline to outweigh it.
    premium = cfg.premium_fast * (1.0 - fast_weight) + cfg.premium_slow * (1.0 - slow_weight)
    mean = np.log(cfg.vix_level - cfg.vix_floor)
    x = mean + premium + path.fast[:, None] * fast_weight + path.slow[:, None] * slow_weight
    common = ar1(cfg.futures_noise * 0.3 * rng.standard_normal(n), 0.95)
    own = ar1(cfg.futures_noise * 0.2 * rng.standard_normal((months, n)).ravel(), 0.9)
    noise = common[:, None] + own.reshape(months, n).T
    # Noise fades as a contract nears expiry, where the future must converge to VIX.
    fade = np.sqrt(np.minimum(dte / 30.0, 1.0))
    futures = cfg.vix_floor + np.exp(x + noise * fade)
    columns: dict[str, Any] = {f"vx{k + 1}": np.round(futures[:, k], 2) for k in range(months)}
    columns["vx1_expiry"] = expiries[:, 0].astype("datetime64[ns]")
    columns["vx2_expiry"] = expiries[:, 1].astype("datetime64[ns]")
    return columns


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
    path = _vix(n, cfg, rng)
    vix = np.round(path.vix, 2)
    opening, top, bottom, close, z = _spx(vix, path, cfg, rng)
    spx = np.round(close, 2)
    spx_open = np.round(opening, 2)
    spx_high = np.maximum(np.round(top, 2), np.maximum(spx, spx_open))
    spx_low = np.minimum(np.round(bottom, 2), np.minimum(spx, spx_open))

    jump_memory = ar1(path.jumps, 0.9)
    vvix_noise = ar1(0.035 * rng.standard_normal(n), 0.93)
    level = cfg.vvix_beta * np.log(path.vix / cfg.vix_level)
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
    columns.update(_futures(days, path, cfg, rng))

    rate = cfg.rate_start + ar1(0.0008 * rng.standard_normal(n), 0.999)
    columns["rate"] = np.round(np.clip(rate, 0.0, 0.08), 5)
    dividend = cfg.dividend_yield * np.exp(ar1(0.01 * rng.standard_normal(n), 0.995))
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
