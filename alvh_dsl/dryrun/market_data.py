"""Every per-day input a dry-run needs, as NumPy arrays over the history's days.

:class:`MarketData` is built once per run from a
:class:`~alvh_dsl.market.history.History` and the config: closes and settlement prices,
rates, dividend yields and VIX option vols (from the history, or the config's constants,
each substitution noted), and the VIX futures curve of
:mod:`alvh_dsl.market.termstructure`. The book and its baseline share it.
:func:`series_source` exposes the same arrays under the language's series names, for
indicators and ``crosses``.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt

from ..lang.plain import PlainMarket, PlainQuote
from ..market.calendars import nearest_expiries, nth_expiries
from ..market.history import History
from ..market.pricing import PricingConfig, market_inputs
from ..market.termstructure import TermStructure, TermStructureConfig, term_structure
from ..series import SeriesSource
from .config import RiskSection
from .moves import FloatArray, MoveSet

__all__ = ["ContractDays", "DayQuotes", "FloatArray", "MarketData", "Responses", "series_source"]

_T = TypeVar("_T")


@dataclass(frozen=True)
class Responses:
    """The market's response to an SPX move, as every repricing of the run uses it.

    ``futures``, ``option_vol_scale`` and ``option_vol`` hold one value per VIX futures
    month (index 0 = month 1). ``fits`` says where each value came from, for the report:
    ``{"value", "n", "se", "source"}`` with source ``fitted``, ``default`` or ``config``.
    """

    beta_down: float
    beta_up: float
    futures: FloatArray
    option_vol_scale: FloatArray
    option_vol: FloatArray
    fits: dict[str, Any]

    @classmethod
    def resolve(cls, history: History, risk: RiskSection, pricing_vol: float | None) -> Responses:
        """Fitted from ``history`` (:func:`alvh_dsl.market.calibration.calibrate`), each
        value the config fixes replaced by it."""
        from ..market.calibration import calibrate

        fitted = calibrate(history).to_dict()
        fits: dict[str, Any] = {k: fitted[k] for k in fitted}

        def fixed(value: float) -> dict[str, Any]:
            return {"value": value, "n": 0, "se": None, "source": "config"}

        if risk.beta_down is not None:
            fits["beta_down"] = fixed(risk.beta_down)
        if risk.beta_up is not None:
            fits["beta_up"] = fixed(risk.beta_up)
        months = len(fits["futures_response"])
        if risk.futures_dampening is not None:
            weights = list(risk.futures_dampening)
            # A shorter list: its last weight stands for the further months.
            weights += [weights[-1]] * (months - len(weights))
            fits["futures_response"] = [fixed(w) for w in weights[:months]]
        if pricing_vol is not None:
            fits["option_vol"] = [fixed(pricing_vol) for _ in range(months)]

        def values(key: str) -> FloatArray:
            return np.array([f["value"] for f in fits[key]], dtype=np.float64)

        return cls(
            beta_down=float(fits["beta_down"]["value"]),
            beta_up=float(fits["beta_up"]["value"]),
            futures=values("futures_response"),
            option_vol_scale=values("option_vol_scale"),
            option_vol=values("option_vol"),
            fits=fits,
        )


@dataclass(eq=False)
class MarketData:
    """Every per-day input the dry-run needs, as arrays over the history's days."""

    history: History
    dates: npt.NDArray[np.datetime64]  # datetime64[D]
    spx: FloatArray
    spx_settle: FloatArray  # the SPX value used for AM settlement (open when known)
    vix: FloatArray
    vix_settle: FloatArray
    vvix: FloatArray
    rate: FloatArray
    dividend: FloatArray
    curve: TermStructure
    pricing: PricingConfig
    risk: RiskSection
    responses: Responses
    moves: MoveSet
    notes: list[str] = field(default_factory=list)
    # Per-day objects shared by the book and its baseline, built on first use.
    _markets: list[PlainMarket] = field(default_factory=list)
    _pydates: list[dt.date] | None = None
    # Per contract (VIX expiry) and per SPX expiry rule: look-ups every fill repeats.
    _contracts: dict[np.datetime64, ContractDays] = field(default_factory=dict)
    _spx_expiries: dict[tuple[str, float], list[np.datetime64 | None]] = field(default_factory=dict)
    _vix_factor: FloatArray | None = None
    _move_factors: tuple[FloatArray, FloatArray] | None = None
    _curve_in_order: bool | None = None
    # What fills compute from this market alone (positions' valuations, today's mids,
    # strike searches), kept for the runs that share it: a baseline opens the same condors
    # as its book, and a sweep's variants many of the same positions.
    _memo: OrderedDict[tuple[Any, ...], tuple[Any, int]] = field(default_factory=OrderedDict)
    _memo_bytes: int = 0

    #: The memo's bound, in bytes of its arrays (the least recently used go first): a
    #: valuation is some 10–30 kB, a run of the core book over 14 years values some 6 MB
    #: of positions, so this keeps what a sweep's variants on one worker share.
    MEMO_BYTES = 64 * 2**20

    @property
    def pydates(self) -> list[dt.date]:
        """The days as ``datetime.date`` (converted once)."""
        if self._pydates is None:
            self._pydates = [d.item() for d in self.dates]
        return self._pydates

    def plain_market(self, day: int) -> PlainMarket:
        """The market the rules see on ``day``: closes and the VIX futures months as plain
        data (:class:`~alvh_dsl.lang.plain.PlainMarket`), built for every day at the first
        call and shared by the runs of this market (a book and its baseline); a day's
        futures quotes are made when first read (:class:`DayQuotes`)."""
        markets = self._markets
        if not markets:
            isfinite = math.isfinite
            # The days' quotes come from an object holding the curve, not this market: a
            # bound method of the market here made every run's market a reference cycle
            # (market → its days → partial → market), freed by the cyclic collector
            # instead of as soon as the run lets go of it.
            quotes = DayQuotes(self.curve)
            markets.extend(
                PlainMarket(spx, vix, vvix if isfinite(vvix) else None, partial(quotes.day, k))
                for k, (spx, vix, vvix) in enumerate(
                    zip(self.spx.tolist(), self.vix.tolist(), self.vvix.tolist(), strict=True)
                )
            )
        return markets[day]

    @classmethod
    def build(
        cls,
        history: History,
        pricing: PricingConfig | None = None,
        curve_config: TermStructureConfig | None = None,
        risk: RiskSection | None = None,
        vix_option_vol: float | None = None,
    ) -> MarketData:
        """Arrays for ``history``. ``vix_option_vol`` fixes the VIX option vol on days
        without VVIX (default: each month's fitted realised vol)."""
        pricing = pricing or PricingConfig()
        risk = risk or RiskSection()
        frame = history.frame
        dates = frame.index.to_numpy().astype("datetime64[D]")
        spx = frame["spx"].to_numpy(dtype=np.float64)
        vix = frame["vix"].to_numpy(dtype=np.float64)
        notes: list[str] = []
        if "spx_open" in frame and history.has("spx_open"):
            opens = frame["spx_open"].to_numpy(dtype=np.float64)
            spx_settle = np.where(np.isnan(opens), spx, opens)
        else:
            spx_settle = spx
            notes.append("SPX expiries settle at the close of the expiry day (no spx_open column)")
        if "vix_open" in frame and history.has("vix_open"):
            vopen = frame["vix_open"].to_numpy(dtype=np.float64)
            vix_settle = np.where(np.isnan(vopen), vix, vopen)
        else:
            vix_settle = vix
            notes.append("VIX expiries settle at the VIX close of the expiry day (no VIX open)")
        inputs = market_inputs(history, pricing)
        vvix = (
            frame["vvix"].to_numpy(dtype=np.float64)
            if "vvix" in frame
            else np.full(len(frame), np.nan)
        )
        for flag, what, value in (
            (inputs.rate_from_config, "the risk-free rate", pricing.rate),
            (inputs.dividend_from_config, "the SPX dividend yield", pricing.dividend_yield),
        ):
            if flag.any():
                notes.append(f"{what}: config constant {value:g} on {int(flag.sum())} day(s)")
        responses = Responses.resolve(history, risk, vix_option_vol)
        missing_vvix = int((~np.isfinite(vvix)).sum())
        if missing_vvix:
            what = (
                f"config constant {vix_option_vol:g}"
                if vix_option_vol is not None
                else "each month's realised vol (calibration)"
            )
            notes.append(f"VIX option vol without VVIX: {what} on {missing_vvix} day(s)")
        curve = term_structure(history, curve_config)
        notes.extend(curve.notes())
        return cls(
            history=history,
            dates=dates,
            spx=spx,
            spx_settle=spx_settle,
            vix=vix,
            vix_settle=vix_settle,
            vvix=vvix,
            rate=inputs.rate,
            dividend=inputs.dividend_yield,
            curve=curve,
            pricing=pricing,
            risk=risk,
            responses=responses,
            moves=MoveSet.build(tuple(risk.scenario_moves), risk.gamma_step, risk.moves),
            notes=notes,
        )

    def __len__(self) -> int:
        return len(self.dates)

    def vix_factor(self) -> FloatArray:
        """VIX′ / VIX under each of :attr:`moves`: ``exp(−β·m)``, β by the move's side
        (computed once; the same array every call, not to be written to)."""
        if self._vix_factor is None:
            m = self.moves.moves
            r = self.responses
            beta = np.where(m < 0, r.beta_down, r.beta_up)
            self._vix_factor = np.asarray(np.exp(-beta * m), dtype=np.float64)
        return self._vix_factor

    def move_factors(self) -> tuple[FloatArray, FloatArray]:
        """``1 + m`` and :meth:`vix_factor` shaped ``[1, 1, moves]`` (an SPX valuation's
        last axis), made once (shared: not to be written to)."""
        if self._move_factors is None:
            spot = (1.0 + self.moves.moves)[None, None, :]
            self._move_factors = (spot, self.vix_factor()[None, None, :])
        return self._move_factors

    def memo(self, key: tuple[Any, ...], build: Callable[[], _T]) -> _T:
        """``build()``, or what it returned for ``key`` before (``key`` must name every input
        it reads besides this market's own data). What is kept is shared, not copied:
        callers must not write to it (valuations are made read-only by their callers)."""
        memo = self._memo
        found = memo.get(key)
        if found is not None:
            memo.move_to_end(key)
            value: _T = found[0]
            return value
        value = build()
        size = int(getattr(value, "nbytes", 64))
        memo[key] = (value, size)
        self._memo_bytes += size
        while self._memo_bytes > self.MEMO_BYTES and memo:  # 0: no memo at all
            self._memo_bytes -= memo.popitem(last=False)[1][1]
        return value

    def contract(self, expiry: np.datetime64) -> ContractDays:
        """The futures contract expiring on ``expiry`` over every day of the history, built
        on first use: what :meth:`month_slot`, :meth:`futures_price`, :meth:`dampening`
        and :meth:`option_vol` read their rows from (the book and its baseline share it)."""
        found = self._contracts.get(expiry)
        if found is None:
            found = self._contracts[expiry] = ContractDays.build(self, expiry)
        return found

    def curve_in_order(self) -> bool:
        """Whether each day's futures months expire in order and the first and last
        months' expiries never go back from one day to the next (checked once): what lets
        :meth:`ContractDays.build` compare only the days a contract can be on the curve."""
        if self._curve_in_order is None:
            e = self.curve.expiry
            zero = np.timedelta64(0, "D")
            self._curve_in_order = bool(
                len(e)
                and not np.isnat(e).any()
                and (np.diff(e, axis=1) > zero).all()
                and (np.diff(e[:, 0]) >= zero).all()
                and (np.diff(e[:, -1]) >= zero).all()
            )
        return self._curve_in_order

    def spx_expiry(self, day: int, rule: str, value: float) -> np.datetime64:
        """The SPX monthly expiry of ``rule`` (``"month"``: the ``value``-th; ``"near"``: the
        one nearest ``value`` days) seen from ``day``: as
        :func:`~alvh_dsl.dryrun.actions.resolve_expiry` finds it, for every day at once
        on first use (a book opens and rolls by the same rule on many days)."""
        key = (rule, value)
        every = self._spx_expiries.get(key)
        if every is None:
            try:
                every = self._spx_expiries[key] = _spx_expiries(self.dates, rule, value)
            except ValueError:  # a day outside the calendars: each day on its own, below
                every = self._spx_expiries[key] = [None] * len(self.dates)
        found = every[day]
        if found is None:
            found = every[day] = _spx_expiries(self.dates[day : day + 1], rule, value)[0]
        return found

    def month_slot(self, rows: npt.NDArray[np.intp], expiry: np.datetime64) -> npt.NDArray[np.intp]:
        """Which futures month (0 = month 1) the contract expiring on ``expiry`` is on each
        of ``rows``, clipped to the curve's months."""
        return self.contract(expiry).slot[rows]

    def dampening(self, rows: npt.NDArray[np.intp], expiry: np.datetime64) -> FloatArray:
        """Per-day weight ``w`` of the contract in the VIX response: its month's."""
        return self.contract(expiry).dampening[rows]

    def option_vol(self, rows: npt.NDArray[np.intp], expiry: np.datetime64) -> FloatArray:
        """Black-76 vol of VIX options on the future expiring on ``expiry``: the month's
        fitted scale × VVIX / 100, or the month's realised vol on days without VVIX."""
        return self.contract(expiry).option_vol[rows]

    def futures_price(self, rows: npt.NDArray[np.intp], expiry: np.datetime64) -> FloatArray:
        """The price of the VIX future expiring on ``expiry`` on each of ``rows`` (NaN if
        that contract is not on the curve that day)."""
        return self.contract(expiry).price[rows]


def _spx_expiries(dates: npt.NDArray[np.datetime64], rule: str, value: float) -> list[Any]:
    """``resolve_expiry``'s expiry on each of ``dates`` (``datetime64[D]`` scalars)."""
    if rule == "month":
        found = nth_expiries(dates, int(value), "spx")
    else:
        found = nearest_expiries(dates, round(value), "spx")
    return list(found.astype("datetime64[D]"))


@dataclass(frozen=True, eq=False)
class ContractDays:
    """One VIX futures contract on every day of a history (:meth:`MarketData.contract`).

    Each array is what the per-rows look-ups computed for those rows, computed for all
    days at once with the same element-wise operations, so a row reads the same bits.
    """

    slot: npt.NDArray[np.intp]  # its month (0 = month 1), clipped to the curve's months
    price: FloatArray  # its price (NaN on days it is not on the curve)
    dampening: FloatArray  # its month's weight in the VIX response
    option_vol: FloatArray  # Black-76 vol of its options
    month: list[int]  # its month (1 = month 1) by day, 0 when it is not on the curve
    #: The curve's column holding it (the first with its expiry) and whether one does,
    #: by day: ``(curve.expiry == expiry).argmax(axis=1)`` and ``.any(axis=1)``.
    column: npt.NDArray[np.intp]
    on: npt.NDArray[np.bool_]

    @classmethod
    def build(cls, market: MarketData, expiry: np.datetime64) -> ContractDays:
        curve = market.curve
        days, months = curve.expiry.shape
        # A contract is on the curve only between the first day whose last month is it and
        # the last day whose first month is it: where each day's months are in order and
        # both ends move forward, only those days are compared (a few hundred of the
        # history's thousands); before them every month expires earlier (the count of
        # earlier months is `months`), after them none does (0), and none matches.
        lo, hi = (0, days) if not market.curve_in_order() else (
            int(np.searchsorted(curve.expiry[:, -1], expiry, side="left")),
            int(np.searchsorted(curve.expiry[:, 0], expiry, side="right")),
        )  # fmt: skip
        hi = max(hi, lo)
        window = curve.expiry[lo:hi]
        before = window < expiry
        # The months before it, counted column by column (a sum over the short axis of
        # every row costs more than the comparisons): the integers of `.sum(axis=1)`.
        slots = np.empty(days, dtype=np.intp)
        slots[:lo] = months
        slots[hi:] = 0
        inside = slots[lo:hi]
        inside[:] = before[:, 0]
        for k in range(1, months):
            inside += before[:, k]
        slot: npt.NDArray[np.intp] = np.clip(slots, 0, months - 1).astype(np.intp)
        match = window == expiry
        # A contract is in one month of a day's curve: its price is that month's.
        column = match.argmax(axis=1)
        every = np.arange(hi - lo)
        found = match[every, column]
        first = np.zeros(days, dtype=np.intp)
        first[lo:hi] = column
        on = np.zeros(days, dtype=np.bool_)
        on[lo:hi] = found
        price = np.full(days, np.nan)
        price[lo:hi] = np.where(found, curve.price[lo:hi][every, column], np.nan)
        r = market.responses
        vvix = market.vvix
        vol = np.where(
            np.isfinite(vvix), r.option_vol_scale[slot] * vvix / 100.0, r.option_vol[slot]
        )
        return cls(
            slot=slot,
            price=np.asarray(price, dtype=np.float64),
            dampening=r.futures[slot],
            option_vol=np.asarray(vol, dtype=np.float64),
            month=np.where(on, first + 1, 0).tolist(),
            column=first,
            on=on,
        )


class DayQuotes:
    """The VIX futures months of each day as plain data (:meth:`MarketData.plain_market`'s
    lazy quotes), from the curve's rows converted to Python objects once."""

    def __init__(self, curve: TermStructure) -> None:
        self.curve = curve
        self._lists: tuple[list[Any], list[Any], list[Any]] | None = None

    def day(self, day: int) -> list[PlainQuote]:
        """The VIX futures months of ``day``."""
        lists = self._lists
        if lists is None:
            # The curve as Python objects (floats, dates, bools) once, at the first day a
            # book reads it: what each day's rows' ``tolist`` gave.
            curve = self.curve
            lists = self._lists = (
                curve.price.tolist(), curve.expiry.tolist(), curve.modelled.tolist()
            )  # fmt: skip
        prices, expiries, modelled = lists
        isfinite = math.isfinite
        rows = zip(prices[day], expiries[day], modelled[day], strict=True)
        return [
            PlainQuote(k, price if isfinite(price) else None, expiry, modelled)
            for k, (price, expiry, modelled) in enumerate(rows, 1)
        ]


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
