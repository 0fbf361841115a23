"""What the checker's passes share: one :class:`Analysis` of a program, and the type pass.

An :class:`Analysis` is made once per load (by :mod:`alvh_dsl.api`) and shared
by every pass and then by the compiler: the names in scope, the names each
statement uses, and the types and constant values of every expression (from
:mod:`alvh_dsl.lang.types`), each computed on first use.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from .. import ast as A
from ..diagnostics import Diagnostic
from ..program import Program
from ..types import Ty, TypeTable, infer_types

Definition = A.Param | A.Define


class Analysis:
    """Facts about a program shared by the passes, computed on first use."""

    def __init__(self, program: Program) -> None:
        self.program = program
        self._shapes: dict[int, tuple[int, list[A.Name], list[int]]] = {}
        self._memos: dict[str, dict[int, Any]] = {}

    @functools.cached_property
    def order(self) -> dict[int, int]:
        """Statement identity → position in evaluation order."""
        return {id(s): i for i, s in enumerate(self.program.statements)}

    @functools.cached_property
    def definitions(self) -> dict[str, Definition]:
        """First param or define of each name."""
        out: dict[str, Definition] = {}
        for s in self.program.statements:
            if isinstance(s, A.Param | A.Define) and s.name not in out:
                out[s.name] = s
        return out

    @functools.cached_property
    def types(self) -> TypeTable:
        """Expression types and type diagnostics (see :mod:`alvh_dsl.lang.types`)."""
        return infer_types(self.program, self.definitions)

    def type_of(self, expr: A.ExprNode) -> Ty:
        return self.types.of(expr)

    def const(self, expr: A.ExprNode) -> float | None:
        """The value of a constant expression (literals and params), ratios for percentages."""
        # TypeTable.const's one line inlined: the rule passes ask it of every argument.
        return self.types.consts.get(id(expr))

    def names(self, stmt: A.StatementNode) -> list[A.Name]:
        """Every name ``stmt``'s expressions use, in source order (walked once per statement)."""
        return self.shape(stmt)[1]

    def shape(self, stmt: A.StatementNode) -> tuple[int, list[A.Name], list[int]]:
        """One walk of ``stmt``'s expressions: the depth of the deepest, every name they
        use in source order (what :meth:`names` returns), and each name's depth. The
        depth pass (E407) and the name passes read it, so each statement is walked once."""
        found = self._shapes.get(id(stmt))
        if found is not None:
            return found
        deepest = 0
        names: list[A.Name] = []
        depths: list[int] = []
        children, name_cls, number_cls, pairs = A.children, A.Name, A.Number, _PAIRS
        for expr in A.statement_exprs(stmt):
            cls = type(expr)
            if cls is number_cls:  # an action's argument, most often: `month 2`
                if not deepest:
                    deepest = 1
                continue
            stack = [(expr, 1)]
            pop, push = stack.pop, stack.append
            while stack:  # depth first, children in field order: names in source order
                node, d = pop()
                if d > deepest:
                    deepest = d
                if type(node) is name_cls:
                    names.append(node)
                    depths.append(d)
                elif (cls := type(node)) is not number_cls:  # the leaves are most nodes
                    d += 1
                    pair = pairs.get(cls)
                    if pair is not None:  # most inner nodes: comparisons, arithmetic
                        fields = node.__dict__
                        push((fields[pair[1]], d))
                        push((fields[pair[0]], d))
                    else:
                        stack.extend([(k, d) for k in reversed(children(node))])
        found = self._shapes[id(stmt)] = (deepest, names, depths)
        return found

    def memo(self, name: str) -> dict[int, Any]:
        """A cache by node identity that passes share, e.g. a rule's condition read as
        facts by both W201 and W202: each node is read once per analysis."""
        found = self._memos.get(name)  # not setdefault: no empty dict made per call
        if found is None:
            found = self._memos[name] = {}
        return found


def _pair_fields(cls: type[A.Node]) -> tuple[str, str]:
    """The two child fields of an expression class that has exactly two, both required."""
    (left, many_left), (right, many_right) = A.child_fields(cls)
    assert not many_left and not many_right
    return left, right


_PAIRS: dict[type, tuple[str, str]] = {
    cls: _pair_fields(cls) for cls in (A.Compare, A.BinOp, A.Crosses)
}
"""The commonest inner nodes, each with its two children's fields: :meth:`Analysis.shape`
reads them from the node's ``__dict__`` without the generic :func:`~alvh_dsl.lang.ast.children`."""


Pass = Callable[[Analysis], Iterable[Diagnostic]]
"""A checker pass: everything it finds in one analysed program."""


def check_types(an: Analysis) -> Iterable[Diagnostic]:
    """E107–E111, E201–E209, W204: units and types (see :mod:`alvh_dsl.lang.types`)."""
    return list(an.types.diagnostics)
