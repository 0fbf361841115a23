"""E407: expressions nested too deeply once the defines they use are expanded.

The parser refuses an expression deeper than
:data:`~alvh_dsl.lang.parse.MAX_EXPR_DEPTH`; this pass measures depth with every
define a statement names expanded, as the later stages see it.
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import ast as A
from ..diagnostics import Diagnostic, error
from ..parse import MAX_EXPR_DEPTH
from .analysis import Analysis
from .names import name_depths, statement_uses

# Later stages (the compiler, the evaluator) follow a name into its define, so the
# depth that matters is the expression's with defines expanded. Two parser-limit
# expressions' worth: far beyond real books, well inside Python's recursion limit.
MAX_EXPANDED_DEPTH = 2 * MAX_EXPR_DEPTH


def check_expanded_depth(an: Analysis) -> Iterable[Diagnostic]:
    """E407: an expression nested too deeply once the defines it uses are expanded.

    Reported once, where the limit is first crossed (not again for every define
    or rule built on the one that crossed it).
    """
    define_depth: dict[str, int] = {}
    over: set[str] = set()
    # The deepest define so far (expanded). A rule whose own depth plus it is within the
    # limit cannot cross it (a name stands at most `deepest` down), nor inherit a crossing
    # (that define would be over the limit too): most rules skip reading their names.
    below_max = 0
    rule_cls = A.Rule
    for stmt, (deepest, names) in zip(an.program.statements, statement_uses(an), strict=True):
        if not deepest:
            continue  # no expressions
        is_define = type(stmt) is not rule_cls and isinstance(stmt, A.Define)  # rules: most
        if not is_define and deepest + below_max <= MAX_EXPANDED_DEPTH:
            continue
        # A name is a leaf: its define's depth adds to the depth it stands at.
        worst = deepest
        if define_depth:  # a name no define names adds nothing: it is as deep as it stands
            depth_of = define_depth.get
            for n, d in name_depths(stmt):
                below = depth_of(n.name)
                if below is not None and d + below > worst:
                    worst = d + below
        inherited = bool(over) and any(name in over for name in names)
        if is_define:
            assert isinstance(stmt, A.Define)
            define_depth.setdefault(stmt.name, worst)
            below_max = max(below_max, define_depth[stmt.name])
            if worst > MAX_EXPANDED_DEPTH:
                over.add(stmt.name)
        if worst > MAX_EXPANDED_DEPTH and not inherited:
            if isinstance(stmt, A.Define):
                what, where = f"define `{stmt.name}`", stmt.name_span
            else:
                assert isinstance(stmt, A.Rule)
                what, where = f"rule `{stmt.id}`", stmt.id_span
            yield error(
                "E407",
                f"{what} is nested too deeply with its defines expanded "
                f"({worst} levels, the limit is {MAX_EXPANDED_DEPTH})",
                where,
                help="flatten the chain of defines, e.g. join conditions with `and` in one define",
            )
