"""The passes that reason about conditions: contradictions and conflicting rules.

A condition is read as facts ``(expression, operator, constant)`` that must all
hold for it to be true (defines expanded); facts about one expression bound it
to an interval, and an empty interval is a contradiction.

- :func:`check_contradictions`  W201: a rule whose condition (with its ``unless``)
  can never be true;
- :func:`check_conflicts`       W202: rules of the same priority acting on the
  same target (see :mod:`alvh_dsl.lang.targets`) when both can fire together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .. import ast as A
from ..diagnostics import Diagnostic, Related, note, warning
from ..printer import format_action, format_expr
from ..targets import consumed_targets
from .analysis import Analysis
from .depth import MAX_EXPANDED_DEPTH

Fact = tuple[str, str, float, A.Compare | A.Between]
"""``(printed expression, operator, constant, the comparison it comes from)``."""


@dataclass
class _Bound:
    """Interval of values one expression may take under a conjunction of comparisons."""

    lo: float = float("-inf")
    lo_incl: bool = True
    hi: float = float("inf")
    hi_incl: bool = True
    lo_span: A.Compare | A.Between | None = None
    hi_span: A.Compare | A.Between | None = None

    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_incl and self.hi_incl))


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_MAX_ATOMS = 200


def _atoms(
    an: Analysis,
    expr: A.ExprNode,
    negate: bool,
    out: list[Fact],
    expanding: frozenset[str] = frozenset(),
    depth: int = 0,
) -> None:
    """Collect the facts that must all hold for ``expr`` to be true (or false, when
    ``negate``). Defines are expanded; anything else is skipped.

    The facts are only hints for warnings, so stopping early is safe: a define
    is not expanded inside itself (``define a = a and …`` is E103), nor beyond
    :data:`~alvh_dsl.lang.check.depth.MAX_EXPANDED_DEPTH` levels.
    """
    if len(out) > _MAX_ATOMS or depth > MAX_EXPANDED_DEPTH:
        return
    match expr:
        case A.BoolOp() if (expr.op == "and") != negate:
            for o in expr.operands:
                _atoms(an, o, negate, out, expanding, depth + 1)
        case A.Not():
            _atoms(an, expr.operand, not negate, out, expanding, depth + 1)
        case A.Name():
            target = an.definitions.get(expr.name)
            if isinstance(target, A.Define) and expr.name not in expanding:
                _atoms(an, target.expr, negate, out, expanding | {expr.name}, depth + 1)
        case A.Compare():
            op = _NEGATE[expr.op] if negate else expr.op
            lv, rv = an.const(expr.left), an.const(expr.right)
            if lv is None and rv is not None:
                out.append((format_expr(expr.left), op, rv, expr))
            elif rv is None and lv is not None:
                out.append((format_expr(expr.right), _FLIP[op], lv, expr))
        case A.Between() if not negate:
            lo, hi = an.const(expr.low), an.const(expr.high)
            key = format_expr(expr.value)
            if lo is not None:
                out.append((key, ">=", lo, expr))
            if hi is not None:
                out.append((key, "<=", hi, expr))


Clash = tuple[A.Compare | A.Between | None, A.Compare | A.Between | None]


def _contradiction(facts: list[Fact]) -> Clash | None:
    """Two facts that cannot both hold, if any."""
    bounds: dict[str, _Bound] = {}
    for key, op, value, node in facts:
        b = bounds.setdefault(key, _Bound())
        if op in (">", ">=", "=="):
            incl = op != ">"
            if value > b.lo or (value == b.lo and not incl):
                b.lo, b.lo_incl, b.lo_span = value, incl, node
        if op in ("<", "<=", "=="):
            incl = op != "<"
            if value < b.hi or (value == b.hi and not incl):
                b.hi, b.hi_incl, b.hi_span = value, incl, node
        if op == "!=" and b.lo == b.hi == value:
            return (node, b.lo_span)
        if b.empty():
            return (b.lo_span, b.hi_span)
    for key, op, value, node in facts:
        b = bounds[key]
        if op == "!=" and b.lo == b.hi == value:
            return (node, b.lo_span)
    return None


def check_contradictions(an: Analysis) -> Iterable[Diagnostic]:
    """W201: a rule whose condition (with its ``unless``) can never be true."""
    for rule in an.program.rules:
        if rule.when is None:
            continue
        facts: list[Fact] = []
        _atoms(an, rule.when, False, facts)
        when_only = _contradiction(facts)
        if rule.unless is not None:
            _atoms(an, rule.unless, True, facts)
        found = when_only or _contradiction(facts)
        if found is None:
            continue
        a, b = found
        help_text = None
        related: list[Related] = []
        if when_only is not None:
            why = "its condition is never true"
            if a is not None and b is not None and a is not b:
                help_text = f"`{format_expr(a)}` and `{format_expr(b)}` cannot both hold"
                related = [note(b.span, f"contradicts `{format_expr(b)}`")]
        else:
            # The condition and the *negated* `unless` contradict each other: the
            # two comparisons found can both hold, so say what the conflict means.
            why = "its `unless` always blocks it"
            assert rule.unless is not None
            help_text = (
                f"whenever `{format_expr(rule.when)}` holds, so does `{format_expr(rule.unless)}`"
            )
            related = [note(rule.unless.span, "the `unless`")]
        yield warning(
            "W201",
            f"rule `{rule.id}` can never fire: {why}",
            (a or rule.when).span,
            help=help_text,
            related=related,
        )


# ----------------------------------------------------------------- conflicts

_Entry = tuple[A.Rule, A.ActionNode]


def _groups(an: Analysis) -> dict[tuple[int, str], dict[str, list[_Entry]]]:
    """Actions by (priority, target) they consume, then by their canonical text."""
    groups: dict[tuple[int, str], dict[str, list[_Entry]]] = {}
    for rule in an.program.rules:
        for action in rule.actions:
            targets = consumed_targets(action, an.const)
            if not targets:
                continue
            text = format_action(action)
            for target in sorted(targets):
                groups.setdefault((rule.priority, target), {}).setdefault(text, []).append(
                    (rule, action)
                )
    return groups


def check_conflicts(an: Analysis) -> Iterable[Diagnostic]:
    """W202: rules of the same priority act differently on the same target.

    Which runs first then depends only on file order. Rules whose conditions
    cannot both be true (by the same analysis as W201) are not reported.

    Actions are grouped by (priority, target) and, within a group, by their
    canonical text: identical actions never conflict, so a book of thousands of
    rules that all `close condor` costs one comparison per rule, not one per pair.
    """
    facts_of: dict[int, list[Fact]] = {}

    def facts(rule: A.Rule) -> list[Fact]:
        found = facts_of.get(id(rule))
        if found is None:
            found = facts_of[id(rule)] = []
            if rule.when is not None:
                _atoms(an, rule.when, False, found)
        return found

    # Candidates first; each pair of rules is then reported once, at the later rule's
    # first conflicting action in source order (whatever the order of the groups).
    found: list[tuple[tuple[int, int, int, int], A.Rule, A.ActionNode, A.Rule, A.ActionNode, str]]
    found = []
    for (_priority, target), by_text in _groups(an).items():
        seen: dict[str, list[_Entry]] = {}
        # Walk in file order, comparing each action with the earlier ones of other texts.
        entries = sorted(
            ((rule, action, text) for text, items in by_text.items() for rule, action in items),
            key=lambda e: (e[0].span.file, e[0].span.line, e[0].span.column),
        )
        for rule, action, text in entries:
            for other_text, earlier in seen.items():
                if other_text == text:
                    continue
                for r1, a1 in earlier:
                    if r1 is rule:
                        continue
                    if _contradiction([*facts(r1), *facts(rule)]) is not None:
                        continue  # they cannot fire on the same day
                    key = (action.span.line, action.span.column, a1.span.line, a1.span.column)
                    found.append((key, r1, a1, rule, action, target))
                    break
            seen.setdefault(text, []).append((rule, action))
    reported: set[tuple[str, str]] = set()
    for _key, r1, a1, rule, action, target in sorted(found, key=lambda f: (f[0], f[5])):
        if (r1.id, rule.id) in reported:
            continue
        reported.add((r1.id, rule.id))
        noun = "the condor" if target == "condor" else f"the hedge in month {target[-1]}"
        yield warning(
            "W202",
            f"rules `{r1.id}` and `{rule.id}` have the same priority ({r1.priority}) "
            f"and both act on {noun}",
            action.span,
            help=f"give one a higher priority; as written `{r1.id}` runs first "
            "(file order) and supersedes the other",
            related=[note(a1.span, f"`{r1.id}` acts on it here")],
        )
