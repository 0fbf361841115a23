"""Scalar reference implementations of :mod:`alvh_dsl.market.pricing`, in plain ``math``.

One option at a time, written straight from the textbook formulas with no NumPy. The
test suite checks the vectorised functions against these (a conformance suite for the
fast path), and ``benchmarks/bench_market.py`` times them as the plain-Python baseline.
Same units as the vectorised functions: ``t`` in years, vega per vol point, theta per
calendar day.
"""

from __future__ import annotations

import math

__all__ = ["black76_scalar", "bsm_scalar", "norm_cdf"]

_DAYS = 365.0
MIN_TOTAL_VOL = 1e-12  # as in pricing.py: below it the option is worth its intrinsic value


def norm_cdf(x: float) -> float:
    """Standard normal CDF via ``math.erfc`` (accurate in both tails)."""
    return 0.5 * math.erfc(-x / math.sqrt(2.0))


def _norm_pdf(x: float) -> float:
    return math.exp(-0.5 * x * x) / math.sqrt(2.0 * math.pi)


def bsm_scalar(
    spot: float,
    strike: float,
    t: float,
    vol: float,
    rate: float = 0.0,
    dividend: float = 0.0,
    call: bool = True,
) -> tuple[float, float, float, float, float]:
    """(price, delta, gamma, vega, theta) of one European option under BSM."""
    if t <= 0.0 or vol <= 0.0 or vol * math.sqrt(t) <= MIN_TOTAL_VOL:
        t = max(t, 0.0)
        fwd_gap = spot * math.exp(-dividend * t) - strike * math.exp(-rate * t)
        m = fwd_gap if call else -fwd_gap
        itm = 1.0 if m > 0 else (0.5 if m == 0 else 0.0)
        sign = 1.0 if call else -1.0
        theta = 0.0
        if t > 0:
            sq, kr = spot * math.exp(-dividend * t), strike * math.exp(-rate * t)
            theta = sign * itm * (dividend * sq - rate * kr) / _DAYS
        return max(m, 0.0), sign * math.exp(-dividend * t) * itm, 0.0, 0.0, theta
    sqrt_t = math.sqrt(t)
    sd = vol * sqrt_t
    d1 = (math.log(spot / strike) + (rate - dividend + 0.5 * vol * vol) * t) / sd
    d2 = d1 - sd
    df_q = math.exp(-dividend * t)
    df_r = math.exp(-rate * t)
    pdf = _norm_pdf(d1)
    gamma = df_q * pdf / (spot * sd)
    vega = spot * df_q * pdf * sqrt_t / 100.0
    decay = -spot * df_q * pdf * vol / (2.0 * sqrt_t)
    if call:
        price = spot * df_q * norm_cdf(d1) - strike * df_r * norm_cdf(d2)
        delta = df_q * norm_cdf(d1)
        theta = decay - rate * strike * df_r * norm_cdf(d2) + dividend * spot * df_q * norm_cdf(d1)
    else:
        price = strike * df_r * norm_cdf(-d2) - spot * df_q * norm_cdf(-d1)
        delta = -df_q * norm_cdf(-d1)
        theta = (
            decay + rate * strike * df_r * norm_cdf(-d2) - dividend * spot * df_q * norm_cdf(-d1)
        )
    return price, delta, gamma, vega, theta / _DAYS


def black76_scalar(
    forward: float,
    strike: float,
    t: float,
    vol: float,
    rate: float = 0.0,
    call: bool = True,
) -> tuple[float, float, float, float, float]:
    """(price, delta, gamma, vega, theta) of one European option on a future (Black-76)."""
    if t <= 0.0 or vol <= 0.0 or vol * math.sqrt(t) <= MIN_TOTAL_VOL:
        t = max(t, 0.0)
        df = math.exp(-rate * t)
        m = forward - strike if call else strike - forward
        itm = 1.0 if m > 0 else (0.5 if m == 0 else 0.0)
        price = df * max(m, 0.0)
        sign = 1.0 if call else -1.0
        theta = rate * price / _DAYS if t > 0 else 0.0
        return price, df * sign * itm, 0.0, 0.0, theta
    sqrt_t = math.sqrt(t)
    sd = vol * sqrt_t
    d1 = (math.log(forward / strike) + 0.5 * vol * vol * t) / sd
    d2 = d1 - sd
    df = math.exp(-rate * t)
    pdf = _norm_pdf(d1)
    if call:
        price = df * (forward * norm_cdf(d1) - strike * norm_cdf(d2))
        delta = df * norm_cdf(d1)
    else:
        price = df * (strike * norm_cdf(-d2) - forward * norm_cdf(-d1))
        delta = -df * norm_cdf(-d1)
    gamma = df * pdf / (forward * sd)
    vega = df * forward * pdf * sqrt_t / 100.0
    theta = (rate * price - df * forward * pdf * vol / (2.0 * sqrt_t)) / _DAYS
    return price, delta, gamma, vega, theta
