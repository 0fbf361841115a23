"""Indicators against small hand-computed values, warm-up, gaps and causality.

The arithmetic is written out next to each expected value, so a failure can
be checked by hand.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from alvh_dsl.series import indicators as ind

NAN = math.nan


def arr(*values: float) -> np.ndarray:
    return np.array(values, dtype=np.float64)


def assert_series(actual: np.ndarray, expected: list[float]) -> None:
    assert len(actual) == len(expected)
    for i, (a, e) in enumerate(zip(actual.tolist(), expected, strict=True)):
        if math.isnan(e):
            assert math.isnan(a), f"[{i}] expected NaN, got {a}"
        else:
            assert a == pytest.approx(e, rel=1e-12, abs=1e-12), f"[{i}] {a} != {e}"


# x is the series most tests use.
X = arr(2, 4, 6, 5, 9, 8)


def test_sma() -> None:
    # (2+4+6)/3 = 4, (4+6+5)/3 = 5, (6+5+9)/3 = 20/3, (5+9+8)/3 = 22/3
    assert_series(ind.sma(X, 3), [NAN, NAN, 4, 5, 20 / 3, 22 / 3])
    assert_series(ind.sma(X, 1), X.tolist())
    assert_series(ind.sma(X, 7), [NAN] * 6)  # not enough observations


def test_ema() -> None:
    # alpha = 2 / (3 + 1) = 0.5, seeded with the mean of the first 3: (2+4+6)/3 = 4
    # 4 + 0.5 * (5 - 4) = 4.5;  4.5 + 0.5 * (9 - 4.5) = 6.75;  6.75 + 0.5 * (8 - 6.75) = 7.375
    assert_series(ind.ema(X, 3), [NAN, NAN, 4, 4.5, 6.75, 7.375])


def test_ema_skips_missing_days() -> None:
    # alpha = 2/3; the seed is the mean of the first 2 *valid* values (2, 4) = 3, on day 2
    # 3 + 2/3 * (6 - 3) = 5;  5 + 2/3 * (8 - 5) = 7; the gap itself stays NaN
    assert_series(ind.ema(arr(2, NAN, 4, 6, 8), 2), [NAN, NAN, 3, 5, 7])


def test_rsi_worked_by_hand() -> None:
    # x = 44 45 43 46 47 45, changes +1 -2 +3 +1 -2, n = 3
    # day 3: gains (1 + 0 + 3)/3 = 4/3, losses (0 + 2 + 0)/3 = 2/3, RS = 2 → 100 - 100/3 = 200/3
    # day 4 (+1): gain (4/3·2 + 1)/3 = 11/9, loss (2/3·2 + 0)/3 = 4/9, RS = 11/4
    #             → 100 - 100/3.75 = 220/3
    # day 5 (-2): gain (11/9·2 + 0)/3 = 22/27, loss (4/9·2 + 2)/3 = 26/27, RS = 11/13
    #             → 100 - 100·13/24 = 275/6
    x = arr(44, 45, 43, 46, 47, 45)
    assert_series(ind.rsi(x, 3), [NAN, NAN, NAN, 200 / 3, 220 / 3, 275 / 6])


def test_rsi_without_losses_is_100() -> None:
    assert_series(ind.rsi(arr(1, 2, 3, 4), 3), [NAN, NAN, NAN, 100])
    assert_series(ind.rsi(arr(4, 3, 2, 1), 3), [NAN, NAN, NAN, 0])
    assert_series(ind.rsi(arr(1, 2), 3), [NAN, NAN])


def test_macd_worked_by_hand() -> None:
    # fast EMA(2): alpha 2/3, seed (2+4)/2 = 3 on day 1, then 5, 5, 23/3, 71/9
    # slow EMA(3): 4, 4.5, 6.75, 7.375 from day 2
    # line = fast - slow: day 2: 1, day 3: 0.5, day 4: 23/3 - 27/4 = 11/12,
    #        day 5: 71/9 - 59/8 = 37/72
    # signal = EMA(line, 2): seed (1 + 0.5)/2 = 0.75 on day 3; 0.75 + 2/3·(11/12 - 3/4) = 31/36;
    #          31/36 + 2/3·(37/72 - 31/36) = 17/27
    # hist = line - signal: -0.25, 11/12 - 31/36 = 1/18, 37/72 - 17/27 = -25/216
    line, signal, hist = ind.macd(X, 2, 3, 2)
    assert_series(line, [NAN, NAN, 1, 0.5, 11 / 12, 37 / 72])
    assert_series(signal, [NAN, NAN, NAN, 0.75, 31 / 36, 17 / 27])
    assert_series(hist, [NAN, NAN, NAN, -0.25, 1 / 18, -25 / 216])


def test_realized_vol() -> None:
    # log returns: ln(110/100), ln(99/110), ln(99/99) = 0
    # the sample std of two values a, b is |a - b| / √2; annualised by √252
    x = arr(100, 110, 99, 99)
    r1, r2, r3 = math.log(1.1), math.log(0.9), 0.0
    expected = [NAN, NAN, abs(r1 - r2) / math.sqrt(2), abs(r2 - r3) / math.sqrt(2)]
    assert_series(ind.realized_vol(x, 2), [v * math.sqrt(252) for v in expected])
    assert_series(ind.realized_vol(x, 5), [NAN] * 4)


def test_change() -> None:
    # 99/100 - 1 = -0.01, 121/110 - 1 = 0.1; a zero base has no relative change
    assert_series(ind.change(arr(100, 110, 99, 121), 2), [NAN, NAN, -0.01, 0.1])
    assert_series(ind.change(arr(0, 5, 10), 1), [NAN, NAN, 1.0])
    assert_series(ind.change(arr(1, 2), 2), [NAN, NAN])


def test_adline() -> None:
    # cumulative advances - declines: 10-5 = 5, 5 + (20-25) = 0, 0 + (5-5) = 0, then a gap
    adv, dec = arr(10, 20, 5, NAN, 7), arr(5, 25, 5, 3, 1)
    assert_series(ind.adline(adv, dec), [5, 0, 0, NAN, NAN])


# ----------------------------------------------------------- warm-up, causality

INDICATORS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "sma": lambda x: ind.sma(x, 5),
    "ema": lambda x: ind.ema(x, 5),
    "rsi": lambda x: ind.rsi(x, 5),
    "macd": lambda x: ind.macd(x, 3, 6, 4)[0],
    "macd.signal": lambda x: ind.macd(x, 3, 6, 4)[1],
    "macd.hist": lambda x: ind.macd(x, 3, 6, 4)[2],
    "realized_vol": lambda x: ind.realized_vol(x, 5),
    "change": lambda x: ind.change(x, 5),
    "adline": lambda x: ind.adline(x, x[::-1].copy()),
}
WARMUP = {
    "sma": 4,
    "ema": 4,
    "rsi": 5,
    "macd": 5,
    "macd.signal": 8,
    "macd.hist": 8,
    "realized_vol": 5,
    "change": 5,
    "adline": 0,
}


def series(n: int = 60, seed: int = 7) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return 100 * np.exp(np.cumsum(rng.normal(0, 0.02, n)))


@pytest.mark.parametrize("name", sorted(INDICATORS))
def test_warm_up(name: str) -> None:
    out = INDICATORS[name](series())
    leading = next(i for i, v in enumerate(out.tolist()) if not math.isnan(v))
    assert leading == WARMUP[name]
    assert not np.isnan(out[leading:]).any()
    assert len(out) == 60


@pytest.mark.parametrize("name", sorted(set(INDICATORS) - {"adline"}))
def test_causal(name: str) -> None:
    """The value at t never changes when later observations are appended."""
    x = series()
    x[20] = NAN  # a gap must not make later data leak backwards either
    fn = INDICATORS[name]
    full = fn(x)
    for t in range(1, len(x) + 1):
        prefix = fn(x[:t].copy())
        np.testing.assert_array_equal(prefix, full[:t], err_msg=f"{name} changed at t={t}")


def test_adline_is_causal() -> None:
    adv, dec = series(seed=1), series(seed=2)
    full = ind.adline(adv, dec)
    for t in range(1, len(adv) + 1):
        np.testing.assert_array_equal(ind.adline(adv[:t], dec[:t]), full[:t])


def test_empty_input() -> None:
    empty = np.array([], dtype=np.float64)
    for fn in INDICATORS.values():
        assert len(fn(empty)) == 0
