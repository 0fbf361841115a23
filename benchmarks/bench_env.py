"""Whole commands are timed from bytecode, as an installed ``alvh`` runs (decision 103).

pip compiles an installed package's modules, and Python caches a checkout's in
``__pycache__`` on first import; NumPy's, pandas' and pydantic's were compiled in
site-packages when pip installed them. With ``PYTHONDONTWRITEBYTECODE`` set — this
environment, many containers and CI images — a checkout's modules are never cached, so
every timed command compiled the ~90 ``alvh_dsl`` modules the main job imports from
source again: CPU that no installed ``alvh`` pays (what it comes to: run this module).
The benchmarks' children run without the variable, so that Python caches the
checkout's bytecode as it does by default (``__pycache__`` is in .gitignore) and each
benchmark's untimed warm-up runs compile it. (``bench_language.py`` (a), decision 86,
does the same with a private cache of its own.)

Run: ``python benchmarks/bench_env.py [PAIRS]`` measures what this changes: the default
main job as a whole command, from source (the variable set, as a checkout in such an
environment runs) against from bytecode, fresh processes alternating, medians.
"""

from __future__ import annotations

import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["child_env", "timed", "use_in_children", "warm"]

_VARIABLE = "PYTHONDONTWRITEBYTECODE"


def child_env(base: Mapping[str, str] | None = None, **extra: str) -> dict[str, str]:
    """``base`` (default: this process's environment) without ``PYTHONDONTWRITEBYTECODE``,
    ``extra`` added (``PYTHONPATH=…``): a child that caches and reads its bytecode."""
    env = dict(os.environ if base is None else base)
    env.pop(_VARIABLE, None)
    env.update(extra)
    return env


def use_in_children() -> None:
    """The same for every process this one starts from now on (a Dask cluster's
    workers, which inherit the environment). This process keeps its own setting."""
    os.environ.pop(_VARIABLE, None)


def warm(modules: str, env: Mapping[str, str] | None = None) -> None:
    """Import ``modules`` (``"alvh_dsl.api, alvh_dsl.sweep"``) once in a child, untimed, so
    that their bytecode is cached before a timed process needs it."""
    subprocess.run(
        [sys.executable, "-c", f"import {modules}"], check=True, env=env or child_env()
    )  # fmt: skip


def timed(cmd: list[str], env: Mapping[str, str], cwd: str | Path) -> tuple[float, float]:
    """Wall and CPU seconds (the child's rusage, user + system) of one whole command; a
    command that fails raises, with the end of what it wrote to stderr."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, env=env)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-2000:]}")
    return wall, (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)


def _main_job(env: Mapping[str, str]) -> tuple[float, float]:
    """:func:`timed` of the default main job run with ``env``."""
    root = Path(__file__).resolve().parents[1]
    cmd = [sys.executable, "-c", "from alvh_dsl.cli import main; main()", "dryrun"]
    with tempfile.TemporaryDirectory(prefix="alvh-bench-") as tmp:
        book = str(root / "rulebooks" / "alvh_core.alvh")
        return timed([*cmd, book, "--out", f"{tmp}/core"], env, tmp)


def main() -> None:
    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 6
    root = Path(__file__).resolve().parents[1]
    samples: dict[str, list[tuple[float, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="alvh-bench-source-") as source:
        # "From source" is a copy of the package without its __pycache__, run with the
        # variable set: a checkout in such an environment, which never caches bytecode.
        for part in ("alvh_dsl", "grammar"):
            ignore = shutil.ignore_patterns("__pycache__")
            shutil.copytree(root / part, Path(source) / part, ignore=ignore)
        envs = {
            "from source": {**os.environ, _VARIABLE: "1", "PYTHONPATH": source},
            "from bytecode": child_env(PYTHONPATH=str(root)),
        }
        for env in envs.values():  # untimed: the disk cache, and the bytecode of the second
            _main_job(env)
        names = list(envs)
        samples = {name: [] for name in names}
        for i in range(pairs):
            for name in names if i % 2 == 0 else names[::-1]:
                samples[name].append(_main_job(envs[name]))
    for name, got in samples.items():
        wall = statistics.median(w for w, _ in got)
        cpu = statistics.median(c for _, c in got)
        print(f"main job {name:13s}: {wall:.2f} s wall, {cpu:.2f} s CPU (medians of {pairs})")


if __name__ == "__main__":
    main()
