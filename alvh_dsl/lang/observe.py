"""Observed evaluation: what the traced closures compute, without building their trees.

A dry-run records every rule's status on every day (``rule_status.parquet``, the run's
coverage) and needs, for that, each comparison's result and the values it compared — not
a :class:`~alvh_dsl.lang.runtime.TraceNode` for every sub-expression. The
:class:`ObservingCompiler` builds a third closure tree per condition with the traced
tree's semantics (no short-circuit, every operand evaluated, no constant folding, so each
value is the traced value, of the same Python type) in which only the comparisons
(``<``, ``between``, ``crosses``) record anything: each writes ``(result, operand
values...)`` into its slot of ``Env.obs``, one slot per comparison of the book.

The full tree is built only for the few days that need it (a fired rule, a near miss),
by evaluating that rule's traced closures again against the same :class:`Env`
(:meth:`alvh_dsl.lang.evaluate.Book.retrace`): the identical tree by construction.

Defines are computed once per evaluation here (a memo of their own: the fast closures,
which fold constants, may give a value of another type), where the traced tree recomputes
one per use; a comparison inside a define has one slot however often it is used, its
values being the same at every use.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import ast as A
from .compiler import COMPARISONS, Compiler, crossed, memoised
from .runtime import Env, Fast
from .state import Unknown, Value

__all__ = ["ObservingCompiler", "RuleObserver"]

RuleObserver = Callable[[Env], tuple[Value, tuple[Value, ...]]]
"""A rule's observed condition: ``env -> (value, its conjuncts' values)`` (the conjuncts
of a top-level ``and``, or the one condition), comparisons written to ``env.obs``."""


class ObservingCompiler(Compiler):
    """Builds the observed closures of one program (see the module's docstring).

    ``slots`` maps each comparison's AST node (by identity) to its slot in ``Env.obs``;
    ``units[slot]`` holds the units of the comparison's operands, as the traced tree
    labels its children.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.slots: dict[int, int] = {}
        self.units: list[tuple[str, ...]] = []

    def rule(self, when: A.Expr) -> RuleObserver:
        """The observed closure of a rule's ``when``: its value (as the traced tree's
        root would hold it) and its top-level conjuncts' values."""
        if isinstance(when, A.BoolOp) and when.op == "and":
            fs = [self.expr(o, True) for o in when.operands]

            def conjuncts(env: Env) -> tuple[Value, tuple[Value, ...]]:
                values = tuple([f(env) for f in fs])
                # The traced `and` (no short-circuit): False if any is, else the first
                # unknown, else True.
                unknown: Value = True
                stopped = False
                for v in values:
                    if type(v) is Unknown:
                        if not stopped and type(unknown) is not Unknown:
                            unknown = v
                    elif v is False or v == False:  # noqa: E712 - the traced `v == stop`
                        stopped = True
                return (False if stopped else unknown), values

            return conjuncts
        f = self.expr(when, True)

        def single(env: Env) -> tuple[Value, tuple[Value, ...]]:
            v = f(env)
            return v, (v,)

        return single

    def expr(self, e: A.Expr, traced: bool) -> Fast:
        # Traced semantics throughout (``traced`` is True from every caller here), and no
        # record per node: only comparisons record, into their slots.
        if isinstance(e, A.Compare):
            return self._compare_probe(e)
        if isinstance(e, A.Between):
            return self._probe(e, (e.value, e.low, e.high), _between_values)
        if isinstance(e, A.Crosses):
            return self._probe(e, (e.left, e.right), self._crosses_values(e))
        return self._expr(e, True)

    def _define(self, name: str, traced: bool) -> Fast:
        key = (name, True)
        cached = self._define_cache.get(key)
        if cached is not None:
            return cached
        body = self.expr(self.defines[name].expr, True)
        # Kept beside the fast closures' memo, never one of theirs.
        define = memoised("\x00" + name, body)
        self._define_cache[key] = define
        return define

    def _probe(
        self,
        e: A.Expr,
        operands: tuple[A.Expr, ...],
        result: Callable[[Env, tuple[Value, ...]], Value],
    ) -> Fast:
        """A comparison that writes ``(result, *operand values)`` into its slot."""
        slot = self.slots.get(id(e))
        if slot is None:
            slot = self.slots[id(e)] = len(self.units)
            self.units.append(tuple(self.unit(o) for o in operands))
        fs = [self.expr(o, True) for o in operands]
        if len(fs) == 2:
            f1, f2 = fs

            def probe2(env: Env) -> Value:
                values = (f1(env), f2(env))
                v = result(env, values)
                env.obs[slot] = (v, *values)
                return v

            return probe2

        def probe(env: Env) -> Value:
            values = tuple([f(env) for f in fs])
            v = result(env, values)
            env.obs[slot] = (v, *values)
            return v

        return probe

    def _compare_probe(self, e: A.Compare) -> Fast:
        """:meth:`_probe` of a comparison written out: the commonest probe, one call and
        one tuple fewer."""
        slot = self.slots.get(id(e))
        if slot is None:
            slot = self.slots[id(e)] = len(self.units)
            self.units.append((self.unit(e.left), self.unit(e.right)))
        f1, f2 = self.expr(e.left, True), self.expr(e.right, True)
        cmp = COMPARISONS[e.op]

        def compare(env: Env) -> Value:
            a = f1(env)
            b = f2(env)
            if type(a) is Unknown:
                v: Value = a
            elif type(b) is Unknown:
                v = b
            else:
                v = cmp(a, b)
            env.obs[slot] = (v, a, b)
            return v

        return compare

    def _crosses_values(self, e: A.Crosses) -> Callable[[Env, tuple[Value, ...]], Value]:
        """``crosses`` as the traced closure computes it, once both sides' current values
        (its trace children, here the probe's operands) are evaluated."""
        lread, rread = self._reader(e.left, e), self._reader(e.right, e)
        above = e.direction == "above"

        def crosses(env: Env, values: tuple[Value, ...]) -> Value:
            return crossed(env, lread, rread, above)

        return crosses


def _between_values(env: Env, values: tuple[Value, ...]) -> Value:
    for x in values:
        if type(x) is Unknown:
            return x
    v, a, b = values
    return a <= v <= b  # type: ignore[operator]
