"""The data of rulebook test files (``*.alvhtest``): what :mod:`.testfile` parses
and :mod:`.testing` runs (docs/testing.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from .ast import Span
from .diagnostics import Diagnostic

TEST_SUFFIX = ".alvhtest"


@dataclass(frozen=True)
class Located:
    """A word or a string of a line, where it is."""

    text: str
    span: Span


@dataclass(frozen=True)
class Setting:
    """``set NAME = VALUE``: the value the rules read for a state name.

    ``value`` is a float (a percentage as its ratio), or ``unknown`` with
    ``reason`` set. ``set last_fired.RULE = DATE | never`` edits the state's
    ``last_fired`` instead (cooldowns): ``rule`` is set, ``last`` the date
    (``None`` for never)."""

    name: Located
    value: float | None
    reason: str | None
    span: Span
    text: str  # `condor.DTE = 6 days`, as written
    rule: Located | None = None
    last: dt.date | None = None


@dataclass(frozen=True)
class HistorySpec:
    """``history SOURCE [from DATE] [to DATE] [gaps POLICY] [if present]``."""

    source: Located | None  # None: the built-in synthetic history
    start: dt.date | None
    end: dt.date | None
    gaps: str | None
    if_present: bool
    span: Span


@dataclass(frozen=True)
class Expectation:
    """One ``expect`` line.

    ``kind`` is ``status`` (``status`` holds the decision status, or
    ``fires`` / ``not_fired``), ``superseded`` (by ``other``), ``action`` /
    ``no_action`` (``action`` the text; ``other`` the rule for ``by``; ``args``
    the resolved arguments of ``with``),
    ``no_actions``, or ``count`` (a history test: ``at_least`` / ``at_most``).
    """

    kind: str
    span: Span
    text: str
    rule: Located | None = None
    status: str | None = None
    other: Located | None = None
    reason: str | None = None
    action: str | None = None
    args: tuple[tuple[str, float | str], ...] = ()  # `with NAME = VALUE, …`
    at_least: int | None = None
    at_most: int | None = None

    @property
    def history(self) -> bool:
        return self.kind == "count"


@dataclass
class TestCase:
    """One ``test`` block, its file's defaults already applied."""

    __test__ = False  # not a pytest test class

    name: str
    file: str
    span: Span
    book: Located | None = None
    state: Located | None = None
    params: dict[str, tuple[str, Span]] = field(default_factory=dict)
    settings: list[Setting] = field(default_factory=list)
    history: HistorySpec | None = None
    expectations: list[Expectation] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)

    @property
    def id(self) -> str:
        return f"{self.file}:{self.span.line}"


@dataclass
class TestFile:
    """A parsed test file; ``diagnostics`` are the problems outside any test."""

    __test__ = False  # not a pytest test class

    path: str
    source: str
    tests: list[TestCase]
    diagnostics: list[Diagnostic]
