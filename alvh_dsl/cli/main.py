"""The ``alvh`` group: a thin layer over the Python API.

The language commands live in :mod:`.lang`; the commands of later stages
(``dryrun`` in :mod:`.dryrun`, ``data`` in :mod:`.data`) are imported lazily
(see :class:`LazyGroup`), and so is numpy, so ``alvh check`` starts fast.

Exit codes: 0 success, 1 problems found (errors, or warnings with
``--strict``; unformatted files with ``fmt --check``; bad input files), 2 usage.
"""

from __future__ import annotations

import gc
import importlib
import os
import sys
from typing import Any

import click

from . import check, lang
from .common import CONTEXT, AlvhGroup, fail

# name -> ("module:attribute", short help). Imported only when invoked.
_LAZY: dict[str, tuple[str, str]] = {
    "dryrun": ("alvh_dsl.cli.dryrun:dryrun", "Replay a rulebook over market history."),
    "data": ("alvh_dsl.cli.data:data", "Merge, validate or synthesize market history."),
    "test": ("alvh_dsl.cli.testing:test", "Run rulebook tests and report rule coverage."),
    "why": ("alvh_dsl.cli.why:why", "Why a rule did or did not fire on a day of a run."),
    "diff": ("alvh_dsl.cli.diff:diff", "What a change to a rulebook does over history."),
    "examples": ("alvh_dsl.cli.examples:examples", "Copy the example books and states into DIR."),
    "init": ("alvh_dsl.cli.examples:init", "The same as `alvh examples DIR`."),
    "lsp": ("alvh_dsl.cli.lsp:lsp", "Run the language server for editors (over stdio)."),
    "sweep": ("alvh_dsl.cli.sweep:sweep", "Run a grid of param variants of a book (on Dask)."),
}


class LazyGroup(AlvhGroup):
    """A click group whose heavier sub-commands live in other modules, imported on use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in _LAZY:
            return super().get_command(ctx, cmd_name)
        module, attr = _LAZY[cmd_name][0].split(":")
        command = getattr(importlib.import_module(module), attr)
        assert isinstance(command, click.Command)
        return command

    def invoke(self, ctx: click.Context) -> Any:
        # A light install (no `dryrun` extra): whatever needs NumPy & co. says in one line
        # what to install, exit 2, instead of a traceback; wherever the import fails
        # (a lazy command's module, inside a command, a book's indicators).
        from ..extras import MissingExtraError, missing_message, missing_stack_module

        try:
            return super().invoke(ctx)
        except ImportError as exc:
            module = missing_stack_module(exc)
            if module is None:
                raise
            what = f"`alvh {ctx.invoked_subcommand}`"
            if isinstance(exc, MissingExtraError) and not exc.what.startswith("alvh_dsl."):
                what = exc.what  # words, e.g. "evaluating a book that reads market history"
            fail(missing_message(what, module), 2)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # List lazy commands from their stored help so `alvh --help` imports nothing heavy.
        rows = []
        for name in self.list_commands(ctx):
            if name in _LAZY:
                rows.append((name, _LAZY[name][1]))
            else:
                cmd = super().get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd.get_short_help_str(limit=60)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings=CONTEXT)
@click.version_option(package_name="alvh-dsl", prog_name="alvh")
def cli() -> None:
    """alvh: check, format, explain, evaluate and dry-run ALVH rulebooks.

    \b
    Exit codes: 0 ok, 1 problems found, 2 usage error.
    Docs: docs/cli.md, docs/language.md, docs/diagnostics.md.
    """


for _command in (check.check, lang.fmt, lang.parse, lang.explain, lang.eval_, lang.schema):
    cli.add_command(_command)


QUICK_EXIT = frozenset({"check", "fmt", "explain", "parse"})
"""Commands the console script runs with the cyclic garbage collector paused and leaves
with ``os._exit`` once they are done.

Freeing a 100,000-rule program's objects one by one at interpreter exit costs ~1.7 s
of a 15 s budget, and nothing is left to do by then: these commands run in this
process only, write their files before they return (atomically, see
:mod:`alvh_dsl.fileio`) and register no exit handlers. Long-running or heavier
commands (``lsp``, ``dryrun``, ``sweep``, ...) exit the ordinary way.

The collector is paused from the start because their work already runs paused (a
book's nodes are acyclic: :func:`alvh_dsl.perf.paused_gc`), and what is left is start-up:
importing pydantic and building the AST's model classes, whose collections were a
tenth of ``alvh check``'s start-up and found nothing to free (issue 11)."""

COLLECTOR_OFF = QUICK_EXIT | {"dryrun"}
"""Commands the console script runs with the cyclic garbage collector off for the whole
process: :data:`QUICK_EXIT`'s, and ``dryrun``, which runs one replay and exits. Its
imports (pandas, SciPy, PyArrow), its two day loops and the writing of its run directory
allocate millions of objects that reference counting frees or that live to the end, and
each collection rescanned the survivors: about a fifth of the default main job's CPU, for
a few megabytes of cycles left to the process's exit (decision 96). Tests run :func:`cli`
in-process, with the collector as they found it."""


def main() -> None:
    """Console-script entry point.

    For the commands of :data:`QUICK_EXIT`, once the command has finished and
    stdout and stderr are flushed, the process leaves with ``os._exit`` (as mypy
    does) instead of tearing the heap down; the exit code is the command's.
    :func:`cli` itself, which tests run in-process, never does this (nor pauses the
    collector)."""
    if _subcommand(sys.argv[1:]) in COLLECTOR_OFF:
        gc.disable()  # for the rest of the process: it runs one command and ends
    single_threaded_blas()
    try:
        cli(prog_name="alvh")  # standalone mode: always ends in SystemExit
    except SystemExit as exc:
        if _subcommand(sys.argv[1:]) not in QUICK_EXIT:
            raise
        code = _exit_code(exc.code)
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed pipe: let Python report it as usual
            raise exc from None
        os._exit(code)


def single_threaded_blas() -> None:
    """Ask OpenBLAS (NumPy's and SciPy's) for one thread, unless the environment already
    says otherwise or NumPy is loaded (then it is too late to ask).

    OpenBLAS starts a pool of threads when its library loads, and they spin before they
    sleep: CPU on a second core at ``import numpy`` and again at SciPy's load, for work it
    never hands them (its matrix products are a few thousand numbers; the figures:
    ``python benchmarks/bench_blas.py``). A command runs one process that owns
    its cores; the API leaves the process's environment alone, and Dask's nanny already
    sets the same variable in its workers."""
    if "numpy" not in sys.modules:
        os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


def _subcommand(args: list[str]) -> str | None:
    """The sub-command of a command line: the group takes only flags (``--version``,
    ``--help``), so it is the first argument that is not an option."""
    return next((a for a in args if not a.startswith("-")), None)


def _exit_code(code: object) -> int:
    """The process's exit status for ``SystemExit(code)``, as Python computes it
    (a message other than a number is printed and gives 1)."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    print(code, file=sys.stderr)
    return 1


if __name__ == "__main__":  # pragma: no cover
    main()
