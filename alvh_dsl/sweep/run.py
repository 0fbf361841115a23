"""Running a sweep: variants into tasks, tasks onto Dask, results into the table.

:func:`run_sweep` checks the grid against the book, makes one
:class:`~alvh_dsl.sweep.tasks.Task` per variant and part of the history (the whole
window, the in-sample and out-of-sample parts of ``--split``, or the walk-forward parts of
``--folds``), takes what the cache
already holds, and runs the rest with :func:`execute`:

- ``client`` given: that :class:`distributed.Client`, unchanged;
- else ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``): a client of that existing cluster;
- else a :class:`distributed.LocalCluster` of ``workers`` (default: one per core)
  single-threaded worker processes, closed at the end;
- ``workers=0``: in this process, no Dask (a debugger's choice; the same rows).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shlex
from collections.abc import Callable, Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from .grid import Grid, override_values
from .table import build_frame, rank_and_frontier, split_report, walk_forward_report
from .tasks import ResultCache, Task, baseline_key, config_key, history_key, run_task

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from ..dryrun.config import DryRunConfig
    from ..lang.evaluate import Book
    from ..lang.program import Program
    from ..market.history import History

__all__ = [
    "INSTALL_SWEEP",
    "CommandContext",
    "SchedulerUnreachable",
    "SweepResult",
    "WindowError",
    "execute",
    "run_sweep",
]

Progress = Callable[[int, int], None]

#: How long to try to reach an existing scheduler before saying it cannot be reached.
CONNECT_TIMEOUT = "10s"

#: What to do when Dask is missing (``workers=0`` runs without it).
INSTALL_SWEEP = "a sweep runs on Dask distributed: pip install 'alvh-dsl[sweep]'"


@dataclass(frozen=True)
class CommandContext:
    """How the inputs were named, for each variant's ``alvh dryrun`` command."""

    book: str
    history: str | None = None
    gaps: str | None = None
    config: str | None = None
    baseline: str = "no-hedge"
    params: Mapping[str, str] = field(default_factory=dict)  # --param, fixed for every variant

    def command(
        self, overrides: Mapping[str, str], start: dt.date | None, end: dt.date | None
    ) -> str:
        words = ["alvh", "dryrun", self.book]
        for name, value in {**self.params, **overrides}.items():
            words += ["--param", f"{name}={value}"]
        if self.history is not None:
            words += ["--history", self.history]
        if self.gaps is not None:
            words += ["--gaps", self.gaps]
        if start is not None:
            words += ["--from", start.isoformat()]
        if end is not None:
            words += ["--to", end.isoformat()]
        if self.config is not None:
            words += ["--config", self.config]
        if self.baseline != "no-hedge":
            words += ["--baseline", self.baseline]
        return shlex.join(words)


@dataclass
class SweepResult:
    """The table (:attr:`frame`), what the sweep found (:attr:`report`) and how it ran."""

    frame: pd.DataFrame
    report: dict[str, Any]
    parts: list[str]
    axes: list[str]
    computed: int = 0  # tasks run now (the others came from the cache)
    cached: int = 0
    meta: dict[str, Any] = field(default_factory=dict)


class WindowError(ValueError):
    """A ``--from``/``--to``/``--split``/``--folds`` that leaves a part of the sweep
    without a trading day (or gives both ``--split`` and ``--folds``)."""


class SchedulerUnreachable(ConnectionError):
    """``--scheduler`` (or ``DASK_SCHEDULER_ADDRESS``) names no scheduler this process
    can reach: a wrong address, nothing listening, or not a Dask scheduler."""


def _window(history: History, start: dt.date | None, end: dt.date | None) -> History:
    try:
        return history if start is None and end is None else history.between(start, end)
    except ValueError as exc:  # History.between: no rows in the window
        raise WindowError(f"--from/--to: {exc}") from None


def _windows(
    history: History,
    start: dt.date | None,
    end: dt.date | None,
    split: dt.date | None,
    folds: int | None = None,
) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    if folds is not None:
        if split is not None:
            raise WindowError("give either --split or --folds, not both")
        return _segments(history, start, end, folds)
    days = _window(history, start, end)
    if split is None:
        return {"all": (start, end)}
    # The window's first and last trading days, not --from/--to as written: a split on
    # the first trading day (or a --from on a weekend before it) leaves no in-sample day.
    first, last = days.start.date(), days.end.date()
    if not first < split <= last:
        raise WindowError(
            f"--split {split}: the window's trading days are {first} .. {last}; the split "
            f"must be after the first and at most the last, so that both parts have days"
        )
    return {"in": (start, split - dt.timedelta(days=1)), "out": (split, end)}


def _segments(
    history: History, start: dt.date | None, end: dt.date | None, folds: int
) -> dict[str, tuple[dt.date | None, dt.date | None]]:
    """``folds`` consecutive parts ``f1``..``fK`` of the window, as equal in trading days as
    they can be: walk-forward, each part is the next one's in-sample."""
    if folds < 2:
        raise WindowError(f"--folds {folds}: walk-forward needs at least 2 parts")
    dates = [d.date() for d in _window(history, start, end).dates]
    if len(dates) < 2 * folds:
        raise WindowError(
            f"--folds {folds}: the window has {len(dates)} trading day(s); {folds} parts "
            f"need at least {2 * folds} (two days each), so at most {len(dates) // 2} parts"
        )
    out: dict[str, tuple[dt.date | None, dt.date | None]] = {}
    for k in range(folds):
        lo, hi = k * len(dates) // folds, (k + 1) * len(dates) // folds - 1
        out[f"f{k + 1}"] = (dates[lo], dates[hi])
    return out


def run_sweep(
    book: Book,
    program: Program,
    grid: Grid,
    history: History,
    config: DryRunConfig,
    *,
    baseline: Book | str | None,
    context: CommandContext,
    start: dt.date | None = None,
    end: dt.date | None = None,
    split: dt.date | None = None,
    folds: int | None = None,
    rank: str = "pnl",
    out: str | os.PathLike[str] | None = None,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Run every variant of ``grid`` over ``history`` (loaded, not yet restricted to
    ``start``..``end``) and gather the table. ``program`` is ``book``'s checked program
    (the grid was checked against it); ``baseline`` is ``"no-hedge"``, ``None`` or another
    book. Results are cached in ``out``/cache when ``out`` is given. Loading the inputs is
    the caller's: :func:`alvh_dsl.api.sweep`, ``alvh sweep``."""
    # Long: a 19-option signature and its docstring are half of it; the rest reads in order
    # (windows, tasks, execute, table, report), each step one call.
    from ..dryrun.hedging import baseline_params
    from ..lang.evaluate import reads_history

    _check_fixed(program, grid, context)
    context = _named_history(context, history)
    windows = _windows(history, start, end, split, folds)
    parts = list(windows)
    # As alvh dryrun --from/--to cuts it (alvh_dsl.api.dryrun_history), so the commands agree.
    histories = {
        p: history if a is None and b is None else history.between(a, b)
        for p, (a, b) in windows.items()
    }
    hkeys = {p: history_key(h) for p, h in histories.items()}
    ckey = config_key(config)
    sources = dict(program.sources)
    uses_series = reads_history(program)
    variants = grid.variants()
    seen = baseline_params(program)  # what the no-hedge baseline reads, from the AST
    tasks: list[Task] = []
    commands: dict[tuple[int, str], str] = {}
    for i, overrides in enumerate(variants):
        params = override_values(program, overrides)
        for part, (a, b) in windows.items():
            task = Task(
                variant=i, part=part, root=program.root, sources=sources,
                overrides=dict(overrides), params=params, series=uses_series,
                history_key=hkeys[part], config=config, config_key=ckey, baseline=baseline,
            )  # fmt: skip
            tasks.append(replace(task, baseline_key=baseline_key(task, seen)))
            commands[(i, part)] = context.command(overrides, a, b)
    cache = ResultCache(out)  # made now: an unwritable --out fails before any run
    texts, computed = execute(
        tasks, {hkeys[p]: h for p, h in histories.items()}, cache=cache, client=client,
        scheduler=scheduler, workers=workers, progress=progress,
    )  # fmt: skip
    results = {(t.variant, t.part): json.loads(texts[t.key]) for t in tasks}
    frame = build_frame(variants, results, parts, commands)
    # Walk-forward: ranked on the last part, the choice one would carry forward; the
    # report says how each part's best did on the next.
    ranked_on = "in" if split is not None else (parts[-1] if folds is not None else "all")
    frame = rank_and_frontier(frame, rank, ranked_on)
    if folds is not None:
        report = walk_forward_report(frame, rank, parts, grid.size)
    else:
        report = split_report(frame, rank, parts, grid.size)
    windows_run = {
        p: [h.start.date().isoformat(), h.end.date().isoformat()] for p, h in histories.items()
    }
    meta = {
        "book": context.book,
        "book_name": book.name,
        "axes": {a.name: list(a.values) for a in grid.axes},
        "sample": grid.sample,
        "seed": grid.seed,
        "split": split.isoformat() if split is not None else None,
        "folds": folds,
        "ranked_on": ranked_on,
        "windows": windows_run,
        "history": context.history or "built-in synthetic history",
        "baseline": context.baseline,
    }
    return SweepResult(
        frame=frame, report=report, parts=parts, axes=[a.name for a in grid.axes],
        computed=computed, cached=len(tasks) - computed, meta=meta,
    )  # fmt: skip


def _named_history(context: CommandContext, history: History) -> CommandContext:
    """A history given loaded (``alvh_dsl.sweep(book, grid, History)``) has no path in
    ``context``; without one each command would replay the synthetic history. Its file
    is the provenance's single source, and the gap policy it was loaded with is read off
    the loader's notes (``forward-filled ...``, ``kept ... as missing``)."""
    if context.history is not None or history.synthetic:
        return context
    sources = [s for s in history.provenance.sources if s.role == "history"]
    if len(sources) != 1:
        return context
    gaps = context.gaps
    if gaps is None:
        notes = history.provenance.notes
        if any(n.startswith("forward-filled") and "gap" in n for n in notes):
            gaps = "ffill"
        elif any(n.startswith("kept") and "gap" in n for n in notes):
            gaps = "keep"
    return replace(context, history=sources[0].path, gaps=gaps)


def _check_fixed(program: Program, grid: Grid, context: CommandContext) -> None:
    """A param both fixed (``--param``) and swept (``--grid``) is a mistake: which value
    the user meant is not ours to guess (the grid's would silently win)."""
    from ..lang.diagnostics import error
    from .grid import GridError

    both = [a.name for a in grid.axes if a.name in context.params]
    if both:
        problems = [
            error("E503", f"`--param {name}={context.params[name]}` and `--grid {name}=...`: "
                  f"a param is either fixed or swept", None,
                  help=f"drop the --param, or sweep {name} over the values wanted")
            for name in both
        ]  # fmt: skip
        raise GridError(problems, program.sources, subject=program.root)


def execute(
    tasks: Sequence[Task],
    histories: Mapping[str, History],
    *,
    cache: ResultCache,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> tuple[dict[str, str], int]:
    """Every task's figures (JSON text) by key, and how many were computed now (the rest
    came from ``cache``). Each result is cached as it arrives, so an interrupted sweep
    loses only the tasks in flight."""
    texts: dict[str, str] = {}
    pending: dict[str, Task] = {}
    for task in tasks:
        hit = cache.get(task.key)
        if hit is not None:
            texts[task.key] = hit
        elif task.key not in pending:
            pending[task.key] = task
    # Tasks that share a baseline run one after the other, so that a worker's cache of
    # baselines (tasks.BASELINES) holds the one they need; the table does not depend on
    # the order.
    pending = dict(sorted(pending.items(), key=lambda kv: kv[1].baseline_key or ""))
    total, done = len(pending), 0
    if progress is not None:
        progress(0, total)
    if not pending:
        return texts, 0
    if workers == 0 and client is None and scheduler is None:
        for key, task in pending.items():
            texts[key] = run_task(task, histories[task.history_key])
            cache.put(key, texts[key])
            done += 1
            if progress is not None:
                progress(done, total)
        return texts, total
    with ExitStack() as stack:
        client = client or stack.enter_context(_client(scheduler, workers))
        shipped = {k: client.scatter(h, broadcast=True) for k, h in histories.items()}
        futures = [
            client.submit(run_task, t, shipped[t.history_key], key=f"alvh-sweep-{k}", pure=False)
            for k, t in pending.items()
        ]
        from distributed import as_completed

        try:
            for future in as_completed(futures):  # type: ignore[no-untyped-call]
                key = future.key.removeprefix("alvh-sweep-")
                texts[key] = future.result()
                cache.put(key, texts[key])
                done += 1
                if progress is not None:
                    progress(done, total)
        finally:
            for future in futures:  # an error or an interrupt: stop what is still queued
                future.cancel()
    return texts, total


def _client(scheduler: str | None, workers: int | None) -> Any:
    """A client of the scheduler at ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``), or of a
    new local cluster of single-threaded worker processes, one per core by default."""
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError(f"{INSTALL_SWEEP} ({exc})", name="distributed") from exc

    address = scheduler or os.environ.get("DASK_SCHEDULER_ADDRESS")
    if address:
        try:
            return Client(address, timeout=CONNECT_TIMEOUT)  # type: ignore[no-untyped-call]
        except Exception as exc:  # OSError, ValueError (no port), TimeoutError, garbage
            name = "--scheduler" if scheduler else "DASK_SCHEDULER_ADDRESS"
            raise SchedulerUnreachable(
                f"{name} {address}: no Dask scheduler reached ({type(exc).__name__}: {exc}); "
                f"start one with `dask scheduler`, or leave {name} out for a local cluster"
            ) from None
    cluster = LocalCluster(  # type: ignore[no-untyped-call]
        n_workers=workers or os.cpu_count() or 1,
        threads_per_worker=1,  # the engine is pure Python: threads would share one GIL
        processes=True,
        dashboard_address=":0",  # any free port: never a clash with another cluster
    )
    return _OwnedClient(Client(cluster), cluster)  # type: ignore[no-untyped-call]


class _OwnedClient:
    """A client and the local cluster it was made for, closed together."""

    def __init__(self, client: Any, cluster: Any) -> None:
        self.client, self.cluster = client, cluster

    def __enter__(self) -> Any:
        return self.client

    def __exit__(self, *exc: object) -> None:
        self.client.close()
        self.cluster.close()
