"""The long fuzz run (issue 10). Run: ``python benchmarks/fuzz_campaign.py --seconds 900``.

Mutates valid inputs of four kinds and feeds each, in this process, to the entry
points a user reaches:

- ``book``: the books under ``rulebooks/``, ``../shared/rulebooks/`` and
  ``tests/golden/`` through :func:`alvh_dsl.lang.fmt.format_source`,
  :func:`alvh_dsl.api.load` (which runs every check of ``alvh check``) and, when
  the book checks clean, one ``Book.evaluate`` on the example state;
- ``state``: ``examples/state_near_expiry.json`` through
  :func:`alvh_dsl.lang.state.parse_state`;
- ``history``: small CSVs (and slices of ``../shared/data/history_2004_2023.csv``)
  written to a file and read by :func:`alvh_dsl.market.history.load_history`;
- ``config``: ``examples/dryrun.toml`` through :func:`alvh_dsl.dryrun.config.load_config`.

An input passes when it is accepted or refused with an :class:`alvh_dsl.errors.AlvhError`.
Anything else is a failure: the input and its traceback are saved under
``/tmp/fuzz-failures/``. Every input is timed in CPU seconds (over 1 s is counted as
slow; CPU, not wall time, because the campaign shares its machine) and watched by an
alarm (``--hang`` CPU seconds, or six times that of wall time for a read that blocks;
a hang is a failure). Each job's counts are rewritten every 10,000 inputs to
``--checkpoint`` (default ``/tmp/fuzz-campaign/``), and ``--summarise`` prints their
merged table, so a run stopped early keeps its record. A table of counts
per kind is printed at the end. Options: ``--inputs N`` (stop after N inputs in
all), ``--seconds S`` (stop after S seconds), ``--seed K``, ``--jobs J`` (J processes,
each with its own seed derived from K, sharing the inputs; the table sums them).
``tests/test_fuzz_inputs.py`` runs the kept corpus (``tests/fuzz_corpus/``) through
:func:`run_input`: the bounded run CI does.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import random
import signal
import sys
import tempfile
import time
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from types import FrameType

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
sys.path.insert(0, str(ROOT))

from alvh_dsl.api import load  # noqa: E402
from alvh_dsl.dryrun.config import load_config  # noqa: E402
from alvh_dsl.errors import AlvhError  # noqa: E402
from alvh_dsl.lang.fmt import format_source  # noqa: E402
from alvh_dsl.lang.state import parse_state  # noqa: E402
from alvh_dsl.market.history import load_history  # noqa: E402

KINDS = ("book", "state", "history", "config")
SUFFIX = {"book": ".alvh", "state": ".json", "history": ".csv", "config": ".toml"}
FAILURES = Path("/tmp/fuzz-failures")
SLOW_SECONDS = 1.0

# Tokens that reach many branches: hostile numbers and dates, keywords and units,
# punctuation, line ends and the bytes a text reader trips on.
NUMBERS = (
    b"0 -1 1e308 1e999 nan inf -inf NaN Infinity 99999999999999999999 0.0000001 "
    b"2099-12-31 1900-01-01 2300-01-01 9999-12-31 0000-00-00 02/30/2020 -1020-01-03"
).split()
WORDS = (
    b"% $ d days pts when then rule param include and or not of crosses above below shift "
    b"close open hedge condor SMA(VIX,20) RSI( ) ( [ ] { } \" ' , : = # \\ true null [] {} "
    b'"" - + * / < >= == != .. e E'
).split()
BYTES = [b"\n", b"\r\n", b"\r", b"\t", b"  ", b"\x00", b"\xff", b"\xc3\xa9", b"\xe2\x80\xa8"]
TOKENS = [*NUMBERS, *WORDS, *BYTES, b"\xef\xbb\xbf", b" days", b" pts"]


# ----------------------------------------------------------------- the seeds


def seeds() -> dict[str, list[bytes]]:
    """The valid inputs every mutation starts from, per kind."""
    books: list[bytes] = []
    for folder in (ROOT / "rulebooks", SHARED / "rulebooks", ROOT / "tests" / "golden"):
        if folder.is_dir():
            books += [p.read_bytes() for p in sorted(folder.rglob("*.alvh"))]
    histories = [
        b"date,spx,vix\n2020-01-02,3000,15\n2020-01-03,3001,16\n2020-01-06,2990,17\n",
        b"date,spx,vix,vx1,vx1_expiry\n2020-01-02,3000,15,16,2020-01-22\n"
        b"2020-01-03,3001,16,17,2020-01-22\n",
        b"date,spx,vix,vvix,rate,dividend_yield\n2020-01-02,3000,15,90,0.02,0.018\n"
        b"2020-01-03,3010,14.5,88,0.02,0.018\n",
    ]
    real = SHARED / "data" / "history_2004_2023.csv"
    if real.is_file():
        lines = real.read_bytes().splitlines(keepends=True)
        histories += [b"".join(lines[:1] + lines[i : i + 6]) for i in (1, 1000, 4000)]
    return {
        "book": books,
        "state": [(ROOT / "examples" / "state_near_expiry.json").read_bytes()],
        "history": histories,
        "config": [(ROOT / "examples" / "dryrun.toml").read_bytes()],
    }


# ------------------------------------------------------------- the mutations


def _span(rng: random.Random, data: bytes) -> tuple[int, int]:
    start = rng.randrange(len(data) + 1)
    return start, min(len(data), start + rng.randrange(1, 40))


def mutate(data: bytes, rng: random.Random, others: list[bytes]) -> bytes:
    """One to four byte-, token- and line-level edits of ``data``."""
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(9)
        i, j = _span(rng, data)
        if op == 0:  # delete a span
            data = data[:i] + data[j:]
        elif op == 1:  # insert a token
            data = data[:i] + rng.choice(TOKENS) + data[i:]
        elif op == 2:  # replace a span with a token
            data = data[:i] + rng.choice(TOKENS) + data[j:]
        elif op == 3:  # flip one byte
            if data:
                k = rng.randrange(len(data))
                data = data[:k] + bytes([rng.randrange(256)]) + data[k + 1 :]
        elif op == 4:  # duplicate a span (repeated keys, rows, rules)
            data = data[:j] + data[i:j] * rng.randint(1, 3) + data[j:]
        elif op in (5, 6):  # line edits: drop, repeat or swap lines
            lines = data.splitlines(keepends=True)
            if len(lines) > 1:
                a, b = rng.randrange(len(lines)), rng.randrange(len(lines))
                if op == 5:
                    lines[a], lines[b] = lines[b], lines[a]
                else:
                    lines.insert(a, lines[b]) if rng.random() < 0.5 else lines.pop(a)
                data = b"".join(lines)
        elif op == 7:  # splice a piece of another seed
            other = rng.choice(others)
            k, m = _span(rng, other)
            data = data[:i] + other[k:m] + data[j:]
        else:  # change a number
            digits = [k for k, c in enumerate(data) if 48 <= c <= 57]
            if digits:
                k = rng.choice(digits)
                data = data[:k] + rng.choice(NUMBERS) + data[k + 1 :]
    return data


# ------------------------------------------------------------- entry points


_STATE = parse_state((ROOT / "examples" / "state_near_expiry.json").read_text())


def _book(data: bytes, workdir: Path) -> None:
    text = data.decode("utf-8", errors="replace")
    # in the golden folder, so that `include "lib.alvh"` finds the seed books' libraries
    path = str(ROOT / "tests" / "golden" / "books" / "includes" / "fuzz.alvh")
    with suppress(AlvhError):  # a book with syntax errors is refused by fmt, checked by load
        format_source(text, path)
    # `load` runs every check `alvh check` does and raises with the diagnostics, so a
    # separate `check` call would only parse the book twice.
    book = load(path, text=text)
    book.evaluate(_STATE)


def _file(kind: str, data: bytes, workdir: Path) -> Path:
    path = workdir / f"fuzz{SUFFIX[kind]}"
    path.write_bytes(data)
    return path


ENTRY: dict[str, Callable[[bytes, Path], object]] = {
    "book": _book,
    "state": lambda data, _: parse_state(data.decode("utf-8", errors="replace")),
    "history": lambda data, workdir: load_history(_file("history", data, workdir)),
    "config": lambda data, workdir: load_config(_file("config", data, workdir)),
}


def run_input(kind: str, data: bytes, workdir: Path) -> str:
    """Feed one input to its entry points: ``"accepted"`` or ``"refused"`` (an
    :class:`AlvhError`). Any other exception propagates: that is a failure."""
    try:
        ENTRY[kind](data, workdir)
    except AlvhError:
        return "refused"
    return "accepted"


class Hang(Exception):
    """An input ran past the alarm."""


def _alarm(signum: int, frame: FrameType | None) -> None:
    raise Hang()


WALL_FACTOR = 6  # a blocking input (a FIFO) is a hang after this many times the CPU alarm


@contextmanager
def watched(seconds: int) -> Iterator[None]:
    """Raise :class:`Hang` in the body after ``seconds`` of this process's CPU time (a
    busy loop), or after ``WALL_FACTOR × seconds`` of wall time (a read that blocks).

    CPU time, because a campaign shares its machine: a 50 ms input waiting for a core on a
    loaded machine is not a hang, nor slow.
    """
    previous = signal.signal(signal.SIGALRM, _alarm), signal.signal(signal.SIGPROF, _alarm)
    signal.setitimer(signal.ITIMER_PROF, seconds)
    signal.alarm(seconds * WALL_FACTOR)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_PROF, 0)
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous[0])
        signal.signal(signal.SIGPROF, previous[1])


def _save(kind: str, data: bytes, error: str) -> Path:
    FAILURES.mkdir(parents=True, exist_ok=True)
    name = f"{kind}-{hashlib.sha256(data).hexdigest()[:16]}"
    (FAILURES / (name + SUFFIX[kind])).write_bytes(data)
    (FAILURES / (name + ".txt")).write_text(error)
    return FAILURES / (name + SUFFIX[kind])


# Long: one loop that mutates, runs, times, classifies and reports; split it and the
# counters would travel between four functions.
def campaign(
    inputs: int, seconds: float, seed: int, hang: int, checkpoint: Path | None = None
) -> Counter[tuple[str, str]]:
    """Run the campaign; counts keyed by (kind, outcome). Every 10,000 inputs the counts
    so far are written to ``checkpoint`` (a killed run keeps its record)."""
    rng = random.Random(seed)
    pool = seeds()
    everything = [d for kind in KINDS for d in pool[kind]]
    counts: Counter[tuple[str, str]] = Counter()
    slowest: dict[str, float] = dict.fromkeys(KINDS, 0.0)
    failed: set[str] = set()
    start = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        n = 0
        while n < inputs and time.monotonic() - start < seconds:
            kind = KINDS[n % len(KINDS)]
            data = mutate(rng.choice(pool[kind]), rng, everything)
            n += 1
            t0 = time.process_time()
            try:
                with watched(hang):
                    outcome = run_input(kind, data, workdir)
            except Hang:
                outcome = "hang"
                _save(kind, data, f"no answer within {hang} s\n")
            except Exception:  # any exception but AlvhError is the finding
                outcome = "failure"
                error = traceback.format_exc()
                where = error.strip().splitlines()[-1]
                if where not in failed:
                    failed.add(where)
                    print(f"{kind}: {where} -> {_save(kind, data, error)}", flush=True)
            elapsed = time.process_time() - t0  # CPU seconds: see watched()
            slowest[kind] = max(slowest[kind], elapsed)
            counts[(kind, outcome)] += 1
            if elapsed > SLOW_SECONDS:
                counts[(kind, "slow")] += 1
                _save(kind, data, f"took {elapsed:.2f} s of CPU\n")
            if n % 10_000 == 0:
                print(f"{n} inputs, {time.monotonic() - start:.0f} s", flush=True)
                if checkpoint is not None:
                    _write_counts(checkpoint, seed, n, counts, slowest)
    if checkpoint is not None:
        _write_counts(checkpoint, seed, n, counts, slowest)
    for kind in KINDS:
        counts[(kind, "slowest_ms")] = round(slowest[kind] * 1000)
    return counts


def _write_counts(
    folder: Path, seed: int, n: int, counts: Counter[tuple[str, str]], slowest: dict[str, float]
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    record = {f"{k}|{o}": v for (k, o), v in counts.items()}
    record.update({f"{k}|slowest_ms": round(v * 1000) for k, v in slowest.items()})
    tmp = folder / f".seed-{seed}.json.tmp"
    tmp.write_text(json.dumps({"seed": seed, "inputs": n, "counts": record}))
    tmp.replace(folder / f"seed-{seed}.json")


def read_counts(folder: Path) -> Counter[tuple[str, str]]:
    """The merged counts of every run checkpointed in ``folder`` (``--summarise``)."""
    parts = []
    for path in sorted(folder.glob("seed-*.json")):
        record = json.loads(path.read_text())["counts"]
        parts.append(Counter({tuple(k.split("|", 1)): v for k, v in record.items()}))
    return merge(parts)  # type: ignore[arg-type]


def merge(parts: list[Counter[tuple[str, str]]]) -> Counter[tuple[str, str]]:
    """The counts of several jobs as one: sums, except the slowest input, a maximum."""
    total: Counter[tuple[str, str]] = Counter()
    for part in parts:
        for key, value in part.items():
            total[key] = max(total[key], value) if key[1] == "slowest_ms" else total[key] + value
    return total


def table(counts: Counter[tuple[str, str]]) -> str:
    """The closing table: one row per kind, and the totals."""
    columns = ("accepted", "refused", "failure", "hang", "slow", "slowest_ms")
    rows = [f"{'kind':<8} {'inputs':>9} " + " ".join(f"{c:>10}" for c in columns)]
    for kind in (*KINDS, "total"):
        kinds = KINDS if kind == "total" else (kind,)

        def cell(c: str, kinds: tuple[str, ...] = kinds) -> int:
            values = [counts[(k, c)] for k in kinds]
            return max(values) if c == "slowest_ms" else sum(values)

        total = sum(cell(c) for c in ("accepted", "refused", "failure", "hang"))
        rows.append(f"{kind:<8} {total:>9} " + " ".join(f"{cell(c):>10}" for c in columns))
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    """Parse the options, run, print the table; exit 1 when anything failed, hung or was slow."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--inputs", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=float("inf"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--hang", type=int, default=10, help="alarm per input, in seconds")
    parser.add_argument("--jobs", type=int, default=1, help="processes, each its own seed")
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=Path("/tmp/fuzz-campaign"),
        help="folder for each job's counts, rewritten every 10,000 inputs",
    )
    parser.add_argument(
        "--summarise",
        action="store_true",
        help="print the merged table of --checkpoint, run nothing",
    )
    args = parser.parse_args(argv)
    if args.summarise:
        print(table(read_counts(args.checkpoint)))
        return 0
    t0 = time.monotonic()
    jobs = max(1, args.jobs)
    if jobs == 1:
        counts = campaign(args.inputs, args.seconds, args.seed, args.hang, args.checkpoint)
    else:
        shares = [args.inputs // jobs + (j < args.inputs % jobs) for j in range(jobs)]
        tasks = [
            (n, args.seconds, args.seed * 1000 + j, args.hang, args.checkpoint)
            for j, n in enumerate(shares)
        ]
        with multiprocessing.Pool(jobs) as pool:
            counts = merge(pool.starmap(campaign, tasks))
    print(table(counts))
    print(json.dumps({"seed": args.seed, "jobs": jobs, "seconds": round(time.monotonic() - t0)}))
    bad = sum(counts[(k, c)] for k in KINDS for c in ("failure", "hang", "slow"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
