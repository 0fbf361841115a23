"""The vocabulary of the language: names the state provides, indicators, units, keywords.

One table shared by the checker (is this name known, what is its unit), the
evaluator (where does its value come from), ``explain`` (how to say it in
English) and the docs. Keeping it in one place is what makes
``condor.detla`` → "did you mean ``condor.delta``?" possible everywhere.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

# Units of values. ``bare`` is a number written without a unit; it takes the
# unit of whatever it is compared or added to. ``number`` is a dimensionless
# quantity that has a meaning (a delta, an RSI reading, a ratio).
ValueUnit = Literal["days", "points", "dollars", "percent", "count", "number", "bare"]

UNIT_WORDS: dict[str, str] = {
    "days": "days",
    "points": "points",
    "dollars": "dollars",
    "percent": "a percentage",
    "count": "a count",
    "number": "a plain number",
    "bare": "a bare number",
}


@dataclass(frozen=True)
class StateName:
    """A name the evaluation state provides."""

    name: str
    unit: ValueUnit
    description: str
    history: bool = False  # has a recent history, so `crosses` and indicators work on it


def _state_names() -> dict[str, StateName]:
    names = [
        StateName("SPX", "points", "the S&P 500 index level", history=True),
        StateName("VIX", "points", "the VIX index level", history=True),
        StateName("VVIX", "points", "the VVIX index level", history=True),
        StateName(
            "VIX.term_slope",
            "percent",
            "the VIX futures term slope (M2 − M1) / M1, negative in backwardation",
            history=True,
        ),
        StateName("DTE", "days", "days to expiry of the front condor"),
        StateName("condor.DTE", "days", "days to expiry of the front condor"),
        StateName("condor.delta", "number", "the front condor's delta per contract"),
        StateName("condor.gamma", "number", "the front condor's gamma per contract"),
        StateName("condor.theta", "number", "the front condor's theta per contract"),
        StateName("condor.vega", "number", "the front condor's vega per contract"),
        StateName("condor.pnl", "dollars", "the front condor's open P&L"),
        StateName("condor.credit", "dollars", "the credit received for the front condor"),
        StateName("condor.max_loss", "dollars", "the front condor's maximum loss"),
        StateName("condor.width", "points", "the wing width of the front condor"),
        StateName("condor.quantity", "count", "the number of contracts of the front condor"),
        StateName("condor.count", "count", "the number of open condors"),
        StateName("hedge.notional", "dollars", "the notional of the VIX hedge"),
        StateName("hedge.layers", "count", "the number of VIX hedge layers"),
        StateName("hedge.DTE", "days", "days to expiry of the front VIX month the hedge holds"),
        StateName("book.delta", "dollars", "the book's dollar delta ($ per SPX point)"),
        StateName("book.gamma", "dollars", "the book's dollar gamma ($ per point²)"),
        StateName("book.vega", "dollars", "the book's dollar vega ($ per vol point)"),
        StateName("book.theta", "dollars", "the book's dollar theta ($ per day)"),
        StateName("equity", "dollars", "account equity"),
        StateName("cash", "dollars", "account cash"),
    ]
    for m in range(1, 10):
        names.append(
            StateName(f"VIX.M{m}", "points", f"the VIX futures month {m} settlement", history=True)
        )
        names.append(
            StateName(
                f"hedge.M{m}.notional", "dollars", f"the hedge notional held in VIX month {m}"
            )
        )
    return {n.name: n for n in names}


STATE_NAMES: dict[str, StateName] = _state_names()


@dataclass(frozen=True)
class Indicator:
    """An indicator or function callable in expressions.

    ``arities`` lists accepted argument counts. ``series_args`` is how many
    leading arguments are series (the rest are windows, whole numbers).
    ``default_series`` is prepended when the series is left out (``RSI(14)``).
    ``bare_name`` means the name alone is a valid call with default arguments
    (``MACD``, ``ADLINE``). ``unit`` is the result unit, or ``None`` for "the
    unit of the series argument".
    """

    name: str
    arities: tuple[int, ...]
    series_args: int
    unit: ValueUnit | None
    description: str
    default_series: str | None = None
    defaults: tuple[int, ...] = ()
    fields: tuple[str, ...] = ()
    bare_name: bool = False
    history: bool = True  # produces a series (usable inside other indicators / crosses)


INDICATORS: dict[str, Indicator] = {
    i.name: i
    for i in [
        Indicator("SMA", (2,), 1, None, "simple moving average"),
        Indicator("EMA", (2,), 1, None, "exponential moving average"),
        Indicator(
            "RSI", (1, 2), 1, "number", "Wilder's relative strength index", default_series="SPX"
        ),
        Indicator(
            "MACD",
            (0, 1, 3, 4),
            1,
            None,
            "moving average convergence/divergence",
            default_series="SPX",
            defaults=(12, 26, 9),
            fields=("signal", "hist"),
            bare_name=True,
        ),
        Indicator("ADLINE", (0,), 0, "number", "the advance-decline line", bare_name=True),
        Indicator(
            "realized_vol",
            (2,),
            1,
            "percent",
            "annualised realized volatility of daily log returns",
        ),
        Indicator("change", (2,), 1, "percent", "relative change over a window"),
    ]
}

# Plain functions: their unit follows their arguments.
FUNCTIONS: dict[str, int] = {"abs": 1, "min": 2, "max": 2}

# Every keyword of the grammar. Reserved for param, define and rule names even
# where a parser could tell them apart, so books stay readable.
# tests/test_grammar.py checks this list against grammar/alvh.lark.
KEYWORDS: frozenset[str] = frozenset(
    """rulebook version description param define include rule priority when then unless
    cooldown and or not between crosses above below of open iron condor month near short
    delta wings quantity roll to keeping width strikes close hedge all shift from buy sell
    VIX future futures call spread costing alert""".split()
)

# Words that start a line (used for did-you-mean on a misspelled statement keyword).
LINE_KEYWORDS = (
    "rulebook",
    "description",
    "param",
    "define",
    "include",
    "rule",
    "when",
    "then",
    "unless",
    "cooldown",
)
ACTION_KEYWORDS = ("open", "roll", "close", "shift", "buy", "sell", "alert")


def suggest(word: str, candidates: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The closest candidate to ``word`` (case-insensitive), or ``None``."""
    pool: list[str] = list(candidates)
    lowered: dict[str, str] = {c.lower(): c for c in pool}
    if word.lower() in lowered and lowered[word.lower()] != word:
        return lowered[word.lower()]
    match = difflib.get_close_matches(word, pool, n=1, cutoff=cutoff)
    if match:
        return match[0]
    match = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=cutoff)
    return lowered[match[0]] if match else None


def month_of(name: str) -> int | None:
    """The month index in ``VIX.M3`` / ``hedge.M3.notional``, else ``None``."""
    for prefix in ("VIX.M", "hedge.M"):
        if name.startswith(prefix):
            digits = name[len(prefix) :].split(".", 1)[0]
            if digits.isdigit():
                return int(digits)
    return None
