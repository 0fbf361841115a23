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
from itertools import accumulate
from typing import Any

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
        self.files: dict[str, tuple[str, list[int]] | None] = {}

    def __call__(self, span: A.Span) -> str | None:
        file = span.file
        if file in self.files:
            found = self.files[file]
        else:
            source = self.sources.get(file)
            found = self.files[file] = None if source is None else (source, _line_starts(source))
        if found is None:
            return None
        source, starts = found
        # lines counted in `\n` only and columns in characters, as every span is
        start = starts[span.line - 1] + span.column - 1
        return source[start : starts[span.end_line - 1] + span.end_column - 1]


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


def when_bounds(an: Analysis, rule: A.Rule) -> Bounds:
    """A rule's ``when`` folded (:class:`Bounds`), once per analysis and per distinct text
    of a condition (:class:`Written`)."""
    memo = an.memo("when bounds")
    found: Bounds | None = memo.get(id(rule))
    if found is None:
        found = memo[id(rule)] = _fold(an, rule, written(an), an.memo("folds"))
    return found


def _fold(an: Analysis, rule: A.Rule, text_of: Written, folds: dict[Any, Bounds]) -> Bounds:
    """:class:`Bounds` of ``rule``'s ``when``, shared by the rules whose condition reads the
    same (``folds``: written text -> bounds)."""
    if rule.when is None:
        return Bounds([])
    text = text_of(rule.when.span)
    found = None if text is None else folds.get(text)
    if found is None:
        found = Bounds(_when_facts(an, rule))
        if text is not None:
            folds[text] = found
    return found


def check_contradictions(an: Analysis) -> Iterable[Diagnostic]:
    """W201: a rule whose condition (with its ``unless``) can never be true."""
    # when_bounds written out: its call is most of what a rule whose condition can be
    # true costs here, and most rules' is
    bounds_memo, folds, text_of = an.memo("when bounds"), an.memo("folds"), written(an)
    for rule in an.program.rules:
        if rule.when is None:
            continue
        key = id(rule)
        bounds = bounds_memo.get(key)
        if bounds is None:
            bounds = bounds_memo[key] = _fold(an, rule, text_of, folds)
        # the folded facts say whether the condition alone can be true: then nothing is
        # read again (most rules), else the rule's own facts say which two clash
        if not bounds.alone and rule.unless is None:
            continue
        facts = _when_facts(an, rule)
        when_only = _contradiction(facts) if bounds.alone else None
        found = when_only
        if found is None and rule.unless is not None:
            facts = [*facts]
            _atoms(an, rule.unless, True, facts)
            found = _contradiction(facts)
        if found is None:
            continue
        yield _w201(rule, found, when_only is not None)


def _w201(rule: A.Rule, found: Clash, when_only: bool) -> Diagnostic:
    """The W201 of ``rule``, whose facts (with its ``unless``, unless ``when_only``) clash."""
    a, b = found
    help_text = None
    related: list[Related] = []
    assert rule.when is not None
    if when_only:
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
    return warning(
        "W201",
        f"rule `{rule.id}` can never fire: {why}",
        (a or rule.when).span,
        help=help_text,
        related=related,
    )


# ----------------------------------------------------------------- conflicts

_Entry = tuple[A.Rule, A.ActionNode]


_Triple = tuple[A.Rule, A.ActionNode, str]
"""An entry of a (priority, target): the rule, its action, the action's canonical text."""


def _groups(an: Analysis) -> tuple[dict[tuple[int, str], list[_Triple]], set[tuple[int, str]]]:
    """Each (priority, target)'s actions, in the order the book's rules are read; and the
    (priority, target)s one rule acts on twice (whose entries :func:`check_conflicts`
    orders by text within the rule)."""
    groups: dict[tuple[int, str], list[_Triple]] = {}
    twice: set[tuple[int, str]] = set()
    const, text_of = an.const, written(an)
    # written text -> (the targets, sorted, and the canonical text): see Written
    read: dict[str | None, tuple[tuple[str, ...], str]] = {}
    for rule in an.program.rules:
        for action in rule.actions:
            text = text_of(action.span)
            found = read.get(text) if text is not None else None
            if found is None:
                targets = consumed_targets(action, const)
                found = (tuple(sorted(targets)), format_action(action)) if targets else ((), "")
                if text is not None:
                    read[text] = found
            targets, printed = found
            for target in targets:
                key = (rule.priority, target)
                entries = groups.get(key)
                if entries is None:
                    entries = groups[key] = []
                elif entries[-1][0] is rule:
                    twice.add(key)
                entries.append((rule, action, printed))
    return groups, twice


_MAX_PAIR_TESTS = 64
"""Earlier actions one action is looked at against, per (priority, target), the most recent
of each other action text first: checking stays linear, and a book with fewer actions on
one target than this is checked exactly."""

_NAMED = 5
"""Rules named in one W202; the rest are counted."""


class Bounds:
    """A rule's condition as :func:`_contradiction` reads it, folded once: the interval of
    each expression, the ``!=`` facts, and whether the condition alone is contradictory.

    :meth:`clash` then tells whether two rules can fire together without re-reading the
    facts of both: W202 asks it of up to :data:`_MAX_PAIR_TESTS` pairs per action.
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


def _rule_list(ids: list[str]) -> str:
    named = [f"`{r}`" for r in ids[:_NAMED]]
    if len(ids) > _NAMED:
        return f"{', '.join(named)} and {len(ids) - _NAMED} more ({len(ids)} in all)"
    if len(named) == 2:
        return " and ".join(named)
    return f"{', '.join(named[:-1])} and {named[-1]}"


def _components(
    entries: list[tuple[A.Rule, A.ActionNode, str]], folded: list[Bounds]
) -> list[tuple[tuple[int, int], list[int]]]:
    """The components of the conflict graph of one (priority, target) with more than one
    entry: each one's first conflict ``(j, i)`` (``j`` earlier) and its entries, in order.

    Entry ``i`` is compared with its window: the most recent earlier entries of each other
    text, in the order the texts first appeared, :data:`_MAX_PAIR_TESTS` in all.
    Components are labelled sets (the smaller relabelled into the larger on a join), so
    once an entry has joined a component, what of its window lies in that component is
    skipped: each text's entries keep their labels beside them, so a run of the window
    joined already costs one count in C (in a book whose rules conflict widely, one large
    component, that is nearly all of it). The result is the graph's (its components, each
    one's least conflict by ``(i, j)``), whatever the order its edges are met in.
    """
    # Long: one loop over the window's runs, the labels' bookkeeping written out (no calls
    # per entry of a window: this is the pass's inner loop)
    texts: dict[str, int] = {}  # text -> its number, in order of first appearance
    lists: list[list[int]] = []  # per text: its entries, in order
    labels: list[list[int]] = []  # per text: the component of each of its entries
    where: list[tuple[list[int], int]] = []  # entry -> (its text's labels, its place there)
    for k, e in enumerate(entries):
        t = texts.get(e[2])
        if t is None:
            t = texts[e[2]] = len(lists)
            lists.append([])
            labels.append([])
        where.append((labels[t], len(lists[t])))
        lists[t].append(k)
        # a condition that is never true clashes with every other: its entry is never
        # joined, its label (-1) no one's, skipped as what has joined already is
        labels[t].append(-1 if folded[k].alone else k)
    text_of = [texts[e[2]] for e in entries]
    count = [0] * len(lists)  # per text: how many of its entries came before i
    members: dict[int, list[int]] = {}  # label -> entries, for components of two or more
    first: dict[int, tuple[int, int]] = {}  # label -> its first conflict (i, j)
    for i, (rule, _action, _text) in enumerate(entries):
        mine, li, t, room = folded[i], i, text_of[i], _MAX_PAIR_TESTS
        for u, c in enumerate(count if not mine.alone else ()):
            if not c:
                break  # the texts after u appear after i
            if u == t:
                continue
            lo = c - room if c > room else 0
            room -= c - lo
            labs = labels[u]
            # joined already, all this run (i's own label, before it joins, is no one's)
            if li == i or _joined(labs[lo:c], li) != c - lo:
                entry_of, p = lists[u], c
                while p > lo:
                    p -= 1
                    lj = labs[p]
                    j = entry_of[p]
                    # joined already, or they cannot fire on the same day
                    if lj == li or lj < 0 or entries[j][0] is rule or folded[j].clash(mine):
                        continue
                    best = (i, j)
                    for pair in (first.pop(li, None), first.pop(lj, None)):
                        if pair is not None and pair < best:
                            best = pair
                    big, small = members.pop(lj, None) or [lj], members.pop(li, None) or [li]
                    if len(small) > len(big):
                        big, small, lj = small, big, li
                    for k in small:
                        relabel, at = where[k]
                        relabel[at] = lj
                    big += small
                    members[lj], first[lj], li = big, best, lj
                    if _joined(labs[lo:p], li) == p - lo:
                        break  # the rest of the run joined already
            if not room:
                break
        count[t] += 1
    return [((j, i), sorted(members[lj])) for lj, (i, j) in first.items()]


def _joined(run: list[int], label: int) -> int:
    """How many of a run of labels are skipped for an entry labelled ``label``."""
    return run.count(label) + run.count(-1)


def check_conflicts(an: Analysis) -> Iterable[Diagnostic]:
    """W202: rules of the same priority act differently on the same target.

    Which runs first then depends only on file order. Rules whose conditions
    cannot both be true (by the same analysis as W201) are not reported.

    One warning per *group*: the rules of one (priority, target) linked by conflicts
    (a conflicts with b, b with c: one group of three), at the group's first conflict,
    naming the first :data:`_NAMED` rules and counting the rest, so the output grows
    with the number of groups, not of pairs. Actions are grouped by (priority, target)
    and, within a group, by their canonical text: identical actions never conflict, so a
    book of thousands of rules that all `close condor` costs one comparison per rule, not
    one per pair; each action is compared with at most :data:`_MAX_PAIR_TESTS` earlier
    ones (the most recent), so a conflict further back may go unseen in a huge book.
    """
    # One group of candidate rules per component of the conflict graph of a (priority,
    # target); a group is reported once even when it conflicts on several targets.
    groups: list[tuple[_Entry, _Entry, list[str], str]] = []
    # Entries in source order. The rules of one file stand in the program in the order
    # they are written, and are read in that order: there the entries come sorted.
    single = len({rule.span.file for rule in an.program.rules}) <= 1
    by_key, twice = _groups(an)
    bounds_of = an.memo("when bounds").get  # filled by W201 (or when_bounds): no call a rule
    for key, entries in by_key.items():
        if key in twice or not single:
            _sort_entries(entries, key in twice, an.order, single)
        target = key[1]
        folded = [bounds_of(id(e[0])) or when_bounds(an, e[0]) for e in entries]
        for (j, i), members in _components(entries, folded):
            # members are in entry order, which is source order: the rules as named
            ids = list(dict.fromkeys([entries[k][0].id for k in members]))
            groups.append((entries[j][:2], entries[i][:2], ids, target))
    reported: set[tuple[str, ...]] = set()
    for first, second, ids, target in sorted(groups, key=lambda g: _order(g[0], g[1], g[3])):
        if tuple(ids) in reported:
            continue
        reported.add(tuple(ids))
        yield _warning(ids, first, second[1], target)


def _sort_entries(entries: list[_Triple], twice: bool, order: dict[int, int], single: bool) -> None:
    """Sort one (priority, target)'s entries into source order (in place), the actions of
    one rule by the order their texts first appear in the group (``twice``), then as read.

    Two stable sorts: by text, then by rule, is by rule, then text, then as read.
    """
    if twice:
        rank: dict[str, int] = {}
        for e in entries:
            rank.setdefault(e[2], len(rank))
        entries.sort(key=lambda e: rank[e[2]])
    if single:  # the rules of one file stand in the program in the order written
        entries.sort(key=lambda e: order[id(e[0])])
    else:
        entries.sort(key=lambda e: (e[0].span.file, e[0].span.line, e[0].span.column))


def _warning(ids: list[str], first: _Entry, at: A.ActionNode, target: str) -> Diagnostic:
    """The W202 of one group: at its first conflict (``at``, later than ``first``)."""
    r1, a1 = first
    noun = "the condor" if target == "condor" else f"the hedge in month {target[-1]}"
    if len(ids) == 2:
        verb = "both act"
        help_text = (
            f"give one a higher priority; as written `{ids[0]}` runs first "
            "(file order) and supersedes the other"
        )
    else:
        verb = "all act"
        help_text = (
            "give them different priorities; as written they run in file order "
            f"(`{ids[0]}` first) and each supersedes the later ones"
        )
    return warning(
        "W202",
        f"rules {_rule_list(ids)} have the same priority ({r1.priority}) and {verb} on {noun}",
        at.span,
        help=help_text,
        related=[note(a1.span, f"`{r1.id}` acts on it here")],
    )


def _order(first: _Entry, second: _Entry, target: str) -> tuple[int, int, int, int, str]:
    """A group's first conflict in source order: the later action, then the earlier one."""
    (_r1, a1), (_r2, a2) = first, second
    return (a2.span.line, a2.span.column, a1.span.line, a1.span.column, target)
