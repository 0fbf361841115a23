"""The dry-run engine: replay a rulebook day by day over market history.

``result = alvh_dsl.dryrun(book, history, config)`` runs the book over every
trading day of ``history`` (default: the built-in synthetic history) and, with
``baseline="no-hedge"`` (the default) or another book, a baseline on the same
data in the same call. Each day:

1. settle what expired (at intrinsic value) and mark the book;
2. build the :class:`~alvh_dsl.lang.state.State` the rules see — the same model
   ``alvh eval`` reads — and record the book's risk as the rules saw it;
3. evaluate the rulebook (indicators come from one
   :class:`~alvh_dsl.lang.evaluate.SeriesSource` over the whole history, computed
   once, vectorised);
4. apply the fired rules' actions in execution order (fills, trades);
5. record the risk after the actions, and the day.

Everything that depends only on market data (indicators, the futures curve,
rates, calendars, each position's marks and greeks over its whole life) is
computed vectorised up front; only what depends on the book is done per day.
The run is deterministic: the same inputs give byte-identical outputs.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import os
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..errors import ConfigError
from ..lang.diagnostics import data_span, error
from ..lang.evaluate import Book, Decision, ResolvedAction, clean
from ..lang.state import State
from ..market.pricing import PricingConfig
from ..market.termstructure import TermStructureConfig
from ..perf import paused_gc
from ..series import SeriesSource
from .simulate import Costs, Fill, Simulator, resolve_expiry
from .valuation import MarketData, RiskConfig

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure


HEDGE_KINDS = frozenset({"shift_hedge", "trade_future", "buy_call_spread"})

# ------------------------------------------------------------------- config


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CostsSection(_Section):
    """Slippage in points per contract and leg; commissions in $ per contract and leg."""

    spx_option_slippage: float = Field(0.05, ge=0)
    vix_option_slippage: float = Field(0.02, ge=0)
    vix_future_slippage: float = Field(0.02, ge=0)
    spx_option_commission: float = Field(0.65, ge=0)
    vix_option_commission: float = Field(0.65, ge=0)
    vix_future_commission: float = Field(1.50, ge=0)


class PricingSection(_Section):
    """Constants for inputs the history lacks, and the SPX skew (see docs/pricing.md)."""

    rate: float = 0.02
    dividend_yield: float = 0.018
    skew: float = 0.0
    vix_option_vol: float = Field(0.90, gt=0)
    strike_grid: float = Field(5.0, gt=0)


class TermStructureSection(_Section):
    """The modelled VIX futures curve, where the history has no settlements."""

    long_run: float = Field(27.4, gt=0)
    kappa: float = Field(1.45, ge=0)


class RiskSection(_Section):
    """The effective-gamma grid and the spot–vol response (see docs/dryrun.md)."""

    grid_low: float = -0.05
    grid_high: float = 0.05
    grid_step: float = Field(0.01, gt=0)
    beta_down: float = Field(6.0, ge=0)
    beta_up: float = Field(3.0, ge=0)
    futures_dampening: list[float] | None = None
    near_expiry_dte: int = Field(7, ge=0)

    @model_validator(mode="after")
    def _grid_spans_zero(self) -> RiskSection:
        # A grid that misses 0, or has no move on one side, would make every second
        # difference meaningless (or silently zero): refuse it when the config loads.
        if not self.grid_low < 0 < self.grid_high:
            raise ValueError("the grid must span 0: grid_low < 0 < grid_high")
        if self.grid_step > min(-self.grid_low, self.grid_high) + 1e-12:
            raise ValueError(
                f"grid_step {self.grid_step:g} leaves no move on one side of 0 "
                f"(grid {self.grid_low:g} .. {self.grid_high:g})"
            )
        if self.futures_dampening is not None and (
            not self.futures_dampening or any(not 0 <= w <= 2 for w in self.futures_dampening)
        ):
            raise ValueError("futures_dampening: one weight per month, each between 0 and 2")
        return self


class DryRunConfig(_Section):
    """Every model choice of a dry-run. Load one from TOML with :func:`load_config`."""

    starting_equity: float = Field(250_000.0, gt=0)
    costs: CostsSection = CostsSection()
    pricing: PricingSection = PricingSection()
    term_structure: TermStructureSection = TermStructureSection()
    risk: RiskSection = RiskSection()

    def market_configs(self) -> tuple[PricingConfig, TermStructureConfig, RiskConfig]:
        p, t, r = self.pricing, self.term_structure, self.risk
        return (
            PricingConfig(
                rate=p.rate,
                dividend_yield=p.dividend_yield,
                skew=p.skew,
                vix_option_vol=p.vix_option_vol,
                strike_grid=p.strike_grid,
            ),
            TermStructureConfig(long_run=t.long_run, kappa=t.kappa),
            RiskConfig(
                grid_low=r.grid_low,
                grid_high=r.grid_high,
                grid_step=r.grid_step,
                beta_down=r.beta_down,
                beta_up=r.beta_up,
                futures_dampening=tuple(r.futures_dampening) if r.futures_dampening else None,
                near_expiry_dte=r.near_expiry_dte,
            ),
        )


def load_config(path: str | os.PathLike[str]) -> DryRunConfig:
    """Read a TOML config: ``starting_equity`` and sections ``[costs]``, ``[pricing]``,
    ``[term_structure]``, ``[risk]`` (see :class:`DryRunConfig`)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]
    from pydantic import ValidationError

    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except OSError as exc:
        raise _config_error(path, [(None, f"cannot read: {exc.strerror or exc}")]) from None
    except tomllib.TOMLDecodeError as exc:
        raise _config_error(path, [(None, f"not valid TOML: {exc}")]) from None
    try:
        return DryRunConfig.model_validate(data)
    except ValidationError as exc:
        problems: list[tuple[str | None, str]] = [
            (".".join(str(p) for p in err["loc"]), err["msg"].removeprefix("Value error, "))
            for err in exc.errors()
        ]
        raise _config_error(path, problems) from None


def _config_error(
    path: str | os.PathLike[str], problems: list[tuple[str | None, str]]
) -> ConfigError:
    """One E602 per (key path, message); no key path for the file as a whole."""
    file = os.fspath(path)
    diagnostics = [error("E602", msg, data_span(file, path=key)) for key, msg in problems]
    return ConfigError(diagnostics, subject=file)


# ------------------------------------------------------------------ results


@dataclass
class RunResult:
    """One replay of one book: daily rows, decisions, trades, summary figures."""

    label: str
    book_name: str
    daily_rows: list[dict[str, Any]]
    decisions: list[dict[str, Any]]
    trades: list[dict[str, Any]]
    summary: dict[str, Any]
    states: dict[dt.date, State] = field(default_factory=dict)  # captured on request

    @property
    def daily(self) -> pd.DataFrame:
        import pandas as pd

        frame = pd.DataFrame(self.daily_rows)
        if not frame.empty:
            frame["date"] = pd.to_datetime(frame["date"])
            frame = frame.set_index("date")
        return frame


@dataclass
class DryRunResult:
    """The outcome of :func:`dryrun`: the run, its baseline, and everything to report them."""

    run: RunResult
    baseline: RunResult | None
    book: Book
    config: DryRunConfig
    history_provenance: Any
    history_sha256: str
    book_sources: dict[str, str]
    book_sha256: str
    notes: list[str] = field(default_factory=list)
    baseline_book: Book | None = None  # when the baseline is another book

    @property
    def daily(self) -> pd.DataFrame:
        """One row per trading day: marks, greeks (before and after the day's actions),
        effective gamma, equity."""
        return self.run.daily

    @property
    def decisions(self) -> pd.DataFrame:
        """Fired rules and near misses, one row per decision."""
        import pandas as pd

        return pd.DataFrame(self.run.decisions)

    @property
    def trades(self) -> pd.DataFrame:
        """Every fill and settlement, one row per leg."""
        import pandas as pd

        return pd.DataFrame(self.run.trades)

    @property
    def summary(self) -> dict[str, Any]:
        """The figures a trader checks first, with the baseline side by side."""
        out: dict[str, Any] = {"book": self.run.summary}
        if self.baseline is not None:
            out["baseline"] = self.baseline.summary
            out["comparison"] = compare(self.run.summary, self.baseline.summary)
        return out

    def plot(self) -> Figure:
        """A matplotlib figure: equity, drawdown, greeks and effective gamma over time."""
        from .report import figure

        return figure(self)

    def write(self, directory: str | os.PathLike[str]) -> Path:
        """Write the run directory (decisions.jsonl, daily.parquet, trades.csv,
        summary.json, report.html), each file atomically."""
        from .report import write_run

        return write_run(self, Path(directory), baseline_book=self.baseline_book)


def compare(book: dict[str, Any], base: dict[str, Any]) -> dict[str, Any]:
    """Ratios of the book's figures to the baseline's (None where undefined)."""

    def ratio(key: str) -> float | None:
        a, b = book.get(key), base.get(key)
        if a is None or b is None or not b:
            return None
        value: float = clean(float(a) / float(b))
        return value

    return {
        "near_expiry_peak_eff_gamma_ratio": ratio("near_expiry_peak_eff_gamma"),
        "near_expiry_peak_short_eff_gamma_ratio": ratio("near_expiry_peak_short_eff_gamma"),
        "peak_eff_gamma_ratio": ratio("peak_eff_gamma"),
        "total_pnl_difference": clean(book["total_pnl"] - base["total_pnl"]),
        "max_drawdown_ratio": ratio("max_drawdown"),
    }


# ------------------------------------------------------------------ the loop


def _apply(sim: Simulator, day: int, rule: str, a: ResolvedAction, no_hedge: bool) -> Fill:
    """Carry out one resolved action on the simulated book."""
    kind, args = a.kind, a.args
    if no_hedge and (kind in HEDGE_KINDS or (kind == "close" and args["target"] == "hedge")):
        return Fill(summary="disabled in the no-hedge baseline", done=False, disabled=True)
    date = sim.market.dates[day]
    if kind == "open_condor":
        expiry = resolve_expiry(date, args)
        return sim.open_condor(
            day, expiry, float(args["short_delta"]), float(args["wings"]),
            int(args["quantity"]), rule, a.text,
        )  # fmt: skip
    if kind == "roll_condor":
        front = sim.front()
        if front is None:
            return Fill(summary="no condor to roll", done=False)
        expiry = resolve_expiry(date, args)
        if expiry == front.expiry:
            return Fill(summary=f"the front condor already expires on {expiry}", done=False)
        trade = sim._trade_id()
        quantity = front.quantity  # closing sets it to 0
        closed = sim.close_condor(day, front, quantity, rule, a.text, trade)
        wings = front.strikes[1] - front.strikes[0]
        keeping = args.get("keeping", "delta")
        strikes = None
        entry_spot = None
        if keeping == "strikes":
            strikes = front.strikes
            entry_spot = front.entry_spot
        elif keeping == "width":
            s = float(sim.market.spx[day])
            sp = s - (front.entry_spot - front.strikes[1])
            sc = s + (front.strikes[2] - front.entry_spot)
            grid = sim.market.pricing.strike_grid
            sp, sc = round(sp / grid) * grid, round(sc / grid) * grid
            strikes = (sp - wings, sp, sc, sc + (front.strikes[3] - front.strikes[2]))
        opened = sim.open_condor(
            day, expiry, front.target_delta, wings, quantity, rule, a.text, trade,
            strikes, entry_spot,
        )  # fmt: skip
        net = sum(t["cash_flow"] for t in closed.trades + opened.trades)
        what = "credit" if net >= 0 else "debit"
        summary = f"rolled: {closed.summary}; {opened.summary}; net {what} ${abs(net):,.2f}"
        if not opened.done:
            summary = f"rolled out only: {closed.summary}; not reopened: {opened.summary}"
        return Fill(closed.trades + opened.trades, summary, True)
    if kind == "close":
        return _close(sim, day, rule, a)
    if kind == "shift_hedge":
        return _shift(sim, day, rule, a)
    if kind == "trade_future":
        n = int(args["count"]) * (1 if args["side"] == "buy" else -1)
        return sim.trade_future(day, int(args["month"]), n, rule, a.text)
    if kind == "buy_call_spread":
        count = int(args["count"]) if "count" in args else None
        budget = float(args["budget"]) if "budget" in args else None
        return sim.buy_call_spread(
            day, int(args["month"]), float(args["lower"]), float(args["upper"]), count, budget,
            rule, a.text,
        )  # fmt: skip
    if kind == "alert":
        return Fill(summary=f"alert: {args['message']}")
    raise ValueError(kind)  # pragma: no cover


def _share(quantity: int, fraction: float) -> int:
    """Contracts for a fraction of a position: half up, at least one, at most all."""
    return max(1, min(abs(quantity), math.floor(abs(quantity) * fraction + 0.5)))


def _close(sim: Simulator, day: int, rule: str, a: ResolvedAction) -> Fill:
    args = a.args
    fraction = float(args.get("fraction", 1.0))
    target = args["target"]
    trade = sim._trade_id()
    fills: list[Fill] = []
    if target in ("condor", "all"):
        front = sim.front()
        condors = [front] if (target == "condor" and front is not None) else list(sim.condors)
        for c in condors:
            fills.append(
                sim.close_condor(day, c, _share(c.quantity, fraction), rule, a.text, trade)
            )
    if target in ("hedge", "all"):
        month = args.get("month")
        for h in list(sim.hedges):
            if month is None or sim.hedge_month(day, h) == int(month):
                qty = _share(h.quantity, fraction)
                fills.append(sim.close_hedge(day, h, qty, rule, a.text, trade))
    if not fills:
        return Fill(summary=f"nothing to close ({a.text})", done=False)
    trades = [t for f in fills for t in f.trades]
    return Fill(trades, "; ".join(f.summary for f in fills), True)


def _shift(sim: Simulator, day: int, rule: str, a: ResolvedAction) -> Fill:
    args = a.args
    src, dst = int(args["from_month"]), int(args["to_month"])
    fraction = float(args["fraction"])
    layers = [h for h in sim.hedges if sim.hedge_month(day, h) == src]
    if not layers:
        return Fill(summary=f"no hedge in VIX month {src}", done=False)
    curve = sim.market.curve
    f_src, f_dst = float(curve.price[day, src - 1]), float(curve.price[day, dst - 1])
    trade = sim._trade_id()
    fills: list[Fill] = []
    for h in layers:
        qty = _share(h.quantity, fraction)
        src_price = float(h.valuation.mark[h.valuation.row(day)]) if h.kind == "future" else f_src
        fills.append(sim.close_hedge(day, h, qty, rule, a.text, trade))
        if h.kind == "future":
            # Same notional: qty × $1,000 × F(A) = n × $1,000 × F(B).
            n = max(1, round(qty * src_price / f_dst))
            fills.append(
                sim.trade_future(
                    day, dst, n * int(np.sign(h.quantity)), rule, a.text, trade, merge=True
                )
            )
        else:
            assert h.lower is not None and h.upper is not None
            n = max(1, round(qty * f_src / f_dst))
            fills.append(
                sim.buy_call_spread(
                    day, dst, h.lower, h.upper, n, None, rule, a.text, trade, merge=True
                )
            )
    trades = [t for f in fills for t in f.trades]
    return Fill(trades, "; ".join(f.summary for f in fills), True)


def run_book(
    book: Book,
    market: MarketData,
    source: SeriesSource,
    config: DryRunConfig,
    *,
    label: str = "book",
    no_hedge: bool = False,
    progress: Callable[[int], None] | None = None,
    capture: Collection[dt.date] = (),
) -> RunResult:
    """Replay ``book`` over every day of ``market``.

    ``capture``: dates whose state (as the rules saw it) is kept in
    ``RunResult.states``, with the recent history included, so that
    ``alvh eval --state`` can replay that day's decisions.
    """
    c = config.costs
    sim = Simulator(
        market,
        Costs(
            c.spx_option_slippage, c.vix_option_slippage, c.vix_future_slippage,
            c.spx_option_commission, c.vix_option_commission, c.vix_future_commission,
        ),
        config.starting_equity,
    )  # fmt: skip
    last_fired: dict[str, dt.date] = {}
    rows: list[dict[str, Any]] = []
    decisions: list[dict[str, Any]] = []
    n = len(market)
    counts = {"rolls": 0, "migrations": 0, "alerts": 0, "opens": 0, "closes": 0, "hedge_trades": 0}
    fired_by_rule: dict[str, int] = dict.fromkeys(book.rule_ids, 0)
    prev_equity = config.starting_equity
    states: dict[dt.date, State] = {}
    # Tens of thousands of small, acyclic trace records live until the end of the run.
    with paused_gc():
        wanted = set(capture)
        for day in range(n):
            trades_today = len(sim.trades)  # settlements count as the day's trades
            sim.settle(day)
            before = sim.risk(day)
            state = sim.state(day, before, last_fired)
            source.index = day
            evaluation = book.evaluate(state, trace=True, source=source)
            date = state.date
            if date in wanted:
                states[date] = _with_history(state, source, day)
            for d in evaluation.decisions:
                if d.fired:
                    decisions.append(_fired_record(sim, day, d, no_hedge, counts, last_fired, date))
                    fired_by_rule[d.rule] = fired_by_rule.get(d.rule, 0) + 1
                elif d.near_miss is not None:
                    decisions.append(_near_miss_record(date, d))
            after = sim.risk(day)
            rows.append(
                {
                    "date": date.isoformat(),
                    "spx": float(market.spx[day]),
                    "vix": float(market.vix[day]),
                    "front_dte": None if math.isnan(before.front_dte) else before.front_dte,
                    "condors": after.condors,
                    "layers": after.layers,
                    "cash": round(after.cash, 2),
                    "condor_value": round(after.condor_value, 2),
                    "hedge_value": round(after.hedge_value, 2),
                    "equity": round(after.equity, 2),
                    "pnl": round(after.equity - prev_equity, 2),
                    "hedge_notional": round(after.hedge_notional, 2),
                    "delta": before.delta,
                    "gamma": before.gamma,
                    "vega": before.vega,
                    "theta": before.theta,
                    "eff_gamma": before.eff_gamma,
                    "eff_gamma_max": before.eff_gamma_max,
                    "eff_gamma_min": before.eff_gamma_min,
                    "delta_after": after.delta,
                    "gamma_after": after.gamma,
                    "vega_after": after.vega,
                    "theta_after": after.theta,
                    "eff_gamma_after": after.eff_gamma,
                    "eff_gamma_max_after": after.eff_gamma_max,
                    "eff_gamma_min_after": after.eff_gamma_min,
                    "trades": len(sim.trades) - trades_today,
                }
            )
            prev_equity = after.equity
            if progress is not None:
                progress(day)
    summary = summarise(rows, sim, counts, fired_by_rule, config)
    return RunResult(label, book.name, rows, decisions, sim.trades, summary, states)


HISTORY_FOR_STATE = 300  # observations kept in a captured state: enough for every default window


def _with_history(state: State, source: SeriesSource, day: int) -> State:
    """A validated copy of ``state`` carrying the last observations of every series."""
    from ..lang.state import History as StateHistory

    lo = max(0, day - HISTORY_FOR_STATE + 1)
    series = {
        name: [None if math.isnan(v) else float(v) for v in col[lo : day + 1]]
        for name, col in sorted(source.columns.items())
        if name != "VIX.term_slope"
    }
    hist = StateHistory(dates=source.dates[lo : day + 1], series=series)
    data = state.model_dump()
    data["history"] = hist.model_dump()
    return State.model_validate(data)


def _fired_record(
    sim: Simulator,
    day: int,
    d: Decision,
    no_hedge: bool,
    counts: dict[str, int],
    last_fired: dict[str, dt.date],
    date: dt.date,
) -> dict[str, Any]:
    actions = []
    applied = False
    for a in d.actions:
        rec = a.to_dict()
        if a.status == "apply":
            fill = _apply(sim, day, d.rule, a, no_hedge)
            rec["fill"] = fill.summary
            rec["trades"] = sorted({t["trade_id"] for t in fill.trades}, key=_trade_number)
            if fill.done:
                applied = True
                _count(a, counts)
            else:
                rec["status"] = "disabled" if fill.disabled else "unfilled"
        actions.append(rec)
    if applied:
        last_fired[d.rule] = date
    out: dict[str, Any] = {
        "date": date.isoformat(),
        "rule": d.rule,
        "title": d.title,
        "priority": d.priority,
        "status": "fired",
        "actions": actions,
    }
    if d.trace is not None:
        out["trace"] = d.trace.to_dict()
    if d.unless_trace is not None:
        out["unless_trace"] = d.unless_trace.to_dict()
    return out


def _trade_number(trade_id: str) -> int:
    return int(trade_id.lstrip("T"))


def _near_miss_record(date: dt.date, d: Decision) -> dict[str, Any]:
    out: dict[str, Any] = {
        "date": date.isoformat(),
        "rule": d.rule,
        "title": d.title,
        "priority": d.priority,
        "status": "near_miss",
        "near_miss": d.near_miss,
        "reason": f"only `{d.near_miss}` failed",
    }
    if d.trace is not None:
        out["trace"] = d.trace.to_dict()
    return out


def _count(a: ResolvedAction, counts: dict[str, int]) -> None:
    kind = a.kind
    if kind == "roll_condor":
        counts["rolls"] += 1
    elif kind == "shift_hedge":
        counts["migrations"] += 1
    elif kind == "alert":
        counts["alerts"] += 1
    elif kind == "open_condor":
        counts["opens"] += 1
    elif kind == "close":
        counts["closes"] += 1
    if kind in HEDGE_KINDS or (kind == "close" and a.args.get("target") == "hedge"):
        counts["hedge_trades"] += 1


def summarise(
    rows: list[dict[str, Any]],
    sim: Simulator,
    counts: dict[str, int],
    fired_by_rule: dict[str, int],
    config: DryRunConfig,
) -> dict[str, Any]:
    """The summary figures of one run."""
    start = config.starting_equity
    equity = np.array([r["equity"] for r in rows], dtype=np.float64)
    pnl = np.array([r["pnl"] for r in rows], dtype=np.float64)
    peak = np.maximum.accumulate(np.concatenate([[start], equity]))[1:]
    drawdown = peak - equity
    worst = int(np.argmin(pnl)) if len(pnl) else 0
    dd_at = int(np.argmax(drawdown)) if len(drawdown) else 0
    eff = np.array([abs(r["eff_gamma_max"]) for r in rows])
    eff_after = np.array([abs(r["eff_gamma_max_after"]) for r in rows])
    short = np.array([max(0.0, -r["eff_gamma_min"]) for r in rows])
    gamma = np.array([abs(r["gamma"]) for r in rows])
    dte = np.array([np.nan if r["front_dte"] is None else r["front_dte"] for r in rows])
    near = dte <= config.risk.near_expiry_dte
    hedge_pnl = sum(t["cash_flow"] for t in sim.trades if t["instrument"].startswith("VIX")) + (
        rows[-1]["hedge_value"] if rows else 0.0
    )
    hedge_premium = -sum(
        float(t["cash_flow"])
        for t in sim.trades
        if t["instrument"] == "VIX call" and t["action"] != "settle" and t["cash_flow"] < 0
    )
    final = float(equity[-1]) if len(equity) else start
    years = len(rows) / 252.0

    def peak_of(values: Any, mask: Any = None) -> float:
        vals = values if mask is None else values[mask]
        return float(np.nanmax(vals)) if len(vals) else 0.0

    return {
        "start": rows[0]["date"] if rows else None,
        "end": rows[-1]["date"] if rows else None,
        "days": len(rows),
        "starting_equity": start,
        "final_equity": clean(final),
        "total_pnl": clean(final - start),
        "return_pct": clean((final / start - 1.0) * 100.0),
        "cagr_pct": clean(((final / start) ** (1.0 / years) - 1.0) * 100.0)
        if years > 0 and final > 0
        else None,
        "max_drawdown": clean(float(drawdown.max()) if len(drawdown) else 0.0),
        "max_drawdown_date": rows[dd_at]["date"] if rows else None,
        "min_equity": clean(float(equity.min())) if len(equity) else start,
        "min_equity_date": rows[int(np.argmin(equity))]["date"] if rows else None,
        "worst_day": clean(float(pnl[worst]) if len(pnl) else 0.0),
        "worst_day_date": rows[worst]["date"] if rows else None,
        "condors_opened": counts["opens"],
        "rolls": counts["rolls"],
        "closes": counts["closes"],
        "migrations": counts["migrations"],
        "hedge_trades": counts["hedge_trades"],
        "alerts": counts["alerts"],
        "expiries_settled": sim.settled,
        "hedge_pnl": clean(round(hedge_pnl, 2)),
        "hedge_premium_paid": clean(round(hedge_premium, 2)),
        "commissions": clean(round(sum(t["commission"] for t in sim.trades), 2)),
        "trades": len(sim.trades),
        "peak_eff_gamma": clean(peak_of(eff)),
        "peak_eff_gamma_after": clean(peak_of(eff_after)),
        "near_expiry_dte": config.risk.near_expiry_dte,
        "near_expiry_days": int(near.sum()),
        "near_expiry_peak_eff_gamma": clean(peak_of(eff, near)),
        "near_expiry_mean_eff_gamma": clean(float(eff[near].mean())) if near.any() else None,
        "peak_short_eff_gamma": clean(peak_of(short)),
        "near_expiry_peak_short_eff_gamma": clean(peak_of(short, near)),
        "peak_model_gamma": clean(peak_of(gamma)),
        "near_expiry_peak_model_gamma": clean(peak_of(gamma, near)),
        "rules_fired": fired_by_rule,
    }


# ----------------------------------------------------------------------- API

BookLike = Book | str | os.PathLike[str]


def _load_book(book: BookLike, params: dict[str, Any] | None) -> Book:
    if isinstance(book, Book):
        if params:
            raise ValueError("params apply when loading a book: pass a path, or load it yourself")
        return book
    from ..api import load

    return load(book, params)


def _sha256_text(sources: dict[str, str]) -> str:
    h = hashlib.sha256()
    for name in sorted(sources):
        h.update(name.encode() + b"\0" + sources[name].encode() + b"\0")
    return h.hexdigest()


def series_source(market: MarketData) -> SeriesSource:
    """History arrays under the language's series names, for indicators and `crosses`."""
    frame = market.history.frame
    columns: dict[str, Any] = {"SPX": market.spx, "VIX": market.vix}
    if "vvix" in frame:
        columns["VVIX"] = market.vvix
    for k in range(market.curve.price.shape[1]):
        columns[f"VIX.M{k + 1}"] = market.curve.price[:, k]
    for col in ("advances", "declines"):
        if col in frame:
            columns[col] = frame[col].to_numpy(dtype=np.float64)
    return SeriesSource(market.pydates, columns)


def dryrun(
    book: BookLike,
    history: Any = None,
    config: DryRunConfig | None = None,
    *,
    baseline: BookLike | Literal["no-hedge"] | None = "no-hedge",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    params: dict[str, Any] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    capture: Collection[str | dt.date] = (),
) -> DryRunResult:
    """Replay a rulebook over market history, with a baseline on the same data.

    ``book`` is a path or a loaded :class:`~alvh_dsl.lang.evaluate.Book`; ``history`` a
    :class:`~alvh_dsl.market.history.History`, a file path (CSV/Parquet in our
    format), or ``None`` for the built-in synthetic history. ``baseline`` is
    ``"no-hedge"`` (the same book with every hedge action disabled), another book,
    or ``None``. ``start``/``end`` restrict the history (inclusive). ``progress``
    is called as ``progress(label, day, days)``. ``capture`` lists dates whose
    state the main run keeps in ``result.run.states`` (see :func:`run_book`).
    """
    from ..market.history import History, load_history
    from ..market.synth import default_history

    config = config or DryRunConfig()
    main_book = _load_book(book, params)
    if history is None:
        hist = default_history()
    elif isinstance(history, History):
        hist = history
    else:
        hist = load_history(history)
    if start is not None or end is not None:
        hist = hist.between(start, end)
    pricing, curve_cfg, risk_cfg = config.market_configs()
    market = MarketData.build(hist, pricing, curve_cfg, risk_cfg)
    source = series_source(market)
    runs: list[tuple[str, Book, bool]] = [("book", main_book, False)]
    if baseline == "no-hedge":
        runs.append(("baseline: no hedge", main_book, True))
    elif baseline is not None:
        other = _load_book(baseline, None)
        name = other.name if isinstance(baseline, Book) else Path(str(baseline)).name
        runs.append((f"baseline: {name}", other, False))
    wanted = {dt.date.fromisoformat(d) if isinstance(d, str) else d for d in capture}
    results = []
    for label, b, no_hedge in runs:
        tick = None
        if progress is not None:
            cb, total = progress, len(market)

            def tick(day: int, cb: Any = cb, label: str = label, total: int = total) -> None:
                cb(label, day, total)

        # Indicator arrays are cached per source; a different book gets its own.
        src = source if b is main_book else series_source(market)
        results.append(
            run_book(
                b, market, src, config, label=label, no_hedge=no_hedge, progress=tick,
                capture=wanted if label == "book" else (),
            )
        )  # fmt: skip
    prov = hist.provenance
    history_hash = prov.sha256 if hasattr(prov, "sha256") else ""
    notes = list(market.notes)
    if hist.synthetic:
        notes.insert(0, f"history is synthetic ({prov.generator or 'built-in generator'})")
    for r in results:
        if r.summary["min_equity"] < 0:
            notes.append(
                f"{r.label}: equity fell below zero ({r.summary['min_equity']:,.2f} on "
                f"{r.summary['min_equity_date']}); the dry-run models no margin calls"
            )
    notes.extend(_model_notes(config))
    sources = dict(main_book.program.sources)
    return DryRunResult(
        run=results[0],
        baseline=results[1] if len(results) > 1 else None,
        book=main_book,
        config=config,
        history_provenance=prov,
        history_sha256=history_hash() if callable(history_hash) else str(history_hash),
        book_sources=sources,
        book_sha256=_sha256_text(sources),
        notes=notes,
        baseline_book=runs[1][1] if len(runs) > 1 and runs[1][1] is not main_book else None,
    )


def _model_notes(config: DryRunConfig) -> list[str]:
    r, p, c = config.risk, config.pricing, config.costs
    return [
        "SPX options: Black–Scholes–Merton, implied vol VIX / 100"
        + (f" with skew {p.skew:g} per unit log-moneyness" if p.skew else " (no skew)"),
        "VIX options: Black-76 on the future of their expiry, vol VVIX / 100 "
        f"(else {p.vix_option_vol:g})",
        f"fills at model mid ± slippage (SPX {c.spx_option_slippage:g}, VIX options "
        f"{c.vix_option_slippage:g}, VIX futures {c.vix_future_slippage:g} points per contract "
        f"and leg); commissions ${c.spx_option_commission:g} / ${c.vix_option_commission:g} / "
        f"${c.vix_future_commission:g} per contract and leg",
        f"effective gamma: SPX moves {r.grid_low:+.0%} … {r.grid_high:+.0%} in "
        f"{r.grid_step:.0%} steps; ln(VIX′/VIX) = −β·m with β = {r.beta_down:g} down, "
        f"{r.beta_up:g} up; futures move exp(−κτ) times as much in log terms"
        + (f" (dampening {r.futures_dampening})" if r.futures_dampening else ""),
        f"near expiry: front condor DTE ≤ {r.near_expiry_dte}",
    ]
