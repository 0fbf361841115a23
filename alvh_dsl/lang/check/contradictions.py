"""Conditions read as facts: W201, contradictions, and what W202 reads of each rule.

A condition is read as facts ``(expression, operator, constant)`` that must all
hold for it to be true (defines expanded); facts about one expression bound it
to an interval, and an empty interval is a contradiction.

- :func:`check_contradictions`  W201: a rule whose condition (with its ``unless``)
  can never be true;
- :class:`Reading`  each rule's folded condition and its actions' targets, read once for
  W201 and for W202 (:mod:`alvh_dsl.lang.check.conflicts`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from itertools import accumulate

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
    # The cases are disjoint classes, most common first, told apart by the exact class: a
    # pydantic model's isinstance that fails costs ten times one that succeeds (its
    # metaclass is an ABCMeta), and this runs for every condition of a book.
    if type(expr) is A.Compare:
        const = an.types.consts.get
        left, right = expr.left, expr.right
        op = _NEGATE[expr.op] if negate else expr.op
        lv, rv = const(id(left)), const(id(right))
        if lv is None and rv is not None:
            out.append((_key(left), op, rv, expr))
        elif rv is None and lv is not None:
            out.append((_key(right), _FLIP[op], lv, expr))
    elif type(expr) is A.BoolOp:
        if (expr.op == "and") != negate:
            for o in expr.operands:
                _atoms(an, o, negate, out, expanding, depth + 1)
    elif type(expr) is A.Name:
        name = expr.name
        target = an.definitions.get(name)
        if type(target) is A.Define and name not in expanding:
            _atoms(an, target.expr, negate, out, expanding | {name}, depth + 1)
    elif type(expr) is A.Between:
        if not negate:
            const = an.types.consts.get
            lo, hi = const(id(expr.low)), const(id(expr.high))
            key = _key(expr.value)
            if lo is not None:
                out.append((key, ">=", lo, expr))
            if hi is not None:
                out.append((key, "<=", hi, expr))
    elif type(expr) is A.Not:
        _atoms(an, expr.operand, not negate, out, expanding, depth + 1)


def _key(expr: A.ExprNode) -> str:
    """A fact's expression as :func:`format_expr` prints it; a name (the usual case,
    e.g. `VIX`) prints as itself, without the printer's dispatch."""
    return expr.name if type(expr) is A.Name else format_expr(expr)


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


def _when_facts(an: Analysis, rule: A.Rule) -> list[Fact]:
    """The facts of a rule's ``when`` (none without one), read once per analysis."""
    memo = an.memo("when facts")
    found: list[Fact] | None = memo.get(id(rule))
    if found is None:
        found = memo[id(rule)] = []
        if rule.when is not None:
            _atoms(an, rule.when, False, found)
    return found


class Written:
    """The source text under a span, or ``None`` for a file with no source.

    The same written text is the same tokens, so the same expression or action, wherever
    it stands (names mean the same in every rule of a program: one scope, one param value
    each): a fact that depends only on a node and the program's names may be computed
    once per distinct text. A large book repeats a few conditions and actions thousands
    of times, and slicing a text costs a small part of reading the node.
    """

    def __init__(self, sources: dict[str, str]) -> None:
        self.sources = sources
        self.files: dict[str, list[str] | None] = {}  # file -> its lines (split at `\n`)
        self.starts: dict[str, list[int]] = {}  # file -> each line's offset, if ever needed

    def __call__(self, span: A.Span) -> str | None:
        file = span.file
        lines = self.files.get(file)
        if lines is None:
            if file in self.files:
                return None
            source = self.sources.get(file)
            if source is None:
                self.files[file] = None
                return None
            lines = self.files[file] = source.split("\n")
        # lines counted in `\n` only and columns in characters, as every span is: a span
        # within its line (most) is a slice of the line, without the line's offset
        line, end_column = span.line, span.end_column
        if line == span.end_line and line <= len(lines):
            text = lines[line - 1]
            if end_column <= len(text) + 1:
                return text[span.column - 1 : end_column - 1]
        starts = self.starts.get(file)
        if starts is None:
            starts = self.starts[file] = _line_starts(self.sources[file])
        start = starts[line - 1] + span.column - 1
        return self.sources[file][start : starts[span.end_line - 1] + end_column - 1]


def _line_starts(source: str) -> list[int]:
    """The offset of each line's start (one more past the last line's end)."""
    return list(accumulate(map((1).__add__, map(len, source.split("\n"))), initial=0))


def written(an: Analysis) -> Written:
    """The analysis's one :class:`Written` (its line tables made once per file)."""
    memo = an.memo("written")
    found: Written | None = memo.get(0)
    if found is None:
        found = memo[0] = Written(an.program.sources)
    return found


Entry = tuple[A.Rule, A.ActionNode, str, "Bounds", str]
"""An action on a target: its rule, the action, its canonical text, the rule's condition
and the rule's ID."""


_Acts = tuple[str, list[tuple[tuple[int, str], list[Entry]]]]
"""An action's canonical text, and each (priority, target) it acts on with its entries."""


class Reading:
    """What W201 and W202 read of every rule, in one pass over the book's rules (each
    rule's nodes are read while they are at hand, once for both passes).

    - ``suspects``: the rules W201 looks at again, each with whether its condition alone
      is never true: those, and those with an ``unless``; every other rule's condition
      can be true, and W201 says nothing of it;
    - ``groups``: each (priority, target)'s entries (:data:`Entry`), in the order the
      book's rules are read;
    - ``twice``: the (priority, target)s one rule acts on twice (whose entries W202
      orders by text within the rule);
    - ``files``: the files the rules stand in.
    """

    __slots__ = ("files", "groups", "suspects", "twice")

    def __init__(self, an: Analysis) -> None:
        # Long: one loop over the rules, what is read once per distinct text written out
        # (no call a rule: this is the two passes' only visit of most rules)
        self.suspects: list[tuple[A.Rule, bool]] = []
        self.groups: dict[tuple[int, str], list[Entry]] = {}
        self.twice: set[tuple[int, str]] = set()
        self.files: set[str] = set()
        suspects, add_file = self.suspects, self.files.add
        text_of, const = written(an), an.const
        folds: dict[str, Bounds] = {}  # written condition -> its bounds
        # (priority, written action) -> its canonical text and its (priority, target)s,
        # each with its entries: an action's targets and text depend on its text alone
        acting: dict[tuple[int, str], _Acts] = {}
        for rule in an.program.rules:
            add_file(rule.span.file)
            when = rule.when
            if when is None:
                bounds = _NO_CONDITION
            else:
                text = text_of(when.span)
                found = folds.get(text) if text is not None else None
                if found is None:
                    found = Bounds(_when_facts(an, rule))
                    if text is not None:
                        folds[text] = found
                bounds = found
                if bounds.alone or rule.unless is not None:
                    suspects.append((rule, bounds.alone))
            for action in rule.actions:
                text = text_of(action.span)
                if text is None:
                    acts = self._acts(rule.priority, action, const)
                else:
                    key = (rule.priority, text)
                    cached = acting.get(key)
                    if cached is None:
                        cached = acting[key] = self._acts(rule.priority, action, const)
                    acts = cached
                printed, lists = acts
                for on, entries in lists:
                    if entries and entries[-1][0] is rule:
                        self.twice.add(on)
                    entries.append((rule, action, printed, bounds, rule.id))

    def _acts(
        self, priority: int, action: A.ActionNode, const: Callable[[A.ExprNode], float | None]
    ) -> _Acts:
        """An action's canonical text and the entries of each (priority, target) it acts on
        (made in the order the targets are first acted on, as the book is read)."""
        targets = consumed_targets(action, const)
        if not targets:
            return "", []
        lists = []
        for target in sorted(targets):
            key = (priority, target)
            entries = self.groups.get(key)
            if entries is None:
                entries = self.groups[key] = []
            lists.append((key, entries))
        return format_action(action), lists


def reading(an: Analysis) -> Reading:
    """The analysis's :class:`Reading` of its rules, made by whichever pass asks first."""
    memo = an.memo("reading")
    found: Reading | None = memo.get(0)
    if found is None:
        found = memo[0] = Reading(an)
    return found


def check_contradictions(an: Analysis) -> Iterable[Diagnostic]:
    """W201: a rule whose condition (with its ``unless``) can never be true."""
    printed = _Printed(written(an))
    # the folded conditions (Reading) say which rules' can be true: the rest, read again
    for rule, alone in reading(an).suspects:
        facts = _when_facts(an, rule)
        when_only = _contradiction(facts) if alone else None
        found = when_only
        if found is None and rule.unless is not None:
            facts = [*facts]
            _atoms(an, rule.unless, True, facts)
            found = _contradiction(facts)
        if found is not None:
            yield _w201(rule, found, when_only is not None, printed)


class _Printed:
    """:func:`format_expr` of expressions, once per distinct written text (see
    :class:`Written`); an expression of a file with no source is printed."""

    def __init__(self, text_of: Written) -> None:
        self.text_of = text_of
        self.texts: dict[str, str] = {}

    def __call__(self, expr: A.ExprNode) -> str:
        text = self.text_of(expr.span)
        if text is None:
            return format_expr(expr)
        found = self.texts.get(text)
        if found is None:
            found = self.texts[text] = format_expr(expr)
        return found


def _w201(
    rule: A.Rule, found: Clash, when_only: bool, printed: Callable[[A.ExprNode], str]
) -> Diagnostic:
    """The W201 of ``rule``, whose facts (with its ``unless``, unless ``when_only``) clash."""
    a, b = found
    help_text = None
    related: list[Related] = []
    assert rule.when is not None
    if when_only:
        why = "its condition is never true"
        if a is not None and b is not None and a is not b:
            help_text = f"`{printed(a)}` and `{printed(b)}` cannot both hold"
            related = [note(b.span, f"contradicts `{printed(b)}`")]
    else:
        # The condition and the *negated* `unless` contradict each other: the
        # two comparisons found can both hold, so say what the conflict means.
        why = "its `unless` always blocks it"
        assert rule.unless is not None
        help_text = f"whenever `{printed(rule.when)}` holds, so does `{printed(rule.unless)}`"
        related = [note(rule.unless.span, "the `unless`")]
    return warning(
        "W201",
        f"rule `{rule.id}` can never fire: {why}",
        (a or rule.when).span,
        help=help_text,
        related=related,
    )


class Bounds:
    """A rule's condition as :func:`_contradiction` reads it, folded once: the interval of
    each expression, the ``!=`` facts, and whether the condition alone is contradictory.

    :meth:`clash` then tells whether two rules can fire together without re-reading the
    facts of both: W202 asks it of a few pairs per action.
    """

    __slots__ = ("alone", "intervals", "neq")

    def __init__(self, facts: list[Fact]) -> None:
        # key -> (lo, lo inclusive, hi, hi inclusive), the same fold as _contradiction's
        self.intervals: dict[str, tuple[float, bool, float, bool]] = {}
        self.neq: list[tuple[str, float]] = []
        for key, op, value, _node in facts:
            lo, lo_incl, hi, hi_incl = self.intervals.get(key, _UNBOUNDED)
            if op in (">", ">=", "=="):
                incl = op != ">"
                if value > lo or (value == lo and not incl):
                    lo, lo_incl = value, incl
            if op in ("<", "<=", "=="):
                incl = op != "<"
                if value < hi or (value == hi and not incl):
                    hi, hi_incl = value, incl
            if op == "!=":
                self.neq.append((key, value))
            self.intervals[key] = (lo, lo_incl, hi, hi_incl)
        # as _contradiction(facts) finds a clash: an empty interval, or `!=` its one value
        # (loops, not any() over generators: this runs once for every rule of a book)
        alone = False
        for lo, lo_incl, hi, hi_incl in self.intervals.values():
            if lo > hi or (lo == hi and not (lo_incl and hi_incl)):
                alone = True
                break
        if not alone:
            for key, v in self.neq:
                interval = self.intervals[key]
                if interval[0] == interval[2] == v:
                    alone = True
                    break
        self.alone = alone

    def clash(self, other: Bounds) -> bool:
        """Whether ``_contradiction(facts of self + facts of other)`` finds a clash.

        The fold is order-free (the strictest bound wins, an exclusive one on a tie, and
        an empty interval stays empty), so two folded conditions merge key by key.
        """
        if self.alone or other.alone:
            return True
        mine, theirs = self.intervals, other.intervals
        if len(theirs) < len(mine):
            mine, theirs = theirs, mine
        neq = self.neq or other.neq
        merged: dict[str, tuple[float, float]] = {}
        for key, (lo, lo_incl, hi, hi_incl) in mine.items():
            b = theirs.get(key)
            if b is None:
                continue
            lo2, li2, hi2, hi_2 = b
            # the stricter bound; on a tie, inclusive only if both are (the comparisons
            # of max((lo, not incl), ...) and min((hi, incl), ...) of pairs, written out)
            if lo2 > lo or (lo2 == lo and lo_incl and not li2):
                lo, lo_incl = lo2, li2
            if hi2 < hi or (hi2 == hi and hi_incl and not hi_2):
                hi, hi_incl = hi2, hi_2
            if lo > hi or (lo == hi and not (lo_incl and hi_incl)):
                return True
            if neq:
                merged[key] = (lo, hi)
        if neq:
            for key, value in (*self.neq, *other.neq):
                both = merged.get(key)
                if both is not None and both[0] == both[1] == value:
                    return True
        return False


_UNBOUNDED = (float("-inf"), True, float("inf"), True)
_NO_CONDITION = Bounds([])
