"""Diagnostics are values: a code, a severity, a span, a message and a help line.

Every stage (parser, loader, checker, param overrides, state files, market
history, dry-run config and output) reports problems as :class:`Diagnostic`
values; :func:`render` is the one place that turns them into text
(``file:line:col: CODE message``, the source line, a caret under the span, a
``help:`` line; colour only when asked) and :func:`to_json` the one place that
turns them into JSON. A problem in a rulebook has a text :class:`Span`; one in
a data file (a history CSV or Parquet file, a state JSON, a config TOML) has a
:class:`DataSpan`: the file, and a row and column, or a key path.
:class:`alvh_dsl.errors.AlvhError` carries them when the API raises.

:data:`CODES` lists every code with a title; ``docs/diagnostics.md`` documents
each one and a test keeps the two in step.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from typing import Literal

from pydantic import BaseModel, ConfigDict

from .ast import Span

Severity = Literal["error", "warning"]

# code -> short title. Errors start with E, warnings with W.
CODES: dict[str, str] = {
    # syntax
    "E001": "syntax error",
    "E002": "unexpected character",
    "E003": "unterminated string",
    "E004": "comparisons cannot be chained",
    "E005": "`=` in a condition",
    "E006": "action on its own line needs `then`",
    "E007": "clause outside a rule",
    "E008": "rulebook header misplaced",
    "E009": "invalid number",
    "E010": "fmt cannot reproduce a statement",
    "E011": "string literal too long",
    # names
    "E101": "unknown name",
    "E102": "name used before it is defined",
    "E103": "recursive define",
    "E104": "name defined twice",
    "E105": "reserved word used as a name",
    "E106": "name shadows a built-in name",
    "E107": "unknown function or indicator",
    "E108": "wrong number of arguments",
    "E109": "indicator needs a series",
    "E110": "unknown field",
    "E111": "window must be a positive whole number",
    # types and units
    "E201": "units do not match",
    "E202": "invalid unit arithmetic",
    "E203": "`of` needs a ratio on its left",
    "E204": "condition is not true/false",
    "E205": "true/false value used as a number",
    "E206": "argument has the wrong unit",
    "E207": "`crosses` needs history on both sides",
    "E208": "month must be a whole number from 1 to 9",
    "E209": "value must be a constant",
    # rules and actions
    "E301": "duplicate rule ID",
    "E302": "rule has no `when` condition",
    "E303": "rule has no action",
    "E304": "clause given twice",
    "E305": "missing option",
    "E306": "option given twice",
    "E307": "percentage out of range",
    "E308": "must be a positive whole number",
    "E309": "invalid call spread strikes",
    "E310": "shift to the same month",
    "E311": "value out of range",
    # includes and limits
    "E401": "included file not found",
    "E402": "include cycle",
    "E403": "absolute include path",
    "E404": "include escapes the rulebook root",
    "E405": "too many includes",
    "E406": "file too large",
    "E407": "nested too deeply",
    "E408": "cannot read file",
    "E409": "too many errors",
    # params and state
    "E501": "unknown param",
    "E502": "param value has the wrong unit",
    "E503": "invalid param value",
    "E504": "invalid state",
    # data files and outputs
    "E601": "invalid market data",
    "E602": "invalid dry-run config",
    "E603": "not a dry-run directory",
    "E604": "invalid project config",
    "E605": "book not found at a git revision",
    # rulebook test files (alvh test)
    "E701": "syntax error in a test file",
    "E702": "file named by a test not found",
    "E703": "test names an unknown rule",
    "E704": "test sets an unknown name",
    "E705": "test sets a value of the wrong unit",
    "E706": "expectation does not fit the test",
    "E707": "incomplete test",
    "E708": "test name given twice",
    "E709": "book, state or history of a test does not load",
    # warnings
    "W101": "unnamed rule",
    "W102": "unused param",
    "W103": "unused define",
    "W104": "book has no rules",
    "W105": "suppression that suppresses nothing",
    "W201": "rule can never fire",
    "W202": "same-priority rules conflict",
    "W203": "percentage above 100%",
    "W204": "bare number compared with a percentage",
    "W205": "included file has a header",
    "W206": "size exceeds the account",
}


class DataSpan(BaseModel):
    """A place in a data file, where a text span does not apply.

    ``row`` is the 1-based line of a CSV file (the header is line 1, so the
    first data row is line 2) or the 1-based record of a Parquet file (0 for
    the file as a whole); ``column`` the column as written in the file. A JSON
    or TOML document gives a key ``path`` instead (``$.market.SPX``,
    ``costs.slippage``).
    """

    model_config = ConfigDict(frozen=True, defer_build=True)
    file: str
    row: int | None = None
    column: str = ""
    path: str | None = None

    def __str__(self) -> str:
        if self.row is not None:
            return (
                f"{self.file}:{self.row}:{self.column}"
                if self.column
                else f"{self.file}:{self.row}"
            )
        return f"{self.file}: {self.path}" if self.path else self.file


def data_span(
    file: str, row: int | None = None, column: str = "", path: str | None = None
) -> DataSpan:
    """A :class:`DataSpan` (built without validation: the arguments are typed)."""
    return DataSpan.model_construct(file=file, row=row, column=column, path=path)


class Related(BaseModel):
    """A secondary location, e.g. where a duplicate was first defined."""

    model_config = ConfigDict(frozen=True, defer_build=True)
    span: Span
    message: str


class Fix(BaseModel):
    """A machine-applicable edit: replace the source text under ``span`` by ``replacement``.

    Carried by did-you-mean diagnostics, so that an editor or ``alvh check --fix``
    can apply the suggestion without parsing the help line.
    """

    model_config = ConfigDict(frozen=True, defer_build=True)
    span: Span
    replacement: str


def fix(span: Span, replacement: str) -> Fix:
    """A :class:`Fix` (built without validation: the arguments are typed)."""
    return Fix.model_construct(span=span, replacement=replacement)


class Diagnostic(BaseModel):
    """One problem found in a rulebook, a param override or a data file."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    code: str
    severity: Severity
    message: str
    span: Span | DataSpan | None = None
    help: str | None = None
    related: tuple[Related, ...] = ()
    fix: Fix | None = None

    @property
    def is_error(self) -> bool:
        return self.severity == "error"


def note(span: Span, message: str) -> Related:
    """A related location for a diagnostic ("first defined here")."""
    return Related.model_construct(span=span, message=message)


def error(
    code: str,
    message: str,
    span: Span | DataSpan | None,
    help: str | None = None,
    related: Sequence[Related] = (),
    fix: Fix | None = None,
) -> Diagnostic:
    """An error diagnostic (code must start with ``E``)."""
    return _diagnostic("error", code, message, span, help, related, fix)


def warning(
    code: str,
    message: str,
    span: Span | DataSpan | None,
    help: str | None = None,
    related: Sequence[Related] = (),
    fix: Fix | None = None,
) -> Diagnostic:
    """A warning diagnostic (code must start with ``W``)."""
    return _diagnostic("warning", code, message, span, help, related, fix)


def _diagnostic(
    severity: Severity,
    code: str,
    message: str,
    span: Span | DataSpan | None,
    help: str | None,
    related: Sequence[Related],
    fix: Fix | None = None,
) -> Diagnostic:
    assert code in CODES and code[0] == severity[0].upper(), code
    # model_construct: the fields are right by construction, and validating would
    # make pydantic build its schemas (and load its plugins) on the `alvh check` path.
    return Diagnostic.model_construct(
        code=code,
        severity=severity,
        message=message,
        span=span,
        help=help,
        related=tuple(related),
        fix=fix,
    )


def sort_key(d: Diagnostic) -> tuple[str, int, int, str]:
    if d.span is None:
        return ("", 0, 0, d.code)
    if isinstance(d.span, DataSpan):
        return (d.span.file, d.span.row or 0, 0, d.code)
    return (d.span.file, d.span.line, d.span.column, d.code)


def has_errors(diagnostics: Iterable[Diagnostic]) -> bool:
    return any(d.is_error for d in diagnostics)


# --------------------------------------------------------------------- rendering

_STYLE = {
    "error": "\x1b[1;31m",
    "warning": "\x1b[1;33m",
    "bold": "\x1b[1m",
    "gutter": "\x1b[1;34m",
    "help": "\x1b[1;36m",
    "reset": "\x1b[0m",
}


def _width(text: str) -> int:
    """Display width: wide (CJK) characters take two cells, combining marks none."""
    total = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        total += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return total


def render(
    diagnostics: Iterable[Diagnostic],
    sources: Mapping[str, str] | None = None,
    *,
    color: bool = False,
) -> str:
    """Render diagnostics as text, rustc/ruff style.

    ``sources`` maps a span's file to its text, for the source line and caret;
    when a file is missing the header and help lines are still printed.
    """
    sources = sources or {}
    lines_cache: dict[str, list[str]] = {}
    out: list[str] = []

    def paint(style: str, text: str) -> str:
        return f"{_STYLE[style]}{text}{_STYLE['reset']}" if color else text

    for d in diagnostics:
        where = f"{d.span}: " if d.span is not None else ""
        out.append(f"{paint('bold', where)}{paint(d.severity, d.code)} {paint('bold', d.message)}")
        pad = "  "
        if isinstance(d.span, Span) and d.span.file in sources:
            src_lines = lines_cache.get(d.span.file)
            if src_lines is None:
                src_lines = lines_cache[d.span.file] = _source_lines(sources[d.span.file])
            snippet = _snippet(d.span, src_lines, paint, d.severity)
            out.extend(snippet)
            if snippet:
                pad = " " * (len(str(d.span.line)) + 1)  # `=` under the snippet's `|`
        for rel in d.related:
            out.append(f"{pad}{paint('gutter', '=')} note: {rel.message} at {rel.span}")
        if d.help:
            out.append(f"{pad}{paint('gutter', '=')} {paint('help', 'help')}: {d.help}")
        if d.fix is not None:
            out.append(
                f"{pad}{paint('gutter', '=')} {paint('help', 'fix available')}: "
                f"{describe_fix(d.fix, sources)}"
            )
        out.append("")
    return "\n".join(out)


def _source_lines(text: str) -> list[str]:
    """The lines as the parser counts them: ended by ``\n`` (or ``\r\n``) alone.

    ``str.splitlines`` also splits at a form feed, a vertical tab, ``\x1c``–``\x1e``,
    ``\x85``, U+2028 and U+2029; one of those in a comment would shift the line shown
    under every later diagnostic.
    """
    lines = text.split("\n")
    return [line[:-1] if line.endswith("\r") else line for line in lines]


def _visible(ch: str) -> str:
    # One cell for one character, so that the caret's columns still line up.
    return ch if ch == "\t" or ch.isprintable() else "\ufffd"


def _snippet(span: Span, src_lines: list[str], paint: object, severity: str) -> list[str]:
    assert callable(paint)
    if not 1 <= span.line <= len(src_lines):
        return []
    # Control characters and line separators inside the line are shown as U+FFFD: raw,
    # a form feed or a lone CR would move the terminal's cursor.
    raw = "".join(_visible(ch) for ch in src_lines[span.line - 1])
    line = raw.expandtabs(4)
    # Map the span's character columns onto display columns of the tab-expanded line.
    prefix = raw[: max(span.column - 1, 0)].expandtabs(4)
    start = _width(prefix)
    if span.end_line == span.line:
        body = raw[max(span.column - 1, 0) : max(span.end_column - 1, span.column)]
    else:
        body = raw[max(span.column - 1, 0) :]
    width = max(_width(body.expandtabs(4)), 1)
    num = str(span.line)
    pad = " " * len(num)
    return [
        f"{pad} {paint('gutter', '|')}",
        f"{paint('gutter', num)} {paint('gutter', '|')} {line}",
        f"{pad} {paint('gutter', '|')} {' ' * start}{paint(severity, '^' * width)}",
    ]


def summary(diagnostics: Sequence[Diagnostic]) -> str:
    """``2 errors, 1 warning`` (or ``no problems``)."""
    errors = sum(d.is_error for d in diagnostics)
    warnings = len(diagnostics) - errors
    if not diagnostics:
        return "no problems"
    parts = []
    if errors:
        parts.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        parts.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    return ", ".join(parts)


def describe_fix(f: Fix, sources: Mapping[str, str]) -> str:
    """``replace `detla` with `delta``` (the text under the span when the source is known)."""
    span = f.span
    old = None
    if span.file in sources and span.line == span.end_line:
        lines = _source_lines(sources[span.file])
        if 1 <= span.line <= len(lines):
            old = lines[span.line - 1][span.column - 1 : span.end_column - 1]
    new = f"`{f.replacement}`" if f.replacement else "nothing"
    return f"replace `{old}` with {new}" if old else f"replace the text at {span} with {new}"


#: the version of :func:`to_json`'s layout (``schema_version``); raised when a field
#: changes meaning or goes away, never for a new field
JSON_SCHEMA_VERSION = 1


def to_json(diagnostics: Sequence[Diagnostic], **extra: object) -> str:
    """Diagnostics as one JSON document: ``{"schema_version": 1, "diagnostics": [...],
    "errors": n, "warnings": m, **extra}`` (``alvh schema --diagnostics`` prints its schema)."""
    errors = sum(d.is_error for d in diagnostics)
    doc = {
        "schema_version": JSON_SCHEMA_VERSION,
        "diagnostics": [d.model_dump(mode="json") for d in diagnostics],
        "errors": errors,
        "warnings": len(diagnostics) - errors,
        **extra,
    }
    return json.dumps(doc, indent=2)
