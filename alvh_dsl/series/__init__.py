"""History-based values over NumPy arrays: indicators, series arithmetic, the history source.

The language (:mod:`alvh_dsl.lang`) imports no NumPy: it compiles indicators
and ``crosses`` through a :class:`~alvh_dsl.lang.runtime.SeriesBackend` it is
given. This package is that backend; it imports the language, never the
reverse.

- :mod:`.indicators`: SMA, EMA, RSI, MACD, realized_vol, change, ADLINE over arrays;
- :mod:`.source`: :class:`SeriesSource`, the history arrays and today's position;
- :mod:`.compile`: series expressions → whole-array functions, and :data:`BACKEND`.

``alvh_dsl.load`` passes :data:`BACKEND` to books that read history; to compile
a program by hand, ``compile_program(program, analysis, series=BACKEND)``.
"""

from __future__ import annotations

from .compile import BACKEND, NumpyBackend, compile_series
from .source import SeriesSource

__all__ = ["BACKEND", "NumpyBackend", "SeriesSource", "compile_series"]
