"""Issue 11's moonshot, sketched: K variants of a book in lock step, as arrays over a
variant axis — vectorbt's parameter broadcasting, for a rules language.

Run: ``python benchmarks/lockstep.py [--history FILE --gaps keep] [--from DATE] [--to DATE]
[--grid NAME=V1,V2,...]... [--quiet]`` (default: benchmarks/books/rolled_condor.alvh over
the built-in synthetic history, roll_dte × short_delta, 4 × 4 variants; ``--quiet``: the
timing line only, not a line per variant). Timed against the scalar
engine by benchmarks/bench_lockstep.py; cross-checked against it, variant by variant and
decision for decision, by tests/test_lockstep.py.

The book is read with the project's own loader and checker — one loaded
:class:`~alvh_dsl.lang.evaluate.Book` per variant, so a variant's values are parsed,
unit-checked and refused exactly as ``alvh dryrun --param`` would — and each rule's
``when`` / ``unless`` AST is compiled once into a function of arrays: every param a
``[K]`` array of the variants' values, every state name a ``[K]`` array of the variants'
state, NaN where the language's value is *unknown* (``condor.DTE`` of a flat book), and
conditions three-valued (Kleene: a pair of masks, true and false, unknown being
neither), as :mod:`alvh_dsl.lang.evaluate` decides them. One day of the whole sweep is
then: settle what expired, evaluate every rule for all K variants at once (a handful of
NumPy operations on ``[K]`` arrays, whatever K is), and apply the actions of the rules
that fired — by a loop over the variants that fired, which is a loop over events (about
one a month per variant), not over variants × days.

What does not depend on a variant's state is not computed per variant. The condor that
an open (or a roll) on each day would get — its expiry, strikes, mids, fills, credit —
depends only on the market and on the action's params, so it is computed once per
distinct (entry DTE, short delta, wings, quantity, roll month) over all days, by
benchmarks/numpy_condor.py's vectorised tables; and every variant's marks, over every
day it holds a condor, are priced together with all the other variants' (their rows
concatenated, in chunks), its cash a cumulative sum of the legs' cash flows. The fills, marks,
settlement and cent rounding are numpy_condor's, which equal the engine's to the cent
(tests/test_numpy_reference.py).

What the sketch evaluates (anything else it refuses with :class:`Unsupported`, naming
what it met): the state names ``condor.count`` and ``condor.DTE`` (or ``DTE``), and the
market's ``SPX``, ``VIX`` and ``VVIX`` (one value a day for every variant); params,
defines, numbers, arithmetic, comparisons, ``between``, ``and`` / ``or`` / ``not``; the
actions ``open iron condor near D short delta X wings W [quantity Q]`` and ``roll condor
to month N keeping delta``; no cooldowns, indicators or hedges. It computes what a
sweep's row needs of the P&L — daily equity, trades, the decisions that fired — not the
daily risk columns (greeks, effective gamma, scenario P&L) the engine also writes.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

HERE = Path(__file__).resolve().parent
for _p in (str(HERE.parent), str(HERE)):
    if _p not in sys.path:
        sys.path.insert(0, _p)

import numpy_condor as nc  # noqa: E402

from alvh_dsl.lang import ast as A  # noqa: E402
from alvh_dsl.lang.evaluate import Book  # noqa: E402
from alvh_dsl.market.history import History  # noqa: E402
from alvh_dsl.market.pricing import SPX_MULTIPLIER  # noqa: E402

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
Tri = tuple[BoolArray, BoolArray]  # (true, false): unknown is neither
State = Mapping[str, FloatArray]
Num = Callable[[State], FloatArray]
Cond = Callable[[State], Tri]

BOOK = HERE / "books" / "rolled_condor.alvh"
STATE_NAMES = ("condor.count", "condor.DTE", "DTE")  # `DTE` is `condor.DTE`'s short name
# Market names: one value a day, the same for every variant (a scalar that broadcasts);
# the history's close, NaN (unknown) where the history has none.
MARKET_NAMES = {"SPX": "spx", "VIX": "vix", "VVIX": "vvix"}


class Unsupported(Exception):
    """The book uses something this sketch does not evaluate in lock step."""


# ------------------------------------------------------------- the array evaluator


def _number(n: A.Number) -> float:
    return n.value / 100 if n.unit == "percent" else n.value  # as lang/compiler.py reads it


@dataclass
class Compiler:
    """Compiles expressions into functions of the day's ``[K]`` state arrays."""

    books: Sequence[Book]  # one per variant, in variant order
    reads: set[str] = field(default_factory=set)  # the state names the book reads

    def __post_init__(self) -> None:
        first = self.books[0]
        self.defines = first.program.defines
        self.params: dict[str, FloatArray] = {
            name: np.array([_number(b.params[name]) for b in self.books], dtype=np.float64)
            for name in first.params
        }

    def num(self, e: A.Expr) -> Num:
        match e:
            case A.Number():
                value = np.float64(_number(e))
                return lambda s: value  # a scalar: it broadcasts against [K] arrays
            case A.Name(name=name) if name in self.params:
                values = self.params[name]
                return lambda s: values
            case A.Name(name=name) if name in self.defines:
                return self.num(self.defines[name].expr)
            case A.Name(name=name) if name in STATE_NAMES or name in MARKET_NAMES:
                self.reads.add(name)
                return lambda s: s[name]
            case A.Neg(operand=operand):
                f = self.num(operand)
                return lambda s: -f(s)
            case A.BinOp(op=op, left=left, right=right) if op != "of":
                lf, rf = self.num(left), self.num(right)
                ops: dict[str, Callable[[FloatArray, FloatArray], FloatArray]] = {
                    "+": np.add, "-": np.subtract, "*": np.multiply,
                    "/": lambda a, b: np.divide(a, np.where(b == 0, np.nan, b)),  # ÷0: unknown
                }  # fmt: skip
                fn = ops[op]
                return lambda s: fn(lf(s), rf(s))
        raise Unsupported(f"`{e.kind}` {getattr(e, 'name', '')} as a number".rstrip())

    def cond(self, e: A.Expr) -> Cond:
        match e:
            case A.Name(name=name) if name in self.defines:
                return self.cond(self.defines[name].expr)
            case A.Compare(op=op, left=left, right=right):
                lf, rf = self.num(left), self.num(right)
                test: Callable[[FloatArray, FloatArray], BoolArray] = {
                    "<": np.less, "<=": np.less_equal, ">": np.greater,
                    ">=": np.greater_equal, "==": np.equal, "!=": np.not_equal,
                }[op]  # fmt: skip

                def compare(s: State) -> Tri:
                    a, b = lf(s), rf(s)  # [K] arrays or scalars: they broadcast
                    known = ~(np.isnan(a) | np.isnan(b))
                    hit = test(a, b)
                    return known & hit, known & ~hit

                return compare
            case A.Between(value=value, low=low, high=high):
                vf, lo, hi = self.num(value), self.num(low), self.num(high)

                def between(s: State) -> Tri:
                    v, a, b = vf(s), lo(s), hi(s)
                    known = ~(np.isnan(v) | np.isnan(a) | np.isnan(b))
                    hit = (a <= v) & (v <= b)
                    return known & hit, known & ~hit

                return between
            case A.Not(operand=operand):
                f = self.cond(operand)
                return lambda s: f(s)[::-1]  # true and false swap; unknown stays
            case A.BoolOp(op=op, operands=operands):
                parts = [self.cond(o) for o in operands]

                def boolop(s: State) -> Tri:
                    true, false = parts[0](s)
                    for part in parts[1:]:
                        t, f = part(s)
                        if op == "and":  # Kleene: false wins, then unknown
                            true, false = true & t, false | f
                        else:  # true wins, then unknown
                            true, false = true | t, false & f
                    return true, false

                return boolop
        raise Unsupported(f"`{e.kind}` as a condition")

    def constant(self, e: A.Expr, what: str) -> FloatArray:
        """An action's argument: one value per variant, read from no state."""
        before = set(self.reads)
        values = np.broadcast_to(self.num(e)({}), (len(self.books),)).astype(np.float64)
        if self.reads != before:
            raise Unsupported(f"{what} read from the state")
        return values


# --------------------------------------------------------------- rules and actions


@dataclass
class Rule:
    """One rule compiled for the variant axis."""

    id: str
    when: Cond
    unless: Cond | None
    action: str  # "open" or "roll"


@dataclass(frozen=True)
class MarketKey:
    """What an open or a roll on a day would trade depends on these alone."""

    entry_dte: int
    short_delta: float
    wings: float
    quantity: int
    roll_month: int


def compile_rules(books: Sequence[Book]) -> tuple[list[Rule], list[MarketKey], set[str]]:
    """The rules in the engine's execution order, each variant's market key, the state
    names read."""
    comp = Compiler(books)
    rules: list[Rule] = []
    opens: list[A.OpenCondor] = []
    months: list[A.Expr] = []
    for cr in books[0].rules:  # execution order: priority, then book order
        r = cr.rule
        if r.cooldown is not None:
            raise Unsupported(f"rule `{r.id}`: a cooldown")
        if r.when is None or len(r.actions) != 1:
            raise Unsupported(f"rule `{r.id}`: one action per rule")
        act = r.actions[0]
        if isinstance(act, A.OpenCondor) and isinstance(act.expiry, A.NearDays):
            opens.append(act)
            kind = "open"
        elif (
            isinstance(act, A.RollCondor)
            and act.keeping == "delta"
            and isinstance(act.to, A.ByMonth)
        ):
            months.append(act.to.month)
            kind = "roll"
        else:
            raise Unsupported(f"rule `{r.id}`: the action `{act.kind}`")
        unless = comp.cond(r.unless) if r.unless is not None else None
        rules.append(Rule(r.id, comp.cond(r.when), unless, kind))
    if len(opens) != 1 or len(months) > 1:
        raise Unsupported("one open and at most one roll action")
    op = opens[0]
    assert isinstance(op.expiry, A.NearDays)
    # A loaded book has both (the checker's E305); the quantity defaults to one contract.
    assert op.short_delta is not None and op.wings is not None
    ones = np.ones(len(books))
    near = comp.constant(op.expiry.days, "the entry DTE")
    delta = comp.constant(op.short_delta, "the short delta")
    wings = comp.constant(op.wings, "the wings")
    qty = comp.constant(op.quantity, "the quantity") if op.quantity is not None else ones
    month = comp.constant(months[0], "the roll month") if months else 2 * ones
    for values, what in ((near, "entry DTE"), (qty, "quantity"), (month, "roll month")):
        if not np.array_equal(values, np.round(values)):
            raise Unsupported(f"a fractional {what}")  # numpy_condor's tables take whole ones
    keys = [
        MarketKey(int(near[k]), float(delta[k]), float(wings[k]), int(qty[k]), int(month[k]))
        for k in range(len(books))
    ]
    return rules, keys, comp.reads


# ------------------------------------------------------------------ the lock step


@dataclass
class Trades:
    """Every trade leg of every variant, as columns in booking order within a variant:
    numpy_condor's trade rows (day, action, strike, quantity, mid, fill, cash flow)."""

    variant: npt.NDArray[np.intp]
    day: npt.NDArray[np.intp]
    action: npt.NDArray[np.str_]  # "open", "roll" or "settle"
    strike: FloatArray
    quantity: npt.NDArray[np.int64]
    mid: FloatArray
    fill: FloatArray
    cash_flow: FloatArray  # rounded to the cent per leg, as the engine books it

    def of(self, k: int) -> list[tuple[Any, ...]]:
        """Variant ``k``'s legs as numpy_condor's rows (the day as an index)."""
        at = np.flatnonzero(self.variant == k)
        cols = (self.day, self.action, self.strike, self.quantity, self.mid, self.fill,
                self.cash_flow)  # fmt: skip
        return list(zip(*(c[at].tolist() for c in cols), strict=True))


@dataclass
class Sweep:
    """K variants' daily equity, trades and fired decisions."""

    dates: npt.NDArray[np.datetime64]
    equity: FloatArray  # [K, days], $ unrounded
    trades: Trades
    # Per variant, each firing: (date, rule id, whether its action traded). A rule that
    # fires may trade nothing: an open on a day no condor has a credit, a roll to the
    # month the condor already expires in.
    fired: list[list[tuple[str, str, bool]]]
    seconds: dict[str, float]


@dataclass
class _Tables:
    """Every distinct open / roll table (numpy_condor's ``_Entries``), stacked: what a
    condor opened from table ``j`` on day ``d`` is ``[j, :, d]``."""

    expiry: npt.NDArray[np.int64]  # [J, days], day numbers
    ok: BoolArray  # [J, days]
    strikes: FloatArray  # [J, 4, days]
    mids: FloatArray
    fills: FloatArray

    @classmethod
    def stack(cls, entries: Sequence[nc._Entries]) -> _Tables:
        return cls(
            np.stack([e.expiry.astype("datetime64[D]").astype(np.int64) for e in entries]),
            np.stack([e.ok for e in entries]),
            np.stack([e.strikes for e in entries]),
            np.stack([e.mids for e in entries]),
            np.stack([e.fills for e in entries]),
        )


SETTLE, CLOSE, OPEN = 0, 1, 2
CHUNK = 16_384  # rows per pricing call in the valuation


@dataclass
class _Book:
    """The lock step's records: every condor's life and every event, as growing lists."""

    table: list[int] = field(default_factory=list)  # per life: its table
    variant: list[int] = field(default_factory=list)
    opened: list[int] = field(default_factory=list)
    ended: list[int] = field(default_factory=list)  # the day rolled or settled
    rolled: list[bool] = field(default_factory=list)
    # Per event, in booking order: variant, day, kind (0 settle, 1 close, 2 open), life.
    events: list[tuple[int, int, int, int]] = field(default_factory=list)

    def open(self, k: int, day: int, table: int) -> int:
        life = len(self.table)
        self.table.append(table)
        self.variant.append(k)
        self.opened.append(day)
        self.ended.append(-1)
        self.rolled.append(False)
        self.events.append((k, day, OPEN, life))
        return life


def run(books: Sequence[Book], history: History, starting_equity: float = 250_000.0) -> Sweep:
    """Every variant of ``books`` (one loaded book per variant, the same rulebook) over
    ``history``, in lock step."""
    t0 = time.process_time()
    rules, keys, reads = compile_rules(books)
    kk = len(books)
    markets: dict[MarketKey, nc._Market] = {}
    for key in dict.fromkeys(keys):
        terms = nc.Terms(
            entry_dte=key.entry_dte, short_delta=key.short_delta, wings=key.wings,
            quantity=key.quantity, roll_month=key.roll_month, starting_equity=starting_equity,
        )  # fmt: skip
        markets[key] = nc._Market(history, terms)
    index = {key: i for i, key in enumerate(markets)}
    # Tables 2i and 2i + 1: market i's open and roll; per variant, its two.
    tables = _Tables.stack([e for m in markets.values() for e in (m.open, m.roll)])
    table_qty = np.repeat([m.terms.quantity for m in markets.values()], 2).astype(np.float64)
    open_table = np.array([2 * index[key] for key in keys], dtype=np.intp)
    roll_table = open_table + 1
    first = next(iter(markets.values()))
    t1 = time.process_time()

    dates = first.dates
    day_no = dates.astype(np.int64)
    n = len(dates)
    rec = _Book()
    held = np.zeros(kk, dtype=bool)
    expiry = np.zeros(kk, dtype=np.int64)  # the held condor's, as a day number
    life = np.full(kk, -1, dtype=np.intp)
    fired: list[list[tuple[str, str, bool]]] = [[] for _ in range(kk)]
    nan = np.full(kk, np.nan)
    dte_names = [name for name in ("condor.DTE", "DTE") if name in reads]
    frame = history.frame
    market = {
        name: frame[col].to_numpy(dtype=np.float64) if col in frame else np.full(n, np.nan)
        for name, col in MARKET_NAMES.items()
        if name in reads
    }
    for day in range(n):
        today = day_no[day]
        # Settlements first: a condor whose expiry is today or passed in a gap.
        for k in np.flatnonzero(held & (expiry <= today)).tolist():
            rec.ended[life[k]] = day
            rec.events.append((k, day, SETTLE, int(life[k])))
            held[k], life[k] = False, -1
        state: dict[str, FloatArray] = {"condor.count": held.astype(np.float64)}
        if dte_names:
            dte = np.where(held, (expiry - today).astype(np.float64), nan)
            state.update(dict.fromkeys(dte_names, dte))
        for name, values in market.items():
            state[name] = values[day]  # a scalar: it broadcasts against [K] arrays
        # One evaluation: every rule on the same state, then the actions in rule order,
        # a target acted on by an earlier rule superseding a later rule's action.
        fires = []
        for rule in rules:
            fire = rule.when(state)[0]
            if rule.unless is not None:
                fire = fire & ~rule.unless(state)[0]
            fires.append(fire if np.ndim(fire) else np.full(kk, bool(fire)))
        if not any(f.any() for f in fires):
            continue
        consumed = np.zeros(kk, dtype=bool)
        date = str(dates[day])
        for rule, fire in zip(rules, fires, strict=True):
            for k in np.flatnonzero(fire).tolist():
                traded = False
                if not consumed[k]:  # else superseded: an earlier rule acted on the condor
                    consumed[k] = True
                    if rule.action == "open":
                        traded, table = bool(tables.ok[open_table[k], day]), open_table[k]
                    elif held[k] and tables.expiry[roll_table[k], day] != expiry[k]:
                        traded, table = True, roll_table[k]
                        c = int(life[k])
                        rec.ended[c], rec.rolled[c] = day, True
                        rec.events.append((k, day, CLOSE, c))
                        held[k], life[k] = False, -1
                    if traded and tables.ok[table, day]:  # a roll with no credit only closes
                        life[k] = rec.open(k, day, int(table))
                        held[k], expiry[k] = True, tables.expiry[table, day]
                fired[k].append((date, rule.id, traded))
    for k in np.flatnonzero(life >= 0).tolist():
        rec.ended[life[k]] = n
    t2 = time.process_time()
    equity, trades = _value(first, tables, table_qty, rec, kk, n, starting_equity)
    t3 = time.process_time()
    seconds = {"market tables": t1 - t0, "lock step": t2 - t1, "valuation": t3 - t2}
    return Sweep(dates, equity, trades, fired, seconds)


def _value(
    m: nc._Market,
    tables: _Tables,
    table_qty: FloatArray,
    rec: _Book,
    kk: int,
    n: int,
    starting_equity: float,
) -> tuple[FloatArray, Trades]:
    """Every variant's marks priced together (all variants' held rows concatenated, in
    chunks), every trade leg of every variant as arrays, then each variant's cash and
    equity: numpy_condor.simulate's arithmetic, operation for operation. ``m`` gives the
    history's arrays and the costs every variant shares; ``table_qty`` each table's
    quantity (a variant's own, through the tables it opens from)."""
    slip, commission = m.terms.slippage, m.terms.commission
    equity = np.full((kk, n), starting_equity)
    dtypes = (np.intp, np.intp, "U6", float, np.int64, float, float, float)
    empty = Trades(*(np.empty(0, dtype=t) for t in dtypes))
    if not rec.table:
        return equity, empty
    table = np.array(rec.table, dtype=np.intp)
    variant = np.array(rec.variant, dtype=np.intp)
    opened = np.array(rec.opened, dtype=np.intp)
    ended = np.array(rec.ended, dtype=np.intp)
    rolled = np.array(rec.rolled, dtype=np.intp)
    sizes = ended + rolled - opened  # the held days, and the roll day for the close
    first_row = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    owner = np.repeat(np.arange(len(table)), sizes)
    rows = opened[owner] + (np.arange(len(owner)) - first_row[owner])
    strikes = tables.strikes[table, :, opened]  # [lives, 4]
    expiry = tables.expiry[table, opened].astype("datetime64[D]")
    # In chunks: the same element-wise arithmetic, on temporaries that stay small (one
    # call over all the rows of 256 variants builds temporaries of tens of MB).
    mids = np.empty((4, len(rows)))
    for lo in range(0, len(rows), CHUNK):
        at = slice(lo, lo + CHUNK)
        mids[:, at] = m.leg_prices(rows[at], expiry[owner[at]], strikes[owner[at]].T)
    signed = nc.SIGN_COLUMN * mids
    unit_value = (((signed[0] + signed[1]) + signed[2]) + signed[3]) * SPX_MULTIPLIER
    held = rows < ended[owner]  # not the roll day
    value = np.zeros((kk, n))
    life_q = table_qty[table]  # each condor's quantity
    value[variant[owner][held], rows[held]] = unit_value[held] * life_q[owner][held]

    # The legs, four per event, in booking order within each variant.
    ev = np.array(sorted(rec.events, key=lambda e: e[0]), dtype=np.intp).reshape(-1, 4)
    ev_k, ev_day, ev_kind, ev_life = ev.T
    legs = len(ev) * 4
    sign = np.tile(np.array(nc.SIGNS, dtype=np.int64), len(ev))
    e = np.repeat(np.arange(len(ev)), 4)
    leg = np.tile(np.arange(4), len(ev))
    lf, day, kind = ev_life[e], ev_day[e], ev_kind[e]
    q = life_q[lf]
    comm = commission * q
    strike = strikes[lf, leg]
    mid, fill, flow = np.empty(legs), np.empty(legs), np.empty(legs)
    qty = (np.where(kind == OPEN, sign, -sign) * q).astype(np.int64)
    o = kind == OPEN
    mid[o] = tables.mids[table[lf[o]], leg[o], day[o]]
    fill[o] = tables.fills[table[lf[o]], leg[o], day[o]]
    flow[o] = -sign[o] * fill[o] * SPX_MULTIPLIER * q[o] - comm[o]
    c = kind == CLOSE
    mid[c] = mids[leg[c], first_row[lf[c]] + day[c] - opened[lf[c]]]
    fill[c] = np.maximum(mid[c] - sign[c] * slip, 0.0)
    flow[c] = sign[c] * fill[c] * SPX_MULTIPLIER * q[c] - comm[c]
    s = kind == SETTLE
    if s.any():
        settled = np.flatnonzero(ev_kind == SETTLE)
        price = {
            int(i): m.settlement_price(int(ev_day[i]), expiry[ev_life[i]]) for i in settled
        }  # one per settled condor: the history's rule for late settlements
        spot = np.array([price[int(i)] for i in e[s]])
        is_call = nc.IS_CALL[leg[s]]
        intrinsic = np.where(
            is_call, np.maximum(spot - strike[s], 0.0), np.maximum(strike[s] - spot, 0.0)
        )
        mid[s] = fill[s] = intrinsic
        flow[s] = sign[s] * intrinsic * SPX_MULTIPLIER * q[s]
    flow = _cents(flow)
    action = np.where(kind == SETTLE, "settle", "roll")
    action[o & (table[lf] % 2 == 0)] = "open"  # opened from an open table, not a roll's
    trades = Trades(ev_k[e], day, action, strike, qty, mid, fill, flow)

    # Cash: each variant's flows summed in its booking order, as the reference sums them.
    bounds = np.searchsorted(trades.variant, np.arange(kk + 1))
    for k in range(kk):
        lo, hi = bounds[k], bounds[k + 1]
        cash_after = np.cumsum(np.concatenate([[starting_equity], flow[lo:hi]]))
        cash = cash_after[np.searchsorted(day[lo:hi], np.arange(n), side="right")]
        equity[k] = cash + value[k]
    return equity, trades


def _cents(x: FloatArray) -> FloatArray:
    """``round(v, 2)`` of every value, as Python (and the engine) rounds it, in arrays:
    NumPy's ``round`` (``rint(v·100) / 100``) gives the same double except where ``v·100``
    lies within a rounding error of a half cent, where the product's own rounding can
    tip it; those few take Python's ``round``."""
    out = np.round(x, 2)
    scaled = np.abs(x * 100.0)
    near_half = np.flatnonzero(np.abs(scaled - np.floor(scaled) - 0.5) < 1e-6)
    out[near_half] = [round(v, 2) for v in x[near_half].tolist()]
    return out


# ---------------------------------------------------------------------- variants


def variants(grid: Mapping[str, Sequence[str]]) -> list[dict[str, str]]:
    """The grid's variants, the first parameter varying slowest (as ``alvh sweep``)."""
    names = list(grid)
    return [dict(zip(names, combo, strict=True)) for combo in itertools.product(*grid.values())]


def load_books(path: Path, grid: Sequence[Mapping[str, str]]) -> list[Book]:
    """One checked book per variant: the project's loader applies and checks each value."""
    from alvh_dsl.api import load

    return [load(path, params=dict(v)) for v in grid]


DEFAULT_GRID = {
    "roll_dte": ["3d", "5d", "7d", "10d"],
    "short_delta": ["0.10", "0.16", "0.22", "0.30"],
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--book", default=str(BOOK))
    parser.add_argument("--history", help="history file (default: the built-in synthetic one)")
    parser.add_argument("--gaps", choices=("error", "ffill", "keep"))
    parser.add_argument("--from", dest="start")
    parser.add_argument("--to", dest="end")
    parser.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2,...")
    parser.add_argument("--quiet", action="store_true", help="the timing line only")
    args = parser.parse_args(argv)
    grid = dict(DEFAULT_GRID) if not args.grid else {}
    for item in args.grid:
        name, _, values = item.partition("=")
        grid[name] = values.split(",")
    history = nc.load(args.history, args.gaps, args.start, args.end)
    vs = variants(grid)
    sweep = run(load_books(Path(args.book), vs), history)
    print(f"{len(vs)} variant(s) × {len(sweep.dates)} days in lock step; CPU: "
          + ", ".join(f"{k} {v:.3f} s" for k, v in sweep.seconds.items()))  # fmt: skip
    for v, eq, fired in zip(vs, sweep.equity, sweep.fired, strict=True) if not args.quiet else ():
        label = " ".join(f"{k}={x}" for k, x in v.items())
        print(f"  {label:32} P&L {eq[-1] - 250_000.0:>12,.2f}  "
              f"{len(fired)} decision(s) fired")  # fmt: skip


if __name__ == "__main__":
    main()
