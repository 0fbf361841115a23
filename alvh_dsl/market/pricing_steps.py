"""The element-wise steps of the pricing models, shared by the public functions of
:mod:`alvh_dsl.market.pricing` and the shaped-input paths of :mod:`alvh_dsl.market.live`:
one sequence of operations, so every path gives the same numbers to the bit.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from .special import ndtr

__all__ = [
    "DAYS_PER_YEAR",
    "INV_SQRT_2PI",
    "black76_greeks",
    "black76_live",
    "bsm_greeks",
    "bsm_live",
    "column",
    "reject_negative",
]

FloatArray = npt.NDArray[np.float64]

#: Calendar days per year: ``t = DTE / 365``.
DAYS_PER_YEAR = 365.0
#: 1 / √(2π), the normal density's constant.
INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def reject_negative(**values: FloatArray) -> None:
    """Raise a ValueError naming the first of ``values`` with a negative element."""
    # NaN compares False, so unknown inputs pass through to NaN outputs.
    for name, value in values.items():
        if (value < 0).any():
            raise ValueError(f"{name} must not be negative")


def column(at: int) -> Callable[[FloatArray], FloatArray]:
    """Index ``at`` of the last axis, kept as an axis of length 1; a size-1 (broadcast) last
    axis or a 0-d array as it is."""

    def cut(x: FloatArray) -> FloatArray:
        return x[..., at : at + 1] if x.ndim and x.shape[-1] != 1 else x

    return cut


# The live-option steps of each model, shared by the public function, its grid variant,
# black76_price and the paths of market.live: one sequence of element-wise operations,
# so every path gives the same numbers to the bit. n1 and n2 depend on every input, so
# the in-place updates of the price keep the full broadcast shape.
def bsm_live(
    s: FloatArray,
    k: FloatArray,
    tc: FloatArray,
    sd: FloatArray,
    r: FloatArray,
    q: FloatArray,
    sign: FloatArray,
) -> tuple[FloatArray, ...]:
    """``df_q, sq, kr, d1, n1, leg_s, leg_k, price`` of live BSM options."""
    df_q = np.exp(-q * tc)
    df_r = np.exp(-r * tc)
    sq = s * df_q
    kr = k * df_r
    # ln(S e^{-qt} / K e^{-rt}) = ln(S/K) + (r - q) t
    d1 = np.log(sq / kr) / sd + 0.5 * sd
    d2 = d1 - sd
    n1 = ndtr(sign * d1)
    n2 = ndtr(sign * d2)
    leg_s = sq * n1
    leg_k = kr * n2
    price = leg_s - leg_k
    price *= sign
    return df_q, sq, kr, d1, n1, leg_s, leg_k, price


def bsm_greeks(*a: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Delta, gamma, vega (per vol point) and theta (per day) of live BSM options, from
    ``s, sd, v, r, q, sign, sqrt_t`` and what :func:`bsm_live` gave."""
    s, sd, v, r, q, sign, sqrt_t, df_q, sq, d1, n1, leg_s, leg_k = a
    pdf = np.exp(-0.5 * d1 * d1)
    delta = (sign * df_q) * n1
    gamma = pdf * (df_q * INV_SQRT_2PI / (s * sd))
    vega = pdf * (sq * sqrt_t * (INV_SQRT_2PI / 100.0))
    theta = pdf * (sq * v * (-0.5 * INV_SQRT_2PI / DAYS_PER_YEAR) / sqrt_t) - sign * (
        r / DAYS_PER_YEAR * leg_k - q / DAYS_PER_YEAR * leg_s
    )
    return delta, gamma, vega, theta


def black76_live(
    f: FloatArray, k: FloatArray, tc: FloatArray, sd: FloatArray, r: FloatArray, sign: FloatArray
) -> tuple[FloatArray, ...]:
    """``df, d1, n1, dfs, price`` of live Black-76 options."""
    df = np.exp(-r * tc)
    d1 = np.log(f / k) / sd + 0.5 * sd
    d2 = d1 - sd
    n1 = ndtr(sign * d1)
    n2 = ndtr(sign * d2)
    dfs = sign * df
    price = f * n1
    price -= k * n2
    price *= dfs
    return df, d1, n1, dfs, price


def black76_greeks(*a: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Delta, gamma, vega (per vol point) and theta (per day) of live Black-76 options,
    from ``f, sd, v, r``, ``sqrt_t`` and what :func:`black76_live` gave."""
    f, sd, v, r, df, sqrt_t, d1, n1, dfs, price = a
    pdf = np.exp(-0.5 * d1 * d1)
    delta = dfs * n1
    gamma = pdf * (df * INV_SQRT_2PI / (f * sd))
    vega = pdf * (df * f * sqrt_t * (INV_SQRT_2PI / 100.0))
    theta = (
        pdf * (df * f * v * (-0.5 * INV_SQRT_2PI / DAYS_PER_YEAR) / sqrt_t)
        + (r / DAYS_PER_YEAR) * price
    )
    return delta, gamma, vega, theta
