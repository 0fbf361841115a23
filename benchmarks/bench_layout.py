"""Whole commands of two source trees, interleaved (A B A B …), medians.

Run: ``python benchmarks/bench_layout.py OLD_TREE [NEW_TREE]`` (NEW_TREE defaults
to this checkout). Each tree is imported through ``PYTHONPATH``, so both run in the
same environment, with the same interpreter, on the same inputs, one command after
the other: a user's whole wait (start-up, imports, work, output written).
Used to check that a change of layout changes no figure (issue 7). Each command's wall
time and CPU time (the child's user + system, from ``getrusage``: what a loaded machine
disturbs least) are reported, medians of pairs whose order alternates (old new, new old).
``ONLY=TEXT`` runs only the commands whose label contains TEXT (``ONLY="dryrun core"``:
the main job).

With ``SHARED`` real history beside the checkout, one more command replays the same book file
(the OLD tree's ``rulebooks/alvh_core.alvh``, which both trees accept) over the real 2004–2023
history: what the full scenario revaluation and the one-sided gamma stencils of issue 8 cost a
user, the same book on the same days (the new tree computes more figures from them).
"""

from __future__ import annotations

import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

import bench_env

HERE = Path(__file__).resolve().parents[1]
COMMANDS = {
    "alvh --version": ["--version"],
    "alvh check rulebooks/": ["check", "rulebooks"],
    "alvh eval core --explain": [
        "eval",
        "rulebooks/alvh_core.alvh",
        "--state",
        "examples/state_near_expiry.json",
        "--explain",
    ],
    "alvh dryrun core (20 y + baseline)": ["dryrun", "rulebooks/alvh_core.alvh", "--out", "{out}"],
}


def run(tree: Path, args: list[str], out: Path) -> tuple[float, float]:
    """Wall and CPU seconds of one command of ``tree``."""
    env = bench_env.child_env(PYTHONPATH=str(tree))  # from bytecode, as installs run
    cmd = [sys.executable, "-c", "from alvh_dsl.cli import main; main()"]
    argv = [a.replace("{out}", str(out)) for a in args]
    return bench_env.timed([*cmd, *argv], env, tree)


def main() -> None:
    old = Path(sys.argv[1]).resolve()
    new = Path(sys.argv[2]).resolve() if len(sys.argv) > 2 else HERE
    reps = int(os.environ.get("REPS", "7"))
    commands = dict(COMMANDS)
    real = HERE.parent / "shared" / "data" / "history_2004_2023.csv"
    if real.is_file():
        commands["alvh dryrun real 2004-2023 (same book)"] = [
            "dryrun", str(old / "rulebooks" / "alvh_core.alvh"), "--history", str(real),
            "--gaps", "keep", "--out", "{out}",
        ]  # fmt: skip
    only = os.environ.get("ONLY", "")
    commands = {k: v for k, v in commands.items() if only in k}
    with tempfile.TemporaryDirectory() as tmp:
        for label, args in commands.items():
            n = reps if "dryrun" not in label else max(3, reps // 2)
            times: dict[str, list[tuple[float, float]]] = {"old": [], "new": []}
            for i in range(n + 1):  # the first pair warms the disk cache and is dropped
                pair = (("old", old), ("new", new))
                for side, tree in pair if i % 2 else pair[::-1]:
                    out = Path(tmp) / f"{side}{i}"
                    t = run(tree, args, out)
                    if i:
                        times[side].append(t)
                    shutil.rmtree(out, ignore_errors=True)
            (a, ac), (b, bc) = (
                tuple(map(statistics.median, zip(*times[s], strict=True))) for s in ("old", "new")
            )
            print(
                f"{label:38s} old {a * 1000:8.0f} ms ({ac:6.2f} s CPU)   new {b * 1000:8.0f} ms "
                f"({bc:6.2f} s CPU)   new/old {b / a:5.2f} wall, {bc / ac:5.2f} CPU  "
                f"(medians of {n} interleaved pairs)"
            )


if __name__ == "__main__":
    main()
