"""Market history, expiry calendars, term structure and option pricing for dry-runs.

Modules, one per concern (imported lazily: ``import alvh_dsl.market`` is cheap):

- :mod:`~alvh_dsl.market.history` — :class:`History`, :func:`load_history`,
  :func:`write_history`, :class:`DataError` (E601 diagnostics at
  ``file:row:column``);
- :mod:`~alvh_dsl.market.sources` — :func:`merge` of Cboe / Yahoo / futures files;
- :mod:`~alvh_dsl.market.calendars` — SPX and VIX expiries, ``month N`` resolution;
- :mod:`~alvh_dsl.market.termstructure` — the daily VIX futures curve, measured or modelled;
- :mod:`~alvh_dsl.market.pricing` — vectorised BSM and Black-76 prices and greeks;
- :mod:`~alvh_dsl.market.calibration` — the dry-run's spot–vol betas, futures responses and
  VIX option vols, fitted from a history (:func:`calibrate`) or the documented defaults;
- :mod:`~alvh_dsl.market.synth` — the seeded synthetic history generator, and
  :func:`default_history`, the built-in history it generates.

The names below are re-exported here for convenience.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .calendars import (
        nearest_expiries,
        nth_expiries,
        nth_expiry,
        spx_expiries,
        trading_days,
        vix_expiries,
    )
    from .calibration import DEFAULT_CALIBRATION, Calibration, Fit, calibrate
    from .history import (
        DataError,
        History,
        Provenance,
        load_history,
        write_history,
    )
    from .pricing import (
        MarketInputs,
        PriceGreeks,
        PricingConfig,
        black76,
        bsm,
        dollar_greeks,
        iv_from_vix,
        market_inputs,
        strike_for_delta,
        vix_future,
    )
    from .sources import merge
    from .synth import SynthConfig, default_history, synthesize
    from .termstructure import TermStructure, TermStructureConfig, model_futures, term_structure

_LAZY = {
    "DEFAULT_CALIBRATION": "calibration",
    "Calibration": "calibration",
    "Fit": "calibration",
    "calibrate": "calibration",
    "DataError": "history",
    "History": "history",
    "Provenance": "history",
    "default_history": "synth",
    "load_history": "history",
    "write_history": "history",
    "merge": "sources",
    "nearest_expiries": "calendars",
    "nth_expiries": "calendars",
    "nth_expiry": "calendars",
    "spx_expiries": "calendars",
    "vix_expiries": "calendars",
    "trading_days": "calendars",
    "PriceGreeks": "pricing",
    "PricingConfig": "pricing",
    "black76": "pricing",
    "bsm": "pricing",
    "dollar_greeks": "pricing",
    "strike_for_delta": "pricing",
    "MarketInputs": "pricing",
    "iv_from_vix": "pricing",
    "market_inputs": "pricing",
    "vix_future": "pricing",
    "synthesize": "synth",
    "SynthConfig": "synth",
    "TermStructure": "termstructure",
    "TermStructureConfig": "termstructure",
    "term_structure": "termstructure",
    "model_futures": "termstructure",
}

__all__ = [
    "DEFAULT_CALIBRATION",
    "Calibration",
    "DataError",
    "Fit",
    "History",
    "MarketInputs",
    "PriceGreeks",
    "PricingConfig",
    "Provenance",
    "SynthConfig",
    "TermStructure",
    "TermStructureConfig",
    "black76",
    "bsm",
    "calibrate",
    "default_history",
    "dollar_greeks",
    "iv_from_vix",
    "load_history",
    "market_inputs",
    "merge",
    "model_futures",
    "nearest_expiries",
    "nth_expiries",
    "nth_expiry",
    "spx_expiries",
    "strike_for_delta",
    "synthesize",
    "term_structure",
    "trading_days",
    "vix_expiries",
    "vix_future",
    "write_history",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alvh_dsl.market' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
