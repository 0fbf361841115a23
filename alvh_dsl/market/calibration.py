"""The dry-run's market responses, fitted from the history where it can support a fit.

The dry-run's effective gamma and scenario repricing move SPX by ``m`` and VIX by
``ln(VIX′/VIX) = −β·m`` (``β = beta_down`` for ``m < 0``, ``beta_up`` for ``m > 0``), each
VIX futures month ``k`` by ``ln(F′/F) = w_k · ln(VIX′/VIX)``, and price VIX options by
Black-76 at ``scale_k · VVIX / 100`` (or at ``option_vol_k`` when VVIX is missing).
:func:`calibrate` fits those numbers from daily changes of the history:

- **pairs**: only rows at most :data:`MAX_GAP_DAYS` calendar days apart count as a daily
  change (a weekend or a holiday is one; the weeks-long holes of 2004–05 are not);
- **spot–vol betas**: ``Δln VIX = −β · Δln SPX``, OLS through the origin, separately on
  down days and up days;
- **futures month k**: ``Δln F_k = w_k · Δln VIX`` over pairs on which slot ``k`` holds
  the same contract on both days (month 1's expiry unchanged), OLS through the origin;
- **VIX option vol, month k**: the realised vol of those same-contract changes
  (``std · √252``), and its ratio ``scale_k`` to the mean ``VVIX / 100`` at the start of
  the same pairs.

Standard errors are heteroskedasticity-robust (White) for the regressions, kurtosis-aware
for the vols, and by the delta method for the ratios. A value whose sample has fewer than
:data:`MIN_OBSERVATIONS` observations, or whose column is absent, falls back to
:data:`DEFAULT_CALIBRATION`: the same method's fit to the real 2004–2023 shared history,
each marked ``source="default"`` with the reason. ``docs/calibration.md`` gives the
definitions, the decisions behind them and the figures.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from .calendars import nth_expiries
from .history import History
from .validation import FUTURES_MONTHS

__all__ = [
    "DEFAULT_CALIBRATION",
    "MAX_GAP_DAYS",
    "MIN_OBSERVATIONS",
    "TRADING_DAYS_PER_YEAR",
    "Calibration",
    "Fit",
    "calibrate",
    "spot_vol_betas",
]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
FitSource = Literal["fitted", "default", "config"]

#: Below this many observations a value falls back to its default: about one year of
#: daily changes, where a beta's standard error is already ~3x the full sample's.
MIN_OBSERVATIONS = 250
#: Rows further apart than this (calendar days) are not a daily change: Friday to
#: Tuesday over a holiday is 4, the gaps of the early shared history are weeks.
MAX_GAP_DAYS = 4
#: Annualisation of daily changes: each pair of consecutive rows is one trading day.
TRADING_DAYS_PER_YEAR = 252


@dataclass(frozen=True)
class Fit:
    """One fitted (or defaulted, or configured) number and what it rests on.

    ``n`` counts the observations of the fit (0 for a default or a config value), ``se``
    is its standard error (None when not fitted), ``sample`` names what ``n`` counts
    (``"down days"``) and ``reason`` says why a default was used.
    """

    value: float
    n: int = 0
    se: float | None = None
    source: FitSource = "default"
    sample: str = "days"
    reason: str = ""

    def describe(self, what: str) -> str:
        """One report line, e.g. ``beta_down 4.81 (SE 0.21, 2,155 down days, fitted)``."""
        if self.source == "fitted":
            se = f"SE {self.se:.2g}, " if self.se is not None else ""
            return f"{what} {self.value:.3g} ({se}{self.n:,} {self.sample}, fitted)"
        why = f": {self.reason}" if self.reason else ""
        return f"{what} {self.value:.3g} ({self.source}{why})"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: value, n, se, source and reason."""
        return {
            "value": self.value,
            "n": self.n,
            "se": self.se,
            "source": self.source,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class Calibration:
    """The market responses of the dry-run's scenarios and VIX option pricing.

    ``futures_response``, ``option_vol_scale`` and ``option_vol`` hold one :class:`Fit`
    per VIX futures month 1..9 (index 0 is month 1): the month's log response to a log
    change of VIX, the factor on ``VVIX / 100`` that gives its options' vol, and its
    options' vol (annualised) for days without VVIX.
    """

    beta_down: Fit
    beta_up: Fit
    futures_response: tuple[Fit, ...]
    option_vol_scale: tuple[Fit, ...]
    option_vol: tuple[Fit, ...]

    def __post_init__(self) -> None:
        for name in ("futures_response", "option_vol_scale", "option_vol"):
            if len(getattr(self, name)) != FUTURES_MONTHS:
                raise ValueError(f"{name} needs one Fit per month 1..{FUTURES_MONTHS}")

    @property
    def responses(self) -> FloatArray:
        """``w_k`` for months 1..9 as an array (index 0 is month 1)."""
        return np.array([f.value for f in self.futures_response], dtype=np.float64)

    def vix_option_vol(self, vvix: npt.ArrayLike, month: int) -> FloatArray:
        """Black-76 vol of month ``month``'s VIX options for VVIX ``vvix`` (broadcasts):
        ``scale_k · VVIX / 100``, or ``option_vol_k`` where VVIX is NaN."""
        v = np.asarray(vvix, dtype=np.float64)
        scale = self.option_vol_scale[month - 1].value
        fallback = self.option_vol[month - 1].value
        return np.asarray(np.where(np.isnan(v), fallback, scale * v / 100.0), dtype=np.float64)

    def notes(self) -> list[str]:
        """One line per value, fitted or defaulted, for the report."""
        lines = [
            self.beta_down.describe("beta_down (spot-vol, SPX down days)"),
            self.beta_up.describe("beta_up (spot-vol, SPX up days)"),
        ]
        for k, fit in enumerate(self.futures_response, 1):
            lines.append(fit.describe(f"VIX month {k} response w_{k}"))
        for k, fit in enumerate(self.option_vol_scale, 1):
            lines.append(fit.describe(f"VIX month {k} option vol / (VVIX/100)"))
        for k, fit in enumerate(self.option_vol, 1):
            lines.append(fit.describe(f"VIX month {k} option vol without VVIX"))
        return lines

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: each value as ``{"value", "n", "se", "source", "reason"}``."""
        return {
            "beta_down": self.beta_down.to_dict(),
            "beta_up": self.beta_up.to_dict(),
            "futures_response": [f.to_dict() for f in self.futures_response],
            "option_vol_scale": [f.to_dict() for f in self.option_vol_scale],
            "option_vol": [f.to_dict() for f in self.option_vol],
        }


# The defaults are calibrate() on ../shared/data/history_2004_2023.csv (4,750 rows,
# 2004-04-19 .. 2023-12-28), fitted on 2026-12-01 and rounded to two decimals (the
# standard errors are 0.0045 and more, so a third decimal would be noise). The file has
# no vx9: month 9 continues months 6-8 geometrically (a straight line through their logs
# against the month number, evaluated at 9).
_DEFAULT_SOURCE = "value from the shared 2004-2023 history's fit"
_DEFAULT_BETAS = (4.81, 3.98)
_DEFAULT_RESPONSE = (0.62, 0.42, 0.32, 0.27, 0.23, 0.20, 0.19, 0.17, 0.16)
_DEFAULT_SCALE = (0.90, 0.64, 0.51, 0.42, 0.37, 0.34, 0.33, 0.30, 0.29)
_DEFAULT_VOL = (0.81, 0.58, 0.47, 0.39, 0.34, 0.32, 0.30, 0.28, 0.27)


def _defaults(values: tuple[float, ...], month9: str) -> tuple[Fit, ...]:
    reasons = [_DEFAULT_SOURCE] * (len(values) - 1) + [month9]
    return tuple(Fit(v, reason=r) for v, r in zip(values, reasons, strict=True))


_MONTH9 = "value extrapolated from months 6-8 of the shared 2004-2023 history's fit"

#: The documented fallback constants (all ``source="default"``): see the comment above.
DEFAULT_CALIBRATION = Calibration(
    beta_down=Fit(_DEFAULT_BETAS[0], reason=_DEFAULT_SOURCE),
    beta_up=Fit(_DEFAULT_BETAS[1], reason=_DEFAULT_SOURCE),
    futures_response=_defaults(_DEFAULT_RESPONSE, _MONTH9),
    option_vol_scale=_defaults(_DEFAULT_SCALE, _MONTH9),
    option_vol=_defaults(_DEFAULT_VOL, _MONTH9),
)


def _fallback(default: Fit, why: str) -> Fit:
    return Fit(default.value, reason=f"{why}; {default.reason}")


def _too_few(n: int, sample: str) -> str:
    return f"only {n:,} {sample} (fewer than {MIN_OBSERVATIONS})"


def _regression(x: FloatArray, y: FloatArray, sample: str, sign: float, default: Fit) -> Fit:
    """``y = sign · b · x`` through the origin; White's robust standard error."""
    n = len(x)
    sxx = float(x @ x)
    if n < MIN_OBSERVATIONS or sxx <= 0.0:
        return _fallback(default, _too_few(n, sample))
    slope = float(x @ y) / sxx
    residual = y - slope * x
    # HC1: daily VIX changes are far larger in stress, exactly where |x| is large, so
    # the classical s²/Σx² understates the uncertainty (about half the robust figure).
    variance = n / (n - 1) * float((x * x) @ (residual * residual)) / sxx**2
    return Fit(sign * slope, n, math.sqrt(variance), "fitted", sample)


def _realised_vol(changes: FloatArray) -> tuple[float, float]:
    """Annualised std of daily changes and its standard error, allowing for fat tails."""
    n = len(changes)
    sd = float(np.std(changes, ddof=1))
    centred = changes - changes.mean()
    kurtosis = float(np.mean(centred**4)) / float(np.mean(centred**2)) ** 2
    # Var(s) ≈ σ² (κ − 1) / (4n): σ/√(2n) for normal data (κ = 3); futures changes have
    # κ of 10 and more, which doubles the error.
    se = sd * math.sqrt(max(kurtosis - 1.0, 0.0) / (4.0 * n))
    annual = math.sqrt(TRADING_DAYS_PER_YEAR)
    return sd * annual, se * annual


def _mean_with_se(values: FloatArray) -> tuple[float, float]:
    """Mean and its standard error for a persistent series (AR(1) effective sample)."""
    n = len(values)
    mean = float(values.mean())
    sd = float(values.std(ddof=1))
    rho = float(np.corrcoef(values[:-1], values[1:])[0, 1]) if n > 2 and sd > 0 else 0.0
    rho = min(max(rho, 0.0), 0.999) if math.isfinite(rho) else 0.0
    return mean, sd * math.sqrt((1.0 + rho) / ((1.0 - rho) * n))


def _consecutive(days: npt.NDArray[np.datetime64]) -> BoolArray:
    """For each pair of adjacent rows, whether it is a daily change."""
    if len(days) < 2:
        return np.zeros(0, dtype=np.bool_)
    gaps = (days[1:] - days[:-1]).astype(np.int64)
    return np.asarray(gaps <= MAX_GAP_DAYS, dtype=np.bool_)


def _log_changes(values: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.diff(np.log(values)), dtype=np.float64)


def _spot_vol(history: History, pairs: BoolArray) -> tuple[Fit, Fit]:
    ret = _log_changes(history.values("spx").astype(np.float64))
    dvix = _log_changes(history.values("vix").astype(np.float64))
    valid = pairs & np.isfinite(ret) & np.isfinite(dvix)
    down, up = valid & (ret < 0), valid & (ret > 0)
    defaults = DEFAULT_CALIBRATION
    return (
        _regression(ret[down], dvix[down], "down days", -1.0, defaults.beta_down),
        _regression(ret[up], dvix[up], "up days", -1.0, defaults.beta_up),
    )


def spot_vol_betas(history: History) -> tuple[Fit, Fit]:
    """``beta_down`` and ``beta_up`` of :func:`calibrate` alone (the same fits, to the bit):
    for code that needs only how VIX answers an SPX move, not the futures months."""
    days = history.dates.to_numpy().astype("datetime64[D]")
    return _spot_vol(history, _consecutive(days))


def _same_contract(history: History, days: npt.NDArray[np.datetime64]) -> BoolArray:
    """Pairs on which every slot holds the same contract on both days.

    Slots are calendar months after month 1, so they all roll when month 1 does; month 1
    is the history's ``vx1_expiry`` or, without it, the VIX calendar's front month.
    """
    if history.has("vx1_expiry"):
        front = history.values("vx1_expiry").astype("datetime64[D]")
    else:
        front = nth_expiries(days, 1, "vix")
    return np.asarray(front[1:] == front[:-1], dtype=np.bool_)


def _month(
    history: History, k: int, pairs: BoolArray, same: BoolArray, dvix: FloatArray
) -> tuple[Fit, Fit, Fit]:
    """Response, VVIX scale and realised option vol of futures month ``k``."""
    defaults = DEFAULT_CALIBRATION
    response, scale, vol = (
        defaults.futures_response[k - 1],
        defaults.option_vol_scale[k - 1],
        defaults.option_vol[k - 1],
    )
    column = f"vx{k}"
    if not history.has(column):
        why = f"no {column} data"
        return _fallback(response, why), _fallback(scale, why), _fallback(vol, why)
    usable = pairs & same
    expiry_column = f"vx{k}_expiry"
    if history.has(expiry_column):
        own = history.values(expiry_column).astype("datetime64[D]")
        usable &= own[1:] == own[:-1]
    dlnf = _log_changes(history.values(column).astype(np.float64))
    usable &= np.isfinite(dlnf) & np.isfinite(dvix)
    sample = "same-contract days"
    w = _regression(dvix[usable], dlnf[usable], sample, 1.0, response)
    n = int(usable.sum())
    if n >= MIN_OBSERVATIONS:
        sigma, sigma_se = _realised_vol(dlnf[usable])
        vol = Fit(sigma, n, sigma_se, "fitted", sample)
    else:
        vol = _fallback(vol, _too_few(n, sample))
    scale = _scale(history, usable, dlnf, scale)
    return w, scale, vol


def _scale(history: History, usable: BoolArray, dlnf: FloatArray, default: Fit) -> Fit:
    """Realised vol over the mean ``VVIX / 100`` at the start of the same pairs."""
    sample = "same-contract days with VVIX"
    if not history.has("vvix"):
        return _fallback(default, "no vvix data")
    start_vvix = history.values("vvix").astype(np.float64)[:-1] / 100.0
    with_vvix = usable & np.isfinite(start_vvix) & (start_vvix > 0)
    n = int(with_vvix.sum())
    if n < MIN_OBSERVATIONS:
        return _fallback(default, _too_few(n, sample))
    sigma, sigma_se = _realised_vol(dlnf[with_vvix])
    level, level_se = _mean_with_se(start_vvix[with_vvix])
    ratio = sigma / level
    # Delta method for σ / V̄, the two errors taken as independent.
    se = math.sqrt((sigma_se / level) ** 2 + (ratio * level_se / level) ** 2)
    return Fit(ratio, n, se, "fitted", sample)


def calibrate(history: History) -> Calibration:
    """Fit the spot–vol betas, futures responses and VIX option vols of ``history``.

    Each value falls back to :data:`DEFAULT_CALIBRATION` (``source="default"``, with the
    reason) when its columns are absent or its sample is under :data:`MIN_OBSERVATIONS`.
    """
    days = history.dates.to_numpy().astype("datetime64[D]")
    pairs = _consecutive(days)
    beta_down, beta_up = _spot_vol(history, pairs)
    dvix = _log_changes(history.values("vix").astype(np.float64))
    # The calendar is only needed (and only loaded) when there are futures to pair.
    same = _same_contract(history, days) if history.futures_months else pairs
    fits = [_month(history, k, pairs, same, dvix) for k in range(1, FUTURES_MONTHS + 1)]
    return Calibration(
        beta_down=beta_down,
        beta_up=beta_up,
        futures_response=tuple(f[0] for f in fits),
        option_vol_scale=tuple(f[1] for f in fits),
        option_vol=tuple(f[2] for f in fits),
    )
