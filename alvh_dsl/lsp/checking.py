"""Checking an editor buffer: :func:`alvh_dsl.api.load_checked` on the buffer's text, then
what ``alvh check`` applies on top (inline suppressions, the project configuration's
``select``/``ignore``), so the editor shows what the CLI would print.
"""

from __future__ import annotations

from ..api import load_checked
from ..lang.diagnostics import sort_key
from ..lang.loader import ParseCache
from ..project import Projects
from ..suppressions import Suppressions
from .index import BookIndex
from .positions import UTF16


def check_buffer(
    path: str,
    text: str,
    version: int | None = None,
    encoding: str = UTF16,
    cache: ParseCache | None = None,
) -> BookIndex:
    """The checked book of an open document. Never raises for bad input.

    ``cache`` is the session's: the files the book includes (and the buffer, when it is
    re-checked unchanged) are parsed once while their text stays the same."""
    program = load_checked(path, text=text, cache=cache)
    projects = Projects()
    suppressions = Suppressions()
    kept = suppressions.apply(program)
    kept += suppressions.unused()
    program.diagnostics = sorted(
        (
            d
            for d in [*projects.diagnostics, *kept]
            if projects.for_file(_file(d, path)).reports(d.code, _file(d, path))
        ),
        key=sort_key,
    )
    return BookIndex(path, text, program, version, encoding)


def _file(d: object, book: str) -> str:
    span = getattr(d, "span", None)
    return str(getattr(span, "file", book) or book)
