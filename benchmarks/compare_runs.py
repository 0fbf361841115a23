"""Run directories of this checkout against another tree's, file by file.

Run: ``python benchmarks/compare_runs.py OLD_TREE [--new NEW_TREE] [--out DIR]``. Each tree
is a source tree of the project, e.g. ``git archive COMMIT | tar -x -C OLD_TREE``; the new
side is this checkout unless ``--new`` names another (the books are this checkout's).

Each book of ``rulebooks/``, ``tests/books/`` and ``benchmarks/books/rolled_condor.alvh``
is dry-run by both trees over 2008–2012 of the real history (``--gaps keep``), and the
default main job (``alvh dryrun rulebooks/alvh_core.alvh``) once more; then every file of
the two run directories and the two commands' output are compared. A Parquet file whose
bytes differ is read back with pandas and its frames compared, so a change of encoding
alone is told apart from a change of figures. Prints one line per difference and exits 1
when a file's content differs.

Each command runs in a fresh process whose working directory is neither tree, with
``PYTHONPATH`` set to the tree it runs, and checks that ``alvh_dsl`` was imported from
that tree: run from the project's root, ``python -c`` would put the root first on the
path and run this checkout twice. Needs ``../shared`` (or ``$ALVH_SHARED``) for the
real history; without it, only the main job is compared.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("ALVH_SHARED", ROOT.parent / "shared"))
HISTORY = SHARED / "data" / "history_2004_2023.csv"
WINDOW = ["--from", "2008-01-01", "--to", "2012-12-31"]

_RUN = (
    "import sys, alvh_dsl; tree = sys.argv.pop(1); "
    "assert alvh_dsl.__file__.startswith(tree), (alvh_dsl.__file__, tree); "
    "sys.argv[0] = 'alvh'; sys.argv.insert(1, 'dryrun'); "
    "from alvh_dsl.cli.main import main; main()"
)


def cases() -> dict[str, list[str]]:
    """Name → the ``alvh dryrun`` arguments (without ``--out``)."""
    out = {"main job": [str(ROOT / "rulebooks" / "alvh_core.alvh")]}
    if HISTORY.is_file():
        books = sorted((ROOT / "rulebooks").glob("*.alvh")) + sorted(
            (ROOT / "tests" / "books").glob("*.alvh")
        )
        books.append(ROOT / "benchmarks" / "books" / "rolled_condor.alvh")
        for book in books:
            name = f"{book.parent.name}/{book.stem}"
            out[name] = [str(book), "--history", str(HISTORY), "--gaps", "keep", *WINDOW]
    return out


def run(tree: Path, args: list[str], out: Path, cwd: Path) -> str:
    """One ``alvh dryrun`` by ``tree``: its exit code and output, the run directory's
    path written as ``OUT``."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run(
        [sys.executable, "-c", _RUN, str(tree.resolve()), *args, "--out", str(out)],
        capture_output=True, text=True, cwd=cwd, env=env, check=False,
    )  # fmt: skip
    if "AssertionError" in done.stderr:
        raise SystemExit(f"{tree}: alvh_dsl came from elsewhere:\n{done.stderr}")
    return f"rc {done.returncode}\n{done.stdout}{done.stderr}".replace(str(out), "OUT")


def differences(old: Path, new: Path) -> list[str]:
    """The files of two run directories whose content differs (Parquet: read back)."""
    found = []
    names = {p.relative_to(old) for p in old.rglob("*") if p.is_file()}
    names |= {p.relative_to(new) for p in new.rglob("*") if p.is_file()}
    for name in sorted(names):
        a, b = old / name, new / name
        if not (a.is_file() and b.is_file()):
            found.append(f"{name}: only in {'new' if b.is_file() else 'old'}")
        elif not filecmp.cmp(a, b, shallow=False):
            if name.suffix == ".parquet" and _same_frame(a, b):
                found.append(f"{name}: bytes differ, the same frame (encoding only)")
            else:
                found.append(f"{name}: content differs")
    return found


def _same_frame(a: Path, b: Path) -> bool:
    import pandas as pd

    x, y = pd.read_parquet(a), pd.read_parquet(b)
    return bool(x.equals(y) and list(x.dtypes) == list(y.dtypes) and list(x) == list(y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old_tree", type=Path)
    parser.add_argument("--new", type=Path, default=ROOT, help="the new side (default: here)")
    parser.add_argument("--out", type=Path, help="keep the run directories here")
    ns = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="alvh-compare-") as tmp:
        base = ns.out or Path(tmp)
        cwd = Path(tmp)
        bad = 0
        for name, args in cases().items():
            slug = name.replace("/", "-").replace(" ", "-")
            with ThreadPoolExecutor(2) as pool:  # the two trees side by side
                old = pool.submit(run, ns.old_tree, args, base / f"old-{slug}", cwd)
                new = pool.submit(run, ns.new, args, base / f"new-{slug}", cwd)
                said = (old.result(), new.result())
            found = differences(base / f"old-{slug}", base / f"new-{slug}")
            if said[0] != said[1]:
                found.append("the command's output differs")
            content = [f for f in found if "encoding only" not in f]
            bad += bool(content)
            print(f"{name}: {'identical' if not found else '; '.join(found)}")
    print(f"{len(cases())} case(s), {bad} with different content")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
