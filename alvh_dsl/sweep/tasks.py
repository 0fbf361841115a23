"""What travels to a worker, what a worker does with it, and the cache of results.

A :class:`Task` is data only — the book's files' text, one variant's param values, the
config, the baseline (``"no-hedge"``, ``None`` or a :class:`~alvh_dsl.lang.evaluate.Book`,
which pickles as its text) and the content hash of the history it replays — never a
closure, so any Dask worker (another process, another machine with the same
``alvh-dsl`` installed) can run it. The history itself is shipped once per worker as
data (``Client.scatter``, broadcast: a pickled :class:`~alvh_dsl.market.history.History`,
~0.5 MB for 14 years), not as a path: a worker on another machine need not see the
driver's files. Each worker process keeps the
:class:`~alvh_dsl.dryrun.market_data.MarketData` of each (history, config) hash it has
seen (:data:`MARKETS`) and reuses it across its variants, and likewise the no-hedge
baseline of each :attr:`Task.baseline_key` (:data:`BASELINES`): variants whose params
differ only in params the baseline cannot see (read only by hedge-only rules, proved from
the book's AST by :func:`~alvh_dsl.dryrun.hedging.baseline_params`) have the same key and
share one baseline run instead of replaying it each.

A task's :attr:`Task.key` hashes everything its result depends on; the driver stores
each result as ``cache/KEY.json`` in the sweep directory as it arrives, so an
interrupted sweep resumes where it stopped, and a rerun computes nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..fileio import atomic_write_text

if TYPE_CHECKING:  # pragma: no cover
    from ..dryrun.config import DryRunConfig
    from ..dryrun.market_data import MarketData
    from ..dryrun.result import RunResult
    from ..lang import ast as A
    from ..lang.evaluate import Book
    from ..market.history import History

__all__ = [
    "BASELINES",
    "CACHE_FORMAT",
    "MARKETS",
    "ResultCache",
    "SweepDirectoryError",
    "Task",
    "VariantError",
    "baseline_key",
    "config_key",
    "history_key",
    "run_task",
    "sources_key",
]

#: Bumped whenever the figures a task returns change, so an old cache is not reused.
CACHE_FORMAT = "alvh-sweep/1"

#: Per worker process: (history key, config key) → MarketData, the last few kept.
MARKETS: OrderedDict[tuple[str, str], MarketData] = OrderedDict()
_MARKETS_KEPT = 4

#: Per worker process: baseline key (:func:`baseline_key`) → the shared no-hedge
#: baseline's run, the last few kept (the driver submits tasks grouped by key).
BASELINES: OrderedDict[str, RunResult] = OrderedDict()
_BASELINES_KEPT = 8


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def sources_key(sources: dict[str, str]) -> str:
    """The content hash of a book's files (names and text)."""
    return _sha(json.dumps(sorted(sources.items())))


def history_key(history: History) -> str:
    """The content hash of a history: every column's values, the dates and the columns."""
    import pandas as pd

    frame = history.frame
    h = hashlib.sha256(json.dumps([str(c) for c in frame.columns]).encode())
    h.update(pd.util.hash_pandas_object(frame, index=True).to_numpy().tobytes())
    h.update(str(history.synthetic).encode())
    return h.hexdigest()


def config_key(config: DryRunConfig) -> str:
    """The content hash of a dry-run config (every model choice)."""
    return _sha(config.model_dump_json())


@dataclass(frozen=True)
class Task:
    """One run of one variant over one part of the history (``all``, ``in`` or ``out``)."""

    variant: int
    part: str
    root: str
    sources: dict[str, str]
    overrides: dict[str, str]  # as written, for the key and the command
    params: dict[str, A.Number]  # every param's value, overrides applied
    series: bool  # whether the book reads history (needs the NumPy series backend)
    history_key: str
    config: DryRunConfig
    config_key: str
    baseline: Book | str | None  # "no-hedge", None, or another book
    #: Variants with the same key have the same no-hedge baseline run (None: not shared).
    baseline_key: str | None = None

    @property
    def key(self) -> str:
        """The hash of everything the result depends on."""
        from ..lang.evaluate import Book

        if isinstance(self.baseline, Book):
            baseline = "book:" + sources_key(dict(self.baseline.program.sources))
            baseline += ":" + json.dumps(sorted(_values(self.baseline.params).items()))
        else:
            baseline = str(self.baseline)
        doc = {
            "format": CACHE_FORMAT,
            "book": sources_key(self.sources),
            "root": self.root,
            "params": sorted(_values(self.params).items()),
            "history": self.history_key,
            "config": self.config_key,
            "baseline": baseline,
        }
        return _sha(json.dumps(doc, sort_keys=True))[:32]


class VariantError(Exception):
    """A variant whose param values make the book invalid (a check that reads them).

    Its message names the variant and its values above the book's diagnostics, which is
    what the sweep's user needs to find the bad point of the grid."""


def baseline_key(task: Task, seen: frozenset[str]) -> str | None:
    """The key of ``task``'s no-hedge baseline: the book's files, the values of the params
    the baseline can see (``seen``, :func:`~alvh_dsl.dryrun.hedging.baseline_params`), the
    history part and the config. None for another baseline, or none."""
    if task.baseline != "no-hedge":
        return None
    values = {k: v for k, v in _values(task.params).items() if k in seen}
    doc = {
        "book": sources_key(task.sources),
        "root": task.root,
        "params": sorted(values.items()),
        "history": task.history_key,
        "config": task.config_key,
    }
    return _sha(json.dumps(doc, sort_keys=True))[:32]


def _values(params: dict[str, A.Number]) -> dict[str, list[Any]]:
    return {name: [n.value, n.unit] for name, n in params.items()}


def _market(task: Task, history: History) -> MarketData:
    from ..dryrun.engine import build_market

    key = (task.history_key, task.config_key)
    market = MARKETS.get(key)
    if market is None:
        market = MARKETS[key] = build_market(history, task.config)
        while len(MARKETS) > _MARKETS_KEPT:
            MARKETS.popitem(last=False)
    else:
        MARKETS.move_to_end(key)
    return market


def build_book(task: Task) -> Book:
    """The variant's book, from its files' text and param values alone; a variant whose
    values make the book invalid raises :class:`~alvh_dsl.errors.RulebookError`."""
    from ..errors import RulebookError
    from ..lang.check import Analysis, run_checks
    from ..lang.diagnostics import has_errors
    from ..lang.evaluate import compile_program
    from ..lang.loader import load_program

    program = load_program(task.root, files=task.sources)
    program.param_values = dict(task.params)
    analysis = Analysis(program)
    program.diagnostics.extend(run_checks(analysis))
    if has_errors(program.diagnostics):
        errors = [d for d in program.diagnostics if d.is_error]
        raise RulebookError(errors, program.sources, subject=task.root)
    series = None
    if task.series:
        from ..series import BACKEND

        series = BACKEND
    return compile_program(program, analysis, series=series)


def run_task(task: Task, history: History) -> str:
    """Run one task (on a worker): the variant's dry-run over ``history``, its headline
    figures (:func:`~alvh_dsl.sweep.table.figures`) as JSON text — the exact form the
    cache stores, so fresh and cached rows are the same bytes. The run keeps no audit
    trail (``run_dryrun(audit=False)``: docs/decisions.md 81); its figures are the
    audited run's."""
    from ..dryrun.engine import NO_HEDGE, Baseline, run_dryrun
    from ..errors import AlvhError
    from ..lang.evaluate import Book
    from .table import figures

    try:
        book = build_book(task)
    except AlvhError as exc:
        values = ", ".join(f"{k}={v}" for k, v in task.overrides.items())
        raise VariantError(f"variant {task.variant} ({values}):\n{exc.render()}") from None
    baseline: Baseline | None
    if task.baseline is None:
        baseline = None
    elif isinstance(task.baseline, Book):
        baseline = Baseline(task.baseline, task.baseline.name)
    else:
        baseline = NO_HEDGE
    shared = BASELINES.get(task.baseline_key) if task.baseline_key is not None else None
    result = run_dryrun(
        book, history, task.config, baseline=baseline, market=_market(task, history),
        baseline_run=shared, audit=False,
    )  # fmt: skip
    if task.baseline_key is not None and result.baseline is not None:
        if shared is None:
            BASELINES[task.baseline_key] = _shareable(result.baseline)
            while len(BASELINES) > _BASELINES_KEPT:
                BASELINES.popitem(last=False)
        else:
            BASELINES.move_to_end(task.baseline_key)
    return json.dumps(figures(result.summary), sort_keys=True)


def _shareable(run: RunResult) -> RunResult:
    """What variants of one baseline key have in common: the days, trades and figures.
    Not the decisions, rule statuses, coverage or per-rule fire counts, which record the
    hedge-only rules' conditions with this variant's values."""
    from dataclasses import replace

    summary = {k: v for k, v in run.summary.items() if k != "rules_fired"}
    return replace(run, decisions=[], rule_status={}, coverage=[], states={}, summary=summary)


class SweepDirectoryError(OSError):
    """The sweep directory (``--out``), its ``cache/`` or an output file in it cannot be
    written: a file where the directory should be, no permission, a full disk."""


def unwritable(path: str | os.PathLike[str], exc: OSError) -> SweepDirectoryError:
    """The error for ``path`` failing with ``exc``, in words (not a traceback)."""
    reason = exc.strerror or str(exc)
    return SweepDirectoryError(f"cannot write {os.fspath(path)}: {reason}; choose another --out")


def _figures_text(text: str) -> bool:
    """Whether ``text`` is a task's figures as :func:`run_task` writes them: a JSON object
    of exactly the row's figures, each a number or null (rolls and days whole numbers)."""
    from .table import FIGURES

    try:
        doc = json.loads(text)
    except ValueError:
        return False
    if not isinstance(doc, dict) or set(doc) != set(FIGURES):
        return False
    return all(v is None or (isinstance(v, int | float) and not isinstance(v, bool))
               for v in doc.values())  # fmt: skip


class ResultCache:
    """``DIR/cache/KEY.json``: each task's figures, written atomically as they arrive.

    The directory is made when the cache is (so an unwritable ``--out`` fails before
    any run, not after the first); a file that is not a task's figures (edited,
    truncated by a full disk, another tool's) is a miss: the task runs again and its
    figures replace it, never garbage in the table."""

    def __init__(self, directory: str | os.PathLike[str] | None) -> None:
        self.directory = Path(directory) / "cache" if directory is not None else None
        if self.directory is not None:
            try:
                self.directory.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise unwritable(self.directory, exc) from None

    def get(self, key: str) -> str | None:
        if self.directory is None:
            return None
        path = self.directory / f"{key}.json"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            return None
        return text if _figures_text(text) else None

    def put(self, key: str, text: str) -> None:
        if self.directory is None:
            return
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            atomic_write_text(self.directory / f"{key}.json", text)
        except OSError as exc:
            raise unwritable(self.directory / f"{key}.json", exc) from None
