"""The plain rolled condor simulated by hand in NumPy: the reference the engine is timed against.

Run: ``python benchmarks/numpy_condor.py [--history FILE --gaps keep] [--from DATE] [--to DATE]
[--risk] [--out DIR]``. It simulates benchmarks/books/rolled_condor.alvh — open an SPX iron
condor when flat (the monthly expiry nearest 45 days, 16-delta shorts, 50-point wings),
roll it to month 2 keeping delta at 7 days to expiry, nothing else — over a history
(default: the built-in synthetic one), and writes ``DIR/daily.csv`` (date, cash, condor
value, equity, P&L), ``DIR/trades.csv`` and, with ``--risk``, ``DIR/risk.npz`` (the book's
greeks, effective gamma and scenario P&L, as the rules saw it and after the day's
actions). Its daily equity and P&L equal, to the cent, those of

    alvh dryrun benchmarks/books/rolled_condor.alvh --history FILE --gaps keep --baseline none

and its risk columns that run's ``daily.parquet`` to the bit (effective gamma within two
units in the last place on a few days: ``(h·S)²`` is NumPy's product here, Python's
``pow`` there, one unit apart on some days). ``tests/test_numpy_reference.py`` checks
both on the synthetic history and on 2007–2017 of the real one. So timing one against
the other compares the rules engine and its bookkeeping (states, traces, statuses, the
summary) with straight array code doing the same arithmetic (benchmarks/bench_dryrun.py,
issue 11, decision 102); and the risk columns, the figures the dry-run's headline rests
on, are computed a second time, from docs/dryrun.md, with none of :mod:`alvh_dsl.dryrun`.

What it shares with the engine, on purpose: the pricing functions of
:mod:`alvh_dsl.market.pricing` (BSM, the strike for a delta, the rate and dividend inputs),
the spot–vol fit of :mod:`alvh_dsl.market.calibration` (β on down and up days) and the
expiry calendar of :mod:`alvh_dsl.market.calendars` — the point is to compare the
engine with array code, not to re-derive BSM. Nothing of :mod:`alvh_dsl.dryrun` is used:
strike selection, fills (mid ± slippage, never below zero), commissions, the per-leg
cent rounding of cash flows, marks and settlement (the open on the expiry day, the last
close before it when the expiry falls in a gap of the history) are written out here from
docs/dryrun.md.

What is vectorised: everything that depends only on the market — the expiry each day
would open or roll to, the strikes, mids, fills and credit of a condor opened on each day
— in one call over all days. Which condor is open on which day then needs only those
arrays and the calendar: a Python loop over events (an open, a roll, a settlement; about
one a month), not days. Every condor's marks, for all the days it is held, are one more
pricing call for the whole run; cash is a cumulative sum of the legs' cash flows; with
``risk``, one pricing call over [legs, held days, SPX moves] gives every risk column.
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from alvh_dsl.market.calendars import expiries, nearest_expiries, nth_expiries  # noqa: E402
from alvh_dsl.market.calibration import spot_vol_betas  # noqa: E402
from alvh_dsl.market.history import History, load_history  # noqa: E402
from alvh_dsl.market.pricing import (  # noqa: E402
    SPX_MULTIPLIER,
    PricingConfig,
    bsm,
    bsm_grid,
    iv_from_vix,
    market_inputs,
    strike_for_delta,
)

FloatArray = npt.NDArray[np.float64]

SIGNS = (1, -1, -1, 1)  # long put, short put, short call, long call: + long, − short
IS_CALL = np.array([False, False, True, True])
SIGN_COLUMN = np.array(SIGNS, dtype=np.float64)[:, None]


@dataclass(frozen=True)
class Terms:
    """The book's params and the dry-run's default costs (docs/dryrun.md, the config file)."""

    entry_dte: int = 45
    roll_dte: int = 7
    roll_month: int = 2
    short_delta: float = 0.16
    wings: float = 50.0
    quantity: int = 1
    starting_equity: float = 250_000.0
    slippage: float = 0.05  # points per contract and leg
    commission: float = 0.65  # $ per contract and leg
    pricing: PricingConfig = field(default_factory=PricingConfig)
    # The dry-run's default [risk] section (docs/dryrun.md): what simulate(risk=True) values.
    scenario_moves: tuple[float, ...] = (-0.10, -0.07, -0.05, -0.03, 0.03, 0.05)
    gamma_step: float = 0.001  # h: the one-sided stencils' step, a fraction of SPX
    grid: tuple[float, float, float] = (-0.05, 0.05, 0.01)  # the gamma profile: low, high, step


@dataclass
class Run:
    """Daily cash, condor value, equity and P&L ($, unrounded: the engine's daily.parquet
    holds them rounded to the cent), and every trade leg."""

    dates: npt.NDArray[np.datetime64]
    cash: FloatArray
    condor_value: FloatArray
    equity: FloatArray
    pnl: FloatArray
    trades: list[tuple[Any, ...]]  # date, action, strike, quantity, mid, fill, cash flow
    opens: int
    rolls: int
    settled: int
    # simulate(risk=True): each day's risk columns of daily.parquet, as the rules saw the
    # book (``delta`` …) and after the day's actions (``delta_after`` …); None otherwise.
    risk: dict[str, FloatArray] | None = None


class _Market:
    """The history's arrays, and what a condor opened (or rolled into) on each day would be:
    its expiry, strikes, leg mids, fills and credit — all vectorised over the days."""

    def __init__(self, history: History, terms: Terms) -> None:
        frame = history.frame
        self.dates = frame.index.to_numpy().astype("datetime64[D]")
        self.spx = frame["spx"].to_numpy(dtype=np.float64)
        self.vix = frame["vix"].to_numpy(dtype=np.float64)
        # SPX monthlies are AM-settled: the expiry day's open, the close without one.
        opens = (
            frame["spx_open"].to_numpy(dtype=np.float64)
            if "spx_open" in frame and frame["spx_open"].notna().any()
            else self.spx
        )
        self.spx_am = np.where(np.isnan(opens), self.spx, opens)
        self.settlement = (
            frame["spx_settlement"].to_numpy(dtype=np.float64)
            if "spx_settlement" in frame
            else None
        )
        inputs = market_inputs(history, terms.pricing)
        self.rate, self.dividend = inputs.rate, inputs.dividend_yield
        self.pricing, self.terms = terms.pricing, terms
        self.open = _Entries(self, nearest_expiries(self.dates, terms.entry_dte, "spx"))
        self.roll = _Entries(self, nth_expiries(self.dates, terms.roll_month, "spx"))

    def leg_prices(
        self, rows: npt.NDArray[np.intp], expiry: npt.NDArray[np.datetime64], strikes: FloatArray
    ) -> FloatArray:
        """Model mids (points) of the four legs [4, len(rows)]: on each of ``rows``, of the
        condor expiring on ``expiry`` (one per row) with ``strikes`` ([4, len(rows)])."""
        p = self.pricing
        s = self.spx[rows]
        t = np.maximum((expiry - self.dates[rows]).astype(np.float64), 0.0) / 365.0
        vol = iv_from_vix(self.vix[rows], strikes, s, skew=p.skew, floor=p.vol_floor)
        g = bsm(s, strikes, t, vol, self.rate[rows], self.dividend[rows], call=IS_CALL[:, None])
        return np.asarray(g.price, dtype=np.float64)

    def settlement_price(self, day: int, expiry: np.datetime64) -> float:
        """What an expiry settles at when booked on ``day``, the first row on or after it."""
        today = self.dates[day]
        col = self.settlement
        if (
            col is not None
            and math.isfinite(col[day])
            and (today == expiry or not len(expiries("spx", expiry + 1, today)))
        ):
            return float(col[day])
        if today == expiry:
            return float(self.spx_am[day])
        prior = int(np.searchsorted(self.dates, expiry, side="right")) - 1
        return float(self.spx[prior])  # the expiry fell in a gap: the last close before it


class _Entries:
    """A condor opened on each day on ``expiry[day]``: strikes, mids, fills [4, days], credit."""

    def __init__(self, m: _Market, expiry: npt.NDArray[np.datetime64]) -> None:
        terms, p = m.terms, m.pricing
        self.expiry = expiry
        dte = (expiry - m.dates).astype(np.float64)
        t = np.where(dte > 0, dte, 1.0) / 365.0  # an expiry not after today opens nothing
        args = (m.spx, t, m.vix, terms.short_delta, m.rate, m.dividend)
        kw = {"skew": p.skew, "grid": p.strike_grid, "floor": p.vol_floor}
        sp = strike_for_delta(*args, call=False, **kw)
        sc = strike_for_delta(*args, call=True, **kw)
        self.strikes = np.stack([sp - terms.wings, sp, sc, sc + terms.wings])
        self.mids = m.leg_prices(np.arange(len(m.dates)), expiry, self.strikes)
        # Bought above mid, sold below it but never below zero: the credit is the fills'.
        self.fills = np.maximum(self.mids + SIGN_COLUMN * terms.slippage, 0.0)
        signed = SIGN_COLUMN * self.fills
        self.credit = -(((signed[0] + signed[1]) + signed[2]) + signed[3])
        self.ok = (dte > 0) & (self.credit > 0)


@dataclass
class _Life:
    """One condor: the day it opened, what it opened as, and how its life ended."""

    opened: int
    entries: _Entries
    ended: int = -1  # the day it was rolled or settled (the history's length: still open)
    rolled: bool = False

    @property
    def expiry(self) -> np.datetime64:
        return self.entries.expiry[self.opened]  # type: ignore[no-any-return]


def _schedule(m: _Market) -> tuple[list[_Life], list[tuple[int, str, _Life]]]:
    """Which condor is open on which day, and the events (day, kind, condor) in booking
    order: settlements, then the roll's close, then the open. Only calendar and credit
    arrays are read, so this is a loop over events with integer arithmetic only."""
    n, dates, terms = len(m.dates), m.dates, m.terms
    roll_gap = np.timedelta64(terms.roll_dte, "D")
    # The first day from each day on whose open finds a credit (flat spells are skipped).
    ok_days = np.flatnonzero(m.open.ok)
    lives: list[_Life] = []
    events: list[tuple[int, str, _Life]] = []
    day, cur = 0, None
    while day < n:
        if cur is not None and cur.expiry <= dates[day]:
            cur.ended = day
            events.append((day, "settle", cur))
            cur = None
        if cur is None:  # open_condor: condor.count == 0
            if not m.open.ok[day]:
                i = int(np.searchsorted(ok_days, day, side="right"))
                day = int(ok_days[i]) if i < len(ok_days) else n
                continue
            cur = _Life(day, m.open)
            lives.append(cur)
            events.append((day, "open", cur))
        elif cur.expiry - dates[day] <= roll_gap and m.roll.expiry[day] != cur.expiry:
            cur.ended, cur.rolled = day, True  # roll_forward: condor.DTE <= roll_dte
            events.append((day, "close", cur))
            cur = _Life(day, m.roll) if m.roll.ok[day] else None
            if cur is not None:
                lives.append(cur)
                events.append((day, "open", cur))
            else:
                day += 1
                continue
        # No rule can fire before the roll day or the expiry: jump there.
        nxt = int(np.searchsorted(dates, cur.expiry - roll_gap, side="left"))
        day = min(max(nxt, day + 1), n)
    if cur is not None:
        cur.ended = n
    return lives, events


def simulate(history: History, terms: Terms | None = None, *, risk: bool = False) -> Run:
    """The rolled condor over every day of ``history``: daily equity and the trades; with
    ``risk``, also each day's greeks, effective gamma and scenario P&L (:func:`_risk`)."""
    terms = terms or Terms()
    m = _Market(history, terms)
    n, q = len(m.dates), terms.quantity
    lives, events = _schedule(m)
    if not lives:  # never opened: all cash
        flat = np.full(n, terms.starting_equity)
        columns = _flat_risk(terms, n) if risk else None
        return Run(m.dates, flat, np.zeros(n), flat, np.zeros(n), [], 0, 0, 0, columns)
    # Every condor's marks over the days it is held (and its roll day, for the close) in
    # one pricing call: rows, expiries and strikes concatenated.
    spans = [np.arange(c.opened, c.ended + c.rolled, dtype=np.intp) for c in lives]
    rows = np.concatenate(spans) if spans else np.empty(0, dtype=np.intp)
    owner = np.repeat(np.arange(len(lives)), [len(s) for s in spans])
    opened = np.array([c.opened for c in lives], dtype=np.intp)
    strikes = np.stack([c.entries.strikes[:, c.opened] for c in lives], axis=1)[:, owner]
    expiry = np.array([c.expiry for c in lives], dtype="datetime64[D]")[owner]
    mids = m.leg_prices(rows, expiry, strikes)
    signed = SIGN_COLUMN * mids
    unit_value = (((signed[0] + signed[1]) + signed[2]) + signed[3]) * SPX_MULTIPLIER
    held = rows < np.array([c.ended for c in lives], dtype=np.intp)[owner]  # not the roll day
    value = np.zeros(n)
    value[rows[held]] = unit_value[held] * q
    first_row = np.concatenate([[0], np.cumsum([len(s) for s in spans])])[:-1]
    trades = _trades(m, events, mids, first_row, {id(c): i for i, c in enumerate(lives)}, opened)
    flows = np.array([t[-1] for t in trades], dtype=np.float64)
    cash_after = np.cumsum(np.concatenate([[terms.starting_equity], flows]))  # in booking order
    trade_day = np.array([d for d, *_ in trades], dtype=np.intp)
    cash = cash_after[np.searchsorted(trade_day, np.arange(n), side="right")]
    equity = cash + value
    columns = None
    if risk:
        columns = _risk(m, history, lives, rows, owner, expiry, strikes, first_row)
    return Run(
        dates=m.dates,
        cash=cash,
        condor_value=value,
        equity=equity,
        pnl=np.diff(equity, prepend=terms.starting_equity),
        trades=[(str(m.dates[d]), *rest) for d, *rest in trades],
        opens=sum(1 for _, kind, c in events if kind == "open" and c.entries is m.open),
        rolls=sum(1 for _, kind, _c in events if kind == "close"),
        settled=sum(1 for _, kind, _c in events if kind == "settle"),
        risk=columns,
    )


def _moves(terms: Terms) -> tuple[list[float], dict[str, list[int]]]:
    """Every SPX move the risk columns read, once each, and where each figure finds its
    moves: ``down`` / ``up`` (0, ∓h, ∓2h, ∓3h), ``scenario`` (in the terms' order),
    ``profile`` (m − h, m, m + h for each non-zero move m of the profile grid)."""
    h = terms.gamma_step
    low, high, step = terms.grid
    grid = [k * step for k in range(round(low / step), round(high / step) + 1)]
    where: dict[float, int] = {}

    def at(move: float) -> int:
        return where.setdefault(round(move, 12), len(where))  # 3·h and 0.003: one move

    found = {
        "down": [at(-k * h) for k in range(4)],
        "up": [at(k * h) for k in range(4)],
        "scenario": [at(mv) for mv in terms.scenario_moves],
        "profile": [i for mv in grid if abs(mv) > h / 2 for i in (at(mv - h), at(mv), at(mv + h))],
    }
    return list(where), found


def _risk_names(terms: Terms) -> list[str]:
    """The risk columns of one side of the day, daily.parquet's names (``_after`` added
    for the book after the day's actions)."""
    scenario = [f"scen_{'dn' if mv < 0 else 'up'}{abs(mv) * 100:g}" for mv in terms.scenario_moves]
    return [
        "delta", "gamma", "vega", "theta", "eff_gamma_down", "eff_gamma_up",
        "eff_gamma_short", "eff_gamma_long", "eff_gamma_profile_min", *scenario,
    ]  # fmt: skip


def _flat_risk(terms: Terms, n: int) -> dict[str, FloatArray]:
    names = _risk_names(terms)
    return {name + side: np.zeros(n) for side in ("", "_after") for name in names}


def _risk(
    m: _Market,
    history: History,
    lives: list[_Life],
    rows: npt.NDArray[np.intp],
    owner: npt.NDArray[np.intp],
    expiry: npt.NDArray[np.datetime64],
    strikes: FloatArray,
    first_row: npt.NDArray[np.intp],
) -> dict[str, FloatArray]:
    """Each day's greeks, effective gamma and scenario P&L, written out from docs/dryrun.md
    ("Scenario P&L", "Effective gamma"): every held row of every condor revalued in full
    at each SPX move — SPX to ``S·(1 + m)``, VIX to ``VIX·exp(−β·m)`` (β fitted from the
    history on down and up days), the legs' vols from the new VIX with the skew — in one
    pricing call over [legs, rows, moves]; the one-sided second-order stencils Γ↓, Γ↑
    (coefficients 2, −5, 4, −1, over (h·S)²), the profile's centred stencils, the scenario
    P&L against the value now; the greeks of the legs at the move 0. Each day reads the
    row of the condor held as the rules saw it (after the settlements, before the day's
    actions) and of the one held at the end of the day; a flat book reads zeros."""
    terms, p = m.terms, m.pricing
    moves, at = _moves(terms)
    zero = moves.index(0.0)
    beta_down, beta_up = (fit.value for fit in spot_vol_betas(history))
    mv = np.array(moves, dtype=np.float64)
    vix_factor = np.exp(-np.where(mv < 0, beta_down, beta_up) * mv)
    spot = m.spx[rows][None, :, None] * (1.0 + mv)
    vix = m.vix[rows][None, :, None] * vix_factor
    k = strikes[:, :, None]
    t = ((expiry - m.dates[rows]).astype(np.float64) / 365.0)[None, :, None]
    vol = iv_from_vix(vix, k, spot, skew=p.skew, floor=p.vol_floor)
    r, q = m.rate[rows][None, :, None], m.dividend[rows][None, :, None]
    grid, g = bsm_grid(spot, k, t, vol, r, q, call=IS_CALL[:, None, None], at=zero)
    dollars = SPX_MULTIPLIER * terms.quantity
    values = (SIGN_COLUMN[:, :, None] * grid).sum(axis=0) * dollars  # [rows, moves], $
    hs2 = (terms.gamma_step * m.spx[rows]) ** 2
    d, u = values[:, at["down"]], values[:, at["up"]]
    down = (2.0 * d[:, 0] - 5.0 * d[:, 1] + 4.0 * d[:, 2] - d[:, 3]) / hs2
    up = (2.0 * u[:, 0] - 5.0 * u[:, 1] + 4.0 * u[:, 2] - u[:, 3]) / hs2
    lowest = np.minimum(down, up)
    if at["profile"]:
        pts = values[:, at["profile"]].reshape(len(rows), -1, 3)
        centred = (pts[:, :, 0] - 2.0 * pts[:, :, 1] + pts[:, :, 2]) / hs2[:, None]
        lowest = np.minimum(lowest, centred.min(axis=1))
    per_row = [
        *((SIGN_COLUMN * getattr(g, name)[:, :, 0]).sum(axis=0) * dollars
          for name in ("delta", "gamma", "vega", "theta")),
        down, up, np.maximum(0.0, -np.minimum(down, up)), np.maximum(0.0, np.maximum(down, up)),
        lowest, *(values[:, at["scenario"]] - values[:, [zero]]).T,
    ]  # fmt: skip
    # Which row each day reads: -1 (flat) or an index into rows.
    n = len(m.dates)
    ended = np.array([c.ended for c in lives], dtype=np.intp)[owner]
    held = rows < ended  # the roll day's row is the old condor's, read before the roll only
    after = np.full(n, -1, dtype=np.intp)
    after[rows[held]] = np.flatnonzero(held)
    before = after.copy()
    for c in lives:
        before[c.opened] = -1  # opened today: not held before the day's actions
    for i, c in enumerate(lives):
        if c.rolled:
            before[c.ended] = first_row[i] + c.ended - c.opened
    out: dict[str, FloatArray] = {}
    for side, pick in (("", before), ("_after", after)):
        flat = pick < 0
        for name, column in zip(_risk_names(terms), per_row, strict=True):
            out[name + side] = np.where(flat, 0.0, column[np.maximum(pick, 0)])
    return out


def _trades(
    m: _Market,
    events: list[tuple[int, str, _Life]],
    mids: FloatArray,
    first_row: npt.NDArray[np.intp],
    index: dict[int, int],
    opened: npt.NDArray[np.intp],
) -> list[tuple[Any, ...]]:
    """Every leg of every event: (day, action, strike, quantity, mid, fill, cash flow), the
    cash flow rounded to the cent as the engine books it, per leg."""
    terms = m.terms
    q, slip, comm = terms.quantity, terms.slippage, terms.commission * terms.quantity
    out: list[tuple[Any, ...]] = []
    for day, kind, c in events:
        ks = c.entries.strikes[:, c.opened]
        if kind == "open":
            action = "open" if c.entries is m.open else "roll"
            for i, sign in enumerate(SIGNS):
                px = float(c.entries.fills[i, day])
                cf = -sign * px * SPX_MULTIPLIER * q - comm
                out.append((day, action, float(ks[i]), sign * q, float(c.entries.mids[i, day]),
                            px, round(cf, 2)))  # fmt: skip
        elif kind == "close":
            row = first_row[index[id(c)]] + day - opened[index[id(c)]]
            for i, sign in enumerate(SIGNS):
                mid = float(mids[i, row])
                px = max(mid - sign * slip, 0.0)  # sell what we own below mid, buy back above
                cf = sign * px * SPX_MULTIPLIER * q - comm
                out.append((day, "roll", float(ks[i]), -sign * q, mid, px, round(cf, 2)))
        else:
            s = m.settlement_price(day, c.expiry)
            for i, sign in enumerate(SIGNS):
                k = float(ks[i])
                intrinsic = max(s - k, 0.0) if IS_CALL[i] else max(k - s, 0.0)
                cf = sign * intrinsic * SPX_MULTIPLIER * q
                out.append((day, "settle", k, -sign * q, intrinsic, intrinsic, round(cf, 2)))
    return out


def load(path: str | None, gaps: str | None, start: str | None, end: str | None) -> History:
    """The history a run replays: a file (with its gap policy) or the built-in synthetic one,
    restricted to ``start`` .. ``end`` as ``alvh dryrun --from/--to`` restricts it."""
    if path is None:
        from alvh_dsl.market.synth import default_history

        history = default_history()
    else:
        history = load_history(path, gaps=gaps or "error")  # type: ignore[arg-type]
    return history.between(start, end) if start or end else history


def write(run: Run, out: Path) -> None:
    """``daily.csv`` (cents, as daily.parquet rounds them), ``trades.csv`` and, with the
    risk columns, ``risk.npz`` (the columns by name, in full: the cheapest honest format)."""
    out.mkdir(parents=True, exist_ok=True)
    with (out / "daily.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "cash", "condor_value", "equity", "pnl"])
        for row in zip(run.dates, run.cash, run.condor_value, run.equity, run.pnl, strict=True):
            w.writerow([str(row[0]), *(f"{round(float(x), 2):.2f}" for x in row[1:])])
    if run.risk is not None:
        np.savez(out / "risk.npz", date=run.dates, **run.risk)
    with (out / "trades.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["date", "action", "strike", "quantity", "mid", "fill", "cash_flow"])
        w.writerows(run.trades)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--history", help="history file (default: the built-in synthetic one)")
    parser.add_argument("--gaps", choices=("error", "ffill", "keep"))
    parser.add_argument("--from", dest="start")
    parser.add_argument("--to", dest="end")
    parser.add_argument("--risk", action="store_true",
                        help="also the daily greeks, effective gamma and scenario P&L")  # fmt: skip
    parser.add_argument("--out", default="runs/numpy_condor", help="output directory")
    args = parser.parse_args(argv)
    t0 = time.process_time()
    run = simulate(load(args.history, args.gaps, args.start, args.end), risk=args.risk)
    write(run, Path(args.out))
    print(
        f"{len(run.dates)} days {run.dates[0]} .. {run.dates[-1]}: P&L "
        f"{run.equity[-1] - Terms().starting_equity:,.2f}, {run.opens} open(s), "
        f"{run.rolls} roll(s), {run.settled} settled; {time.process_time() - t0:.3f} s CPU "
        f"(load, simulate, write); {args.out}/daily.csv"
        + (f", {args.out}/risk.npz" if args.risk else "")
    )


if __name__ == "__main__":
    main()
