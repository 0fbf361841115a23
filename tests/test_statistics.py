"""The dry-run's headline statistics: CVaR, the paired (cluster) bootstrap, the near-expiry
finding and stress windows, on hand-made data whose answers are worked out by hand."""

from __future__ import annotations

import csv
import dataclasses
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alvh_dsl.dryrun.statistics import (
    STATISTICS,
    Interval,
    cvar,
    paired_bootstrap,
    resample_weights,
    scenario_statistics,
)
from alvh_dsl.dryrun.stress import DEFAULT_STRESS_WINDOWS, stress_windows

# ------------------------------------------------------------------------ cvar

CVAR_CASES = [
    # pnl, alpha, weights, expected, why
    ([-10, -5, 0, 5, 10], 0.4, None, -7.5, "αn = 2: the two worst days"),
    ([-10, -5, 0, 5, 10], 0.3, None, (-10 - 0.5 * 5) / 1.5, "αn = 1.5: the worst, half the next"),
    (list(range(10)), 0.05, None, 0.0, "αn = 0.5 ≤ 1: the worst day alone"),
    ([5, -2, 7, -9, 1], 0.2, None, -9.0, "αn = 1 exactly, unsorted"),
    ([3, -1, 2, -4], 1.0, None, 0.0, "α = 1: the mean"),
    ([i - 10 for i in range(30)], 0.05, None, (-10 - 0.5 * 9) / 1.5, "30 days at 5 %: 1.5 days"),
    ([-1, -1, -1] + [0] * 27, 0.05, None, -1.0, "ties in the tail"),
    ([-10, -5, 0], 0.5, [1, 3, 0], -7.5, "tail mass 2: all of −10, 1 of the 3 of −5"),
    ([-10, -5, 0], 0.5, [0, 2, 2], -5.0, "a zero weight leaves the day out"),
    ([-10, -5, 0], 0.25, [0.5, 1, 0.5], -10.0, "fractional weights: tail 0.5 within −10"),
    ([-10, -5, 0], 0.5, [0.5, 1, 0.5], -7.5, "tail 1: 0.5 of −10 and 0.5 of −5"),
]


@pytest.mark.parametrize(("pnl", "alpha", "weights", "expected", "why"), CVAR_CASES)
def test_cvar_on_hand_made_days(
    pnl: list[float], alpha: float, weights: list[float] | None, expected: float, why: str
) -> None:
    assert cvar(pnl, alpha, weights) == pytest.approx(expected, abs=1e-12), why


@pytest.mark.parametrize("seed", range(5))
def test_integer_weights_act_as_repeated_days(seed: int) -> None:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=40)
    w = rng.integers(0, 4, size=40)
    w[0] = 1  # never all zero
    for alpha in (0.05, 0.1, 0.37):
        assert cvar(x, alpha, w) == pytest.approx(cvar(np.repeat(x, w), alpha), abs=1e-12)


def test_cvar_of_a_long_sample_is_the_mean_of_its_worst_days() -> None:
    # 1,000 days at 5 %: the prefix the vectorised tail works on must hold all 50.
    x = np.random.default_rng(0).normal(size=1000)
    assert cvar(x) == pytest.approx(np.sort(x)[:50].mean(), abs=1e-12)
    w = np.zeros(1000)
    w[np.argsort(x)[-60:]] = 1.0  # only the best days count: the tail lies far out
    assert cvar(x, 0.05, w) == pytest.approx(np.sort(x)[-60:][:3].mean(), abs=1e-12)


@pytest.mark.parametrize(
    ("pnl", "alpha", "weights", "message"),
    [
        ([], 0.05, None, "non-empty"),
        ([1.0, float("nan")], 0.05, None, "non-finite"),
        ([1.0, 2.0], 0.0, None, "alpha"),
        ([1.0, 2.0], 1.5, None, "alpha"),
        ([1.0, 2.0], 0.5, [1.0, -1.0], "non-negative"),
        ([1.0, 2.0], 0.5, [0.0, 0.0], "not all zero"),
        ([1.0, 2.0], 0.5, [1.0], "values for 2 days"),
    ],
)
def test_cvar_refuses_what_it_cannot_define(
    pnl: list[float], alpha: float, weights: list[float] | None, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        cvar(pnl, alpha, weights)


# ------------------------------------------------------------------- bootstrap


@pytest.mark.parametrize("statistic", STATISTICS)
@pytest.mark.parametrize("clustered", [False, True])
def test_half_the_loss_is_a_reduction_of_one_half_with_no_width(
    statistic: str, clustered: bool
) -> None:
    base = np.random.default_rng(1).normal(-1000, 300, 60)
    clusters = np.repeat(np.arange(12), 5) if clustered else None
    interval = paired_bootstrap(base / 2, base, statistic, clusters=clusters)
    # Every resample draws the same days for both, so every ratio is exactly 1/2.
    assert (interval.value, interval.low, interval.high) == (0.5, 0.5, 0.5)
    assert (interval.n, interval.clusters) == (60, 12 if clustered else 60)
    assert (interval.statistic, interval.reason, interval.undefined) == (statistic, None, 0)


def test_the_interval_covers_the_truth_at_about_its_level() -> None:
    # Independent noise around a true reduction of 1 − 500/1000 = 0.5.
    covered = 0
    for trial in range(200):
        rng = np.random.default_rng(1000 + trial)
        base, book = rng.normal(-1000, 400, 80), rng.normal(-500, 300, 80)
        interval = paired_bootstrap(book, base, "mean", n_resamples=400, seed=trial)
        assert interval.low is not None and interval.high is not None
        covered += interval.low <= 0.5 <= interval.high
    # 0.94 with these seeds; a percentile interval of n = 80 runs a little short of 95 %.
    assert 0.90 <= covered / 200 <= 0.985


def test_a_seed_gives_one_answer_and_another_seed_another() -> None:
    rng = np.random.default_rng(2)
    base, book = rng.normal(-1000, 400, 50), rng.normal(-600, 300, 50)
    first = paired_bootstrap(book, base, "cvar5", seed=7)
    assert paired_bootstrap(book, base, "cvar5", seed=7) == first
    other = paired_bootstrap(book, base, "cvar5", seed=8)
    assert other.value == first.value
    assert (other.low, other.high) != (first.low, first.high)


def test_pairing_narrows_the_interval() -> None:
    # Losses spread over two orders of magnitude, the hedge halving each one (±5 %):
    # drawn together, book and baseline move as one; drawn apart, their means do not.
    rng = np.random.default_rng(3)
    base = -np.exp(rng.normal(7.0, 1.0, 100))
    book = 0.5 * base * (1.0 + rng.normal(0.0, 0.05, 100))
    paired = paired_bootstrap(book, base, "mean", seed=1)
    assert paired.low is not None and paired.high is not None
    draws_book, draws_base = rng.integers(0, 100, (2, 2000, 100))
    unpaired = 1.0 - book[draws_book].mean(axis=1) / base[draws_base].mean(axis=1)
    low, high = np.quantile(unpaired, [0.025, 0.975])
    assert paired.high - paired.low < 0.05
    assert high - low > 5 * (paired.high - paired.low)


def test_resampling_draws_whole_clusters() -> None:
    clusters = np.array(["2020-01-17"] * 3 + ["2020-02-21"] * 5 + ["2020-03-20"] * 2)
    weights = resample_weights(clusters, n_resamples=500, seed=4)
    assert weights.shape == (500, 10)
    for _, members in ((c, np.flatnonzero(clusters == c)) for c in np.unique(clusters)):
        assert (weights[:, members] == weights[:, members[:1]]).all()  # a cycle moves as one
    counts = weights[:, [0, 3, 8]]  # one day per cluster: its cluster's count
    assert (counts.sum(axis=1) == 3).all()  # three clusters drawn per resample
    assert counts.mean() == pytest.approx(1.0, abs=0.1)
    days = resample_weights(np.arange(10), n_resamples=500, seed=4)
    assert (days.sum(axis=1) == 10).all() and len(np.unique(days[:, 0])) > 2


@pytest.mark.parametrize("statistic", STATISTICS)
def test_cluster_resampling_reaches_the_clusters_extremes(statistic: str) -> None:
    # Two expiry cycles of 3 days: A, baseline −100 a day and book −20; B, −50 and −40.
    # Whatever the statistic, the sample gives 1 − 40/100 = 0.6 and a resample drawn by
    # cycle is AA (0.8), AB (0.6) or BB (0.2), a quarter of them at each end: the 95 %
    # interval is exactly [0.2, 0.8]. Drawn by day, six days from one cycle is a 1/64
    # event, inside the 2.5 % tails: the interval is narrower.
    base = np.array([-100.0] * 3 + [-50.0] * 3)
    book = np.array([-20.0] * 3 + [-40.0] * 3)
    by_cycle = paired_bootstrap(book, base, statistic, clusters=list("AAABBB"))
    assert (by_cycle.value, by_cycle.low, by_cycle.high) == (0.6, 0.2, 0.8)
    by_day = paired_bootstrap(book, base, statistic)
    assert by_day.low is not None and by_day.high is not None
    assert by_day.low > 0.2 and by_day.high < 0.8


def test_a_baseline_without_loss_has_no_reduction() -> None:
    base = np.array([50.0, -10.0, 20.0])
    interval = paired_bootstrap(base / 2, base, "mean")
    assert (interval.value, interval.low, interval.high) == (None, None, None)
    assert interval.reason is not None and "nothing to reduce" in interval.reason


def test_resamples_without_loss_count_as_the_lowest_reduction() -> None:
    # One loss of 50 among ten gains of 1: a third of the resamples miss it and show
    # no loss, too many for a 2.5 % tail.
    base = np.array([-50.0] + [1.0] * 9)
    interval = paired_bootstrap(base / 2, base, "mean")
    assert interval.value == 0.5 and (interval.low, interval.high) == (None, None)
    assert interval.undefined > 500 and "resamples" in (interval.reason or "")
    # Five losses among 30 days: a resample misses them all 0.4 % of the time, which
    # stays out of the tails; the others all give exactly one half.
    base = np.array([-50.0] * 5 + [1.0] * 25)
    interval = paired_bootstrap(base / 2, base, "mean")
    assert (interval.low, interval.high, interval.reason) == (0.5, 0.5, None)
    assert 0 < interval.undefined < 50


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"statistic": "median"}, "unknown statistic"),
        ({"level": 1.0}, "level"),
        ({"n_resamples": 0}, "n_resamples"),
        ({"clusters": [1, 2]}, "clusters must label"),
        ({"clusters": [1, "a", None]}, "comparable"),
    ],
)
def test_bootstrap_refuses_bad_arguments(kwargs: dict[str, Any], message: str) -> None:
    args: dict[str, Any] = {"statistic": "mean", **kwargs}
    with pytest.raises(ValueError, match=message):
        paired_bootstrap([-1.0, -2.0, -3.0], [-2.0, -4.0, -6.0], **args)
    with pytest.raises(ValueError, match="not paired"):
        paired_bootstrap([-1.0, -2.0], [-2.0, -4.0, -6.0], "mean")


def test_an_interval_is_frozen_json_data() -> None:
    interval = paired_bootstrap([-1.0, -2.0, -3.0], [-2.0, -4.0, -6.0], "mean")
    assert isinstance(interval, Interval)
    with pytest.raises(dataclasses.FrozenInstanceError):
        interval.value = 0.0  # type: ignore[misc]
    data = interval.to_dict()
    assert json.loads(json.dumps(data)) == data
    assert set(data) >= {"value", "low", "high", "n", "clusters", "resamples", "level", "seed"}


# --------------------------------------------------------- scenario statistics

MOVES = [-0.10, -0.05, 0.05]
DAYS = 100


def _book_and_base(
    ratios: tuple[float, ...], near_days: int = 60
) -> tuple[Any, list[str | None], Any, Any, Any]:
    """100 days in 20 cycles of 5; the first 3 days of each of the first near_days / 3
    cycles are near expiry. The book's P&L is the baseline's times a ratio per move."""
    dates = np.arange(np.datetime64("2010-01-04"), np.datetime64("2010-01-04") + DAYS)
    index = np.arange(DAYS)
    near = (index % 5 < 3) & (index < near_days // 3 * 5)
    clusters: list[str | None] = [f"cycle {i // 5:02d}" if n else None for i, n in enumerate(near)]
    base = -np.outer(100.0 + index, [2.0, 1.0, 0.5])
    base[~near] = np.nan  # no condor on the other days: never read
    book = base * np.array(ratios)
    return dates, clusters, near, book, base


def test_the_near_expiry_figures_and_the_finding() -> None:
    dates, clusters, near, book, base = _book_and_base((0.5, 0.6, 1.2))
    out = scenario_statistics(dates, MOVES, book, base, near, clusters, seed=3)
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert (out["days"], out["clusters"], out["meaningful"]) == (60, 20, True)
    assert (out["first"], out["last"], out["headline_move"]) == ("2010-01-04", "2010-04-11", -0.05)
    head = out["moves"][1]
    assert head["move"] == -0.05
    mean_base = -float(np.mean(100.0 + np.flatnonzero(near)))
    assert head["baseline"]["mean"] == pytest.approx(mean_base)
    # The worst near-expiry day is day 97 (97 % 5 < 3); 5 % of 60 days is its 3 worst.
    assert head["baseline"]["worst"] == -197.0
    assert head["book"]["worst"] == pytest.approx(0.6 * -197.0)
    assert head["baseline"]["cvar5"] == pytest.approx(-(197 + 196 + 195) / 3)
    for row, reduction in zip(out["moves"], (0.5, 0.4, -0.2), strict=True):
        for name in ("mean", "mean_loss", "cvar5"):
            interval = row["reduction"][name]
            assert interval["value"] == pytest.approx(reduction)
            assert interval["low"] == pytest.approx(reduction)
            assert (interval["n"], interval["clusters"], interval["seed"]) == (60, 20, 3)
        assert row["reduction"]["worst"] == pytest.approx(reduction)
    assert out["finding"] == (
        f"On 60 near-expiry days (20 expiry cycles), the hedged book's expected loss under a "
        "-5% SPX move (the mean of its losses, a gain counting as none) was "
        f"-${0.6 * -mean_base:,.0f} against -${-mean_base:,.0f} unhedged on the "
        "same days: 40% less (95% interval 40% to 40% less, paired bootstrap over expiry "
        "cycles)."
    )


def test_the_figures_are_paired_bootstraps_of_the_near_expiry_days() -> None:
    rng = np.random.default_rng(5)
    dates, clusters, near, _, _ = _book_and_base((1.0, 1.0, 1.0))
    base = rng.normal(-1000, 300, (DAYS, 3))
    book = 0.6 * base + rng.normal(0, 100, (DAYS, 3))
    out = scenario_statistics(dates, MOVES, book, base, near, clusters, n_resamples=300)
    labels = np.array(clusters, dtype=object)[near].astype(str)
    for j, row in enumerate(out["moves"]):
        for name in ("mean", "cvar5"):
            alone = paired_bootstrap(
                book[near, j], base[near, j], name, clusters=labels, n_resamples=300
            )
            assert row["reduction"][name] == alone.to_dict()


def test_a_hedge_that_costs_more_says_more() -> None:
    dates, clusters, near, book, base = _book_and_base((0.5, 1.25, 1.0))
    finding = scenario_statistics(dates, MOVES, book, base, near, clusters)["finding"]
    assert ": 25% more (95% interval 25% to 25% more, paired bootstrap" in finding


def test_an_interval_across_zero_is_worded_both_ways() -> None:
    rng = np.random.default_rng(11)
    dates, _, near, _, _ = _book_and_base((1.0, 1.0, 1.0))
    base = rng.normal(-1000, 300, (DAYS, 3))
    book = base + rng.normal(0, 400, (DAYS, 3))
    out = scenario_statistics(dates, MOVES, book, base, near, None, near_expiry_dte=7)
    head = out["moves"][1]["reduction"]["mean"]
    assert head["low"] < 0 < head["high"]
    assert out["finding"].startswith("On 60 near-expiry days (front condor DTE ≤ 7), ")
    worded = r"\(95% interval \d+% more to \d+% less, paired bootstrap over days\)\.$"
    assert re.search(worded, out["finding"])


def test_fewer_than_thirty_days_is_not_meaningful() -> None:
    dates, clusters, near, book, base = _book_and_base((0.5, 0.6, 1.2), near_days=12)
    out = scenario_statistics(dates, MOVES, book, base, near, clusters)
    assert (out["days"], out["clusters"], out["meaningful"]) == (12, 4, False)
    assert out["finding"].startswith("On 12 near-expiry days (4 expiry cycles), ")
    assert out["finding"].endswith(
        "The figure rests on 12 near-expiry days (fewer than 30) and is not meaningful."
    )
    assert scenario_statistics(dates, MOVES, book, base, near, clusters, min_days=12)["meaningful"]


def test_no_near_expiry_days_at_all() -> None:
    dates, clusters, _, book, base = _book_and_base((0.5, 0.6, 1.2))
    none = np.zeros(DAYS, dtype=bool)
    out = scenario_statistics(dates, MOVES, book, base, none, clusters, near_expiry_dte=7)
    assert json.loads(json.dumps(out, allow_nan=False)) == out
    assert (out["days"], out["clusters"], out["meaningful"], out["first"]) == (0, 0, False, None)
    for row in out["moves"]:
        assert (
            row["book"]
            == row["baseline"]
            == {"mean": None, "mean_loss": None, "worst": None, "cvar5": None}
        )
        assert row["reduction"]["mean"]["value"] is None
        assert row["reduction"]["cvar5"]["reason"] == "no near-expiry days"
        assert row["reduction"]["worst"] is None
    assert out["finding"] == (
        "There were no near-expiry days (front condor DTE ≤ 7) in this run, so the hedge's "
        "effect on the P&L under a -5% SPX move cannot be measured."
    )


def test_a_baseline_that_did_not_lose_is_said_so() -> None:
    dates, clusters, near, book, base = _book_and_base((0.5, 0.6, 1.2))
    out = scenario_statistics(dates, MOVES, -book, -base, near, clusters)
    assert out["moves"][1]["reduction"]["mean"]["value"] is None
    assert "the unhedged book lost on no day under a -5% SPX move" in out["finding"]
    assert "no loss for the hedge to reduce" in out["finding"]


def test_scenario_statistics_refuses_inconsistent_inputs() -> None:
    dates, clusters, near, book, base = _book_and_base((0.5, 0.6, 1.2))
    with pytest.raises(ValueError, match="headline_move"):
        scenario_statistics(dates, MOVES, book, base, near, clusters, headline_move=-0.07)
    with pytest.raises(ValueError, match="moves"):
        scenario_statistics(dates, MOVES, book[:, :2], base, near, clusters)
    with pytest.raises(ValueError, match="one entry per row"):
        scenario_statistics(dates[:-1], MOVES, book, base, near, clusters)
    broken = book.copy()
    broken[np.flatnonzero(near)[0], 1] = np.nan
    with pytest.raises(ValueError, match="non-finite values on near-expiry days"):
        scenario_statistics(dates, MOVES, broken, base, near, clusters)


# -------------------------------------------------------------- stress windows

DATES = ["2020-01-02", "2020-01-03", "2020-01-06", "2020-01-07", "2020-01-08", "2020-01-09"]
BOOK = [100.0, 110.0, 90.0, 95.0, 120.0, 80.0]
BASE = [100.0, 100.0, 100.0, 70.0, 60.0, 90.0]
START = 105.0

WINDOW_CASES = [
    # window, expected entry (None: left out), why
    (
        ("partly before", "2019-12-20", "2020-01-03"),
        ("2020-01-02", "2020-01-03", 2, True, (5.0, 5.0), (-5.0, 5.0)),
        "from the starting equity 105: 100, 110",
    ),
    (
        ("one day", "2020-01-06", "2020-01-06"),
        ("2020-01-06", "2020-01-06", 1, False, (-20.0, 20.0), (0.0, 0.0)),
        "from the close before, 110, to 90",
    ),
    (
        ("inside", "2020-01-07", "2020-01-08"),
        ("2020-01-07", "2020-01-08", 2, False, (30.0, 0.0), (-40.0, 40.0)),
        "book 90 → 95 → 120; baseline 100 → 70 → 60",
    ),
    (
        ("partly after", "2020-01-08", "2020-02-28"),
        ("2020-01-08", "2020-01-09", 2, True, (-15.0, 40.0), (20.0, 10.0)),
        "book 95 → 120 → 80; baseline 70 → 60 → 90",
    ),
    (("a weekend", "2020-01-04", "2020-01-05"), None, "no trading day inside"),
    (("absent", "2021-03-01", "2021-03-31"), None, "after the data"),
]


@pytest.mark.parametrize(("window", "expected", "why"), WINDOW_CASES)
def test_stress_window_on_a_hand_made_equity_path(
    window: tuple[str, str, str], expected: tuple[Any, ...] | None, why: str
) -> None:
    out = stress_windows(DATES, BOOK, BASE, [window], START, START)
    if expected is None:
        assert out == [], why
        return
    start, end, days, partial, book, base = expected
    assert out == [
        {
            "name": window[0],
            "window": [window[1], window[2]],
            "start": start,
            "end": end,
            "days": days,
            "partial": partial,
            "book": {"pnl": book[0], "max_drawdown": book[1]},
            "baseline": {"pnl": base[0], "max_drawdown": base[1]},
        }
    ], why


def test_stress_windows_keep_their_order_and_drop_the_absent() -> None:
    windows = [w for w, _, _ in WINDOW_CASES]
    out = stress_windows(DATES, BOOK, None, windows, START)
    assert [w["name"] for w in out] == ["partly before", "one day", "inside", "partly after"]
    assert all(w["baseline"] is None for w in out)
    # Without a starting equity, a window opening on the first day starts from its close.
    first = stress_windows(DATES, BOOK, BASE, windows[:1])[0]
    assert first["book"] == {"pnl": 10.0, "max_drawdown": 0.0}


def test_stress_windows_refuse_bad_inputs() -> None:
    with pytest.raises(ValueError, match="increasing"):
        stress_windows(DATES[::-1], BOOK, None, DEFAULT_STRESS_WINDOWS)
    with pytest.raises(ValueError, match="one value per date"):
        stress_windows(DATES, BOOK[:-1], None, DEFAULT_STRESS_WINDOWS)
    with pytest.raises(ValueError, match="ends"):
        stress_windows(DATES, BOOK, None, [("backwards", "2020-01-09", "2020-01-02")])
    with pytest.raises(ValueError, match="'garbled'"):
        stress_windows(DATES, BOOK, None, [("garbled", "2020-13-45", "2020-01-02")])


def test_the_named_windows_are_in_the_real_history(shared_dir: Path) -> None:
    with (shared_dir / "data" / "history_2004_2023.csv").open(encoding="utf-8") as f:
        dates = [row["date"] for row in csv.DictReader(f)]
    flat = np.ones(len(dates))
    out = stress_windows(dates, flat, flat, DEFAULT_STRESS_WINDOWS)
    # Trading days counted on the NYSE calendar, independently of the file.
    assert {w["name"]: w["days"] for w in out} == {
        "Lehman / 2008 crash": 49,
        "2010 flash crash": 1,
        "2011 US downgrade": 23,
        "2015 China deval.": 8,
        "2018 Volmageddon": 7,
        "2020 COVID crash": 34,
    }
    assert not any(w["partial"] for w in out)


def test_the_expected_loss_counts_a_gain_as_none() -> None:
    # Mean P&L nets the gain against the loss (−2.5 vs −5: 50 %); the expected loss does
    # not (−5 vs −10: also 50 % here, but −5/+20 against −10/+10 shows the difference).
    book, base = np.array([-5.0, 20.0]), np.array([-10.0, 10.0])
    loss = paired_bootstrap(book, base, "mean_loss", n_resamples=200)
    assert loss.value == pytest.approx(0.5)
    mean = paired_bootstrap(book, base, "mean", n_resamples=200)
    assert mean.value is None  # the baseline's mean is 0: nothing to reduce
