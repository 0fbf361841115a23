"""W202: rules of the same priority acting on the same target (see
:mod:`alvh_dsl.lang.targets`) when both can fire together.

The rules' actions and folded conditions are read once, with W201's
(:class:`~alvh_dsl.lang.check.contradictions.Reading`); here they are grouped into
components of the conflict graph of each (priority, target).
"""

from __future__ import annotations

from collections.abc import Iterable

from .. import ast as A
from ..diagnostics import Diagnostic, note, warning
from .analysis import Analysis
from .contradictions import Bounds, Entry, reading

_Pair = tuple[A.Rule, A.ActionNode]

_MAX_PAIR_TESTS = 64
"""Earlier actions one action is looked at against, per (priority, target), the most recent
of each other action text first: checking stays linear, and a book with fewer actions on
one target than this is checked exactly."""

_NAMED = 5
"""Rules named in one W202; the rest are counted."""


def _rule_list(ids: list[str]) -> str:
    named = [f"`{r}`" for r in ids[:_NAMED]]
    if len(ids) > _NAMED:
        return f"{', '.join(named)} and {len(ids) - _NAMED} more ({len(ids)} in all)"
    if len(named) == 2:
        return " and ".join(named)
    return f"{', '.join(named[:-1])} and {named[-1]}"


def _components(entries: list[Entry]) -> list[tuple[tuple[int, int], list[int]]]:
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
    folded: list[Bounds] = [e[3] for e in entries]  # each entry's condition, as bounds
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
    for i, (rule, _action, _text, _bounds, _id) in enumerate(entries):
        mine, li, t, room = folded[i], i, text_of[i], _MAX_PAIR_TESTS
        for u, c in enumerate(count if not mine.alone else ()):
            if not c:
                break  # the texts after u appear after i
            if u == t:
                continue
            lo = c - room if c > room else 0
            room -= c - lo
            labs = labels[u]
            if li != i:  # i's own label, before it joins, is no one's
                run = labs[lo:c]
                if run.count(li) + run.count(-1) == c - lo:  # joined already, all the run
                    if room:
                        continue
                    break
            entry_of, p = lists[u], c
            while p > lo:
                p -= 1
                lj = labs[p]
                j = entry_of[p]
                # joined already, or they cannot fire on the same day
                if lj == li or lj < 0 or entries[j][0] is rule or folded[j].clash(mine):
                    continue
                if li == i:  # i alone joins j's component (the usual join), as below
                    relabel, at = where[i]
                    relabel[at] = lj
                    big = members.get(lj)
                    if big is None:
                        members[lj] = [lj, i]
                    else:
                        big.append(i)
                    best = first.pop(lj, None)  # an earlier step's, so less than (i, j)
                    first[lj] = (i, j) if best is None else best
                    li = lj
                else:
                    li = _join(li, lj, (i, j), members, first, where)
                run = labs[lo:p]
                if run.count(li) + run.count(-1) == p - lo:
                    break  # the rest of the run joined already
            if not room:
                break
        count[t] += 1
    return [((j, i), sorted(members[lj])) for lj, (i, j) in first.items()]


def _join(
    li: int,
    lj: int,
    pair: tuple[int, int],
    members: dict[int, list[int]],
    first: dict[int, tuple[int, int]],
    where: list[tuple[list[int], int]],
) -> int:
    """Join the components labelled ``li`` and ``lj`` by the conflict ``pair`` ``(i, j)``:
    the smaller relabelled into the larger, the first conflict the least. The label kept."""
    best = pair
    for found in (first.pop(li, None), first.pop(lj, None)):
        if found is not None and found < best:
            best = found
    big, small = members.pop(lj, None) or [lj], members.pop(li, None) or [li]
    if len(small) > len(big):
        big, small, lj = small, big, li
    for k in small:
        relabel, at = where[k]
        relabel[at] = lj
    big += small
    members[lj], first[lj] = big, best
    return lj


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
    groups: list[tuple[_Pair, _Pair, list[str], str]] = []
    # Entries in source order. The rules of one file stand in the program in the order
    # they are written, and are read in that order: there the entries come sorted.
    read = reading(an)
    single = len(read.files) <= 1
    for key, entries in read.groups.items():
        if key in read.twice or not single:
            _sort_entries(entries, key in read.twice, an.order, single)
        target = key[1]
        for (j, i), members in _components(entries):
            # members are in entry order, which is source order: the rules as named
            ids = list(dict.fromkeys([entries[k][4] for k in members]))
            groups.append((entries[j][:2], entries[i][:2], ids, target))
    reported: set[tuple[str, ...]] = set()
    for first, second, ids, target in sorted(groups, key=lambda g: _order(g[0], g[1], g[3])):
        if tuple(ids) in reported:
            continue
        reported.add(tuple(ids))
        yield _warning(ids, first, second[1], target)


def _sort_entries(entries: list[Entry], twice: bool, order: dict[int, int], single: bool) -> None:
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


def _warning(ids: list[str], first: _Pair, at: A.ActionNode, target: str) -> Diagnostic:
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


def _order(first: _Pair, second: _Pair, target: str) -> tuple[int, int, int, int, str]:
    """A group's first conflict in source order: the later action, then the earlier one."""
    (_r1, a1), (_r2, a2) = first, second
    return (a2.span.line, a2.span.column, a1.span.line, a1.span.column, target)
