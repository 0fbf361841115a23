"""The loaded book as data: a rulebook with its includes resolved, before checking.

Nothing here reads files or runs checks: :mod:`alvh_dsl.lang.loader` builds a
:class:`Program`, the checker and the compiler read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ast as A
from .diagnostics import Diagnostic
from .transform import Comment


@dataclass
class Program:
    """A rulebook with its includes resolved, ready for checking and compiling.

    ``statements`` is the book in evaluation order: each include's statements
    stand where the ``include`` line was.
    """

    root: str
    files: dict[str, A.Rulebook] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    comments: dict[str, tuple[Comment, ...]] = field(default_factory=dict)
    statements: list[A.StatementNode] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)
    param_values: dict[str, A.Number] = field(default_factory=dict)
    syntax_errors: set[str] = field(default_factory=set)  # files with syntax errors

    @property
    def params(self) -> dict[str, A.Param]:
        return {s.name: s for s in self.statements if isinstance(s, A.Param)}

    @property
    def defines(self) -> dict[str, A.Define]:
        return {s.name: s for s in self.statements if isinstance(s, A.Define)}

    @property
    def rules(self) -> list[A.Rule]:
        return [s for s in self.statements if isinstance(s, A.Rule)]

    @property
    def header(self) -> A.Header | None:
        root = self.files.get(self.root)
        if root is None:
            return None
        return next((s for s in root.statements if isinstance(s, A.Header)), None)

    @property
    def description(self) -> str | None:
        root = self.files.get(self.root)
        if root is None:
            return None
        return next((s.text for s in root.statements if isinstance(s, A.Description)), None)
