"""The ``alvh`` command line: a thin layer over :mod:`alvh_dsl.api`.

:mod:`.main` holds the group and the language commands (``check``, ``fmt``,
``parse``, ``explain``, ``eval``, ``schema``); :mod:`.dryrun` and :mod:`.data`
hold the heavier commands, imported only when they are invoked, so
``alvh check`` never loads numpy or pandas.
"""

from __future__ import annotations

from .main import cli, main

__all__ = ["cli", "main"]
