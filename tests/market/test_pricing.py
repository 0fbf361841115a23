"""Pricing and greeks: textbook values, parity, limits, bounds and the scalar reference."""

from __future__ import annotations

import math
import sys
import warnings

import numpy as np
import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from alvh_dsl.market.pricing import (
    MIN_TOTAL_VOL,
    SPX_MULTIPLIER,
    VIX_FUTURE_MULTIPLIER,
    VIX_OPTION_MULTIPLIER,
    PriceGreeks,
    PricingConfig,
    black76,
    bsm,
    dollar_greeks,
    iv_from_vix,
    market_inputs,
    strike_for_delta,
    vix_future,
    year_fraction,
)
from alvh_dsl.market.pricing_reference import black76_scalar, bsm_scalar

# Reference values: price and greeks of textbook examples, computed independently with
# mpmath at 40 digits (greeks by numerical differentiation of the price, not from the
# analytic formulas), vega per vol point and theta per calendar day (/365).
# Inputs: (name, model, underlying, strike, t, vol, rate, dividend, call).
# The printed textbook figures they reproduce are in the comments.
REFERENCE = [
    # Hull, Options Futures & Other Derivatives, Example 15.6: c = 4.76, p = 0.81
    ("hull_15_6_call", "bsm", 42, 40, 0.5, 0.2, 0.1, 0.0, True,
     (4.759422392871533, 0.779131290942669, 0.04996267040591185, 0.08813415059602851,
      -0.012490663546829114)),
    ("hull_15_6_put", "bsm", 42, 40, 0.5, 0.2, 0.1, 0.0, False,
     (0.8085993729000936, -0.22086870905733105, 0.04996267040591185, 0.08813415059602851,
      -0.0020662314975062207)),
    # Hull Example 19.1 (20-week call): price 2.40, delta 0.522, gamma 0.066, vega 12.1,
    # theta -4.31 per year
    ("hull_19_1_call", "bsm", 49, 50, 20 / 52, 0.2, 0.05, 0.0, True,
     (2.4005273232717146, 0.5216046610663964, 0.06554403934784439, 0.121054798826288,
      -0.01179542417241801)),
    # Haug, The Complete Guide to Option Pricing Formulas: call 2.1334
    ("haug_call", "bsm", 60, 65, 0.25, 0.3, 0.08, 0.0, True,
     (2.1333684449162, 0.37248279796197287, 0.042042755753785174, 0.11351544053521996,
      -0.023090888730787316)),
    # Haug, put with dividend yield: 2.4648
    ("haug_put_div", "bsm", 100, 95, 0.5, 0.2, 0.1, 0.05, False,
     (2.464787646755821, -0.2641815996360724, 0.02283957429626999, 0.2283957429626999,
      -0.008220624921638504)),
    # Haug gamma and vega examples: gamma 0.0278, vega 18.9358 per unit vol
    ("haug_gamma_vega", "bsm", 55, 60, 0.75, 0.3, 0.1, 0.0, True,
     (5.392778824120155, 0.5333413896834848, 0.027821160476940842, 0.1893577734961786,
      -0.01693494583772801)),
    # A call with a dividend yield (Haug's inputs with b = 0.0695)
    ("call_dividend", "bsm", 55, 60, 0.75, 0.3, 0.105, 0.0355, True,
     (4.73332694878814, 0.48516407119166194, 0.027184931627735616, 0.1850274408912755,
      -0.013857778494062693)),
    # Haug theta example: put theta -31.1924 per year
    ("haug_theta_put", "bsm", 430, 405, 0.0833, 0.2, 0.07, 0.05, False,
     (1.7560201839357101, -0.1361032605533939, 0.008784688077380687, 0.27060651832958105,
      -0.08545853988087425)),
    # Hull, European futures put (Black's model): 1.12
    ("hull_black_put", "b76", 20, 20, 4 / 12, 0.25, 0.09, None, False,
     (1.1166414565589435, -0.4573067303602805, 0.13376450266134562, 0.04458816755378187,
      -0.004305639868976754)),
    # Haug Black-76: 1.7011
    ("haug_black_call", "b76", 19, 19, 0.75, 0.28, 0.1, None, True,
     (1.7010507252362672, 0.5086362359336519, 0.07974503467912113, 0.060454710790241735,
      -0.002625706471856308)),
    # Haug futures-option deltas: call 0.5946, put -0.3566
    ("haug_black_delta_call", "b76", 105, 100, 0.5, 0.36, 0.1, None, True,
     (12.432844508202189, 0.5946286597299956, 0.01349363711052063, 0.2677812284582819,
      -0.023005040475829942)),
    ("haug_black_delta_put", "b76", 105, 100, 0.5, 0.36, 0.1, None, False,
     (7.676697385698619, -0.3566007647707184, 0.01349363711052063, 0.2677812284582819,
      -0.024308094481995304)),
    # Typical legs of this project: a 30-day SPX short put, a VIX call on the future.
    ("spx_short_put", "bsm", 2400, 2250, 30 / 365, 0.12, 0.01, 0.02, False,
     (0.9986454167126362, -0.03074201750325286, 0.0008406972116868681, 0.47760814743942176,
      -0.097515662271202)),
    ("vix_call", "b76", 14.5, 20, 35 / 365, 0.9, 0.01, None, True,
     (0.2902829778575403, 0.15501370611242132, 0.05895049274163978, 0.010696486153870892,
      -0.013744672096679395)),
]  # fmt: skip

# Figures as printed in the books, checked at the precision they are printed to.
PRINTED = [
    ("hull_15_6_call", "price", 4.76, 0.005),
    ("hull_15_6_put", "price", 0.81, 0.005),
    ("hull_19_1_call", "price", 2.40, 0.005),
    ("hull_19_1_call", "delta", 0.522, 0.0005),
    ("hull_19_1_call", "gamma", 0.066, 0.0005),
    ("hull_19_1_call", "vega", 12.1 / 100, 0.0005),
    ("hull_19_1_call", "theta", -4.31 / 365, 0.005 / 365),
    ("haug_call", "price", 2.1334, 0.00005),
    ("haug_put_div", "price", 2.4648, 0.00005),
    ("haug_gamma_vega", "gamma", 0.0278, 0.00005),
    ("haug_gamma_vega", "vega", 18.9358 / 100, 0.00005 / 100),
    ("haug_theta_put", "theta", -31.1924 / 365, 0.00005 / 365),
    ("hull_black_put", "price", 1.12, 0.005),
    ("haug_black_call", "price", 1.7011, 0.00005),
    ("haug_black_delta_call", "delta", 0.5946, 0.00005),
    ("haug_black_delta_put", "delta", -0.3566, 0.00005),
]

FIELDS = PriceGreeks._fields


def _value(case: tuple) -> PriceGreeks:  # type: ignore[type-arg]
    _, model, x, k, t, vol, r, q, call, _ = case
    if model == "bsm":
        return bsm(x, k, t, vol, r, q, call=call)
    return black76(x, k, t, vol, r, call=call)


@pytest.mark.parametrize("case", REFERENCE, ids=[c[0] for c in REFERENCE])
def test_matches_reference_values_to_1e_6(case: tuple) -> None:  # type: ignore[type-arg]
    got = _value(case)
    for name, expected in zip(FIELDS, case[-1], strict=True):
        assert float(getattr(got, name)) == pytest.approx(expected, abs=1e-6), name
        # In fact far tighter than asked: the formulas are exact up to rounding.
        assert float(getattr(got, name)) == pytest.approx(expected, rel=1e-9, abs=1e-12), name


@pytest.mark.parametrize(("name", "field", "printed", "tol"), PRINTED)
def test_matches_printed_textbook_figures(
    name: str, field: str, printed: float, tol: float
) -> None:
    case = next(c for c in REFERENCE if c[0] == name)
    assert float(getattr(_value(case), field)) == pytest.approx(printed, abs=tol)


@pytest.mark.parametrize("case", REFERENCE, ids=[c[0] for c in REFERENCE])
def test_scalar_reference_matches_reference_values(case: tuple) -> None:  # type: ignore[type-arg]
    _, model, x, k, t, vol, r, q, call, expected = case
    got = (
        bsm_scalar(x, k, t, vol, r, q, call)
        if model == "bsm"
        else black76_scalar(x, k, t, vol, r, call)
    )
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_one_call_values_legs_by_days() -> None:
    strikes = np.array([2250.0, 2300.0, 2500.0, 2550.0])[:, None]
    calls = np.array([False, False, True, True])[:, None]
    spot = np.linspace(2300, 2500, 7)
    t = year_fraction(np.arange(30, 23, -1))
    g = bsm(spot, strikes, t, 0.13, 0.01, 0.02, call=calls)
    assert all(arr.shape == (4, 7) for arr in g)
    for i in range(4):
        for j in range(7):
            expected = bsm_scalar(spot[j], strikes[i, 0], t[j], 0.13, 0.01, 0.02, bool(calls[i, 0]))
            assert [arr[i, j] for arr in g] == pytest.approx(expected, rel=1e-10, abs=1e-12)


positive = st.floats(min_value=1.0, max_value=5000.0)
vols = st.floats(min_value=0.02, max_value=2.0)
times = st.floats(min_value=1 / 365, max_value=3.0)
rates = st.floats(min_value=0.0, max_value=0.1)


@given(positive, st.floats(min_value=0.5, max_value=2.0), times, vols, rates, rates)
def test_put_call_parity(
    spot: float, moneyness: float, t: float, vol: float, r: float, q: float
) -> None:
    k = spot * moneyness
    c = bsm(spot, k, t, vol, r, q, call=True)
    p = bsm(spot, k, t, vol, r, q, call=False)
    parity = spot * math.exp(-q * t) - k * math.exp(-r * t)
    assert float(c.price - p.price) == pytest.approx(parity, abs=1e-9 * spot)
    assert float(c.delta - p.delta) == pytest.approx(math.exp(-q * t), abs=1e-12)
    assert float(c.gamma) == pytest.approx(float(p.gamma), rel=1e-9, abs=1e-15)
    assert float(c.vega) == pytest.approx(float(p.vega), rel=1e-9, abs=1e-15)


@given(
    st.floats(min_value=5.0, max_value=80.0),
    st.floats(min_value=0.5, max_value=2.0),
    times,
    vols,
    rates,
)
def test_black76_parity(f: float, moneyness: float, t: float, vol: float, r: float) -> None:
    k = f * moneyness
    c = black76(f, k, t, vol, r, call=True)
    p = black76(f, k, t, vol, r, call=False)
    assert float(c.price - p.price) == pytest.approx(math.exp(-r * t) * (f - k), abs=1e-10 * f)


@given(positive, st.floats(min_value=0.5, max_value=2.0), times, vols, rates, rates, st.booleans())
def test_no_arbitrage_bounds(
    spot: float, moneyness: float, t: float, vol: float, r: float, q: float, call: bool
) -> None:
    k = spot * moneyness
    g = bsm(spot, k, t, vol, r, q, call=call)
    sq, kr = spot * math.exp(-q * t), k * math.exp(-r * t)
    lower = max(sq - kr, 0.0) if call else max(kr - sq, 0.0)
    upper = sq if call else kr
    tol = 1e-9 * spot
    assert lower - tol <= float(g.price) <= upper + tol
    assert (0.0 <= float(g.delta) <= 1.0) if call else (-1.0 <= float(g.delta) <= 0.0)
    assert float(g.gamma) >= 0.0 and float(g.vega) >= 0.0


@given(positive, st.floats(min_value=0.6, max_value=1.6), times, vols, rates, st.booleans())
def test_monotone_in_spot_strike_vol_and_time(
    spot: float, moneyness: float, t: float, vol: float, r: float, call: bool
) -> None:
    k = spot * moneyness
    base = float(bsm(spot, k, t, vol, r, 0.0, call=call).price)
    up_spot = float(bsm(spot * 1.01, k, t, vol, r, 0.0, call=call).price)
    up_strike = float(bsm(spot, k * 1.01, t, vol, r, 0.0, call=call).price)
    up_vol = float(bsm(spot, k, t, vol + 0.01, r, 0.0, call=call).price)
    tol = 1e-10 * spot
    if call:
        assert up_spot >= base - tol and up_strike <= base + tol
        # Without dividends an American-style argument holds: calls gain with time.
        assert float(bsm(spot, k, t * 1.1, vol, r, 0.0, call=True).price) >= base - tol
    else:
        assert up_spot <= base + tol and up_strike >= base - tol
    assert up_vol >= base - tol


@given(
    positive,
    st.floats(min_value=0.7, max_value=1.4),
    st.floats(min_value=0.05, max_value=2.0),
    st.floats(min_value=0.05, max_value=1.0),
    rates,
    rates,
    st.booleans(),
)
def test_greeks_are_derivatives_of_the_price(
    spot: float, moneyness: float, t: float, vol: float, r: float, q: float, call: bool
) -> None:
    k = spot * moneyness
    g = bsm(spot, k, t, vol, r, q, call=call)

    def price(s: float = spot, v: float = vol, tt: float = t) -> float:
        return float(bsm(s, k, tt, v, r, q, call=call).price)

    h = spot * 1e-6
    assert float(g.delta) == pytest.approx(
        (price(s=spot + h) - price(s=spot - h)) / (2 * h), abs=1e-6
    )
    h = spot * 1e-4
    gamma_fd = (price(s=spot + h) - 2 * price() + price(s=spot - h)) / h**2
    assert float(g.gamma) == pytest.approx(gamma_fd, rel=1e-3, abs=1e-3 / spot)
    dv = 1e-5
    vega_fd = (price(v=vol + dv) - price(v=vol - dv)) / (2 * dv) / 100
    assert float(g.vega) == pytest.approx(vega_fd, rel=1e-5, abs=1e-8 * spot)
    dt = 1e-6
    theta_fd = -(price(tt=t + dt) - price(tt=t - dt)) / (2 * dt) / 365
    assert float(g.theta) == pytest.approx(theta_fd, rel=1e-4, abs=1e-8 * spot)


@given(
    positive,
    st.floats(min_value=0.5, max_value=2.0),
    st.floats(min_value=-1.0, max_value=3.0),
    st.floats(min_value=0.0, max_value=2.0),
    rates,
    rates,
    st.booleans(),
)
# The ill-conditioned regime hypothesis once found (σ√t ≈ 3e-8): kept as fixed cases.
@example(1.0, 1.0, 1e-5, 1e-5, 0.0, 0.0, True)
@example(1.0, 1.0000001, 1e-5, 1e-5, 0.05, 0.0, False)
def test_vectorised_equals_scalar_reference_everywhere(
    spot: float, moneyness: float, t: float, vol: float, r: float, q: float, call: bool
) -> None:
    k = spot * moneyness
    got = bsm(spot, k, t, vol, r, q, call=call)
    expected = bsm_scalar(spot, k, t, vol, r, q, call)
    rel, abs_ = _tolerance(spot, k, t, vol, r - q)
    assert [float(x) for x in got] == pytest.approx(expected, rel=rel, abs=abs_)
    got76 = black76(spot, k, t, vol, r, call=call)
    expected76 = black76_scalar(spot, k, t, vol, r, call)
    rel, abs_ = _tolerance(spot, k, t, vol, 0.0)
    assert [float(x) for x in got76] == pytest.approx(expected76, rel=rel, abs=abs_)


def _tolerance(spot: float, k: float, t: float, vol: float, drift: float) -> tuple[float, float]:
    """1e-9, widened where the greeks are ill-conditioned: σ√t tiny.

    d1 = (ln(S/K) + (drift + σ²/2)t) / σ√t. Its numerator carries a few ulps of
    rounding (of ln S and ln K, however each side computes it), which σ√t magnifies:
    at spot 1, t 1e-5, vol 1e-5 (σ√t ≈ 3e-8) d1 moves by ~1e-8, and gamma, whose
    log derivative in d1 is -d1, by |d1| times that (6.9e-9 relative, hypothesis
    found it). Both implementations are right to rounding; the tolerance follows
    the condition number (1 + |d1|) · δd1, and spot · δd1 for the prices and deltas.
    Where σ√t is not small this adds nothing measurable to 1e-9.
    """
    s = vol * math.sqrt(t) if t > 0 else 0.0
    if s <= MIN_TOTAL_VOL:  # priced as the discounted intrinsic: no d1 at all
        return 1e-9, 1e-9 * spot
    d1 = (math.log(spot / k) + (drift + vol * vol / 2) * t) / s
    rounding = 8 * sys.float_info.epsilon * (1 + abs(math.log(spot)) + abs(math.log(k))) / s
    return 1e-9 + (1 + abs(d1)) * rounding, 1e-9 * spot + spot * rounding


@pytest.mark.parametrize("model", ["bsm", "b76"])
def test_expiry_and_zero_vol_give_intrinsic_and_finite_greeks(model: str) -> None:
    spot = np.array([90.0, 100.0, 110.0])[:, None]
    t = np.array([0.0, -0.01, 0.0, 0.25])  # expired, past, expiry, zero vol below
    vol = np.array([0.2, 0.2, 0.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for call in (True, False):
            if model == "bsm":
                g = bsm(spot, 100.0, t, vol, 0.0, 0.0, call=call)
            else:
                g = black76(spot, 100.0, t, vol, 0.0, call=call)
            for arr in g:
                assert np.isfinite(arr).all()
            intrinsic = np.maximum(spot - 100, 0) if call else np.maximum(100 - spot, 0)
            np.testing.assert_allclose(g.price, np.broadcast_to(intrinsic, g.price.shape))
            assert (g.gamma == 0).all() and (g.vega == 0).all()
            sign = 1 if call else -1
            np.testing.assert_array_equal(g.delta[:, 0], sign * np.array([0.0, 0.5, 1.0])[::sign])


def test_zero_vol_before_expiry_is_the_discounted_forward_intrinsic() -> None:
    g = bsm(110.0, 100.0, 0.5, 0.0, 0.05, 0.02, call=True)
    fwd = 110 * math.exp(-0.02 * 0.5) - 100 * math.exp(-0.05 * 0.5)
    assert float(g.price) == pytest.approx(fwd)
    assert float(g.delta) == pytest.approx(math.exp(-0.02 * 0.5))
    # The value drifts as time passes even without vol: theta is its time derivative.
    later = bsm(110.0, 100.0, 0.5 - 1 / 365, 0.0, 0.05, 0.02, call=True)
    assert float(g.theta) == pytest.approx(float(later.price - g.price), rel=1e-3)


def test_vanishing_total_vol_is_treated_as_zero_vol() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = bsm(1.0, 2.0, 1.0, 5e-324, call=False)
    assert [float(a) for a in g] == [1.0, -1.0, 0.0, 0.0, 0.0]


def test_nan_inputs_propagate_without_warnings() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        g = black76(np.array([15.0, np.nan]), 20.0, 0.1, np.array([np.nan, 0.9]), call=True)
    for arr in g:
        assert np.isnan(arr).all()
    # On the expiry morning the vol no longer matters: intrinsic even with NaN vol.
    assert float(black76(25.0, 20.0, 0.0, np.nan, call=True).price) == 5.0


def test_negative_inputs_are_rejected() -> None:
    with pytest.raises(ValueError, match="vol"):
        bsm(100, 100, 0.1, -0.2)
    with pytest.raises(ValueError, match="strike"):
        black76(20, -1, 0.1, 0.5)


def test_iv_from_vix_with_linear_skew() -> None:
    assert float(iv_from_vix(20.0)) == pytest.approx(0.20)
    vols = iv_from_vix(20.0, np.array([95.0, 100.0, 105.0]), 100.0, skew=0.8)
    assert vols[1] == pytest.approx(0.20)
    assert vols[0] == pytest.approx(0.20 - 0.8 * math.log(0.95))
    assert vols[0] > vols[1] > vols[2]
    assert float(iv_from_vix(10.0, 300.0, 100.0, skew=0.8, floor=0.05)) == 0.05
    with pytest.raises(ValueError, match="strike and spot"):
        iv_from_vix(20.0, skew=0.5)


@pytest.mark.parametrize("skew", [0.0, 0.8])
@pytest.mark.parametrize(
    ("call", "target"), [(True, 0.16), (False, 0.16), (False, 0.30), (True, 0.05)]
)
def test_strike_for_delta_picks_the_grid_strike_with_nearest_delta(
    skew: float, call: bool, target: float
) -> None:
    spot, t, vix, r, q = 2400.0, 45 / 365, 14.0, 0.01, 0.02
    k = float(strike_for_delta(spot, t, vix, target, r, q, call=call, skew=skew))
    assert k % 5 == 0

    def delta_gap(strike: float) -> float:
        vol = iv_from_vix(vix, strike, spot, skew=skew)
        return abs(abs(float(bsm(spot, strike, t, vol, r, q, call=call).delta)) - target)

    best = min(np.arange(k - 50, k + 55, 5.0), key=delta_gap)
    assert delta_gap(k) == pytest.approx(delta_gap(best), abs=1e-12)
    assert (k > spot) if call else (k < spot)


def test_strike_for_delta_is_vectorised_and_validates() -> None:
    spots = np.array([2000.0, 2400.0, 2800.0])
    ks = strike_for_delta(spots, 30 / 365, 15.0, 0.16, call=np.array([[True], [False]]))
    assert ks.shape == (2, 3)
    assert (ks[0] > spots).all() and (ks[1] < spots).all()
    with pytest.raises(ValueError, match="positive time"):
        strike_for_delta(2400, 0.0, 15.0, 0.16, call=True)
    with pytest.raises(ValueError, match="target delta"):
        strike_for_delta(2400, 0.1, 15.0, 1.2, call=True)


def test_dollar_greeks_use_the_contract_multipliers() -> None:
    g = bsm(2400.0, 2250.0, 30 / 365, 0.12, 0.01, 0.02, call=False)
    short_two = dollar_greeks(g, SPX_MULTIPLIER, -2)
    for unit, dollars in zip(g, short_two, strict=True):
        assert float(dollars) == pytest.approx(-200.0 * float(unit))
    assert SPX_MULTIPLIER == VIX_OPTION_MULTIPLIER == 100.0
    future = dollar_greeks(vix_future(np.array([15.5, 17.0])), VIX_FUTURE_MULTIPLIER, 3)
    np.testing.assert_allclose(future.delta, [3000.0, 3000.0])
    np.testing.assert_allclose(future.price, [46500.0, 51000.0])
    assert (future.gamma == 0).all() and (future.vega == 0).all() and (future.theta == 0).all()


def test_market_inputs_take_history_columns_and_flag_config_fallbacks() -> None:
    import pandas as pd

    from alvh_dsl.market.history import History

    frame = pd.DataFrame(
        {
            "spx": [2257.83, 2270.75],
            "vix": [12.85, 11.85],
            "vvix": [85.0, np.nan],
            "rate": [0.005, 0.006],
        },
        index=pd.DatetimeIndex(["2017-01-03", "2017-01-04"], name="date"),
    )
    inputs = market_inputs(
        History.from_frame(frame, gaps="keep"), PricingConfig(vix_option_vol=0.8)
    )
    np.testing.assert_allclose(inputs.spx_vol, [0.1285, 0.1185])
    np.testing.assert_allclose(inputs.rate, [0.005, 0.006])
    assert not inputs.rate_from_config.any()
    np.testing.assert_allclose(inputs.dividend_yield, [0.018, 0.018])
    assert inputs.dividend_from_config.all()
    np.testing.assert_allclose(inputs.vix_option_vol, [0.85, 0.8])
    assert list(inputs.vix_option_vol_from_config) == [False, True]
