"""The run directory: what each file holds, byte for byte, and writing it atomically.

:func:`write_run` writes one directory::

    runs/alvh_core/
      report.html        one self-contained page (inline CSS, the figure as inline SVG)
      summary.json       the summary figures, book vs baseline, with provenance and config
      daily.parquet      one row per trading day (the ``result.daily`` frame)
      trades.csv         every fill and settlement, one row per leg
      decisions.jsonl    fired rules (actions, fills, trade ids, traces) and near misses
      rule_status.parquet  every day's status of every rule (``alvh why`` reads it)
      state-DATE.json    the state the rules saw on each captured date (``--dump-state``)
      baseline/          daily.parquet, trades.csv, decisions.jsonl, rule_status.parquet
                         of the baseline run
      .alvh-run.json     the manifest: the format and every file above that was written

**Nothing half-written.** The whole directory is built beside the target (a hidden
``.NAME.PID.XXXXXXXX.tmp`` directory in the same parent, hence on the same file system),
every file fsynced, and renamed into place; an existing run directory is first renamed
aside (``.NAME.PID.XXXXXXXX.old``) and removed only once the new one stands. An
interrupted run leaves the old outputs or none, never a mix.

**Only a run directory is replaced.** A directory is a run directory when its manifest
(:data:`MANIFEST`, written last) lists exactly the files it holds; a directory with no
manifest, or holding anything the manifest does not list, is never replaced, however
run-like its file names. Hidden ``.tmp`` / ``.old`` directories of the same target left
by a killed run (their PID is no live process) are removed by the next run.

**Deterministic.** Two runs with the same inputs give byte-identical files: no
timestamps or output paths are written; JSON has sorted keys and Python's shortest
round-trip float text; the CSV is written cell by cell with the same float text; the
SVG figure writes every coordinate with one decimal (the PNG, with ``figure="png"``, is
rendered by Agg with its ``Software`` metadata removed); Parquet is written by pyarrow
with fixed options.

pandas, pyarrow, matplotlib and rich are imported inside functions: importing this
module costs nothing until a report is written, and matplotlib is imported only for
``figure="png"``.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import itertools
import json
import math
import operator
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import RunDirectoryError
from ...lang.diagnostics import data_span, error
from .document import summary_document

if TYPE_CHECKING:  # pragma: no cover
    from ...lang.evaluate import Book
    from ..result import DryRunResult, RunResult

__all__ = [
    "BASELINE_FILES",
    "FIGURE_FORMATS",
    "MANIFEST",
    "MANIFEST_FORMAT",
    "RUN_FILES",
    "TRADE_COLUMNS",
    "RunDirectoryError",
    "check_run_directory",
    "clean_leftovers",
    "daily_parquet",
    "decisions_jsonl",
    "dumps",
    "jsonable",
    "rule_status_parquet",
    "state_json",
    "trades_csv",
    "write_run",
]

MANIFEST = ".alvh-run.json"
MANIFEST_FORMAT = "alvh-run/1"
RUN_FILES = (
    "report.html",
    "summary.json",
    "daily.parquet",
    "trades.csv",
    "decisions.jsonl",
    "rule_status.parquet",
    MANIFEST,
)
# A manifest lists a few dozen names (one per captured state); anything far larger is
# not ours, and is not read whole.
_MANIFEST_LIMIT = 1 << 20
BASELINE_FILES = ("daily.parquet", "trades.csv", "decisions.jsonl", "rule_status.parquet")
TRADE_COLUMNS = (
    "date",
    "trade_id",
    "rule",
    "action",
    "position",
    "layer",
    "instrument",
    "strike",
    "expiry",
    "quantity",
    "mid",
    "fill",
    "commission",
    "multiplier",
    "cash_flow",
)


def _not_a_run_directory(path: Path, message: str) -> RunDirectoryError:
    return RunDirectoryError([error("E603", message, data_span(str(path)))], subject=str(path))


# ------------------------------------------------------------------ JSON, CSV


def jsonable(value: Any) -> Any:
    """Plain JSON data: NaN and infinities become null, dates ISO text, tuples lists,
    NumPy scalars Python numbers."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    item = getattr(value, "item", None)  # NumPy scalars
    if callable(item):
        return jsonable(item())
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def dumps(value: Any, *, indent: int | None = None) -> str:
    """Deterministic JSON: sorted keys, shortest round-trip floats, no NaN, UTF-8 text."""
    separators = (",", ":") if indent is None else (",", ": ")
    options: dict[str, Any] = {
        "sort_keys": True,
        "ensure_ascii": False,
        "allow_nan": False,
        "indent": indent,
        "separators": separators,
    }
    try:
        # Fast path: the engine's records are plain data already (tens of thousands of
        # traces per run). Anything json cannot take as is goes through jsonable().
        return json.dumps(value, default=_plain, **options)
    except (ValueError, TypeError):
        return json.dumps(jsonable(value), **options)


def _plain(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    item = getattr(value, "item", None)
    if callable(item):
        return item()
    raise TypeError(f"not JSON data: {type(value).__name__}")


# dumps()'s compact options in one encoder: json.dumps with options builds one per call,
# and a run writes thousands of decisions.
_COMPACT = json.JSONEncoder(
    sort_keys=True, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=_plain
)


def decisions_jsonl(decisions: Iterable[Mapping[str, Any]]) -> bytes:
    """One JSON object per line, in the run's order (by date, then execution order)."""
    encode = _COMPACT.encode
    lines = []
    for d in decisions:
        try:
            lines.append(encode(d))
        except (ValueError, TypeError):
            lines.append(dumps(d))  # what dumps() does with what json cannot take as is
    lines.append("")
    return "\n".join(lines).encode()


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return str(value)


def trades_csv(trades: Iterable[Mapping[str, Any]]) -> bytes:
    """The trade log as CSV: :data:`TRADE_COLUMNS` first, any others after, sorted."""
    rows = list(trades)
    extra = sorted({k for r in rows for k in r} - set(TRADE_COLUMNS))
    columns = [*TRADE_COLUMNS, *extra]
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    plain = _plain_cells(rows, columns)
    if plain is not None:
        writer.writerows(plain)
    else:
        for row in rows:
            writer.writerow([_trade_cell(row.get(c)) for c in columns])
    return buf.getvalue().encode()


def _plain_cells(rows: list[Mapping[str, Any]], columns: list[str]) -> list[Any] | None:
    """Each row's cells as the csv writer takes them, when writing them as they are gives
    :func:`_trade_cell`'s text: every row holds every column, every cell a str, int, finite
    float or None (the writer's ``str`` of an int and a float is ``str``/``repr``, of None
    the empty cell). None otherwise: the caller then writes cell by cell."""
    if len(columns) < 2:  # itemgetter of one key gives the value, not a tuple
        return None
    pick = operator.itemgetter(*columns)
    try:
        cells = list(map(pick, rows))  # one C call per row instead of one get per cell
    except KeyError:
        return None
    kinds = set(map(type, itertools.chain.from_iterable(cells)))
    if not kinds <= _PLAIN_CELLS:
        return None
    if float in kinds:
        # A sum of finite floats is finite or overflows; one NaN or infinity makes it so.
        # Either way the cells go the slow way, which writes a non-finite one empty.
        floats = (x for x in itertools.chain.from_iterable(cells) if type(x) is float)
        if not math.isfinite(sum(floats)):
            return None
    return cells


_PLAIN_CELLS = frozenset({str, int, float, type(None)})


def _trade_cell(value: Any) -> str:
    """``_cell(jsonable(value))``, the trade log's plain kinds without the detour (a
    20-year run writes ~100,000 cells)."""
    kind = type(value)
    if kind is str:
        return value  # type: ignore[no-any-return]
    if kind is float:
        return repr(value) if math.isfinite(value) else ""
    if value is None:
        return ""
    if kind is int:
        return str(value)
    return _cell(jsonable(value))


def daily_parquet(run: RunResult) -> bytes:
    """The daily frame as Parquet; ``pandas.read_parquet`` gives back ``run.daily``."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(run.daily, preserve_index=True)
    sink = pa.BufferOutputStream()
    # Dictionary pages for the columns whose values repeat (the date, the front expiry,
    # the counts) only: a day's marks and greeks are almost all distinct, and encoding
    # them twice (a dictionary, then plain once it overflows) cost time for a larger
    # file (benchmarks/bench_pieces.py (3): 0.85x the time, 1.64 -> 1.41 MB for 20 years).
    repeating = [f.name for f in table.schema if not pa.types.is_floating(f.type)]
    pq.write_table(table, sink, compression="snappy", use_dictionary=repeating)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def rule_status_parquet(run: RunResult) -> bytes:
    """Every day's status of every rule (``run.rule_status``) as Parquet: ``date``
    (date32), ``rule`` and ``status`` dictionary-encoded, ``applied`` (bool), ``detail``
    (compact JSON or null; see :mod:`alvh_dsl.dryrun.statuses`); zstd-compressed, so a
    20-year run of a few rules stays small."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    cols = run.rule_status
    dictionary = pa.dictionary(pa.int16(), pa.string())
    table = pa.table(
        {
            "date": pa.array(cols.get("date", []), pa.date32()),
            "rule": pa.array(cols.get("rule", []), pa.string()).cast(dictionary),
            "status": pa.array(cols.get("status", []), pa.string()).cast(dictionary),
            "applied": pa.array(cols.get("applied", []), pa.bool_()),
            "detail": pa.array(cols.get("detail", []), pa.string()),
        }
    )
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd", use_dictionary=True)
    data: bytes = sink.getvalue().to_pybytes()
    return data


def state_json(state: Any) -> bytes:
    """A captured :class:`~alvh_dsl.lang.state.State` as ``alvh eval --state`` reads it."""
    text: str = state.model_dump_json(indent=2)
    return (text + "\n").encode()


# --------------------------------------------------------------- writing


def _is_state_file(name: str) -> bool:
    if not (name.startswith("state-") and name.endswith(".json")):
        return False
    try:
        dt.date.fromisoformat(name[len("state-") : -len(".json")])
    except ValueError:
        return False
    return True


def _run_like(name: str) -> bool:
    """A path (relative, ``/``-separated) that a dry-run may write."""
    if name.startswith("baseline/"):
        return name[len("baseline/") :] in BASELINE_FILES
    return name in RUN_FILES or _is_state_file(name)


def _held_files(path: Path) -> list[str] | None:
    """Every regular file under ``path`` (relative names, sorted), or None when it holds
    anything else: a symbolic link, a special file, or a directory other than a
    ``baseline`` of regular files."""
    held = []
    for entry in path.iterdir():
        if entry.is_symlink():
            return None
        if entry.is_file():
            held.append(entry.name)
        elif entry.name == "baseline" and entry.is_dir():
            for sub in entry.iterdir():
                if sub.is_symlink() or not sub.is_file():
                    return None
                held.append(f"baseline/{sub.name}")
        else:
            return None
    return sorted(held)


def _manifest_files(path: Path) -> list[str] | None:
    """The files a run directory's manifest lists, or None when it has no valid one."""
    manifest = path / MANIFEST
    if manifest.is_symlink() or not manifest.is_file():
        return None
    try:
        with open(manifest, "rb") as f:
            data = f.read(_MANIFEST_LIMIT + 1)
        doc = json.loads(data) if len(data) <= _MANIFEST_LIMIT else None
    except (OSError, ValueError):
        return None
    if not isinstance(doc, dict) or doc.get("format") != MANIFEST_FORMAT:
        return None
    files = doc.get("files")
    if not isinstance(files, list) or not all(isinstance(f, str) for f in files):
        return None
    return sorted(files)


def check_run_directory(directory: str | os.PathLike[str]) -> None:
    """Refuse an output path that :func:`write_run` must not replace.

    It may not exist yet, or be an empty directory, or a run directory: one whose
    manifest (:data:`MANIFEST`) lists exactly the files it holds, each a name a dry-run
    writes. Anything else raises :class:`RunDirectoryError`, so that ``--out ~`` can
    never remove a home directory, nor ``--out`` a directory of the user's own
    ``summary.json`` and ``trades.csv``.
    """
    path = Path(directory)
    if path.is_symlink():
        raise _not_a_run_directory(path, "a symbolic link; give the directory itself")
    if not path.exists():
        return
    if not path.is_dir():
        raise _not_a_run_directory(path, "exists and is not a directory")
    held = _held_files(path)
    if held == []:
        return
    listed = _manifest_files(path)
    if (
        held is not None
        and listed is not None
        and held == sorted([*listed, MANIFEST])
        and all(_run_like(name) for name in held)
    ):
        return
    names = sorted(e.name for e in path.iterdir())
    shown = ", ".join(names[:5]) + (" …" if len(names) > 5 else "")
    why = "no manifest" if listed is None else f"files its {MANIFEST} does not list"
    raise _not_a_run_directory(
        path,
        f"exists and is not a dry-run directory (it holds {shown}; {why}); "
        "choose another output directory or remove it",
    )


def _leftover_pattern(target: Path) -> re.Pattern[str]:
    # mkdtemp's random part is 8 characters of [a-z0-9_].
    return re.compile(rf"\.{re.escape(target.name)}\.([0-9]+)\.[a-z0-9_]{{8}}\.(?:tmp|old)")


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another write_run of this process (a thread) may own it
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # someone else's live process, or unknowable: keep it
    return True


def clean_leftovers(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the hidden ``.tmp`` / ``.old`` directories of ``target`` that a killed
    run left beside it (their PID names no live process); return what was removed.

    Only directories named the way :func:`write_run` names them are touched; one whose
    PID is alive (or was reused by another process) is kept, to be removed later.
    """
    target = Path(target)
    parent = target.parent
    if os.name != "posix" or not parent.is_dir():
        return []  # the liveness check is POSIX's os.kill(pid, 0)
    pattern = _leftover_pattern(target)
    removed = []
    for entry in sorted(parent.iterdir()):
        match = pattern.fullmatch(entry.name)
        if match is None or entry.is_symlink() or not entry.is_dir():
            continue
        if _alive(int(match.group(1))):
            continue
        shutil.rmtree(entry, ignore_errors=True)
        removed.append(entry)
    return removed


def _write(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    # Make the renames inside durable too (no-op where directories cannot be opened).
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


#: The figure formats of report.html: inline SVG (NumPy only, the default) or the
#: matplotlib PNG as a ``data:`` URI (pays matplotlib's import and text layout).
FIGURE_FORMATS = ("svg", "png")


def _figure(result: DryRunResult, figure: str) -> str | bytes:
    """The report's figure in ``figure`` format, as :func:`.html.render_html` takes it."""
    if figure == "png":
        from .chart import figure_png

        return figure_png(result)
    from .html import PLOT_ALT
    from .svg import figure_svg

    return figure_svg(result, PLOT_ALT)


def _write_contents(
    result: DryRunResult, root: Path, baseline_book: Book | None, figure: str
) -> None:
    """Every output file, in ``root`` (the temporary directory)."""
    from .html import render_html

    run = result.run
    _write(root / "decisions.jsonl", decisions_jsonl(run.decisions))
    _write(root / "daily.parquet", daily_parquet(run))
    _write(root / "trades.csv", trades_csv(run.trades))
    _write(root / "rule_status.parquet", rule_status_parquet(run))
    if result.baseline is not None:
        (root / "baseline").mkdir()
        base = result.baseline
        _write(root / "baseline" / "decisions.jsonl", decisions_jsonl(base.decisions))
        _write(root / "baseline" / "daily.parquet", daily_parquet(base))
        _write(root / "baseline" / "trades.csv", trades_csv(base.trades))
        _write(root / "baseline" / "rule_status.parquet", rule_status_parquet(base))
        _fsync_dir(root / "baseline")
    for date, state in sorted(run.states.items()):
        _write(root / f"state-{date.isoformat()}.json", state_json(state))
    doc = summary_document(result, baseline_book)
    _write(root / "summary.json", (dumps(doc, indent=2) + "\n").encode())
    html = render_html(result, doc, _figure(result, figure), baseline_book)
    _write(root / "report.html", html.encode())
    # Last, so that a directory with a manifest holds everything the manifest lists.
    files = [p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()]
    manifest = {"format": MANIFEST_FORMAT, "files": sorted(files)}
    _write(root / MANIFEST, (dumps(manifest, indent=2) + "\n").encode())
    _fsync_dir(root)


def write_run(
    result: DryRunResult,
    directory: str | os.PathLike[str],
    *,
    baseline_book: Book | None = None,
    figure: str = "svg",
) -> Path:
    """Write the run directory (see the module docstring) and return its path.

    The directory is built beside ``directory`` and renamed into place, so readers see
    the previous outputs or the new ones, never a mix; on any error nothing is left
    behind but the previous outputs. ``baseline_book``: the loaded baseline book, when
    the baseline is another rulebook, so that its text and hashes are reported too.
    ``figure``: report.html's figure, ``svg`` (inline, drawn without matplotlib) or
    ``png`` (the matplotlib figure of :meth:`DryRunResult.plot`).
    Raises :class:`RunDirectoryError` if ``directory`` exists and is not a dry-run's.
    Leftovers of killed runs of the same target are removed first
    (:func:`clean_leftovers`).
    """
    if figure not in FIGURE_FORMATS:
        raise ValueError(f"figure must be one of {', '.join(FIGURE_FORMATS)}, not {figure!r}")
    target = Path(directory)
    check_run_directory(target)
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    clean_leftovers(target)
    prefix = f".{target.name}.{os.getpid()}."  # the owner, for clean_leftovers
    tmp = Path(tempfile.mkdtemp(prefix=prefix, suffix=".tmp", dir=parent))
    old: Path | None = None
    try:
        _write_contents(result, tmp, baseline_book, figure)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; a run dir is not
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=prefix, suffix=".old", dir=parent))
            os.rmdir(old)  # only the unique name is wanted
            os.rename(target, old)
        try:
            os.rename(tmp, target)
        except BaseException:
            if old is not None:
                os.rename(old, target)  # put the previous outputs back
                old = None
            raise
        _fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    return target
