"""Diagnostics for machines: GitHub workflow commands, SARIF 2.1.0, JUnit XML, the JSON Schema.

One diagnostic model (:class:`~alvh_dsl.lang.diagnostics.Diagnostic`), many
renderers, as ruff and Regal do: the text renderer and the JSON document are
:func:`alvh_dsl.lang.diagnostics.render` and :func:`~alvh_dsl.lang.diagnostics.to_json`;
this module adds :func:`github`, :func:`sarif`, :func:`junit` and
:func:`diagnostics_schema` (the JSON Schema of ``alvh check --format json``).
``docs/diagnostics.md`` documents every field. Nothing here imports numpy.

Columns: a :class:`~alvh_dsl.lang.ast.Span` counts characters (code points), as
the text renderer and the JSON do; SARIF's default ``columnKind`` is UTF-16 code
units, so :func:`sarif` converts with the source text (a character outside the
Basic Multilingual Plane counts two).
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from .ast import Span
from .diagnostics import CODES, JSON_SCHEMA_VERSION, DataSpan, Diagnostic, render

#: the formats ``alvh check --format`` writes
FORMATS = ("text", "json", "github", "sarif", "junit")

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def display_path(path: str, cwd: str | None = None) -> str:
    """``path`` relative to the working directory when it lies under it, else absolute.

    What ruff prints: ``/home/me/desk/books/a.alvh`` run from ``/home/me/desk`` is
    ``books/a.alvh``; ``../other/b.alvh`` is ``/home/me/other/b.alvh``. ``-`` and
    names in angle brackets (``<stdin>``) are left alone.
    """
    if path == "-" or (path.startswith("<") and path.endswith(">")):
        return path
    here = cwd or os.getcwd()
    absolute = os.path.abspath(os.path.join(here, path))
    for base, target in ((here, absolute), (os.path.realpath(here), os.path.realpath(absolute))):
        if os.path.commonpath([base, target]) == base:
            return os.path.relpath(target, base)
    return absolute


# ----------------------------------------------------------------------- GitHub


def _escape_data(text: str) -> str:
    # actions/toolkit's escapeData: what ends the command must be percent-encoded.
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    # escapeProperty: `,` separates properties and `:` ends them, so both are encoded too.
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(diagnostics: Iterable[Diagnostic]) -> str:
    """GitHub Actions workflow commands, one per diagnostic: an annotation on the line.

    ``::error file=F,line=L,col=C,endLine=L2,endColumn=C2,title=CODE::message``; the
    columns only when the span is on one line (GitHub refuses them otherwise), the
    end column exclusive as everywhere in alvh. The help line follows the message.
    """
    out = []
    for d in diagnostics:
        props: list[tuple[str, object]] = []
        span = d.span
        if isinstance(span, Span):
            props += [("file", span.file), ("line", span.line)]
            if span.end_line == span.line:
                props += [("col", span.column), ("endLine", span.end_line)]
                props += [("endColumn", span.end_column)]
            else:
                props += [("endLine", span.end_line)]
        elif isinstance(span, DataSpan):
            props.append(("file", span.file))
            if span.row:
                props.append(("line", span.row))
        props.append(("title", d.code))
        text = d.message if isinstance(span, Span | None) else f"{span}: {d.message}"
        if d.help:
            text += f"\nhelp: {d.help}"
        head = ",".join(f"{k}={_escape_property(str(v))}" for k, v in props)
        out.append(f"::{d.severity} {head}::{_escape_data(text)}\n")
    return "".join(out)


# ------------------------------------------------------------------------ SARIF

# docs/diagnostics.md's section for each family of codes (GitHub's heading anchors)
_SECTIONS = {
    "E0": "syntax-e0xx",
    "E1": "names-e1xx",
    "E2": "types-and-units-e2xx",
    "E3": "rules-and-actions-e3xx",
    "E4": "includes-and-limits-e4xx",
    "E5": "params-and-state-e5xx",
    "E6": "data-files-and-outputs-e6xx",
    "E7": "rulebook-test-files-e7xx",
    "W": "warnings-wxxx",
}


def help_uri(code: str, base: str) -> str:
    """Where ``docs/diagnostics.md`` documents ``code``: its family's section under ``base``
    (the documentation's root URL)."""
    anchor = _SECTIONS.get(code[:2]) or _SECTIONS.get(code[:1]) or "codes"
    return f"{base.rstrip('/')}/docs/diagnostics.md#{anchor}"


def docs_base() -> str | None:
    """The documentation's root URL, from the installed package's ``Documentation`` (or
    ``Homepage``) project URL; ``None`` when the package declares none, and then SARIF
    rules carry their help text without a ``helpUri`` (SARIF wants an absolute URI)."""
    try:
        from importlib.metadata import PackageNotFoundError, metadata

        urls = metadata("alvh-dsl").get_all("Project-URL") or []
    except (ImportError, PackageNotFoundError):  # pragma: no cover - not installed
        return None
    found = dict(u.split(", ", 1) for u in urls if ", " in u)
    return found.get("Documentation") or found.get("Homepage")


def _utf16(line: str, column: int) -> int:
    """A 1-based character column as a 1-based UTF-16 code-unit column."""
    before = line[: max(column - 1, 0)]
    past = max(column - 1 - len(line), 0)  # a column past the line's end (an end column)
    return 1 + len(before) + sum(ord(ch) > 0xFFFF for ch in before) + past


class _Lines:
    """Source lines by file, split as the parser counts them (at ``\\n`` alone)."""

    def __init__(self, sources: Mapping[str, str]) -> None:
        self.sources = sources
        self.cache: dict[str, list[str]] = {}

    def line(self, file: str, n: int) -> str | None:
        if file not in self.sources:
            return None
        lines = self.cache.get(file)
        if lines is None:
            lines = self.cache[file] = self.sources[file].split("\n")
        return lines[n - 1] if 1 <= n <= len(lines) else None

    def region(self, span: Span) -> dict[str, int]:
        first, last = self.line(span.file, span.line), self.line(span.file, span.end_line)
        return {
            "startLine": span.line,
            "startColumn": span.column if first is None else _utf16(first, span.column),
            "endLine": span.end_line,
            "endColumn": span.end_column if last is None else _utf16(last, span.end_column),
        }


def _artifact(file: str) -> dict[str, str]:
    if os.path.isabs(file):
        return {"uri": Path(file).as_uri()}
    return {"uri": quote(file.replace(os.sep, "/")), "uriBaseId": "%SRCROOT%"}


def _location(span: Span | DataSpan, lines: _Lines) -> dict[str, Any]:
    if isinstance(span, Span):
        return {
            "physicalLocation": {"artifactLocation": _artifact(span.file)}
            | {"region": lines.region(span)}
        }
    physical: dict[str, Any] = {"artifactLocation": _artifact(span.file)}
    if span.row:  # a CSV line or Parquet record; 0 is the file as a whole
        physical["region"] = {"startLine": span.row}
    location: dict[str, Any] = {"physicalLocation": physical}
    logical = span.path or span.column
    if logical:  # a key path of a JSON/TOML document, or a column of a history
        location["logicalLocations"] = [{"fullyQualifiedName": logical}]
    return location


def _result(d: Diagnostic, index: int, lines: _Lines) -> dict[str, Any]:
    text = d.message + (f"\nhelp: {d.help}" if d.help else "")
    result: dict[str, Any] = {
        "ruleId": d.code,
        "ruleIndex": index,
        "level": d.severity,
        "message": {"text": text},
    }
    if d.span is not None:
        result["locations"] = [_location(d.span, lines)]
    if d.related:
        result["relatedLocations"] = [
            {"id": i, **_location(r.span, lines), "message": {"text": r.message}}
            for i, r in enumerate(d.related)
        ]
    if d.fix is not None:
        span = d.fix.span
        result["fixes"] = [
            {
                "description": {"text": f"replace with `{d.fix.replacement}`"},
                "artifactChanges": [
                    {
                        "artifactLocation": _artifact(span.file),
                        "replacements": [
                            {
                                "deletedRegion": lines.region(span),
                                "insertedContent": {"text": d.fix.replacement},
                            }
                        ],
                    }
                ],
            }
        ]
    return result


def sarif(
    diagnostics: Sequence[Diagnostic],
    sources: Mapping[str, str],
    *,
    version: str,
    base: str | None = None,
    cwd: str | None = None,
) -> str:
    """A SARIF 2.1.0 log: one run of ``alvh``, a rule per code of :data:`CODES`.

    Relative paths are URIs under ``%SRCROOT%``, the working directory ``cwd``;
    ``sources`` gives the text for UTF-16 columns; ``base`` is the documentation's
    root URL for each rule's ``helpUri`` (see :func:`docs_base`).
    """
    codes = sorted(CODES)
    index = {c: i for i, c in enumerate(codes)}
    rules = []
    for code in codes:
        section = help_uri(code, "").lstrip("/")
        rule: dict[str, Any] = {
            "id": code,
            "shortDescription": {"text": CODES[code]},
            "help": {
                "text": f"{code}: {CODES[code]}. See {section} for what causes it and "
                "how to fix it."
            },
            "defaultConfiguration": {"level": "error" if code.startswith("E") else "warning"},
        }
        if base:
            rule["helpUri"] = help_uri(code, base)
        rules.append(rule)
    lines = _Lines(sources)
    root = Path(cwd or os.getcwd()).as_uri().rstrip("/") + "/"
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": {"name": "alvh", "version": version, "rules": rules}},
                "originalUriBaseIds": {"%SRCROOT%": {"uri": root}},
                "columnKind": "utf16CodeUnits",
                "results": [_result(d, index[d.code], lines) for d in diagnostics],
            }
        ],
    }
    return json.dumps(log, indent=2, ensure_ascii=False) + "\n"


# ------------------------------------------------------------------------ JUnit

# XML 1.0 cannot hold most control characters, not even escaped.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def _xml_text(text: str) -> str:
    return _NOT_XML.sub("\ufffd", text)


def junit(
    diagnostics: Sequence[Diagnostic],
    members: Mapping[str, Sequence[str]],
    sources: Mapping[str, str],
    *,
    strict: bool = False,
) -> str:
    """JUnit XML: a ``<testsuite>`` per book, a ``<testcase>`` per file of it (the book and
    what it includes), a ``<failure>`` per error in that file (and per warning when
    ``strict``); warnings that do not fail are the testcase's ``<system-out>``.

    A library included by two books is a testcase of both. A diagnostic with no
    location (a ``--param`` override) belongs to each book's own file.
    """
    import xml.etree.ElementTree as ET  # here: every `alvh check` imports this module

    by_file: dict[str | None, list[Diagnostic]] = {}
    for d in diagnostics:
        file = d.span.file if d.span is not None else None
        by_file.setdefault(file, []).append(d)
    suites = ET.Element("testsuites", name="alvh check")
    total = failed = 0
    for book, files in members.items():
        suite = ET.SubElement(suites, "testsuite", name=book)
        cases = fails = 0
        for file in files:
            found = by_file.get(file, []) + (by_file.get(None, []) if file == book else [])
            case = ET.SubElement(suite, "testcase", classname=book, name=file, file=file)
            cases += 1
            quiet = []
            for d in found:
                if d.is_error or strict:
                    fails += 1
                    failure = ET.SubElement(
                        case, "failure", type=d.code, message=_xml_text(f"{d.code} {d.message}")
                    )
                    failure.text = _xml_text(render([d], sources))
                else:
                    quiet.append(d)
            if quiet:
                ET.SubElement(case, "system-out").text = _xml_text(render(quiet, sources))
        suite.set("tests", str(cases))
        suite.set("failures", str(fails))
        suite.set("errors", "0")
        suite.set("skipped", "0")
        total += cases
        failed += fails
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("errors", "0")
    ET.indent(suites)
    body = ET.tostring(suites, encoding="unicode")
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{body}\n'


# ------------------------------------------------------------------ JSON Schema


class CheckOutput(BaseModel):
    """The document ``alvh check --format json`` prints (the model its schema is made of)."""

    model_config = ConfigDict(defer_build=True)
    schema_version: Literal[1]
    diagnostics: list[Diagnostic]
    errors: int
    warnings: int
    books: list[str]


# Field descriptions for the schema, kept here (beside the schema they document) rather
# than on the models, which the parser and checker build by the hundred thousand.
_DESCRIPTIONS: dict[str, dict[str, str]] = {
    "CheckOutput": {
        "schema_version": "1 for this layout; raised only when a field changes meaning "
        "or goes away (new fields may appear in any version)",
        "diagnostics": "every problem, sorted by file, line, column and code",
        "errors": "how many diagnostics are errors",
        "warnings": "how many diagnostics are warnings",
        "books": "the books checked (paths relative to the working directory when under it)",
    },
    "Diagnostic": {
        "code": "the code, e.g. E101; docs/diagnostics.md lists every one",
        "severity": "error or warning",
        "message": "one line saying what is wrong",
        "span": "where: a Span in a rulebook, a DataSpan in a data file, null for a "
        "--param override",
        "help": "one line saying how to fix it, for a human (null when there is none)",
        "related": "other places that explain it (where a name was first defined)",
        "fix": "a machine-applicable edit (what alvh check --fix applies), or null",
    },
    "Span": {
        "file": "the file, as the books were named (relative to the working directory)",
        "line": "1-based line of the first character",
        "column": "1-based column of the first character, in characters (code points)",
        "end_line": "1-based line of the end",
        "end_column": "1-based column just past the last character (the end is exclusive)",
    },
    "DataSpan": {
        "file": "the data file",
        "row": "1-based CSV line (the header is line 1) or Parquet record (0: the whole file)",
        "column": "the column's name as written in the file, or empty",
        "path": "a key path in a JSON or TOML document ($.market.SPX, costs.slippage)",
    },
    "Related": {"span": "the other place", "message": "what it is (first defined here)"},
    "Fix": {
        "span": "the source text to replace",
        "replacement": "the text that replaces it",
    },
}


def diagnostics_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of ``alvh check --format json``, from the models."""
    schema = CheckOutput.model_json_schema(mode="serialization")
    defs = schema.get("$defs", {})
    for name, fields in _DESCRIPTIONS.items():
        target = schema if name == "CheckOutput" else defs.get(name)
        if target is None:
            continue
        for field, text in fields.items():
            if field in target.get("properties", {}):
                target["properties"][field]["description"] = text
    for model in [schema, *defs.values()]:
        if "properties" in model:  # to_json writes every field, null or empty included
            model["required"] = list(model["properties"])
    schema["properties"]["schema_version"]["const"] = JSON_SCHEMA_VERSION
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "alvh check --format json",
    }
