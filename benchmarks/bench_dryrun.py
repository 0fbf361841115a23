"""Dry-run benchmarks, against issue 11's targets. Run: ``python benchmarks/bench_dryrun.py
[--quick] [--profile]``.

Every comparison interleaves its sides (A B A B …, after one warm-up run of each) and
reports medians, of CPU time (what a loaded machine does not inflate) beside wall time:

(a) **in process**: the engine — :func:`alvh_dsl.dryrun.engine.run_dryrun` of
    benchmarks/books/rolled_condor.alvh, no baseline — against
    benchmarks/numpy_condor.py's hand-written NumPy simulation of the same book computing
    the same daily figures (``simulate(risk=True)``: the daily equity to the cent, and
    the greeks, effective gamma and scenario P&L before and after each day's actions,
    to the bit, effective gamma to two units in the last place: tests/test_numpy_reference.py),
    both from the same loaded history, 2007–2017 of ../shared/data/history_2004_2023.csv
    (``--gaps keep``); the ratio against the target, engine within 10× of NumPy (decision
    102: the baseline computes the same answer). Beside it, not the target's figure: the
    reference computing the P&L and trades alone (``simulate()``; it values no SPX move
    grid), and the engine without its audit trail (``audit=False``, as a sweep's variant
    runs; the reference keeps none either);
(b) **whole processes**, as a user waits for them, each writing its outputs:
    ``alvh dryrun benchmarks/books/rolled_condor.alvh --history … --gaps keep --from
    2007-01-01 --to 2017-12-31 --baseline none --out DIR`` against
    ``python benchmarks/numpy_condor.py --risk`` with the same options; CPU from the
    children's rusage;
(c) **the main job**, ``alvh dryrun rulebooks/alvh_core.alvh --out DIR`` (the built-in
    synthetic history, the no-hedge baseline, report.html and the plots): wall and CPU as
    a whole process against the 4 s CPU target, then where that time goes: the CLI's own
    code run in a fresh process with the functions it calls wrapped in timers —
    interpreter start, imports, loading the book and the history, building the market
    data, the book's day loop, what its run does after the last day (summary, rule
    statuses, coverage), the same two for the baseline, the comparison with the stress
    windows and the notes, writing the run directory, the rest of the command. The steps
    add up to about the command's CPU; on a loaded machine both vary by a few tenths of
    their value between runs.

Without ../shared, (a) and (b) run on 2007–2017 of the synthetic history, and say so.
benchmarks/targets.py prints (a), (c) and the sweep in one table.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import io
import json
import os
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

import bench_env  # noqa: E402

SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))
REAL = SHARED / "data" / "history_2004_2023.csv"
CONDOR = ROOT / "benchmarks" / "books" / "rolled_condor.alvh"
CORE = ROOT / "rulebooks" / "alvh_core.alvh"
NUMPY_SCRIPT = ROOT / "benchmarks" / "numpy_condor.py"
WINDOW = ("2007-01-01", "2017-12-31")
RATIO_TARGET = 10.0  # engine within 10x of the NumPy simulation
MAIN_JOB_CPU_TARGET = 4.0  # seconds of CPU for the default main job


def window_args() -> list[str]:
    """The history options of (a) and (b): the real file when it is here, else none
    (the synthetic history), and the 2007–2017 window either way."""
    history = ["--history", str(REAL), "--gaps", "keep"] if REAL.is_file() else []
    return [*history, "--from", WINDOW[0], "--to", WINDOW[1]]


def history_label() -> str:
    source = "real history_2004_2023.csv" if REAL.is_file() else "SYNTHETIC history (no ../shared)"
    return f"{source}, {WINDOW[0][:4]}-{WINDOW[1][:4]}"


def interleaved(sides: dict[str, Callable[[], Any]], rounds: int) -> dict[str, dict[str, float]]:
    """Medians of wall and CPU seconds per side, the sides alternating A B A B (B A on odd
    rounds, so neither always runs first), after one untimed warm-up of each."""
    for fn in sides.values():
        fn()
    wall: dict[str, list[float]] = defaultdict(list)
    cpu: dict[str, list[float]] = defaultdict(list)
    names = list(sides)
    for r in range(rounds):
        for name in names if r % 2 == 0 else names[::-1]:
            w0, c0 = time.perf_counter(), time.process_time()
            sides[name]()
            cpu[name].append(time.process_time() - c0)
            wall[name].append(time.perf_counter() - w0)
    return {
        n: {"wall": statistics.median(wall[n]), "cpu": statistics.median(cpu[n])} for n in names
    }


def this_checkout() -> dict[str, str]:
    """The environment of a child process that imports this checkout's ``alvh_dsl`` (first
    on ``PYTHONPATH``): the venv's editable install may point at another tree. From
    bytecode, as an install runs (:mod:`bench_env`, decision 103)."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    return bench_env.child_env(PYTHONPATH=path)


def timed_process(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds (the child's rusage, user + system) of one whole command of
    this checkout (:func:`bench_env.timed`)."""
    return bench_env.timed(cmd, this_checkout(), ROOT)


def run_process(cmd: list[str]) -> None:
    """:func:`timed_process`, untimed: a warm-up."""
    timed_process(cmd)


def alvh_command() -> list[str]:
    """``alvh`` of this checkout: what the console script runs (``alvh_dsl.cli.main``),
    with this interpreter and :func:`this_checkout`'s path. Not the ``alvh`` on PATH: the
    venv's install may be of another tree, whose figures these would then be."""
    return [sys.executable, "-c", "from alvh_dsl.cli import main; main()"]


# ------------------------------------------------------------- (a) in process


def engine_vs_numpy(rounds: int) -> dict[str, Any]:
    """(a): run_dryrun of the rolled condor (no baseline) against numpy_condor.simulate on
    the same History object, interleaved; medians and the CPU ratio."""
    import numpy_condor

    from alvh_dsl.api import load
    from alvh_dsl.dryrun.engine import run_dryrun

    history = numpy_condor.load(str(REAL) if REAL.is_file() else None, "keep", WINDOW[0], WINDOW[1])
    book = load(CONDOR)
    times = interleaved(
        {
            "engine": lambda: run_dryrun(book, history, baseline=None),
            # The same daily figures as the engine's: P&L, greeks, effective gamma and
            # scenario P&L (decision 102: the target's baseline).
            "numpy": lambda: numpy_condor.simulate(history, risk=True),
            # The P&L and trades alone: 4 of the 34 daily columns the other computes.
            "numpy_pnl": lambda: numpy_condor.simulate(history),
            # A sweep's variant: the same days, trades and figures, no audit trail.
            "unaudited": lambda: run_dryrun(book, history, baseline=None, audit=False),
        },
        rounds,
    )
    engine, ref, pnl = times["engine"], times["numpy"], times["numpy_pnl"]
    return {
        "days": len(history),
        "history": history_label(),
        "engine": engine,
        "numpy": ref,
        "numpy_pnl": pnl,
        "unaudited": times["unaudited"],
        "ratio": engine["cpu"] / ref["cpu"],
        "wall_ratio": engine["wall"] / ref["wall"],
        "pnl_ratio": engine["cpu"] / pnl["cpu"],
        "rounds": rounds,
        "command": "python benchmarks/bench_dryrun.py  # (a)",
    }


# ----------------------------------------------------------- (b) whole processes


def whole_processes(rounds: int) -> dict[str, Any]:
    """(b): both as commands writing their outputs, interleaved; medians of wall and CPU."""
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:
        cmds = {
            "alvh dryrun": [*alvh_command(), "dryrun", str(CONDOR), *window_args(),
                            "--baseline", "none", "--out", f"{tmp}/engine"],
            "numpy_condor.py": [sys.executable, str(NUMPY_SCRIPT), *window_args(),
                                "--risk", "--out", f"{tmp}/numpy"],
        }  # fmt: skip
        for cmd in cmds.values():
            run_process(cmd)  # warm the disk cache and the .pyc files
        samples: dict[str, list[tuple[float, float]]] = defaultdict(list)
        names = list(cmds)
        for r in range(rounds):
            for name in names if r % 2 == 0 else names[::-1]:
                samples[name].append(timed_process(cmds[name]))
    out: dict[str, Any] = {"rounds": rounds, "history": history_label(), "commands": cmds}
    for name, s in samples.items():
        out[name] = {
            "wall": statistics.median(w for w, _ in s),
            "cpu": statistics.median(c for _, c in s),
        }
    out["ratio"] = out["alvh dryrun"]["cpu"] / out["numpy_condor.py"]["cpu"]
    out["wall_ratio"] = out["alvh dryrun"]["wall"] / out["numpy_condor.py"]["wall"]
    return out


# ---------------------------------------------------------------- (c) main job

MAIN_JOB = "alvh dryrun rulebooks/alvh_core.alvh --out DIR"


def main_job(rounds: int) -> dict[str, Any]:
    """(c): the default main job as a whole process, medians of wall and CPU."""
    samples = []
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:
        cmd = [*alvh_command(), "dryrun", str(CORE), "--out", f"{tmp}/core"]
        run_process(cmd)  # warm-up
        for _ in range(rounds):
            samples.append(timed_process(cmd))
    return {
        "wall": statistics.median(w for w, _ in samples),
        "cpu": statistics.median(c for _, c in samples),
        "rounds": rounds,
        "command": MAIN_JOB,
    }


def breakdown() -> dict[str, float]:
    """(c)'s CPU seconds per step, measured in a fresh process (``--breakdown-child``) so
    that imports and the synthetic history cost what they cost the command."""
    run_process([sys.executable, "-c", "pass"])  # warm the interpreter's files
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:  # and the bytecode
        run_process([*alvh_command(), "dryrun", str(CORE), "--out", f"{tmp}/core"])
    _, interpreter = timed_process([sys.executable, "-c", "pass"])
    done = subprocess.run(
        [sys.executable, __file__, "--breakdown-child"], capture_output=True, text=True,
        check=True, cwd=ROOT, env=this_checkout(),
    )  # fmt: skip
    steps: dict[str, float] = {"interpreter start": interpreter}
    steps.update(json.loads(done.stdout.strip().splitlines()[-1]))
    return steps


def _breakdown_child() -> None:
    """The main job run by the CLI's own code in this process, its steps timed by wrapping
    the functions it calls (loading the book and the history, the dry-run with a progress
    callback marking each run's first and last day, writing); prints JSON."""
    clock = time.process_time
    t_start = clock()
    import alvh_dsl.api as api
    import alvh_dsl.cli.dryrun as cli_dryrun
    import alvh_dsl.dryrun.engine as engine
    import alvh_dsl.dryrun.report.files as files
    import alvh_dsl.dryrun.report.text  # noqa: F401  (the CLI's summary)
    from alvh_dsl.cli.main import main

    steps: dict[str, float] = {"imports (CLI, dry-run stack, report)": clock() - t_start}

    def timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            t0 = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                steps[name] = steps.get(name, 0.0) + clock() - t0

        return wrapper

    ticks: dict[str, list[float]] = defaultdict(list)
    returns: list[float] = []  # when each run_book returned: the book's, the baseline's
    run_dryrun = api.dryrun
    run_book = engine.run_book  # type: ignore[attr-defined]  # (wrapped below)

    def timed_run_book(*args: Any, **kwargs: Any) -> Any:
        try:
            return run_book(*args, **kwargs)
        finally:
            returns.append(clock())

    def dryrun(*args: Any, progress: Any = None, **kwargs: Any) -> Any:
        def tick(label: str, day: int, days: int) -> None:
            if day == 0 or day == days - 1:
                ticks[label].append(clock())
            if progress is not None:
                progress(label, day, days)

        t0 = clock()
        result = run_dryrun(*args, progress=tick, **kwargs)
        t1 = clock()
        (b0, b1), (r0, r1) = (ticks[k] for k in ticks)  # the book, then the baseline
        base_done = returns[-1]
        steps["market data (pricing inputs, curve, calibration)"] = b0 - t0
        steps["book: day loop"] = b1 - b0
        # What run_book does after the last day: the summary, the rule statuses (whose
        # days the loop keeps and reads at the end) and the coverage.
        steps["book: summary, statuses, coverage"] = r0 - b1
        steps["baseline: day loop"] = r1 - r0
        steps["baseline: summary, statuses, coverage"] = base_done - r1
        steps["comparison, stress windows, notes"] = t1 - base_done
        return result

    cli_dryrun.load_book = timed("load and check the book", cli_dryrun.load_book)  # type: ignore[attr-defined]
    api.dryrun_history = timed("the synthetic history", api.dryrun_history)
    api.dryrun = dryrun
    engine.run_book = timed_run_book  # type: ignore[attr-defined]
    files.write_run = timed(
        "write the run directory (report.html, plots, parquet, jsonl)", files.write_run
    )
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:
        sys.argv = ["alvh", "dryrun", str(CORE), "--out", f"{tmp}/core"]
        t_cli = clock()
        # click exits when the command is done
        with contextlib.redirect_stdout(io.StringIO()), contextlib.suppress(SystemExit):
            main()
        cli_total = clock() - t_cli
    steps["the rest of the command (options, config, the summary printed)"] = cli_total - sum(
        v for k, v in steps.items() if not k.startswith("imports")
    )
    print(json.dumps(steps))


# ------------------------------------------------------------------- profile


def profile() -> None:
    """Where the engine's time goes on (a)'s run, by module and by function."""
    import numpy_condor

    from alvh_dsl.api import load
    from alvh_dsl.dryrun.engine import run_dryrun

    history = numpy_condor.load(str(REAL) if REAL.is_file() else None, "keep", *WINDOW)
    book = load(CONDOR)
    run_dryrun(book, history, baseline=None)
    prof = cProfile.Profile()
    prof.enable()
    run_dryrun(book, history, baseline=None)
    prof.disable()
    stats = pstats.Stats(prof, stream=io.StringIO())
    by_module: dict[str, float] = defaultdict(float)
    total = 0.0
    for (file, _line, _func), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        total += tottime
        name = Path(file).name if "alvh_dsl" in file else (
            "numpy/scipy" if ("numpy" in file or "scipy" in file) else
            "pandas" if "pandas" in file else "python/other"
        )  # fmt: skip
        by_module[name] += tottime
    print("\nprofile of (a)'s engine run (self time by module, under cProfile):")
    for name, t in sorted(by_module.items(), key=lambda kv: -kv[1])[:12]:
        print(f"  {name:24s} {t:6.3f} s  {t / total:5.1%}")
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    print("\ntop functions by self time:")
    print("\n".join(line for line in out.getvalue().splitlines()[6:] if line.strip()))


# ---------------------------------------------------------------------- main


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def print_a(a: dict[str, Any]) -> None:
    e, n, p = a["engine"], a["numpy"], a["numpy_pnl"]
    print(f"(a) in process, {a['history']} ({a['days']} days), medians of {a['rounds']} "
          "interleaved runs")  # fmt: skip
    print(f"    engine (run_dryrun, rolled condor, no baseline)  {e['cpu'] * 1e3:8.1f} ms CPU "
          f"{e['wall'] * 1e3:8.1f} ms wall")  # fmt: skip
    print(f"    hand-written NumPy, the same daily figures        {n['cpu'] * 1e3:8.1f} ms CPU "
          f"{n['wall'] * 1e3:8.1f} ms wall")  # fmt: skip
    print("      (numpy_condor.simulate(risk=True): P&L, greeks, effective gamma, scenario P&L)")
    print(f"    ratio {a['ratio']:.1f}x CPU ({a['wall_ratio']:.1f}x wall); target <= "
          f"{RATIO_TARGET:.0f}x: {met(a['ratio'] <= RATIO_TARGET)}  (decision 102)")  # fmt: skip
    print(f"    hand-written NumPy, P&L and trades only           {p['cpu'] * 1e3:8.1f} ms CPU: "
          f"{a['pnl_ratio']:.1f}x (not the target's figure: 4 of those 34 daily columns, "
          "no move grid)")  # fmt: skip
    u = a.get("unaudited")
    if u is not None:  # beside it, not the target's figure: the engine as a sweep runs it
        print(f"    engine without its audit trail (audit=False) {u['cpu'] * 1e3:8.1f} ms CPU: "
              f"{u['cpu'] / n['cpu']:.1f}x the same daily figures, {u['cpu'] / p['cpu']:.1f}x "
              "P&L only")  # fmt: skip


def print_b(b: dict[str, Any]) -> None:
    print(f"(b) whole processes writing their outputs, {b['history']}, medians of "
          f"{b['rounds']} interleaved runs")  # fmt: skip
    for name in ("alvh dryrun", "numpy_condor.py"):
        print(f"    {name:16s} {b[name]['cpu']:6.2f} s CPU  {b[name]['wall']:6.2f} s wall")
    print(f"    ratio {b['ratio']:.1f}x CPU ({b['wall_ratio']:.1f}x wall)")
    cli = alvh_command()
    for cmd in b["commands"].values():
        words = ["alvh", *cmd[len(cli) :]] if cmd[: len(cli)] == cli else ["python", *cmd[1:]]
        print("    $ " + " ".join(words))


def print_c(c: dict[str, Any], steps: dict[str, float]) -> None:
    print(f"(c) the main job, `{c['command']}`, median of {c['rounds']}")
    print(f"    {c['cpu']:.2f} s CPU, {c['wall']:.2f} s wall; target <= "
          f"{MAIN_JOB_CPU_TARGET:.0f} s CPU: {met(c['cpu'] <= MAIN_JOB_CPU_TARGET)}")  # fmt: skip
    total = sum(steps.values())
    print(f"    where it goes (CPU, the command's code timed in a fresh process; {total:.2f} s):")
    for name, seconds in steps.items():
        print(f"      {name:64s} {seconds:6.2f} s  {seconds / total:5.1%}")


def main() -> None:
    if sys.argv[1:] == ["--breakdown-child"]:
        _breakdown_child()
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer rounds")
    parser.add_argument("--profile", action="store_true", help="where (a)'s engine time goes")
    args = parser.parse_args()
    print(f"python {sys.version.split()[0]} on {os.cpu_count()} cpu(s), load average "
          f"{os.getloadavg()[0]:.1f}")  # fmt: skip
    print_a(engine_vs_numpy(5 if args.quick else 15))
    print_b(whole_processes(3 if args.quick else 7))
    print_c(main_job(3 if args.quick else 5), breakdown())
    if args.profile:
        profile()


if __name__ == "__main__":
    main()
