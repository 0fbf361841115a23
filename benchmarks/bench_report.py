"""The report's figure and the run directory: SVG against matplotlib's PNG, as a user pays it.

Run: ``python benchmarks/bench_report.py``. The default 20-year dry-run of
``rulebooks/alvh_core.alvh`` is computed once and pickled; then each side runs in a fresh
process (so imports count, matplotlib's included) that loads the pickle and times, in CPU
seconds, either the figure alone (``svg.figure_svg`` or ``chart.figure_png``) or the
whole ``write_run`` with that figure. Sides are interleaved (svg, png, svg, png, ...) and medians
printed. ``REPS=7`` chooses the rounds. (No old tree side: a result pickled by this
tree need not load in an older one.)
"""

from __future__ import annotations

import os
import pickle
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import bench_env

HERE = Path(__file__).resolve().parents[1]

_CHILD = r"""
import pickle, sys, tempfile, time
from pathlib import Path
path, figure, what = sys.argv[1:4]
result = pickle.loads(Path(path).read_bytes())
with tempfile.TemporaryDirectory() as tmp:
    start = time.process_time()
    if what == "write":
        from alvh_dsl.dryrun.report.files import write_run
        write_run(result, Path(tmp) / "run", figure=figure)
    elif figure == "svg":
        from alvh_dsl.dryrun.report import svg
        svg.figure_svg(result)
    else:
        from alvh_dsl.dryrun.report import chart
        chart.figure_png(result)
    print(time.process_time() - start)
"""


def run(tree: Path, pickled: Path, figure: str, what: str) -> float:
    """CPU seconds, in a fresh process, of the figure alone (``what="figure"``) or the
    whole ``write_run`` (``"write"``), the imports each needs included."""
    env = bench_env.child_env(PYTHONPATH=str(tree))  # from bytecode, as installs run
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(pickled), figure, what],
        env=env, cwd=tree, capture_output=True, text=True, check=True,
    )  # fmt: skip
    return float(out.stdout)


def main() -> None:
    sys.path.insert(0, str(HERE))
    from alvh_dsl.api import dryrun

    reps = int(os.environ.get("REPS", "7"))
    sides = {"svg": (HERE, "svg"), "png": (HERE, "png")}
    result = dryrun(str(HERE / "rulebooks" / "alvh_core.alvh"))
    with tempfile.TemporaryDirectory() as tmp:
        pickled = Path(tmp) / "result.pickle"
        pickled.write_bytes(pickle.dumps(result))
        figures: dict[str, list[float]] = {k: [] for k in sides}
        writes: dict[str, list[float]] = {k: [] for k in sides}
        for tree, figure in sides.values():  # untimed: the disk cache and the bytecode
            run(tree, pickled, figure, "write")
        for _ in range(reps):
            for name, (tree, figure) in sides.items():
                figures[name].append(run(tree, pickled, figure, "figure"))
                writes[name].append(run(tree, pickled, figure, "write"))
    print(f"report of the default 20-year run, CPU, medians of {reps} interleaved fresh processes")
    for name in sides:
        print(
            f"  {name:15s} figure {statistics.median(figures[name]):6.2f} s"
            f"   write_run {statistics.median(writes[name]):6.2f} s"
        )


if __name__ == "__main__":
    main()
