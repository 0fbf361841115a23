"""The rulebook language: text → AST → checked program → compiled book → decisions.

One module per stage, in pipeline order:

- :mod:`.parse` (with :mod:`.postlex`, the line joiner, :mod:`.transform`, the
  inline AST builder, and :mod:`.syntax_errors`): text → :mod:`.ast` nodes;
- :mod:`.loader`: files → a :class:`~.program.Program` (includes, param overrides);
- :mod:`.check` (with :mod:`.types`, inference of types and units, and
  :mod:`.targets`, what an action supersedes): every diagnostic of a program;
- :mod:`.printer` and :mod:`.fmt`: AST → canonical text;
- :mod:`.compiler`, :mod:`.runtime` and :mod:`.evaluate`: a program → a
  :class:`~.evaluate.Book` that evaluates a :class:`~.state.State`;
- :mod:`.explain`: rules and decisions in words;
- :mod:`.diagnostics`: the problems found, and the one renderer;
- :mod:`.construct`: models built from values valid by construction (AST, state).

Nothing here imports numpy or pandas (a test asserts it), nor any later stage:
:mod:`alvh_dsl.api` chains these stages, and the array computations of
indicators are injected by it from :mod:`alvh_dsl.series`. The names below are
imported on first use, so ``import alvh_dsl.lang`` costs nothing. (The parser
is ``alvh_dsl.lang.parse.parse``: a function named like its module would be
replaced by the module as soon as it is imported.)
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from .check import Analysis, run_checks
    from .diagnostics import CODES, DataSpan, Diagnostic, render, to_json
    from .evaluate import Book, compile_program
    from .explain import explain_book, render_evaluation
    from .fmt import format_source
    from .loader import apply_overrides, load_program
    from .parse import ParseResult
    from .printer import format_action, format_expr
    from .program import Program
    from .state import State, load_state, parse_state, state_schema

_LAZY = {
    "Analysis": "check",
    "Book": "evaluate",
    "CODES": "diagnostics",
    "DataSpan": "diagnostics",
    "Diagnostic": "diagnostics",
    "ParseResult": "parse",
    "Program": "program",
    "State": "state",
    "apply_overrides": "loader",
    "compile_program": "evaluate",
    "explain_book": "explain",
    "format_action": "printer",
    "format_expr": "printer",
    "format_source": "fmt",
    "load_program": "loader",
    "load_state": "state",
    "parse_state": "state",
    "render": "diagnostics",
    "render_evaluation": "explain",
    "run_checks": "check",
    "state_schema": "state",
    "to_json": "diagnostics",
}

__all__ = [
    "CODES",
    "Analysis",
    "Book",
    "DataSpan",
    "Diagnostic",
    "ParseResult",
    "Program",
    "State",
    "apply_overrides",
    "compile_program",
    "explain_book",
    "format_action",
    "format_expr",
    "format_source",
    "load_program",
    "load_state",
    "parse_state",
    "render",
    "render_evaluation",
    "run_checks",
    "state_schema",
    "to_json",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'alvh_dsl.lang' has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)
