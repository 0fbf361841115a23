"""``alvh examples DIR`` (and its alias ``alvh init DIR``): copy the example rulebooks,
their tests, the example states and the dry-run config into a folder (issue 9).

The wheel carries them in the package's ``share/`` folder (pyproject.toml maps the source
tree's ``rulebooks/`` and ``examples/`` there), so the quick start works after a
plain ``pip install alvh-dsl``; from a source checkout (an editable install) they
are read from the checkout itself. The layout is kept: ``DIR/rulebooks/…`` and
``DIR/examples/…``, so the README's commands run unchanged from ``DIR``.
"""

from __future__ import annotations

from pathlib import Path

import click

from .common import CONTEXT, fail

#: what is copied, per top-level folder: the books and their libraries, the books'
#: tests, states and configs (nothing else a checkout may hold there)
PATTERNS: dict[str, tuple[str, ...]] = {
    "rulebooks": ("**/*.alvh", "**/*.alvhtest"),
    "examples": ("*.json", "*.toml"),
}


def examples_root() -> Path:
    """The folder holding ``rulebooks/`` and ``examples/``: the installed package's
    ``share/``, else the source checkout beside the package."""
    package = Path(__file__).resolve().parent.parent  # alvh_dsl/
    for candidate in (package / "share", package.parent):
        if (candidate / "rulebooks").is_dir():
            return candidate
    raise FileNotFoundError("the example rulebooks are not installed beside the alvh_dsl package")


def example_files(root: Path | None = None) -> list[str]:
    """The example files, as paths relative to :func:`examples_root` (``/``-separated), sorted."""
    base = examples_root() if root is None else root
    found: set[str] = set()
    for folder, patterns in PATTERNS.items():
        for pattern in patterns:
            for path in (base / folder).glob(pattern):
                rel = path.relative_to(base)
                if path.is_file() and not any(p.startswith(".") for p in rel.parts):
                    found.add(rel.as_posix())
    return sorted(found)


def copy_examples(directory: Path, *, force: bool = False) -> tuple[list[str], list[str]]:
    """Copy the examples into ``directory`` (created if needed); each file is written
    atomically. Returns (copied, refused): without ``force``, when any target exists
    nothing is written and every existing target is in ``refused``."""
    from ..fileio import atomic_write_bytes

    root = examples_root()
    files = example_files(root)
    existing = [rel for rel in files if (directory / rel).exists()]
    if existing and not force:
        return [], existing
    for rel in files:
        target = directory / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_bytes(target, (root / rel).read_bytes())
    return files, []


def _run(directory: str, force: bool) -> None:
    target = Path(directory)
    if target.exists() and not target.is_dir():
        raise click.BadParameter(f"{directory} is not a folder", param_hint="DIR")
    try:
        copied, refused = copy_examples(target, force=force)
    except OSError as exc:
        fail(f"cannot write the examples into {directory}: {exc}")
    if refused:
        shown = ", ".join(refused[:5]) + (
            f" and {len(refused) - 5} more" if len(refused) > 5 else ""
        )
        fail(f"{directory} already has {shown}; nothing copied (--force overwrites)")
    books = sum(1 for rel in copied if rel.endswith(".alvh"))
    click.echo(f"copied {len(copied)} files into {directory} ({books} rulebook files):")
    for rel in copied:
        click.echo(f"  {rel}")
    click.echo(
        f"next: cd {directory} && alvh check rulebooks/ && alvh eval rulebooks/alvh_core.alvh "
        "--state examples/state_near_expiry.json"
    )


_HELP = """Copy the example rulebooks, their tests, states and config into DIR.

\b
DIR/rulebooks/   the example books (and lib/, the library they include)
DIR/examples/    position states for `alvh eval`, a dry-run config
When any of these files exists, nothing is copied (exit 1) unless --force.
"""

_force = click.option("--force", is_flag=True, help="Overwrite files that already exist.")
_dir = click.argument("directory", metavar="DIR", type=click.Path(file_okay=False))


@click.command(name="examples", context_settings=CONTEXT, help=_HELP)
@_dir
@_force
def examples(directory: str, force: bool) -> None:
    """``alvh examples DIR``."""
    _run(directory, force)


@click.command(name="init", context_settings=CONTEXT, help=_HELP + "\nThe same as `alvh examples`.")
@_dir
@_force
def init(directory: str, force: bool) -> None:
    """``alvh init DIR``: the same as ``alvh examples DIR``."""
    _run(directory, force)
