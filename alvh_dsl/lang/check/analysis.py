"""What the checker's passes share: one :class:`Analysis` of a program, and the type pass.

An :class:`Analysis` is made once per load (by :mod:`alvh_dsl.api`) and shared
by every pass and then by the compiler: the names in scope, and the types and
constant values of every expression (from :mod:`alvh_dsl.lang.types`), each
computed on first use, and the memos passes share (the names each statement uses
are :func:`alvh_dsl.lang.check.names.statement_uses`, one walk for the name and
depth passes).
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

    def memo(self, name: str) -> dict[int, Any]:
        """A cache by node identity that passes share, e.g. a rule's condition read as
        facts by both W201 and W202: each node is read once per analysis."""
        found = self._memos.get(name)  # not setdefault: no empty dict made per call
        if found is None:
            found = self._memos[name] = {}
        return found


Pass = Callable[[Analysis], Iterable[Diagnostic]]
"""A checker pass: everything it finds in one analysed program."""


def check_types(an: Analysis) -> Iterable[Diagnostic]:
    """E107–E111, E201–E209, W204: units and types (see :mod:`alvh_dsl.lang.types`)."""
    return list(an.types.diagnostics)
