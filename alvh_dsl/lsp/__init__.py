"""Editor support: ``alvh lsp``, a Language Server Protocol server over stdio (pygls).

- :mod:`alvh_dsl.lsp.server` — the server, its documents and debounced checking;
- :mod:`alvh_dsl.lsp.checking` — an editor buffer checked as ``alvh check`` checks a file;
- :mod:`alvh_dsl.lsp.index` — one checked book and what is at a position in it;
- :mod:`alvh_dsl.lsp.positions` — spans ↔ LSP positions (UTF-16 code units);
- :mod:`alvh_dsl.lsp.diagnostics` — diagnostics and their quick fixes;
- :mod:`alvh_dsl.lsp.hover`, :mod:`alvh_dsl.lsp.completion`,
  :mod:`alvh_dsl.lsp.navigation`, :mod:`alvh_dsl.lsp.tokens` — the features.

Nothing here imports NumPy or pandas: the server is part of the light install.
docs/editors.md says how to use it from VS Code, Neovim and Helix.
"""

from __future__ import annotations

__all__ = ["serve"]


def serve() -> None:
    """Run the language server on stdin/stdout (``alvh lsp``)."""
    from .server import serve as run

    run()
