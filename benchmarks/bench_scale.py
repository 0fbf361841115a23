"""`alvh check` on generated books of 10k–100k rules: whole commands, medians (issue 10).

Run: ``python benchmarks/bench_scale.py [OLD_TREE]``. Books of 10,000 / 20,000 / 50,000 /
100,000 rules are generated (seeded, so every run checks the same text) into a temporary
directory, and ``alvh check BOOK`` is timed as a user waits for it: a new process,
start-up, imports, parse, check, the report printed. Runs are interleaved (every size,
then every size again, and with ``OLD_TREE`` old and new side by side as in
benchmarks/bench_layout.py) and medians reported with the bytes of output: wall time, and
the command's CPU time (user + system, from ``getrusage``), which the other work of a
shared machine disturbs far less.
``SIZES=10000,20000 REPS=3`` chooses the sizes and the repetitions, ``PARSERS=fast,lark``
puts the hand-written parser and Lark side by side (``ALVH_PARSER``);
``--write DIR`` only writes the books, e.g. to profile one.

``--parse [OLD_TREE]`` times the parse alone, as ``alvh check`` runs it (the collector
off), in a fresh process a run, interleaved the same way: the CPU time of
:func:`alvh_dsl.lang.parse.parse` and, apart, of the tokenizer
(:func:`alvh_dsl.lang.fastlex.lex`), the process's peak memory, and with ``OLD_TREE``
each size's new/old ratio of medians. On a shared machine, compare ratios, never the
seconds of two sessions.

``--passes [OLD_TREE]`` times, in a fresh process a run and interleaved the same way,
the load (the parse, with includes) and each pass of
:data:`alvh_dsl.lang.check.PASSES` on its own: the CPU seconds of each step, old and new
side by side, medians, and their sum.

The book is what makes W202 (same-priority conflicts) grow: rules of few priorities,
about half acting on the condor and half on the hedge's months, with conditions on a
few names so most pairs can fire together.
"""

from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import bench_env

HERE = Path(__file__).resolve().parents[1]
SIZES = [10_000, 20_000, 50_000, 100_000]

_ACTIONS = [
    "close condor",
    "roll condor to month 2",
    "roll condor to month 3 keeping delta",
    "close hedge month 2",
    "shift 50% hedge to month 2",
    "shift 25% hedge to month 3",
    'alert "look"',
]
_CONDITIONS = [
    "VIX > {a}",
    "VIX < {a}",
    "VIX between {a} and {b}",
    "condor.DTE < {d}d",
    "hedge.DTE < {d}d",
    "stressed and hedge.layers < 3",
    "VIX.M1 > VIX.M2",
]


def generate(n: int, seed: int = 10) -> str:
    """A book of ``n`` rules (and a param and a define), the same for the same seed.

    Two lines a rule, so that 100,000 rules stay under the 8 MiB file limit (E406).
    """
    rng = random.Random(seed)
    lines = [
        f'rulebook "scale {n}" version "1.0"',
        "param trigger = 22",
        "define stressed = VIX > trigger or VIX.M1 > VIX.M2",
        "",
    ]
    for i in range(n):
        conds = []
        for _ in range(rng.randint(1, 2)):
            a = rng.randint(10, 40)
            conds.append(
                rng.choice(_CONDITIONS).format(a=a, b=a + rng.randint(1, 10), d=rng.randint(1, 30))
            )
        priority = rng.randint(0, 3)
        head = f"rule r{i}" + (f" priority {priority}" if priority else "")
        lines += [head, f"  when {' and '.join(conds)} then {rng.choice(_ACTIONS)}"]
    return "\n".join(lines)


def run(tree: Path, book: Path, parser: str = "fast") -> tuple[float, float, int]:
    """Wall seconds, CPU seconds and bytes printed of one ``alvh check BOOK``, parsed by
    the hand-written parser (``fast``, the default path) or by Lark alone (``lark``)."""
    env = bench_env.child_env(PYTHONPATH=str(tree), ALVH_PARSER="" if parser == "fast" else parser)
    cmd = [sys.executable, "-c", "from alvh_dsl.cli import main; main()", "check", str(book)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, len(done.stdout) + len(done.stderr)


# One parse in a fresh process: imports from the tree given, the collector off as
# cli/check.py has it, one small parse first so that nothing is loaded on first use.
_PARSE_ONE = """
import gc, resource, sys, time
from alvh_dsl.lang import fastlex
from alvh_dsl.lang.parse import parse
text = open(sys.argv[1], encoding="utf-8").read()
parse("rule a\\n  when VIX > 1 then close condor\\n", "warm.alvh")
gc.disable()
t = time.process_time()
fastlex.lex(text)
lex = time.process_time() - t
t = time.process_time()
parse(text, sys.argv[1])
total = time.process_time() - t
print(total, lex, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def parse_only(tree: Path, book: Path) -> tuple[float, float, float]:
    """CPU seconds of one parse of ``book`` and of its tokens alone, and the process's
    peak memory in MB (``ru_maxrss``), in a fresh process importing ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "ALVH_PARSER": ""}
    cmd = [sys.executable, "-c", _PARSE_ONE, str(book)]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=True)
    total, lex, rss = done.stdout.split()
    return float(total), float(lex), int(rss) / 1024


def bench_parse(trees: dict[str, Path], sizes: list[int], reps: int) -> None:
    """``--parse``: the parse alone, old and new interleaved (see the module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        books = {n: Path(tmp) / f"scale_{n}.alvh" for n in sizes}
        for n, path in books.items():
            path.write_text(generate(n), encoding="utf-8")
        runs: dict[tuple[str, int], list[tuple[float, float, float]]] = {}
        for i in range(reps):
            for n, path in books.items():
                order = list(trees.items())
                for side, tree in order if i % 2 else order[::-1]:  # neither side always first
                    runs.setdefault((side, n), []).append(parse_only(tree, path))
        for n in sizes:
            medians = {}
            for side in trees:
                columns = zip(*runs[(side, n)], strict=True)
                total, lex, rss = (statistics.median(col) for col in columns)
                medians[side] = total
                print(
                    f"parse, {n:7d} rules  {side}  CPU {total:6.2f} s  (tokens {lex:5.2f} s)"
                    f"  peak {rss:6.0f} MB  (median of {reps})"
                )
            if "old" in medians:
                print(f"parse, {n:7d} rules  new/old {medians['new'] / medians['old']:.3f}")


# The load and every check pass in a fresh process, as alvh check runs them (the
# collector off): CPU seconds of each, as JSON.
_PASSES_ONE = """
import gc, json, sys, time
from alvh_dsl.lang.check import PASSES
from alvh_dsl.lang.check.analysis import Analysis
from alvh_dsl.lang.loader import load_program
load_program("warm.alvh", "rule a\\n  when VIX > 1 then close condor\\n")
gc.disable()
t = time.process_time()
program = load_program(sys.argv[1])
out = {"load (parse)": time.process_time() - t}
an = Analysis(program)
for p in PASSES:
    t = time.process_time()
    list(p(an))
    out[p.__name__] = time.process_time() - t
print(json.dumps(out))
"""


def passes_only(tree: Path, book: Path) -> dict[str, float]:
    """CPU seconds of the load and of each check pass of ``book``, in a fresh process
    importing ``tree``."""
    env = {**os.environ, "PYTHONPATH": str(tree), "ALVH_PARSER": ""}
    cmd = [sys.executable, "-c", _PASSES_ONE, str(book)]
    done = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=True)
    times: dict[str, float] = json.loads(done.stdout)
    return times


def bench_passes(trees: dict[str, Path], sizes: list[int], reps: int) -> None:
    """``--passes``: the load and each pass, old and new interleaved (module docstring)."""
    with tempfile.TemporaryDirectory() as tmp:
        books = {n: Path(tmp) / f"scale_{n}.alvh" for n in sizes}
        for n, path in books.items():
            path.write_text(generate(n), encoding="utf-8")
        runs: dict[tuple[str, int], list[dict[str, float]]] = {}
        for i in range(reps):
            for n, path in books.items():
                order = list(trees.items())
                for side, tree in order if i % 2 else order[::-1]:
                    runs.setdefault((side, n), []).append(passes_only(tree, path))
        for n in sizes:
            print(f"{n} rules, CPU s, medians of {reps}: " + "  ".join(trees))
            steps = list(dict.fromkeys(k for side in trees for r in runs[(side, n)] for k in r))
            for step in [*steps, "sum"]:
                cells = []
                for side in trees:
                    values = [
                        sum(r.values()) if step == "sum" else r.get(step, 0.0)
                        for r in runs[(side, n)]
                    ]
                    cells.append(f"{statistics.median(values):7.2f}")
                print(f"  {step:24s} {' '.join(cells)}")


def main() -> None:
    args = sys.argv[1:]
    if args[:1] in (["-h"], ["--help"]):
        print(__doc__)
        return
    unknown = [
        a for a in args[:1] if a.startswith("-") and a not in ("--parse", "--passes", "--write")
    ]
    if unknown or (
        args[:1] != ["--write"]
        and args
        and not args[-1].startswith("-")
        and not Path(args[-1]).is_dir()
    ):
        sys.exit("usage: bench_scale.py [--parse | --passes] [OLD_TREE] | --write DIR (see --help)")
    sizes = [int(s) for s in os.environ.get("SIZES", ",".join(map(str, SIZES))).split(",")]
    for flag, bench in (("--parse", bench_parse), ("--passes", bench_passes)):
        if args[:1] == [flag]:
            trees = {"new": HERE}
            if args[1:]:
                trees = {"old": Path(args[1]).resolve(), "new": HERE}
            bench(trees, sizes, int(os.environ.get("REPS", "3")))
            return
    if args[:1] == ["--write"]:
        out = Path(args[1])
        out.mkdir(parents=True, exist_ok=True)
        for n in sizes:
            (out / f"scale_{n}.alvh").write_text(generate(n), encoding="utf-8")
        return
    trees = {"new": HERE}
    if args:
        trees = {"old": Path(args[0]).resolve(), "new": HERE}
    # PARSERS=fast,lark puts the two parse paths side by side, interleaved like the trees.
    parsers = os.environ.get("PARSERS", "fast").split(",")
    sides = {
        (f"{name} {parser}" if len(parsers) > 1 else name): (tree, parser)
        for name, tree in trees.items()
        for parser in parsers
    }
    reps = int(os.environ.get("REPS", "3"))
    with tempfile.TemporaryDirectory() as tmp:
        books = {n: Path(tmp) / f"scale_{n}.alvh" for n in sizes}
        for n, path in books.items():
            path.write_text(generate(n), encoding="utf-8")
        times: dict[tuple[str, int], list[float]] = {}
        cpus: dict[tuple[str, int], list[float]] = {}
        output: dict[tuple[str, int], int] = {}
        for i in range(reps + 1):  # the first round warms the disk cache and is dropped
            for n, path in books.items():
                for side, (tree, parser) in sides.items():
                    t, cpu, nbytes = run(tree, path, parser)
                    if i:
                        times.setdefault((side, n), []).append(t)
                        cpus.setdefault((side, n), []).append(cpu)
                    output[(side, n)] = nbytes
        for n in sizes:
            for side in sides:
                key = (side, n)
                print(
                    f"alvh check, {n:7d} rules  {side}  {statistics.median(times[key]):7.2f} s"
                    f"  CPU {statistics.median(cpus[key]):7.2f} s"
                    f"  output {output[key] / 1e6:7.2f} MB  (median of {reps})"
                )


if __name__ == "__main__":
    main()
