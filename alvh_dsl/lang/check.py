"""The checker: a tuple of independent passes over a :class:`~alvh_dsl.lang.loader.Program`.

Every pass has the signature ``(Analysis) -> Iterable[Diagnostic]`` and reports
everything it finds; :func:`run_checks` runs them all, so a book is checked
whole. Passes share one :class:`Analysis` (names in scope, types, constant
values), computed lazily and once.

Passes (see ``docs/diagnostics.md`` for every code):

- :func:`check_header`       header placement
- :func:`check_names`        reserved, shadowing, duplicate and unknown names; use before definition
- :func:`check_types`        units and types of every expression and action argument
- :func:`check_rules`        rule IDs, missing clauses, unnamed rules
- :func:`check_actions`      action options, ranges, months, counts, strikes
- :func:`check_unused`       params and defines nobody uses
- :func:`check_contradictions`  conditions that can never be true
- :func:`check_conflicts`    same-priority rules acting on the same target
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from . import ast as A
from .diagnostics import Diagnostic, error, note, sort_key, warning
from .names import (
    FUNCTIONS,
    INDICATORS,
    KEYWORDS,
    STATE_NAMES,
    suggest,
)
from .parse import MAX_EXPR_DEPTH
from .printer import format_action, format_expr
from .program import Program
from .targets import consumed_targets
from .types import Ty, TypeTable, infer_types

Pass = Callable[["Analysis"], Iterable[Diagnostic]]


class Analysis:
    """Facts about a program shared by the passes, computed on first use."""

    def __init__(self, program: Program) -> None:
        self.program = program

    @functools.cached_property
    def order(self) -> dict[int, int]:
        """Statement identity → position in evaluation order."""
        return {id(s): i for i, s in enumerate(self.program.statements)}

    @functools.cached_property
    def definitions(self) -> dict[str, Any]:
        """First param or define of each name."""
        out: dict[str, Any] = {}
        for s in self.program.statements:
            if s.kind in ("param", "define") and s.name not in out:
                out[s.name] = s
        return out

    @functools.cached_property
    def types(self) -> TypeTable:
        """Expression types and type diagnostics (see :mod:`alvh_dsl.types`)."""
        return infer_types(self.program, self.definitions)

    def type_of(self, expr: Any) -> Ty:
        return self.types.of(expr)

    def const(self, expr: Any) -> float | None:
        """The value of a constant expression (literals and params), ratios for percentages."""
        return self.types.const(expr)


# ------------------------------------------------------------------- helpers


def _exprs_of(stmt: Any) -> Iterator[Any]:
    """Top-level expressions of a statement (conditions, define bodies, action args)."""
    if stmt.kind == "define":
        yield stmt.expr
    elif stmt.kind == "rule":
        if stmt.when is not None:
            yield stmt.when
        if stmt.unless is not None:
            yield stmt.unless
        for action in stmt.actions:
            yield from A.action_exprs(action)
        if stmt.cooldown is not None:
            yield stmt.cooldown


def _names_in(expr: Any) -> Iterator[Any]:
    for node in A.walk(expr):
        if node.kind == "name":
            yield node


# --------------------------------------------------------------------- passes


def check_header(an: Analysis) -> Iterable[Diagnostic]:
    """E008: the ``rulebook`` header comes first, once per file. W205: only the root has one."""
    for file, book in an.program.files.items():
        seen = False
        for i, stmt in enumerate(book.statements):
            if stmt.kind != "header":
                continue
            if not seen and file != an.program.root:
                yield warning(
                    "W205",
                    f"`{file}` is included, so its `rulebook` header is ignored",
                    stmt.span,
                    help="only the book being checked or run names it; remove this header",
                )
            if seen:
                yield error("E008", "a second `rulebook` header", stmt.span, help="keep one")
            elif i != 0:
                yield error(
                    "E008",
                    "the `rulebook` header must be the first statement",
                    stmt.span,
                    help="move it to the top of the file",
                )
            seen = True


def check_names(an: Analysis) -> Iterable[Diagnostic]:
    """E101–E107: every name is known, defined before use, defined once, not reserved."""
    program = an.program
    first: dict[str, Any] = {}
    for stmt in program.statements:
        if stmt.kind in ("param", "define"):
            name, span = stmt.name, stmt.name_span
            what = stmt.kind
        elif stmt.kind == "rule" and stmt.named:
            name, span, what = stmt.id, stmt.id_span, "rule"
        else:
            continue
        if name in KEYWORDS:
            yield error(
                "E105",
                f"`{name}` is a reserved word and cannot name a {what}",
                span,
                help=f"rename it, e.g. `{name}_{'level' if what == 'param' else 'rule'}`",
            )
        if what != "rule" and (name in STATE_NAMES or name in INDICATORS or name in FUNCTIONS):
            builtin = "a name the state provides" if name in STATE_NAMES else "a built-in function"
            yield error("E106", f"{what} `{name}` shadows {builtin}", span, help="rename it")
        if what != "rule":
            if name in first:
                yield error(
                    "E104",
                    f"`{name}` is defined twice",
                    span,
                    related=[note(first[name].name_span, "first defined here")],
                )
            else:
                first[name] = stmt

    defined_so_far: set[str] = set()
    for stmt in program.statements:
        for expr in _exprs_of(stmt):
            for node in _names_in(expr):
                yield from _check_name(an, node, stmt, defined_so_far)
        if stmt.kind in ("param", "define"):
            defined_so_far.add(stmt.name)


def _is_builtin(name: str) -> bool:
    if name in STATE_NAMES:
        return True
    head, _, tail = name.partition(".")
    ind = INDICATORS.get(head)
    if ind is not None and ind.bare_name:
        return not tail or tail in ind.fields
    return False


def _check_name(an: Analysis, node: Any, stmt: Any, defined: set[str]) -> Iterator[Diagnostic]:
    name = node.name
    if _is_builtin(name) or name in defined:
        return
    target = an.definitions.get(name)
    if target is not None:
        if target is stmt:
            yield error(
                "E103",
                f"define `{name}` refers to itself",
                node.span,
                help="a define cannot be recursive; write the condition out",
            )
        else:
            yield error(
                "E102",
                f"`{name}` is used before it is defined",
                node.span,
                help=f"move the {target.kind} `{name}` above this line",
                related=[note(target.name_span, "defined here")],
            )
        return
    if name in INDICATORS or name in FUNCTIONS:
        yield error(
            "E108",
            f"`{name}` needs arguments",
            node.span,
            help=f"call it, e.g. `{_example_call(name)}`",
        )
        return
    pool = [*STATE_NAMES, *an.definitions, "MACD", "MACD.signal", "MACD.hist", "ADLINE"]
    guess = suggest(name, pool)
    head = name.split(".", 1)[0]
    help_text: str | None = f"did you mean `{guess}`?" if guess else None
    if guess is None and head in ("condor", "hedge", "book", "VIX"):
        known = sorted(n for n in STATE_NAMES if n.startswith(head + "."))[:8]
        help_text = "known: " + ", ".join(f"`{k}`" for k in known)
    yield error("E101", f"unknown name `{name}`", node.span, help=help_text)


def _example_call(name: str) -> str:
    return {
        "SMA": "SMA(SPX, 20)",
        "EMA": "EMA(VIX, 10)",
        "RSI": "RSI(14)",
        "realized_vol": "realized_vol(SPX, 20)",
        "change": "change(VIX, 5 days)",
        "abs": "abs(book.delta)",
        "min": "min(VIX, 30)",
        "max": "max(VIX, 30)",
    }.get(name, f"{name}(…)")


def check_types(an: Analysis) -> Iterable[Diagnostic]:
    """E107–E111, E201–E209, W204: units and types (see :mod:`alvh_dsl.lang.types`)."""
    return list(an.types.diagnostics)


def check_rules(an: Analysis) -> Iterable[Diagnostic]:
    """E301–E303, W101: unique IDs, a condition and an action per rule; unnamed rules."""
    seen: dict[str, A.Rule] = {}
    for rule in an.program.rules:
        if rule.id in seen:
            other = seen[rule.id]
            what = "an identical unnamed rule" if not rule.named else f"rule `{rule.id}`"
            yield error(
                "E301",
                f"duplicate rule ID `{rule.id}`: {what} is already defined",
                rule.id_span,
                help="rule IDs must be unique across the book and its includes",
                related=[note(other.id_span, "first defined here")],
            )
        else:
            seen[rule.id] = rule
        if rule.when is None:
            yield error(
                "E302",
                f"rule `{rule.id}` has no `when` condition",
                rule.id_span,
                help="add a line `when CONDITION`",
            )
        if not rule.actions:
            yield error(
                "E303",
                f"rule `{rule.id}` has no action",
                rule.id_span if rule.named else rule.span,
                help="add a line `then ACTION` (e.g. `then close condor`)",
            )
        if not rule.named:
            yield warning(
                "W101",
                "unnamed rule",
                rule.id_span,
                help=f"its ID is derived from its text (`{rule.id}`); a `rule NAME` line above "
                "it gives reports and cooldowns a stable name",
            )


def check_actions(an: Analysis) -> Iterable[Diagnostic]:
    """E305–E311, E208, W203: the arguments of every action make sense."""
    for rule in an.program.rules:
        for action in rule.actions:
            yield from _check_action(an, action)
        if rule.cooldown is not None:
            v = an.const(rule.cooldown)
            if v is not None and v < 0:
                yield error("E311", "cooldown cannot be negative", rule.cooldown.span)


def _check_month(an: Analysis, expr: Any | None) -> Iterator[Diagnostic]:
    if expr is None:
        return
    v = an.const(expr)
    if v is None:
        return  # non-constant months are reported by the type pass
    if v != int(v) or not 1 <= v <= 9:
        yield error(
            "E208",
            f"month {format_expr(expr)} is not a whole number from 1 to 9",
            expr.span,
            help="month 1 is the nearest unexpired expiry, month 2 the next, …",
        )


def _check_positive_int(an: Analysis, expr: Any | None, what: str) -> Iterator[Diagnostic]:
    if expr is None:
        return
    v = an.const(expr)
    if v is not None and (v != int(v) or v < 1):
        yield error(
            "E308", f"{what} must be a positive whole number, not {format_expr(expr)}", expr.span
        )


def _check_fraction(an: Analysis, expr: Any | None, what: str) -> Iterator[Diagnostic]:
    if expr is None:
        return
    v = an.const(expr)
    if v is not None and not 0 < v <= 1:
        yield error(
            "E307",
            f"{what} {format_expr(expr)} is outside 0%–100%",
            expr.span,
            help="a share of a position is above 0% and at most 100%",
        )


def _check_action(an: Analysis, action: Any) -> Iterator[Diagnostic]:
    kind = action.kind
    if kind == "open_condor":
        missing = [
            word
            for word, value in (
                ("month N` or `near D days", action.expiry),
                ("short delta D", action.short_delta),
                ("wings W", action.wings),
            )
            if value is None
        ]
        if missing:
            yield error(
                "E305",
                "`open iron condor` needs " + " and ".join(f"`{m}`" for m in missing),
                action.span,
                help="e.g. `open iron condor month 1 short delta 0.16 wings 50 points`",
            )
        if action.expiry is not None and action.expiry.kind == "by_month":
            yield from _check_month(an, action.expiry.month)
        if action.short_delta is not None:
            v = an.const(action.short_delta)
            if v is not None and not 0 < v < 1:
                yield error(
                    "E311",
                    f"short delta {format_expr(action.short_delta)} is not between 0 and 1",
                    action.short_delta.span,
                    help="write the delta as a fraction: 0.16 for a 16-delta short strike",
                )
        if action.wings is not None:
            v = an.const(action.wings)
            if v is not None and v <= 0:
                yield error("E311", "wings must be wider than 0 points", action.wings.span)
        yield from _check_positive_int(an, action.quantity, "quantity")
    elif kind == "roll_condor":
        if action.to.kind == "by_month":
            yield from _check_month(an, action.to.month)
    elif kind == "close":
        yield from _check_month(an, action.month)
        yield from _check_fraction(an, action.fraction, "closing")
    elif kind == "shift_hedge":
        yield from _check_fraction(an, action.fraction, "shifting")
        yield from _check_month(an, action.from_month)
        yield from _check_month(an, action.to_month)
        src = an.const(action.from_month) if action.from_month is not None else 1.0
        if src is not None and src == an.const(action.to_month):
            yield error(
                "E310",
                f"the hedge is shifted from month {format_number_text(src)} to the same month",
                action.span,
                help="`shift P% hedge [from month A] to month B` needs A ≠ B (A is 1 by default)",
            )
    elif kind == "trade_future":
        yield from _check_positive_int(an, action.count, "the number of futures")
        yield from _check_month(an, action.month)
    elif kind == "buy_call_spread":
        yield from _check_positive_int(an, action.count, "the number of spreads")
        yield from _check_month(an, action.month)
        lo, hi = an.const(action.lower), an.const(action.upper)
        if lo is not None and hi is not None and not 0 < lo < hi:
            yield error(
                "E309",
                f"call spread strikes {format_expr(action.lower)}/{format_expr(action.upper)} "
                "must be positive and rising",
                action.span,
                help="write the long (lower) strike first: `25/35`",
            )
        if action.costing is not None and action.count is not None:
            yield error(
                "E306",
                "a call spread takes a count or `costing`, not both",
                action.span,
                help="`costing` sizes the count from the budget",
            )
    for expr in A.action_exprs(action):
        yield from _percent_of_warnings(an, expr)


def format_number_text(v: float) -> str:
    return str(int(v)) if v == int(v) else str(v)


def _percent_of_warnings(an: Analysis, expr: Any) -> Iterator[Diagnostic]:
    for node in A.walk(expr):
        if node.kind == "binop" and node.op == "of":
            v = an.const(node.left)
            if v is not None and v > 1:
                yield warning(
                    "W203",
                    f"{format_expr(node.left)} of {format_expr(node.right)} is more than all of it",
                    node.left.span,
                    help="percentages of a budget are usually at most 100%",
                )


def check_unused(an: Analysis) -> Iterable[Diagnostic]:
    """W102, W103: params and defines (of the root file) that nothing uses."""
    program = an.program
    if program.syntax_errors:
        return  # uses may sit on the broken lines
    used: set[str] = set()
    for stmt in program.statements:
        for expr in _exprs_of(stmt):
            used.update(node.name for node in _names_in(expr))
    for stmt in program.statements:
        if stmt.kind not in ("param", "define") or stmt.span.file != program.root:
            continue
        if stmt.name not in used:
            code = "W102" if stmt.kind == "param" else "W103"
            yield warning(
                code,
                f"{stmt.kind} `{stmt.name}` is never used",
                stmt.name_span,
                help="remove it, or use it in a rule",
            )


# ------------------------------------------------------------ contradictions


@dataclass
class _Bound:
    """Interval of values one expression may take under a conjunction of comparisons."""

    lo: float = float("-inf")
    lo_incl: bool = True
    hi: float = float("inf")
    hi_incl: bool = True
    lo_span: Any = None
    hi_span: Any = None

    def empty(self) -> bool:
        return self.lo > self.hi or (self.lo == self.hi and not (self.lo_incl and self.hi_incl))


_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "==", "!=": "!="}
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<", "==": "!=", "!=": "=="}
_MAX_ATOMS = 200


def _atoms(
    an: Analysis,
    expr: Any,
    negate: bool,
    out: list[tuple[str, str, float, Any]],
    expanding: frozenset[str] = frozenset(),
    depth: int = 0,
) -> None:
    """Collect ``(key, op, constant)`` facts that must all hold for ``expr`` to be true
    (or false, when ``negate``). Defines are expanded; anything else is skipped.

    The facts are only hints for warnings, so stopping early is safe: a define
    is not expanded inside itself (``define a = a and …`` is E103), nor beyond
    :data:`MAX_EXPANDED_DEPTH` levels.
    """
    if len(out) > _MAX_ATOMS or depth > MAX_EXPANDED_DEPTH:
        return
    kind = expr.kind
    if kind == "boolop" and (expr.op == "and") != negate:
        for o in expr.operands:
            _atoms(an, o, negate, out, expanding, depth + 1)
    elif kind == "not":
        _atoms(an, expr.operand, not negate, out, expanding, depth + 1)
    elif kind == "name":
        target = an.definitions.get(expr.name)
        if target is not None and target.kind == "define" and expr.name not in expanding:
            _atoms(an, target.expr, negate, out, expanding | {expr.name}, depth + 1)
    elif kind == "compare":
        op = _NEGATE[expr.op] if negate else expr.op
        lv, rv = an.const(expr.left), an.const(expr.right)
        if lv is None and rv is not None:
            out.append((format_expr(expr.left), op, rv, expr))
        elif rv is None and lv is not None:
            out.append((format_expr(expr.right), _FLIP[op], lv, expr))
    elif kind == "between" and not negate:
        lo, hi = an.const(expr.low), an.const(expr.high)
        key = format_expr(expr.value)
        if lo is not None:
            out.append((key, ">=", lo, expr))
        if hi is not None:
            out.append((key, "<=", hi, expr))


def _contradiction(facts: list[tuple[str, str, float, Any]]) -> tuple[Any, Any] | None:
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


# Later stages (the compiler, the evaluator) follow a name into its define, so the
# depth that matters is the expression's with defines expanded. Two parser-limit
# expressions' worth: far beyond real books, well inside Python's recursion limit.
MAX_EXPANDED_DEPTH = 2 * MAX_EXPR_DEPTH


def _expanded_depth(expr: Any, define_depth: Mapping[str, int]) -> int:
    """Depth of ``expr`` with every (earlier) define it names expanded; iterative."""
    worst = 0
    stack = [(expr, 1)]
    while stack:
        node, d = stack.pop()
        if node.kind == "name":
            d += define_depth.get(node.name, 0)
        worst = max(worst, d)
        stack.extend((child, d + 1) for child in A.children(node))
    return worst


def check_expanded_depth(an: Analysis) -> Iterable[Diagnostic]:
    """E407: an expression nested too deeply once the defines it uses are expanded.

    Reported once, where the limit is first crossed (not again for every define
    or rule built on the one that crossed it).
    """
    define_depth: dict[str, int] = {}
    over: set[str] = set()
    for stmt in an.program.statements:
        exprs = list(_exprs_of(stmt))
        if not exprs:
            continue
        worst = max(_expanded_depth(e, define_depth) for e in exprs)
        inherited = any(n.name in over for e in exprs for n in _names_in(e))
        if stmt.kind == "define":
            define_depth.setdefault(stmt.name, worst)
            if worst > MAX_EXPANDED_DEPTH:
                over.add(stmt.name)
        if worst > MAX_EXPANDED_DEPTH and not inherited:
            where = stmt.name_span if stmt.kind == "define" else stmt.id_span
            yield error(
                "E407",
                f"{stmt.kind} `{getattr(stmt, 'name', None) or stmt.id}` is nested too deeply "
                f"with its defines expanded ({worst} levels, the limit is {MAX_EXPANDED_DEPTH})",
                where,
                help="flatten the chain of defines, e.g. join conditions with `and` in one define",
            )


def check_contradictions(an: Analysis) -> Iterable[Diagnostic]:
    """W201: a rule whose condition (with its ``unless``) can never be true."""
    for rule in an.program.rules:
        if rule.when is None:
            continue
        facts: list[tuple[str, str, float, Any]] = []
        _atoms(an, rule.when, False, facts)
        when_only = _contradiction(facts)
        if rule.unless is not None:
            _atoms(an, rule.unless, True, facts)
        found = when_only or _contradiction(facts)
        if found is None:
            continue
        a, b = found
        pair = a is not None and b is not None and a is not b
        help_text = None
        related = []
        if when_only is not None:
            why = "its condition is never true"
            if pair:
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


def check_conflicts(an: Analysis) -> Iterable[Diagnostic]:
    """W202: rules of the same priority act differently on the same target.

    Which runs first then depends only on file order. Rules whose conditions
    cannot both be true (by the same analysis as W201) are not reported.

    Actions are grouped by (priority, target) and, within a group, by their
    canonical text: identical actions never conflict, so a book of thousands of
    rules that all `close condor` costs one comparison per rule, not one per pair.
    """
    groups: dict[tuple[int, str], dict[str, list[tuple[A.Rule, Any]]]] = {}
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
    facts_of: dict[int, list[tuple[str, str, float, Any]]] = {}

    def facts(rule: A.Rule) -> list[tuple[str, str, float, Any]]:
        found = facts_of.get(id(rule))
        if found is None:
            found = facts_of[id(rule)] = []
            if rule.when is not None:
                _atoms(an, rule.when, False, found)
        return found

    # Candidates first; each pair of rules is then reported once, at the later rule's
    # first conflicting action in source order (whatever the order of the groups).
    found: list[tuple[Any, A.Rule, Any, A.Rule, Any, str]] = []
    for (_priority, target), by_text in groups.items():
        seen: dict[str, list[tuple[A.Rule, Any]]] = {}
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
)


def run_checks(an: Analysis, passes: Iterable[Pass] = PASSES) -> list[Diagnostic]:
    """Run every pass over one analysis of a program; all diagnostics, sorted by location."""
    out: list[Diagnostic] = []
    for p in passes:
        out.extend(p(an))
    return sorted(out, key=sort_key)


# consumed_targets lives in alvh_dsl.lang.targets; re-exported while callers move.
__all__ = ["PASSES", "Analysis", "consumed_targets", "run_checks"]
