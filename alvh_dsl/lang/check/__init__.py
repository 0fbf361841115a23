"""The checker: a tuple of independent passes over a :class:`~alvh_dsl.lang.program.Program`.

Every pass has the signature ``(Analysis) -> Iterable[Diagnostic]`` and reports
everything it finds; :func:`run_checks` runs them all, so a book is checked
whole. Passes share one :class:`Analysis` (names in scope, the names each
statement uses, types, constant values), computed lazily and once.

Passes, by module (see ``docs/diagnostics.md`` for every code):

- :mod:`.names`           header placement; reserved, shadowing, duplicate and unknown
  names, use before definition; params and defines nobody uses
- :mod:`.depth`           expressions nested too deeply with their defines expanded
- :mod:`.analysis`        units and types of every expression and action argument
  (the shared inference of :mod:`alvh_dsl.lang.types`)
- :mod:`.rules`           rule IDs, missing clauses, unnamed rules; action options,
  ranges, months, counts, strikes
- :mod:`.contradictions`  conditions that can never be true (and the reading of each
  rule's condition and actions that it shares with :mod:`.conflicts`)
- :mod:`.conflicts`       same-priority rules acting on the same target
- :mod:`.plausibility`    a book with no rules; sizes and budgets beyond the account
"""

from __future__ import annotations

from collections.abc import Iterable

from ..diagnostics import Diagnostic, sort_key
from .analysis import Analysis, Pass, check_types
from .conflicts import check_conflicts
from .contradictions import check_contradictions
from .depth import check_expanded_depth
from .names import check_header, check_names, check_unused
from .plausibility import check_empty, check_plausibility
from .rules import check_actions, check_rules

PASSES: tuple[Pass, ...] = (
    check_header,
    check_names,
    check_expanded_depth,
    check_types,
    check_rules,
    check_actions,
    check_unused,
    check_contradictions,
    check_conflicts,
    check_empty,
    check_plausibility,
)


def run_checks(an: Analysis, passes: Iterable[Pass] = PASSES) -> list[Diagnostic]:
    """Run every pass over one analysis of a program; all diagnostics, sorted by location."""
    out: list[Diagnostic] = []
    for p in passes:
        out.extend(p(an))
    return sorted(out, key=sort_key)


__all__ = ["PASSES", "Analysis", "Pass", "run_checks"]
