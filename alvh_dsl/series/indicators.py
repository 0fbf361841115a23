"""Indicators over whole arrays of daily observations (NumPy).

Every function takes float arrays (``NaN`` = missing), returns an array of the
same length, and is causal: the value at day *t* uses observations up to *t*
only, so the dry-run can compute each indicator once for the whole history and
read day *t* without looking ahead. Days before an indicator has enough
observations (warm-up) are ``NaN``; the evaluator turns them into an unknown
value that says why.

Conventions (see docs/language.md, "Indicators"):

- windows count observations (trading days), also when written ``5 days``;
- EMA: ``alpha = 2 / (n + 1)``, seeded with the simple mean of the first *n*
  observations; missing days keep the previous state;
- RSI: Wilder's smoothing (``alpha = 1 / n``) seeded with the mean gain and
  loss of the first *n* changes; 100 when there are no losses;
- MACD: ``EMA(fast) − EMA(slow)``; signal is the EMA of MACD, seeded once MACD
  exists; hist is ``MACD − signal``;
- realized_vol: sample standard deviation of the last *n* daily log returns,
  times √252, as a ratio (``0.2`` is 20%);
- change: ``x[t] / x[t − n] − 1``, a ratio;
- ADLINE: cumulative sum of advances − declines over the history given.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

Array = npt.NDArray[np.float64]
TRADING_DAYS = 252


def _nan(n: int) -> Array:
    return np.full(n, np.nan)


def sma(x: Array, n: int) -> Array:
    """Simple moving average of the last ``n`` observations."""
    out = _nan(len(x))
    if n < 1 or len(x) < n:
        return out
    windows = np.lib.stride_tricks.sliding_window_view(x, n)
    out[n - 1 :] = windows.mean(axis=1)
    return out


def ema(x: Array, n: int) -> Array:
    """Exponential moving average, seeded with the mean of the first ``n`` valid observations."""
    out = _nan(len(x))
    alpha = 2.0 / (n + 1)
    seed: list[float] = []
    prev = math.nan
    for i, v in enumerate(x.tolist()):
        if v != v:  # NaN: a missing day keeps the state
            continue
        if len(seed) < n:
            seed.append(v)
            if len(seed) == n:
                prev = sum(seed) / n
                out[i] = prev
            continue
        prev = prev + alpha * (v - prev)
        out[i] = prev
    return out


def rsi(x: Array, n: int) -> Array:
    """Wilder's RSI over ``n`` changes (needs ``n + 1`` observations)."""
    out = _nan(len(x))
    if len(x) < n + 1:
        return out
    diff = np.diff(x)
    avg_gain = avg_loss = math.nan
    count = 0
    gains: list[float] = []
    losses: list[float] = []
    for i, d in enumerate(diff.tolist(), start=1):
        if d != d:
            continue
        g, loss = max(d, 0.0), max(-d, 0.0)
        if count < n:
            gains.append(g)
            losses.append(loss)
            count += 1
            if count < n:
                continue
            avg_gain, avg_loss = sum(gains) / n, sum(losses) / n
        else:
            avg_gain = (avg_gain * (n - 1) + g) / n
            avg_loss = (avg_loss * (n - 1) + loss) / n
        out[i] = 100.0 if avg_loss == 0 else 100.0 - 100.0 / (1.0 + avg_gain / avg_loss)
    return out


def macd(x: Array, fast: int = 12, slow: int = 26, signal: int = 9) -> tuple[Array, Array, Array]:
    """MACD line, signal line and histogram."""
    line = ema(x, fast) - ema(x, slow)
    sig = ema(line, signal)
    return line, sig, line - sig


def realized_vol(x: Array, n: int) -> Array:
    """Annualised volatility of the last ``n`` daily log returns (sample std × √252)."""
    out = _nan(len(x))
    if len(x) < n + 1 or n < 2:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.diff(np.log(x))
    windows = np.lib.stride_tricks.sliding_window_view(r, n)
    out[n:] = windows.std(axis=1, ddof=1) * math.sqrt(TRADING_DAYS)
    return out


def change(x: Array, n: int) -> Array:
    """Relative change over ``n`` observations, as a ratio."""
    out = _nan(len(x))
    if len(x) <= n:
        return out
    with np.errstate(divide="ignore", invalid="ignore"):
        out[n:] = x[n:] / x[:-n] - 1.0
    out[~np.isfinite(out)] = np.nan
    return out


def adline(advances: Array, declines: Array) -> Array:
    """The advance-decline line: cumulative advances − declines (NaN after a missing day)."""
    return np.cumsum(advances - declines)
