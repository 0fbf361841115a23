"""The position state a rulebook is evaluated against (``alvh eval --state``, the dry-run).

A :class:`State` is one snapshot: the date, market levels and VIX futures by
month, a recent history of market series (for indicators and ``crosses``),
the open condors, the VIX hedge layers, the book's dollar greeks, equity and
cash, and the date each rule last fired (for cooldowns). It is plain data,
loadable from JSON (:func:`load_state`), with a JSON Schema (``alvh schema``).

:meth:`State.value` is where every name of the language gets its value; a
value that does not exist (flat book, missing month, no hedge) comes back as
:class:`Unknown` with the reason, never as NaN.
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeAlias, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from ..errors import StateError
from ..fileio import FileTooLargeError, read_regular_file
from .diagnostics import Diagnostic, data_span, error

if TYPE_CHECKING:  # pragma: no cover
    from .plain import PlainCondor, PlainHedge, PlainMarket, PlainQuote, PlainState

    StateLike: TypeAlias = "State | PlainState"

SPX_MULTIPLIER = 100.0
VIX_OPTION_MULTIPLIER = 100.0
VIX_FUTURE_MULTIPLIER = 1000.0


class Unknown:
    """A value the state cannot provide, and why. Falsy in no sense: check with ``is_unknown``."""

    __slots__ = ("reason",)

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __repr__(self) -> str:
        return f"Unknown({self.reason!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Unknown) and other.reason == self.reason

    def __hash__(self) -> int:
        return hash(self.reason)


Value = float | bool | Unknown


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


class Greeks(_Model):
    """Greeks. Per contract (in points) for a condor; in dollars for the book."""

    delta: float = 0.0
    gamma: float = 0.0
    theta: float = 0.0
    vega: float = 0.0


class FutureQuote(_Model):
    """A VIX futures month: settlement price and expiry. Month 1 is the nearest unexpired."""

    month: int = Field(ge=1, le=9)
    price: float | None = Field(default=None, gt=0)
    expiry: dt.date | None = None
    modelled: bool = False  # true when the price comes from a model, not the market


class MarketReads:
    """What the evaluator reads of a market beyond its fields (shared by :class:`Market`
    and :class:`PlainMarket`)."""

    __slots__ = ()
    if TYPE_CHECKING:  # the fields of the classes it serves (no fields of its own)
        futures: Sequence[FutureQuote | PlainQuote]

    def future(self, month: int) -> FutureQuote | PlainQuote | None:
        for f in self.futures:
            if f.month == month:
                return f
        return None


class Market(MarketReads, _Model):
    SPX: float = Field(gt=0)
    VIX: float = Field(gt=0)
    VVIX: float | None = Field(default=None, gt=0)
    futures: list[FutureQuote] = Field(default_factory=list)

    @model_validator(mode="after")
    def _months_unique(self) -> Market:
        months = [f.month for f in self.futures]
        if len(months) != len(set(months)):
            raise ValueError("each VIX futures month may appear once")
        return self


class CondorReads:
    """A condor's derived values (shared by :class:`Condor` and :class:`PlainCondor`)."""

    __slots__ = ()
    if TYPE_CHECKING:  # the fields of the classes it serves (no fields of its own)
        short_put: float
        long_put: float
        short_call: float
        long_call: float
        credit: float
        mark: float | None
        pnl: float | None
        quantity: int

    @property
    def width(self) -> float:
        return max(self.short_put - self.long_put, self.long_call - self.short_call)

    def open_pnl(self) -> float | None:
        if self.pnl is not None:
            return self.pnl
        if self.mark is not None:
            return (self.credit - self.mark) * SPX_MULTIPLIER * self.quantity
        return None


class Condor(CondorReads, _Model):
    """An open SPX iron condor. Strikes in index points; credit and mark in points per unit."""

    id: str | None = None
    expiry: dt.date
    quantity: int = Field(default=1, ge=1)
    short_put: float = Field(gt=0)
    long_put: float = Field(gt=0)
    short_call: float = Field(gt=0)
    long_call: float = Field(gt=0)
    credit: float = Field(description="credit received per unit, in points")
    mark: float | None = Field(default=None, description="cost to close per unit, in points")
    pnl: float | None = Field(default=None, description="open P&L in dollars (else from mark)")
    entry_date: dt.date | None = None
    target_delta: float | None = Field(default=None, description="short delta it was opened at")
    greeks: Greeks = Field(default_factory=Greeks, description="per contract, in points")

    @model_validator(mode="after")
    def _strikes_ordered(self) -> Condor:
        if not self.long_put < self.short_put <= self.short_call < self.long_call:
            raise ValueError("strikes must satisfy long_put < short_put <= short_call < long_call")
        return self


class HedgeReads:
    """A hedge position's derived values (shared by :class:`HedgeLayer` and
    :class:`PlainHedge`)."""

    __slots__ = ()
    if TYPE_CHECKING:  # the fields of the classes it serves (no fields of its own)
        kind: str

    @property
    def multiplier(self) -> float:
        return VIX_FUTURE_MULTIPLIER if self.kind == "future" else VIX_OPTION_MULTIPLIER


class HedgeLayer(HedgeReads, _Model):
    """A VIX hedge position: long (or short) futures, or a long call spread, on one VIX
    month. Positions sharing a ``layer`` are one layer (what one trade opened, part of
    it moved to another month); without ``layer`` each position is its own."""

    id: str | None = None
    layer: str | None = Field(
        default=None, description="the layer it belongs to; hedge.layers counts distinct ones"
    )
    kind: Literal["future", "call_spread"]
    quantity: int = Field(description="contracts; negative for short futures")
    expiry: dt.date | None = None
    month: int | None = Field(default=None, ge=1, le=9, description="used when expiry is absent")
    lower: float | None = Field(default=None, gt=0, description="long call strike")
    upper: float | None = Field(default=None, gt=0, description="short call strike")
    entry_price: float = Field(description="points: futures price, or spread debit")
    mark: float | None = None
    notional: float | None = Field(default=None, description="dollars; derived when absent")
    entry_date: dt.date | None = None

    @model_validator(mode="after")
    def _shape(self) -> HedgeLayer:
        if self.quantity == 0:
            raise ValueError("quantity cannot be 0")
        if self.kind == "call_spread":
            if self.lower is None or self.upper is None or not self.lower < self.upper:
                raise ValueError("a call spread needs strikes with lower < upper")
            if self.quantity < 0:
                raise ValueError("call spread layers are long: quantity must be positive")
        if self.expiry is None and self.month is None:
            raise ValueError("a hedge layer needs its expiry or its month")
        return self


class History(_Model):
    """Recent daily observations, oldest first. Series names are the language's
    (``SPX``, ``VIX``, ``VVIX``, ``VIX.M1`` …) plus ``advances`` / ``declines``
    for the A/D line. ``None`` marks a missing observation."""

    dates: list[dt.date]
    series: dict[str, list[float | None]]

    @model_validator(mode="after")
    def _aligned(self) -> History:
        n = len(self.dates)
        for name, values in self.series.items():
            if len(values) != n:
                raise ValueError(f"series {name!r} has {len(values)} values for {n} dates")
        for a, b in zip(self.dates, self.dates[1:], strict=False):
            if not a < b:
                raise ValueError(f"dates must increase: {a} is followed by {b}")
        return self


class StateReads:
    """What the evaluator reads of a state beyond its fields: the front condor, a
    layer's month and notional, the value of a name. Shared by :class:`State` (the
    pydantic model of a state file) and :class:`PlainState` (the dry-run's per-day
    snapshot), so both answer every name the same way."""

    __slots__ = ()
    if TYPE_CHECKING:  # the fields of the classes it serves (no fields of its own)
        date: dt.date
        market: Market | PlainMarket
        condors: Sequence[Condor | PlainCondor]
        hedges: Sequence[HedgeLayer | PlainHedge]
        last_fired: Mapping[str, dt.date]

    def front_condor(self) -> Condor | PlainCondor | None:
        """The open condor with the nearest expiry (``None`` when flat)."""
        condors = self.condors
        if len(condors) <= 1:  # the usual book: answer without building lists
            return condors[0] if condors else None
        live = [c for c in condors if c.expiry >= self.date]
        pool = live or self.condors
        return min(pool, key=lambda c: c.expiry) if pool else None

    def hedge_month(self, layer: HedgeLayer | PlainHedge) -> int | None:
        """The VIX month (1 = front) a layer is in today: found by its expiry in the
        futures list when both are known, else the layer's own ``month``."""
        if layer.expiry is not None:
            for f in self.market.futures:
                if f.expiry == layer.expiry:
                    return f.month
        return layer.month

    def layer_notional(self, layer: HedgeLayer | PlainHedge) -> float | None:
        if layer.notional is not None:
            return layer.notional
        month = self.hedge_month(layer)
        quote = self.market.future(month) if month is not None else None
        price = quote.price if quote is not None and quote.price is not None else None
        if price is None and layer.kind == "future":
            price = layer.mark if layer.mark is not None else layer.entry_price
        if price is None:
            return None
        return abs(layer.quantity) * layer.multiplier * price

    def value(self, name: str) -> Value:
        """The value of a language name in this state, or :class:`Unknown` with the reason."""
        getter = GETTERS.get(name)
        if getter is None:
            return Unknown(f"`{name}` is not a state value")
        value: Value = getter(self)
        return value

    def snapshot(self) -> Snapshot:
        """The values of this state's names, each computed on first use and then kept:
        one evaluation sees one snapshot, and pays only for the names it reads."""
        return Snapshot(cast("StateLike", self))


class State(StateReads, _Model):
    """Everything one evaluation sees."""

    date: dt.date
    market: Market
    history: History | None = None
    condors: list[Condor] = Field(default_factory=list)
    hedges: list[HedgeLayer] = Field(default_factory=list)
    greeks: Greeks = Field(default_factory=Greeks, description="book greeks in dollars")
    equity: float
    cash: float | None = None
    last_fired: dict[str, dt.date] = Field(default_factory=dict)


class Snapshot(dict[str, Value]):
    """A lazy, memoising view of a state's values (see :meth:`State.snapshot`)."""

    __slots__ = ("front", "state")

    def __init__(self, state: StateLike) -> None:
        # dict.__init__ is not called: an empty dict needs nothing from it.
        self.state = state
        self.front: Condor | PlainCondor | Unknown | None = _NOT_YET

    def __missing__(self, name: str) -> Value:
        getter = CONDOR_GETTERS.get(name)
        if getter is not None:
            front = self.front
            if front is _NOT_YET:
                # Several condor.* names per evaluation: find the front condor once.
                found = self.state.front_condor()
                front = self.front = found if found is not None else None
            value: Value = getter(self.state, front)
        else:
            value = self.state.value(name)
        self[name] = value
        return value


_NOT_YET = Unknown("not computed yet")


def _condor_attr(attr: str, label: str | None = None) -> Any:
    def get(state: StateLike) -> Value:
        return get_with_front(state, state.front_condor())

    flat = Unknown(f"{label or f'condor.{attr}'} is unknown: no condor is open")

    def get_with_front(state: StateLike, c: Condor | PlainCondor | None) -> Value:
        if c is None:
            return flat  # shared: an Unknown is never changed once made
        if attr == "DTE":
            return float((c.expiry - state.date).days)
        if attr in ("delta", "gamma", "theta", "vega"):
            return float(getattr(c.greeks, attr))
        if attr == "pnl":
            pnl = c.open_pnl()
            return pnl if pnl is not None else Unknown("condor.pnl is unknown: no mark or pnl")
        if attr == "credit":
            return c.credit * SPX_MULTIPLIER * c.quantity
        if attr == "max_loss":  # spec/domain.md: W − credit per unit, the wider wing
            return (c.width - c.credit) * SPX_MULTIPLIER * c.quantity
        if attr == "width":
            return c.width
        if attr == "quantity":
            return float(c.quantity)
        raise KeyError(attr)

    get.with_front = get_with_front  # type: ignore[attr-defined]
    return get


def _future(month: int) -> Any:
    def get(state: StateLike) -> Value:
        q = state.market.future(month)
        if q is None or q.price is None:
            return Unknown(f"VIX futures month {month} is not in the state")
        return q.price

    return get


def _term_slope(state: StateLike) -> Value:
    m1, m2 = state.market.future(1), state.market.future(2)
    if m1 is None or m2 is None or m1.price is None or m2.price is None:
        return Unknown("VIX.term_slope needs VIX futures months 1 and 2")
    return (m2.price - m1.price) / m1.price


def _hedge_notional(state: StateLike) -> Value:
    total = 0.0
    for layer in state.hedges:
        n = state.layer_notional(layer)
        if n is None:
            return Unknown("hedge.notional is unknown: a layer's month has no futures price")
        total += n
    return total


def _hedge_month_notional(month: int) -> Any:
    def get(state: StateLike) -> Value:
        total = 0.0
        for layer in state.hedges:
            if state.hedge_month(layer) != month:
                continue
            n = state.layer_notional(layer)
            if n is None:
                return Unknown(
                    f"hedge.M{month}.notional is unknown: no futures price for month {month}"
                )
            total += n
        return total

    return get


def _hedge_dte(state: StateLike) -> Value:
    expiries = []
    for layer in state.hedges:
        if layer.expiry is not None:
            expiries.append(layer.expiry)
        else:
            q = state.market.future(layer.month or 0)
            if q is not None and q.expiry is not None:
                expiries.append(q.expiry)
    if not state.hedges:
        return Unknown("hedge.DTE is unknown: there is no hedge")
    if not expiries:
        return Unknown("hedge.DTE is unknown: the hedge layers have no expiry dates")
    return float((min(expiries) - state.date).days)


def _optional(value: float | None, what: str) -> Value:
    return value if value is not None else Unknown(f"{what} is not in the state")


GETTERS: dict[str, Any] = {
    "SPX": lambda s: s.market.SPX,
    "VIX": lambda s: s.market.VIX,
    "VVIX": lambda s: _optional(s.market.VVIX, "VVIX"),
    "VIX.term_slope": _term_slope,
    "DTE": _condor_attr("DTE", "DTE"),  # the reason names what the book wrote
    "condor.count": lambda s: float(len(s.condors)),
    "hedge.notional": _hedge_notional,
    "hedge.layers": lambda s: float(
        len({h.layer or h.id or f"#{i}" for i, h in enumerate(s.hedges)})
    ),
    "hedge.DTE": _hedge_dte,
    "book.delta": lambda s: s.greeks.delta,
    "book.gamma": lambda s: s.greeks.gamma,
    "book.vega": lambda s: s.greeks.vega,
    "book.theta": lambda s: s.greeks.theta,
    "equity": lambda s: s.equity,
    "cash": lambda s: s.cash if s.cash is not None else s.equity,
}
_CONDOR_ATTRS = "DTE delta gamma theta vega pnl credit max_loss width quantity".split()
for _attr in _CONDOR_ATTRS:
    GETTERS[f"condor.{_attr}"] = _condor_attr(_attr)
# Getters of the front condor's values that take the front condor as an argument.
CONDOR_GETTERS: dict[str, Any] = {
    name: get.with_front for name, get in GETTERS.items() if hasattr(get, "with_front")
}
for _m in range(1, 10):
    GETTERS[f"VIX.M{_m}"] = _future(_m)
    GETTERS[f"hedge.M{_m}.notional"] = _hedge_month_notional(_m)


# A state is a few kilobytes; the history it may carry, a few hundred rows.
MAX_STATE_BYTES = 8 * 2**20


def load_state(path: str | Path) -> State:
    """Read and validate a state JSON file; :class:`StateError` names each bad JSON path."""
    file = str(path)
    try:
        text = read_regular_file(path, MAX_STATE_BYTES).decode("utf-8")
    except FileTooLargeError:
        raise _invalid(file, [("$", f"larger than {MAX_STATE_BYTES // 2**20} MiB")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise _invalid(file, [("$", f"cannot read the file: {exc}")]) from None
    return parse_state(text, file)


def _invalid(file: str, issues: list[tuple[str, str]]) -> StateError:
    """One E504 per (JSON path, message)."""
    diagnostics: list[Diagnostic] = [
        error("E504", message, data_span(file, path=path)) for path, message in issues
    ]
    return StateError(diagnostics, subject=file)


# Every number of a state file is below this in magnitude, as in a book (E009): far
# above any real price, quantity or amount, and far from a float's or a date's range.
MAX_STATE_NUMBER = 1e15
# Dates a book can meet: the cooldown arithmetic (at most 3650 days, E311) stays
# inside Python's calendar, which ends in 9999.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2199, 12, 31)


def parse_state(text: str, file: str = "<state>") -> State:
    """Validate state JSON text.

    Strict (issue 10): a number must be a JSON number, finite and below
    :data:`MAX_STATE_NUMBER` (not a string, not ``true``, not ``NaN``); a date an ISO
    string from :data:`FIRST_DATE` to :data:`LAST_DATE` (not a Unix time); a key
    appears once in its object; no condor or hedge has expired before the state's
    date. Every problem is an E504 at its JSON path.
    """
    try:
        data = json.loads(text, object_pairs_hook=_Object)
    except json.JSONDecodeError as exc:
        raise _invalid(
            file, [("$", f"not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})")]
        ) from None
    except RecursionError:
        raise _invalid(file, [("$", "nested too deeply to be a state")]) from None
    except ValueError as exc:  # an integer of more than 4300 digits
        raise _invalid(file, [("$", f"not a valid state: {exc}")]) from None
    issues = _json_issues(data)
    if issues:
        raise _invalid(file, issues)
    try:
        state = State.model_validate_json(text, strict=True)
    except ValidationError as exc:
        issues = []
        for err in exc.errors():
            path = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in err["loc"])
            issues.append((path, err["msg"]))
        raise _invalid(file, issues) from None
    issues = _date_issues(state)
    if issues:
        raise _invalid(file, issues)
    return state


class _Object(dict[str, Any]):
    """A JSON object that remembers the keys it was given more than once."""

    __slots__ = ("repeated",)

    def __init__(self, pairs: list[tuple[str, Any]]) -> None:
        super().__init__()
        self.repeated: list[str] = []
        for key, value in pairs:
            if key in self:
                self.repeated.append(key)
            self[key] = value


def _json_issues(data: Any) -> list[tuple[str, str]]:
    """Repeated keys and numbers out of range, at their JSON paths (iterative: any depth)."""
    issues: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(data, "$")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, _Object):
            for key in value.repeated:
                issues.append((f"{path}.{key}", "the key is given more than once"))
            stack.extend((v, f"{path}.{k}") for k, v in reversed(value.items()))
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in reversed(list(enumerate(value))))
        elif isinstance(value, bool):
            continue
        elif isinstance(value, float) and not math.isfinite(value):
            issues.append(
                (path, f"{json.dumps(value)} is not a number: JSON has no NaN or Infinity")
            )
        elif isinstance(value, int | float) and abs(value) >= MAX_STATE_NUMBER:
            issues.append((path, "the number is too large: numbers must be below 1e15"))
    return issues


def _date_issues(state: State) -> list[tuple[str, str]]:
    """Dates outside FIRST_DATE … LAST_DATE; condors and hedges expired before the date."""
    issues: list[tuple[str, str]] = []
    stack: list[tuple[Any, str]] = [(state, "$")]
    while stack:
        value, path = stack.pop()
        if isinstance(value, BaseModel):
            stack.extend((getattr(value, k), f"{path}.{k}") for k in type(value).model_fields)
        elif isinstance(value, list):
            stack.extend((v, f"{path}[{i}]") for i, v in enumerate(value))
        elif isinstance(value, dict):
            stack.extend((v, f"{path}.{k}") for k, v in value.items())
        elif isinstance(value, dt.date) and not FIRST_DATE <= value <= LAST_DATE:
            issues.append((path, f"{value} is outside {FIRST_DATE} … {LAST_DATE}"))
    expiries: list[tuple[str, str, dt.date | None]]
    expiries = [(f"$.condors[{i}].expiry", "condor", c.expiry) for i, c in enumerate(state.condors)]
    expiries += [(f"$.hedges[{i}].expiry", "hedge", h.expiry) for i, h in enumerate(state.hedges)]
    for path, what, expiry in expiries:
        if expiry is not None and expiry < state.date:
            issues.append(
                (
                    path,
                    f"the {what} expired on {expiry}, before the state's date {state.date}: "
                    "settle it and leave it out",
                )
            )
    return sorted(issues)


def state_schema() -> dict[str, Any]:
    """The JSON Schema of :class:`State` (what ``alvh schema`` prints)."""
    schema = State.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "ALVH evaluation state"
    return schema
