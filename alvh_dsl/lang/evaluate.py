"""Compile once, evaluate many: a checked program → Python closures → decisions.

:func:`compile_program` turns every expression into a closure (no ``eval`` or
``exec`` of anything), once. :meth:`Book.evaluate` runs the closures against a
:class:`~alvh_dsl.lang.state.State` with the semantics of the spec's "one
evaluation":

1. every condition sees the same snapshot (defines are computed once per
   evaluation);
2. rules that fire run by priority (higher first), then file order;
3. an action whose target (the condor, a hedge month) an earlier rule already
   closed, rolled or shifted in this step is skipped, naming that rule;
4. a rule inside its cooldown does not fire;
5. logic is three-valued (Kleene): a condition that is unknown (warm-up, flat
   book, missing futures month) does not fire, and the decision says why.

Each decision carries the rule, the resolved actions and, when tracing, a tree
of every sub-expression with its value: the audit trail.

The closures come from :mod:`alvh_dsl.lang.compiler`; the result types and the
interface to a history of market data from :mod:`alvh_dsl.lang.runtime`.
``evaluate(state, trace=False)`` uses the fast closures; ``trace=True`` the
traced ones.

A book that reads history (indicators, ``crosses``) is compiled with a series
backend (``compile_program(program, analysis, series=alvh_dsl.series.BACKEND)``;
:func:`alvh_dsl.load` passes it to the books that need it, so a book without
indicators never imports NumPy); without one, compiling it raises
:class:`~alvh_dsl.lang.runtime.NoSeriesBackend`.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, cast

from . import ast as A
from .check import Analysis, run_checks
from .compiler import Compiler, reads_history
from .diagnostics import Diagnostic, sort_key
from .loader import load_program
from .observe import ObservingCompiler, RuleObserver
from .plain import StateLike
from .printer import format_expr
from .program import Program
from .runtime import (
    Decision,
    Env,
    Evaluation,
    Fast,
    HistorySource,
    NoSeriesBackend,
    ResolvedAction,
    SeriesBackend,
    TraceNode,
    clean,
)
from .state import CONDOR_GETTERS, GETTERS, State, Unknown, Value

# ------------------------------------------------------------------- rules


@dataclass
class CompiledRule:
    rule: A.Rule
    order: int
    when: Fast
    when_traced: Fast
    unless: Fast | None
    unless_traced: Fast | None
    actions: list[Callable[[Env], ResolvedAction]]
    cooldown_days: float | None
    conjuncts: list[str]
    # Plain copies of the rule's identity: read for every rule of every evaluation.
    id: str = ""
    title: str | None = None
    priority: int = 0
    cooling: dict[dt.date, str] = field(default_factory=dict)  # last fired → reason
    near_misses: dict[str, Decision] = field(default_factory=dict)  # conjunct → decision

    not_met: Decision = field(init=False)

    def __post_init__(self) -> None:
        self.id, self.title, self.priority = self.rule.id, self.rule.title, self.rule.priority
        self.not_met = Decision(self.id, self.title, self.priority, "not_met", _FALSE)

    def near_miss_decision(self, conjunct: str) -> Decision:
        """The (shared) decision of a false condition whose only failed conjunct is
        ``conjunct``."""
        d = self.near_misses.get(conjunct)
        if d is None:
            d = self.near_misses[conjunct] = self.not_met._replace(near_miss=conjunct)
        return d

    def cooling_reason(self, last: dt.date) -> str:
        reason = self.cooling.get(last)
        if reason is None:
            assert self.cooldown_days is not None
            until = last + dt.timedelta(days=math.ceil(self.cooldown_days))
            reason = self.cooling[last] = f"fired on {last}; cooldown until {until}"
        return reason


class Book:
    """A checked, compiled rulebook: call :meth:`evaluate` as often as you like."""

    def __init__(
        self,
        program: Program,
        rules: list[CompiledRule],
        state_names: set[str],
        uses_history: bool,
        params: dict[str, A.Number],
        series: SeriesBackend | None = None,
        analysis: Analysis | None = None,
    ) -> None:
        self.program = program
        self.rules = rules  # execution order
        self.state_names = sorted(state_names)
        # Filling the snapshot with exactly the names the book reads, in one loop,
        # costs less than a lazy lookup per name (see benchmarks/bench_language.py (c)).
        self._condor_getters = [
            (n, CONDOR_GETTERS[n]) for n in self.state_names if n in CONDOR_GETTERS
        ]
        self._getters = [(n, GETTERS[n]) for n in self.state_names if n not in CONDOR_GETTERS]
        self.uses_history = uses_history
        # Builds a source from the state's own history when no source is given.
        self._history = series.source if series is not None and uses_history else None
        self.params = params
        self.diagnostics: list[Diagnostic] = list(program.diagnostics)
        self._series = series
        self._analysis = analysis
        self._by_id = {cr.id: cr for cr in rules}
        # Observed evaluation (the dry-run's), compiled on first use: see _observe.
        self._observers: list[tuple[RuleObserver, Fast | None]] | None = None
        self.slot_of: dict[int, int] = {}
        self.slot_units: list[tuple[str, ...]] = []
        self.observation_slots = 0

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # The compiled rules are closures, which pickle cannot carry. A book travels as
        # data instead — its files' text, its param values and its series backend — and
        # is rebuilt on arrival (a Dask worker, another process) without reading a file.
        program = self.program
        return rebuild_book, (program.root, dict(program.sources), self.params, self._series)

    @property
    def name(self) -> str:
        header = self.program.header
        return header.name if header is not None else self.program.root

    @property
    def rule_ids(self) -> list[str]:
        return [r.rule.id for r in sorted(self.rules, key=lambda r: r.order)]

    def snapshot(self, state: StateLike) -> dict[str, Value]:
        """The values of every state name the book uses."""
        snap = state.snapshot()
        return {name: snap[name] for name in self.state_names}

    def evaluate(
        self,
        state: StateLike,
        *,
        trace: bool = True,
        source: HistorySource | None = None,
        disabled: frozenset[str] = frozenset(),
        overrides: Mapping[str, Value] | None = None,
        observe: bool = False,
    ) -> Evaluation:
        """Evaluate every rule against one state (a State, or the dry-run's PlainState).

        ``trace`` records every sub-expression's value (the audit trail).
        ``observe`` (with ``trace=False``) records instead only what the dry-run's
        statuses need — each comparison's result and the values it compared, in
        ``Evaluation.env.obs``, and each rule's conjuncts' values in
        ``Evaluation.conjuncts`` — with the traced evaluation's semantics, so the
        decisions are the traced ones, without their trees; :meth:`retrace` builds a
        decision's trees when they are wanted (see :mod:`alvh_dsl.lang.observe`).
        ``source`` supplies history (the dry-run passes one for the whole run,
        made by the book's series backend); by default the backend builds one
        from ``state.history``. Rules in ``disabled`` are reported as
        ``not_met`` with a reason and never fire. ``overrides`` (name → value)
        replace the state's values of those names: a rulebook test's ``set``.
        """
        if source is None and self._history is not None:  # (a PlainState reads as a State)
            source = self._history(cast(State, state))
        env = Env(state, source)
        for name, get in self._getters:
            env[name] = get(state)
        if self._condor_getters:
            front = state.front_condor()
            for name, get in self._condor_getters:
                env[name] = get(state, front)
        if overrides:
            env.update(overrides)
        if observe and not trace:
            return self._evaluate_observed(env, state, disabled)
        decisions: list[Decision] = []
        append = decisions.append
        consumed: dict[str, str] = {}
        for cr in self.rules:
            rule_id = cr.id
            if disabled and rule_id in disabled:
                append(Decision(rule_id, cr.title, cr.priority, "not_met", "disabled for this run"))
                continue
            when_trace = unless_trace = None
            blocked: Value = False
            if trace:
                env.trace = []
                cond = cr.when_traced(env)
                when_trace = env.trace[0]
                if cr.unless_traced is not None:
                    env.trace = []
                    blocked = cr.unless_traced(env)
                    unless_trace = env.trace[0]
                env.trace = None
            else:
                cond = cr.when(env)
                if cond is False:  # the common case: one shared, immutable decision
                    append(cr.not_met)
                    continue
                if cond is True and cr.unless is not None:
                    blocked = cr.unless(env)
            append(_decide(cr, env, state, cond, blocked, consumed, when_trace, unless_trace))
        return Evaluation(state.date, decisions)

    def _evaluate_observed(
        self, env: Env, state: StateLike, disabled: frozenset[str]
    ) -> Evaluation:
        """``evaluate(observe=True)``: the observed closures (:mod:`.observe`)."""
        observers = self._observers if self._observers is not None else self._observe()
        env.obs = [None] * self.observation_slots
        decisions: list[Decision] = []
        append = decisions.append
        observed: list[tuple[Value, ...] | None] = []
        consumed: dict[str, str] = {}
        for k, cr in enumerate(self.rules):
            if disabled and cr.id in disabled:
                append(Decision(cr.id, cr.title, cr.priority, "not_met", "disabled for this run"))
                observed.append(None)
                continue
            when, unless = observers[k]
            cond, conj = when(env)
            observed.append(conj)
            if type(cond) is not Unknown and not cond:
                # False, nearly every rule on nearly every day: a shared decision.
                near = None
                if len(cr.conjuncts) > 1:
                    failed = [i for i, v in enumerate(conj) if v is not True]
                    if len(failed) == 1:
                        near = cr.conjuncts[failed[0]]
                append(cr.not_met if near is None else cr.near_miss_decision(near))
                continue
            # The traced evaluation evaluates `unless` every time; its value only
            # matters (and is only recorded, for a blocked rule) when `when` held.
            blocked: Value = False
            if unless is not None and type(cond) is not Unknown:
                blocked = unless(env)
            append(_decide(cr, env, state, cond, blocked, consumed, None, None))
        return Evaluation(state.date, decisions, observed, env)

    def _observe(self) -> list[tuple[RuleObserver, Fast | None]]:
        """Compile the observed closures (once, on the first observed evaluation)."""
        analysis = self._analysis if self._analysis is not None else Analysis(self.program)
        comp = ObservingCompiler(self.program, analysis, self._series)
        observers: list[tuple[RuleObserver, Fast | None]] = []
        for cr in self.rules:
            unless = cr.rule.unless
            assert cr.rule.when is not None
            observers.append(
                (comp.rule(cr.rule.when), comp.expr(unless, True) if unless is not None else None)
            )
        self.slot_of, self.slot_units = comp.slots, comp.units
        self.observation_slots = len(comp.units)
        self._observers = observers
        return observers

    def observed_slots(self) -> tuple[dict[int, int], list[tuple[str, ...]]]:
        """Where observed evaluations write each comparison: its AST node's ``id`` →
        its slot in ``Env.obs``, and per slot the units of the comparison's operands."""
        if self._observers is None:
            self._observe()
        return self.slot_of, self.slot_units

    def retrace(self, evaluation: Evaluation, d: Decision) -> Decision:
        """``d`` of an observed ``evaluation`` with its trace trees, as ``trace=True``
        would have given it: the rule's traced closures evaluated again against the
        same environment (the same values, so the same trees)."""
        env = evaluation.env
        if env is None or d.trace is not None or d.reason == "disabled for this run":
            return d
        cr = self._by_id[d.rule]
        memo, env.memo = env.memo, {}  # the traced closures never read the memo anyway
        env.trace = []
        cr.when_traced(env)
        when_trace = env.trace[0]
        unless_trace = None
        if cr.unless_traced is not None:
            env.trace = []
            cr.unless_traced(env)
            unless_trace = env.trace[0]
        env.trace, env.memo = None, memo
        return d._replace(trace=when_trace, unless_trace=unless_trace)

    def explain(self) -> str:
        """Every rule in plain English, with its normalised form (see :mod:`.explain`)."""
        from .explain import explain_book

        return explain_book(self)


_FALSE = "the condition is false"


def _decide(
    cr: CompiledRule,
    env: Env,
    state: StateLike,
    cond: Value,
    blocked: Value,
    consumed: dict[str, str],
    when_trace: TraceNode | None,
    unless_trace: TraceNode | None,
) -> Decision:
    """One rule's decision once its condition (and ``unless``) are known."""
    status, reason, near_miss = "not_met", None, None
    actions: list[ResolvedAction] = []
    if type(cond) is Unknown:
        status, reason = "unknown", cond.reason
    elif not cond:
        reason = _FALSE
        if when_trace is not None and len(cr.conjuncts) > 1:
            near_miss = _near_miss(when_trace)
    elif blocked is True:
        status, reason = "blocked", "its `unless` condition holds"
    else:
        last = state.last_fired.get(cr.id) if cr.cooldown_days is not None else None
        if last is not None and (state.date - last).days < cr.cooldown_days:  # type: ignore[operator]
            status, reason = "cooling_down", cr.cooling_reason(last)
        else:
            status = "fired"
            actions = _fire(cr, env, consumed)
    return Decision(
        cr.id, cr.title, cr.priority, status, reason, tuple(actions),
        when_trace, unless_trace, near_miss,
    )  # fmt: skip


def _fire(cr: CompiledRule, env: Env, consumed: dict[str, str]) -> list[ResolvedAction]:
    """The actions of a rule that fires, resolved; one whose target an earlier rule
    consumed this step (``consumed``: target → rule) is superseded, naming that rule."""
    actions: list[ResolvedAction] = []
    for resolve in cr.actions:
        act = resolve(env)
        if act.status == "apply" and act.targets:
            clash = next((t for t in act.targets if t in consumed), None)
            if clash is not None:
                act = act._replace(
                    status="superseded",
                    superseded_by=consumed[clash],
                    reason=f"rule `{consumed[clash]}` already acted on {clash} this step",
                )
            else:
                for t in act.targets:
                    consumed[t] = cr.id
        actions.append(act)
    return actions


def _near_miss(trace: TraceNode) -> str | None:
    """The one conjunct of an `and` condition that failed when all the others held."""
    failed = [c for c in trace.children if c.value is not True]
    return failed[0].text if len(failed) == 1 else None


def rebuild_book(
    root: str,
    sources: dict[str, str],
    param_values: dict[str, A.Number],
    series: SeriesBackend | None = None,
) -> Book:
    """The :class:`Book` of these files' text and param values (what unpickling calls).

    The program is loaded from ``sources`` alone and checked again, so the book keeps its
    warnings; it was error-free when it was pickled, and the same text still is.
    """
    program = load_program(root, files=sources)
    program.param_values = dict(param_values)
    analysis = Analysis(program)
    program.diagnostics.extend(run_checks(analysis))
    program.diagnostics.sort(key=sort_key)
    return compile_program(program, analysis, series=series)


def compile_program(
    program: Program, analysis: Analysis | None = None, *, series: SeriesBackend | None = None
) -> Book:
    """Compile a checked program (no errors) into a :class:`Book`.

    ``analysis`` is the checker's (its type table is reused); one is made when
    it is not given. ``series`` computes indicators and ``crosses``: a book that
    reads history (:func:`reads_history`) needs one, or :class:`NoSeriesBackend`
    is raised.
    """
    an = analysis if analysis is not None and analysis.program is program else Analysis(program)
    comp = Compiler(program, an, series)
    compiled: list[CompiledRule] = []
    for order, rule in enumerate(program.rules):
        assert rule.when is not None
        cooldown = an.const(rule.cooldown) if rule.cooldown is not None else None
        conj = (
            [format_expr(o) for o in rule.when.operands]
            if isinstance(rule.when, A.BoolOp) and rule.when.op == "and"
            else [format_expr(rule.when)]
        )
        compiled.append(
            CompiledRule(
                rule=rule,
                order=order,
                when=comp.expr(rule.when, False),
                when_traced=comp.expr(rule.when, True),
                unless=comp.expr(rule.unless, False) if rule.unless is not None else None,
                unless_traced=comp.expr(rule.unless, True) if rule.unless is not None else None,
                actions=[comp.action(a) for a in rule.actions],
                cooldown_days=cooldown,
                conjuncts=conj,
            )
        )
    compiled.sort(key=lambda c: (-c.rule.priority, c.order))
    return Book(
        program, compiled, comp.state_names, comp.uses_history, dict(program.param_values),
        series, an,
    )  # fmt: skip


# The results and the series interface live in alvh_dsl.lang.runtime; they are part of
# this module's API too (callers import them from here).
__all__ = [
    "Book",
    "CompiledRule",
    "Decision",
    "Evaluation",
    "HistorySource",
    "NoSeriesBackend",
    "ResolvedAction",
    "SeriesBackend",
    "TraceNode",
    "clean",
    "compile_program",
    "reads_history",
]
