"""One error family: every failure a user can cause is an :class:`AlvhError`.

Each carries :class:`~alvh_dsl.lang.diagnostics.Diagnostic` values (code,
location, message, help) and the sources needed to show them; one renderer
prints them all and the CLI maps the family to exit codes in one place.
"""

from __future__ import annotations


class AlvhError(Exception):
    """The base of every error a user can cause (a bad book, state, history, config or path)."""
