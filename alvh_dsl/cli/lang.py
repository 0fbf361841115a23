"""The language commands: ``alvh fmt``, ``parse``, ``explain``, ``eval``, ``schema``.

(``alvh check`` lives in :mod:`.check`.) Each parses its arguments, calls the API
(:mod:`alvh_dsl.api`, :mod:`alvh_dsl.lang`) and prints; errors a user can cause
propagate as :class:`~alvh_dsl.errors.AlvhError` to the group's one handler
(:class:`~.common.AlvhGroup`). None of them imports numpy.
"""

from __future__ import annotations

import sys

import click

from .common import (
    CONTEXT,
    color_option,
    fail,
    format_option,
    load_book,
    param_option,
    print_diagnostics,
    read_source,
    use_color,
)


@click.command(context_settings=CONTEXT)
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True, allow_dash=True))
@click.option(
    "--check",
    "check_only",
    is_flag=True,
    help="Change nothing; exit 1 and show a diff if a file is not formatted.",
)
@click.option("--diff", is_flag=True, help="Show the diff instead of rewriting.")
@color_option
def fmt(paths: tuple[str, ...], check_only: bool, diff: bool, color: str) -> None:
    """Format rulebooks canonically (in place). `-` formats stdin to stdout.

    The layout is idempotent, keeps every comment, and never changes meaning.
    """
    from ..api import find_books
    from ..errors import RulebookError
    from ..fileio import atomic_write_text
    from ..lang.fmt import format_source

    unformatted = 0
    failed = 0
    books = ["-"] if paths == ("-",) else find_books(p for p in paths if p != "-")
    if not books:
        fail("no rulebooks (*.alvh) found", 1)  # as `alvh check` says: CI must not pass on nothing
    for path in books:
        if path == "-":
            text = sys.stdin.read()
        else:
            source = read_source(path, color)
            if source is None:
                failed += 1
                continue
            text = source
        try:
            out = format_source(text, "<stdin>" if path == "-" else path)
        except RulebookError as exc:
            print_diagnostics(exc.diagnostics, exc.sources, use_color(color, sys.stderr))
            failed += 1
            continue
        if path == "-":
            click.echo(out, nl=False)
            continue
        if out == text:
            continue
        unformatted += 1
        if check_only or diff:
            import difflib

            lines = difflib.unified_diff(
                text.splitlines(keepends=True),
                out.splitlines(keepends=True),
                fromfile=f"{path} (original)",
                tofile=f"{path} (formatted)",
            )
            click.echo("".join(lines), nl=False)
        else:
            atomic_write_text(path, out)
            click.echo(f"formatted {path}", err=True)
    if failed:
        fail(f"{failed} file(s) could not be read or have syntax errors, and were not formatted")
    if (check_only or diff) and unformatted:
        click.echo(f"{unformatted} file(s) would be reformatted", err=True)
        sys.exit(1)


@click.command(context_settings=CONTEXT)
@click.argument("book", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print the AST as JSON (the default).")
@click.option("--outline", is_flag=True, help="Print one line per statement instead of JSON.")
@color_option
def parse(book: str, as_json: bool, outline: bool, color: str) -> None:
    """Parse one file and print its AST (JSON, spans included).

    The JSON validates back into an equal value with
    alvh_dsl.lang.ast.Rulebook.model_validate_json.
    """
    from ..lang.parse import parse as parse_text

    text = read_source(book, color)
    if text is None:
        sys.exit(1)
    result = parse_text(text, book)
    print_diagnostics(result.diagnostics, {book: text}, use_color(color, sys.stderr))
    if outline and not as_json:
        for stmt in result.book.statements:
            label = (
                getattr(stmt, "name", None)
                or getattr(stmt, "id", None)
                or getattr(stmt, "path", "")
            )
            click.echo(f"{stmt.span}: {stmt.kind} {label}")
    else:
        click.echo(result.book.model_dump_json(indent=2))
    if not result.ok:
        sys.exit(1)


@click.command(context_settings=CONTEXT)
@click.argument("book", type=click.Path(dir_okay=False))
@format_option
@param_option
@color_option
def explain(book: str, fmt: str, params: tuple[str, ...], color: str) -> None:
    """Say every rule in plain English, with its normalised form and the params' values."""
    from ..lang.explain import explain_book, explain_json

    loaded = load_book(book, params)
    if fmt == "json":
        import json

        click.echo(json.dumps(explain_json(loaded), indent=2))
    else:
        click.echo(explain_book(loaded), nl=False)


@click.command("eval", context_settings=CONTEXT)
@click.argument("book", type=click.Path(dir_okay=False))
@click.option(
    "--state",
    "state_path",
    required=True,
    type=click.Path(dir_okay=False),
    help="State JSON file (see `alvh schema`).",
)
@click.option("--explain", "explain_", is_flag=True, help="Show the value of every sub-expression.")
@format_option
@param_option
@color_option
def eval_(
    book: str, state_path: str, explain_: bool, fmt: str, params: tuple[str, ...], color: str
) -> None:
    """Evaluate a rulebook against one position state and show the decisions.

    Rules run by priority, then file order; superseded actions, cooldowns and
    unknown values (warm-up, flat book, missing month) are shown with reasons.
    """
    from ..lang.explain import render_evaluation
    from ..lang.state import load_state

    loaded = load_book(book, params)
    state = load_state(state_path)
    evaluation = loaded.evaluate(state, trace=True)
    if fmt == "json":
        doc = {"book": book, **evaluation.to_dict()}
        if not explain_:
            for d in doc["decisions"]:
                d.pop("trace", None)
                d.pop("unless_trace", None)
        import json

        click.echo(json.dumps(doc, indent=2))
    else:
        if not explain_:
            # The trace is not printed, so say what the failing comparisons compared.
            from ..dryrun.why import with_failing_values

            evaluation = with_failing_values(loaded, evaluation)
        click.echo(render_evaluation(evaluation, loaded.name, explain=explain_), nl=False)


@click.command(context_settings=CONTEXT)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False), help="Write to a file instead of stdout."
)
@click.option(
    "--diagnostics",
    "of_diagnostics",
    is_flag=True,
    help="The schema of `alvh check --format json` instead (docs/diagnostics.md).",
)
def schema(output: str | None, of_diagnostics: bool) -> None:
    """Print the JSON Schema of the evaluation state (what `alvh eval --state` reads)."""
    from ..fileio import atomic_write_text

    if of_diagnostics:
        from ..lang.formats import diagnostics_schema

        doc = diagnostics_schema()
    else:
        from ..lang.state import state_schema

        doc = state_schema()
    import json

    text = json.dumps(doc, indent=2) + "\n"
    if output:
        atomic_write_text(output, text)
    else:
        click.echo(text, nl=False)
