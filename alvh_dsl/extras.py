"""The optional dry-run stack (the ``dryrun`` extra) and the one line that says it is missing.

``pip install alvh-dsl`` brings what ``check``, ``fmt``, ``explain``, ``eval`` and
``test`` need (lark, pydantic, click, rich). NumPy, pandas, SciPy, PyArrow,
Matplotlib and the exchange calendars come with ``pip install 'alvh-dsl[dryrun]'``.
Whatever needs them without them raises :class:`MissingExtraError` (an
``ImportError``, as pandas' own missing optional dependencies are: it is the
environment, not the user's input, that is wrong), and the CLI prints its message
on one line and exits 2.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:  # pragma: no cover
    from .lang import ast as A
    from .lang.runtime import HistorySource, SeriesReader, SeriesScope
    from .lang.state import State

#: the top-level modules of the ``dryrun`` extra (and what they pull in)
DRYRUN_STACK = frozenset(
    {
        "numpy",
        "pandas",
        "scipy",
        "pyarrow",
        "matplotlib",
        "pandas_market_calendars",
        "exchange_calendars",
    }
)
INSTALL_DRYRUN = "pip install 'alvh-dsl[dryrun]'"
#: other extras' modules (``alvh sweep`` runs on Dask: the ``sweep`` extra)
OTHER_EXTRAS = {"dask": "sweep", "distributed": "sweep"}


class MissingExtraError(ImportError):
    """Something needs the dry-run stack and it is not installed; the message says what to
    install, on one line. ``what`` is what needed it (``"alvh_dsl.dryrun"``, or words)."""

    def __init__(self, what: str, module: str) -> None:
        super().__init__(missing_message(what, module), name=module)
        self.what = what
        self.module = module


def missing_stack_module(exc: BaseException) -> str | None:
    """The top-level name of the dry-run stack module ``exc`` failed to import, or ``None``
    when ``exc`` is not about the stack (a bug elsewhere must stay a traceback)."""
    if not isinstance(exc, ImportError) or exc.name is None:
        return None
    top = exc.name.partition(".")[0]
    return top if top in DRYRUN_STACK or top in OTHER_EXTRAS else None


def missing_message(what: str, module: str) -> str:
    """``what`` needs the stack, ``module`` is not installed: the one line to print."""
    extra = OTHER_EXTRAS.get(module)
    if extra is not None:
        return (
            f"{what} needs the `{extra}` extra ({module} is not installed): "
            f"pip install 'alvh-dsl[{extra}]'"
        )
    return f"{what} needs the dry-run stack ({module} is not installed): {INSTALL_DRYRUN}"


@contextmanager
def needs_dryrun_stack(what: str) -> Iterator[None]:
    """Turn a failed import of the stack inside the block into :class:`MissingExtraError`
    naming ``what`` (e.g. ``"alvh_dsl.dryrun"``)."""
    try:
        yield
    except ImportError as exc:
        module = missing_stack_module(exc)
        if module is None or isinstance(exc, MissingExtraError):
            raise
        raise MissingExtraError(what, module) from exc


class MissingSeriesBackend:
    """The series backend of a light install: a book with indicators or ``crosses`` still
    loads, checks and explains; reading its history raises :class:`MissingExtraError`."""

    def __init__(self, module: str) -> None:
        self.module = module

    def _fail(self) -> NoReturn:
        what = "evaluating a book that reads market history (indicators, `crosses`)"
        raise MissingExtraError(what, self.module)

    def reader(self, expr: A.Expr, scope: SeriesScope) -> SeriesReader:
        """A reader that fails when it is read (compiling needs no NumPy)."""

        def read(source: HistorySource, day: int) -> NoReturn:
            self._fail()

        return read

    def source(self, state: State) -> HistorySource:
        """Always fails: the history arrays are NumPy arrays."""
        self._fail()


__all__ = [
    "DRYRUN_STACK",
    "INSTALL_DRYRUN",
    "OTHER_EXTRAS",
    "MissingExtraError",
    "MissingSeriesBackend",
    "missing_message",
    "missing_stack_module",
    "needs_dryrun_stack",
]
