"""The Python API: the one module that chains the stages.

``text → parse → load (includes, overrides) → check → compile → evaluate``, and
``book + history → dry-run``. Every stage below is a module of its own that
knows nothing of the stages after it (``alvh_dsl.lang`` never imports this
module); this is where they meet, and the CLI and a notebook both call it::

    import alvh_dsl
    book = alvh_dsl.load("rulebooks/alvh_core.alvh", params={"roll_dte": "5d"})
    report = alvh_dsl.check_paths(["rulebooks/"])
    result = alvh_dsl.dryrun(book, start="2010-01-01", end="2014-12-31")

Importing this module is cheap: numpy and pandas load only with the dry-run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import RulebookError
from .fileio import find_files
from .lang.check import Analysis, run_checks
from .lang.diagnostics import Diagnostic, has_errors, sort_key
from .lang.fmt import format_source
from .lang.loader import ParamValue, ParseCache, apply_overrides, load_program
from .lang.program import Program
from .perf import paused_gc

if TYPE_CHECKING:  # pragma: no cover
    import datetime as dt
    from collections.abc import Callable, Collection
    from typing import Literal

    import pandas as pd

    from .dryrun.config import DryRunConfig
    from .dryrun.diff import DiffResult, DiffSide
    from .dryrun.engine import Baseline
    from .dryrun.result import DryRunResult
    from .lang.evaluate import Book
    from .lang.runtime import SeriesBackend
    from .lang.testing import TestReport
    from .market.history import History
    from .market.validation import GapPolicy
    from .project import Project

__all__ = [
    "CheckReport",
    "check",
    "check_paths",
    "diff",
    "dryrun",
    "dryrun_history",
    "find_books",
    "format_source",
    "load",
    "load_checked",
    "run_tests",
    "sweep",
]


# ---------------------------------------------------------------- one book


def _load(
    path: str | os.PathLike[str],
    params: Mapping[str, ParamValue] | None,
    text: str | None,
    project: Project | None = None,
    cache: ParseCache | None = None,
) -> tuple[Program, Analysis]:
    with paused_gc():  # a large book is hundreds of thousands of acyclic nodes
        program = load_program(path, text, cache=cache)
        if project is None:
            apply_overrides(program, params)
        else:  # the project configuration's default params, under `params`
            from .project import apply_params

            apply_params(program, project, params)
        analysis = Analysis(program)
        if not has_errors(program.diagnostics) or program.files:
            program.diagnostics.extend(run_checks(analysis))
    program.diagnostics.sort(key=sort_key)
    return program, analysis


def load_checked(
    path: str | os.PathLike[str],
    params: Mapping[str, ParamValue] | None = None,
    *,
    text: str | None = None,
    cache: ParseCache | None = None,
) -> Program:
    """Read, resolve includes, apply overrides and run every check. Never raises.

    ``cache`` (a :class:`~alvh_dsl.lang.loader.ParseCache`) skips parsing the files whose
    text it has seen: what an editor session passes, re-checking on every change."""
    return _load(path, params, text, cache=cache)[0]


def load(
    path: str | os.PathLike[str],
    params: Mapping[str, ParamValue] | None = None,
    *,
    text: str | None = None,
) -> Book:
    """Load a rulebook ready to evaluate: ``alvh_dsl.load("book.alvh", params={"roll_dte": "5d"})``.

    Raises :class:`~alvh_dsl.errors.RulebookError` (with every
    diagnostic) when the book has errors; warnings are kept on
    ``book.diagnostics``.
    """
    program, analysis = _load(path, params, text)
    if has_errors(program.diagnostics):
        errors = [d for d in program.diagnostics if d.is_error]
        raise RulebookError(errors, program.sources, subject=os.fspath(path))
    from .lang.evaluate import compile_program, reads_history

    if not reads_history(program):  # no indicators, no `crosses`: NumPy stays unloaded
        return compile_program(program, analysis)
    return compile_program(program, analysis, series=_series_backend())


def _series_backend() -> SeriesBackend:
    """NumPy's backend; on a light install (no ``dryrun`` extra) one that fails when read."""
    from .extras import MissingSeriesBackend, missing_stack_module

    try:
        from .series import BACKEND
    except ImportError as exc:
        module = missing_stack_module(exc)
        if module is None:
            raise
        return MissingSeriesBackend(module)
    return BACKEND


def check(
    path: str,
    params: Mapping[str, ParamValue] | None = None,
    *,
    text: str | None = None,
) -> list[Diagnostic]:
    """Check a rulebook file (and its includes): every diagnostic, sorted. Never raises."""
    return load_checked(path, params, text=text).diagnostics


# ------------------------------------------------------------- many books


@dataclass
class CheckReport:
    """The result of checking several books: each diagnostic once, and the sources to show it."""

    books: list[str]
    files: int
    diagnostics: list[Diagnostic]
    sources: dict[str, str]
    #: warnings fail the check (the project configuration's ``strict``), as ``--strict`` does
    strict: bool = False
    #: each book's files (the book first, then what it includes), for per-file reports (JUnit)
    members: dict[str, list[str]] = field(default_factory=dict)
    #: files left out by the project configuration's ``exclude`` (so none checked is no error)
    excluded: list[str] = field(default_factory=list)
    #: the programs checked: ``alvh check`` holds them until it exits (os._exit), as
    #: freeing a 100,000-rule book's nodes one by one costs more than a second
    programs: list[Program] = field(default_factory=list, repr=False, compare=False)

    @property
    def errors(self) -> int:
        return sum(d.is_error for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return len(self.diagnostics) - self.errors


def find_books(paths: Iterable[str]) -> list[str]:
    """Files named directly, plus every ``*.alvh`` under directories (sorted, recursive)."""
    return find_files(paths, ".alvh")


def check_paths(
    paths: Iterable[str],
    params: Mapping[str, ParamValue] | None = None,
    *,
    texts: Mapping[str, str] | None = None,
    config: str | None = None,
    isolated: bool = False,
) -> CheckReport:
    """Check files and directories (``alvh check``).

    ``texts`` maps a path named in ``paths`` to its content, read instead of the
    file (which need not exist): ``alvh check -`` with ``--stdin-filename``, an
    editor buffer. Its includes resolve relative to the path, as the file's would.

    Files found in a directory that another book there includes are library
    files: they are checked as part of the books that include them, not on
    their own (so a shared params file does not warn that its params are
    unused). A file named explicitly that books under its project root include
    is checked through those books instead (pre-commit names the changed
    files: a library change that breaks a book fails); any other file named is
    checked as a book.

    The project configuration (:mod:`alvh_dsl.project`) nearest each file
    applies: ``exclude``, ``select``/``ignore``/``per-file-ignores``, default
    ``params`` under ``params``, and ``strict`` (on the report). ``config`` names
    one configuration file for every path; ``isolated`` ignores them. Inline
    suppressions (:mod:`alvh_dsl.suppressions`) apply to warnings.
    """
    from .project import Projects, includers
    from .suppressions import Suppressions

    paths = list(paths)
    texts = texts or {}
    projects = Projects(config, isolated=isolated)
    named = [p for p in paths if not os.path.isdir(p) and p not in texts]
    through = includers(named, projects)
    paths = list(dict.fromkeys(q for p in paths for q in through.get(p, [p])))
    explicit = {os.path.realpath(p) for p in paths if not os.path.isdir(p)}
    suppressions = Suppressions()
    programs = []
    excluded: list[str] = []
    included: set[str] = set()
    for path in find_books(paths):
        real = os.path.realpath(path)
        if real in included and real not in explicit:
            continue  # a library already checked as part of a book that includes it
        project = projects.for_file(path)
        if path not in texts and project.excludes(path):
            excluded.append(path)
            continue
        program = _load(path, params, texts.get(path), project)[0]
        program.diagnostics = [
            d
            for d in suppressions.apply(program)
            if projects.for_file(_file_of(d, path)).reports(d.code, _file_of(d, path))
        ]
        programs.append(program)
        included.update(os.path.realpath(f) for f in program.files if f != program.root)
    diagnostics: list[Diagnostic] = []
    sources: dict[str, str] = {}
    books: list[str] = []
    members: dict[str, list[str]] = {}
    files: set[str] = set()
    for program in programs:
        real = os.path.realpath(program.root)
        if real in included and real not in explicit:
            continue
        books.append(program.root)
        members[program.root] = list(program.files) or [program.root]
        sources.update(program.sources)
        files.update(os.path.realpath(f) for f in program.files)
        diagnostics.extend(program.diagnostics)
    unused = sorted(suppressions.unused(), key=sort_key)
    unique = _unique([*projects.diagnostics, *diagnostics, *unused])
    strict = any(projects.for_file(b).config.strict for b in books)
    report = CheckReport(
        books, len(files), unique, sources, strict=strict, members=members, excluded=excluded
    )
    report.programs = programs
    return report


def _unique(diagnostics: Iterable[Diagnostic]) -> list[Diagnostic]:
    """Each diagnostic once (a library's, reported by every book that includes it)."""
    seen: set[tuple[str, str, str]] = set()
    out = []
    for d in diagnostics:
        key = (d.code, str(d.span), d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return out


def _file_of(d: Diagnostic, book: str) -> str:
    return d.span.file if d.span is not None else book


def run_tests(paths: Iterable[str], *, coverage: bool = False) -> TestReport:
    """Run the rulebook tests (``*.alvhtest``) of files and directories (``alvh test``,
    docs/testing.md): books loaded with :func:`load`, history tests replayed with
    :func:`dryrun` over :func:`dryrun_history` (NumPy loads only for those)."""
    from .lang.testing import Stages
    from .lang.testing import run_tests as run

    return run(paths, Stages(load=load, history=dryrun_history, dryrun=dryrun), coverage=coverage)


# ---------------------------------------------------------------- dry-run

if TYPE_CHECKING:  # pragma: no cover
    BookLike = Book | str | os.PathLike[str]
    HistoryLike = History | str | os.PathLike[str] | None


def dryrun(
    book: BookLike,
    history: HistoryLike = None,
    config: DryRunConfig | None = None,
    *,
    baseline: BookLike | Baseline | Literal["no-hedge"] | None = "no-hedge",
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    params: Mapping[str, ParamValue] | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    capture: Collection[str | dt.date] = (),
) -> DryRunResult:
    """Replay a rulebook over market history, with a baseline on the same data.

    ``book`` is a path (loaded with ``params``) or a loaded
    :class:`~alvh_dsl.lang.evaluate.Book`; ``history`` is what :func:`dryrun_history`
    takes (default: the built-in synthetic history), restricted to ``start``..``end``
    (inclusive). ``baseline`` is ``"no-hedge"`` (the same book with every hedge action
    disabled), another book (a path or a loaded Book), a
    :class:`~alvh_dsl.dryrun.engine.Baseline`, or ``None``. ``progress`` is called as
    ``progress(label, day, days)``. ``capture`` lists dates whose state the main run
    keeps in ``result.run.states``, with the recent history, so that
    ``alvh eval --state`` can replay that day.
    """
    import datetime as dt

    from .extras import needs_dryrun_stack

    with needs_dryrun_stack("alvh_dsl.dryrun"):
        from .dryrun.engine import run_dryrun

    main = _dryrun_book(book, params)
    hist = dryrun_history(history, start=start, end=end)
    wanted = {dt.date.fromisoformat(d) if isinstance(d, str) else d for d in capture}
    return run_dryrun(
        main, hist, config, baseline=_baseline(baseline), progress=progress, capture=wanted
    )


def dryrun_history(
    history: HistoryLike = None,
    *,
    gaps: GapPolicy | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
) -> History:
    """The history a dry-run replays, restricted to ``start``..``end`` (inclusive, either
    optional).

    ``history`` is ``None`` for the built-in synthetic history, a
    :class:`~alvh_dsl.market.history.History`, or a file (CSV or Parquet in our format,
    docs/data.md) read with the ``gaps`` policy (``"error"``, the default, ``"ffill"``
    or ``"keep"``). Raises :class:`~alvh_dsl.errors.DataError` for an invalid file, and
    ``ValueError`` for ``gaps`` without a file, a start after the end, or a window
    without trading days.
    """
    from .extras import needs_dryrun_stack

    with needs_dryrun_stack("alvh_dsl.api.dryrun_history"):
        from .market.history import History, load_history
        from .market.synth import default_history

    if history is None or isinstance(history, History):
        if gaps is not None:
            raise ValueError("gaps applies when loading a history file")
        hist = default_history() if history is None else history
    else:
        hist = load_history(os.fspath(history), gaps=gaps or "error")
    if start is None and end is None:
        return hist
    import pandas as pd

    if start is not None and end is not None and pd.Timestamp(start) > pd.Timestamp(end):
        raise ValueError(f"the start {start} is after the end {end}")
    try:
        return hist.between(start, end)
    except ValueError:
        span = f"{hist.start.date()} .. {hist.end.date()}"
        raise ValueError(
            f"no trading days between {start or 'the start'} and {end or 'the end'} "
            f"(the history spans {span})"
        ) from None


def _dryrun_book(book: BookLike, params: Mapping[str, ParamValue] | None) -> Book:
    from .lang.evaluate import Book

    if isinstance(book, Book):
        if params:
            raise ValueError("params apply when loading a book: pass a path, or load it yourself")
        return book
    return load(book, params)


def _baseline(baseline: BookLike | Baseline | Literal["no-hedge"] | None) -> Baseline | None:
    from .dryrun.engine import NO_HEDGE, Baseline
    from .lang.evaluate import Book

    if baseline is None or isinstance(baseline, Baseline):
        return baseline
    if baseline == "no-hedge":
        return NO_HEDGE
    if isinstance(baseline, Book):
        return Baseline(baseline, baseline.name)
    from pathlib import Path

    return Baseline(load(baseline), Path(baseline).name)


# ------------------------------------------------------------------ sweep


def sweep(
    book: BookLike,
    grid: Any,
    history: HistoryLike = None,
    config: DryRunConfig | str | os.PathLike[str] | None = None,
    *,
    baseline: BookLike | Literal["no-hedge"] | None = "no-hedge",
    params: Mapping[str, ParamValue] | None = None,
    gaps: GapPolicy | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    split: str | dt.date | None = None,
    folds: int | None = None,
    sample: int | None = None,
    seed: int = 0,
    rank: str = "pnl",
    out: str | os.PathLike[str] | None = None,
    client: Any = None,
    scheduler: str | None = None,
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> pd.DataFrame:
    """Dry-run every variant of a param grid; one row of headline figures per variant:
    ``alvh_dsl.sweep("book.alvh", {"roll_dte": ["5d", "7d"], "hedge_budget": "1%..3%/1%"})``.

    ``grid`` maps params to a list of values or ``"LOW..HIGH/STEP"``, or is a list of
    ``NAME=VALUES`` strings as ``--grid`` takes them (units checked: E501-E503 raise
    :class:`~alvh_dsl.sweep.grid.GridError`); ``sample``/``seed`` draw that many variants.
    ``book``, ``history``, ``config``, ``baseline``, ``params``, ``gaps``, ``start`` and
    ``end`` are as :func:`dryrun` takes them (``config`` may be a TOML path; a
    :class:`DryRunConfig` object other than the default has no file for the variants'
    commands to name, which say ``--config CONFIG.toml`` for it). ``split``
    ranks on the days before it and shows every figure after it too; ``folds`` (instead)
    cuts the window into that many walk-forward parts; ``rank`` names the
    figure (:data:`~alvh_dsl.sweep.table.FIGURES`). ``out`` caches each run there and
    writes sweep.parquet, sweep.csv and sweep.html. ``client`` is a
    ``distributed.Client``; by default ``scheduler`` (or ``DASK_SCHEDULER_ADDRESS``), else
    a local cluster of ``workers`` processes (one per core; 0: in this process). The
    frame's ``attrs["sweep"]`` holds the report (docs/sweep.md).
    """
    from .dryrun.config import DryRunConfig, load_config
    from .sweep.grid import parse_grid
    from .sweep.run import CommandContext, run_sweep

    main = _dryrun_book(book, params)
    cfg = config if isinstance(config, DryRunConfig) else (
        DryRunConfig() if config is None else load_config(config)
    )  # fmt: skip
    if baseline is None or baseline == "no-hedge":
        base: Book | str | None = baseline
        label = "none" if baseline is None else "no-hedge"
    else:
        other = _baseline(baseline)
        assert other is not None and other.book is not None
        base, label = other.book, other.book.program.root
    context = CommandContext(
        book=main.program.root,
        history=os.fspath(history) if isinstance(history, str | os.PathLike) else None,
        gaps=gaps,
        config=_config_word(config),
        baseline=label,
        params={k: str(v) for k, v in (params or {}).items()},
    )
    checked = parse_grid(grid, main.program, sample=sample, seed=seed)
    result = run_sweep(
        main, main.program, checked, dryrun_history(history, gaps=gaps), cfg, baseline=base,
        context=context, start=_day(start), end=_day(end), split=_day(split), folds=folds,
        rank=rank, out=out, client=client, scheduler=scheduler, workers=workers, progress=progress,
    )  # fmt: skip
    if out is not None:
        from .sweep.outputs import write_sweep

        write_sweep(result, out)
    frame = result.frame
    frame.attrs["sweep"] = {
        **result.report, "meta": result.meta, "computed": result.computed,
        "cached": result.cached,
    }  # fmt: skip
    return frame


#: What a variant's command says for ``--config`` when the sweep's config was given as a
#: DryRunConfig object other than the default: it has no file to name, and a command
#: without ``--config`` would silently replay the defaults instead.
CONFIG_PLACEHOLDER = "CONFIG.toml"


def _config_word(config: DryRunConfig | str | os.PathLike[str] | None) -> str | None:
    """``--config``'s value in the variants' commands (:data:`CONFIG_PLACEHOLDER` for a
    config object other than the default)."""
    from .dryrun.config import DryRunConfig

    if isinstance(config, str | os.PathLike):
        return os.fspath(config)
    if isinstance(config, DryRunConfig) and config != DryRunConfig():
        return CONFIG_PLACEHOLDER
    return None


def _day(value: str | dt.date | None) -> dt.date | None:
    import datetime as dt

    return dt.date.fromisoformat(value) if isinstance(value, str) else value


# ------------------------------------------------------------------- diff


def diff(
    old: str | os.PathLike[str],
    new: str | os.PathLike[str],
    history: HistoryLike = None,
    config: DryRunConfig | None = None,
    *,
    gaps: GapPolicy | None = None,
    start: str | dt.date | None = None,
    end: str | dt.date | None = None,
    progress: Callable[[str, int, int], None] | None = None,
) -> DiffResult:
    """What a change to a book does over history: ``alvh_dsl.diff("b.alvh@HEAD~1", "b.alvh")``.

    ``old`` and ``new`` are rulebook paths, or ``PATH@REV`` for the book (and the files
    it includes) at a git revision (:mod:`alvh_dsl.revisions`; E605 when git cannot
    resolve it). Both replay the same history (as :func:`dryrun_history` takes it) and
    config; the result pairs their decisions and figures by date
    (:class:`~alvh_dsl.dryrun.diff.DiffResult`: ``to_json``, ``to_text``, ``to_html``).
    """
    from .extras import needs_dryrun_stack

    with needs_dryrun_stack("alvh_dsl.diff"):
        from .dryrun.diff import run_diff

    old_book, old_side = _diff_side(old)
    new_book, new_side = _diff_side(new)
    hist = dryrun_history(history, gaps=gaps, start=start, end=end)
    return run_diff(
        old_book, new_book, hist, config, old_side=old_side, new_side=new_side, progress=progress
    )


def _diff_side(argument: str | os.PathLike[str]) -> tuple[Book, DiffSide]:
    """A side of a diff: the book loaded from the working tree or exported from git."""
    import tempfile

    from .dryrun.diff import book_side
    from .revisions import export_revision, parse_book_ref, relabel

    ref = parse_book_ref(os.fspath(argument))
    if ref.revision is None:
        book = load(ref.path)
        return book, book_side(book, ref.path, ref.path)
    with tempfile.TemporaryDirectory(prefix="alvh-diff-") as tmp:
        export = export_revision(ref, tmp)
        try:
            book = load(export.root)
        except RulebookError as exc:  # named as the user wrote them, not the temporary copy
            sources = {export.display(k): v for k, v in exc.sources.items()}
            raise RulebookError(
                relabel(exc.diagnostics, export), sources, subject=ref.display
            ) from None
        display = f"{ref.display} ({export.short})"
        side = book_side(
            book, ref.path, display, rename=export.display, revision=ref.revision,
            commit=export.commit,
        )  # fmt: skip
    return book, side
