"""``alvh lsp``: the language server for editors (docs/editors.md)."""

from __future__ import annotations

import click


@click.command("lsp")
@click.option(
    "--stdio",
    is_flag=True,
    help="Talk LSP over stdin/stdout (the default and only transport; editors pass it).",
)
def lsp(stdio: bool) -> None:
    """Run the rulebook language server over stdin/stdout.

    Editors start it: diagnostics as you type, hover, completion, go to definition,
    references, the outline, formatting and quick fixes (docs/editors.md).
    """
    from ..lsp import serve

    serve()
