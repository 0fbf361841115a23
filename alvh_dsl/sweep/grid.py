"""The grid of a sweep: which values each param takes, and the variants they make.

An axis is a param and its values, written as ``--param`` takes them (``5d``, ``0.25%``,
``$1500``): a list ``roll_dte=5d,7d,10d`` or an inclusive range ``LOW..HIGH/STEP``
(``hedge_budget=0.25%..1%/0.25%``), stepped in decimal so ``0.1..0.3/0.1`` gives
``0.1, 0.2, 0.3`` and no float noise. A TOML sweep file holds the same::

    [grid]
    roll_dte = ["5d", "7d", "10d"]
    hedge_budget = "0.25%..1%/0.25%"

    [sample]          # optional: N variants drawn at random (seeded) from the grid
    n = 20
    seed = 1

Every value is checked against the book's param declaration by the loader's own
:func:`~alvh_dsl.lang.loader.apply_overrides`: an unknown param is E501, a wrong unit
E502, a value that is not one E503, each naming the ``--grid`` argument. Errors raise
:class:`GridError` with every problem found.
"""

from __future__ import annotations

import itertools
import math
import os
import random
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import AlvhError
from ..lang import ast as A
from ..lang.diagnostics import Diagnostic, error
from ..lang.loader import apply_overrides, parse_param_value
from ..lang.program import Program

__all__ = [
    "Axis",
    "Grid",
    "GridError",
    "SweepFileGrid",
    "load_sweep_file",
    "parse_axis",
    "parse_grid",
]

#: More variants than this in one grid is a typo (a step of 0.0001 %), not a sweep.
MAX_VARIANTS = 1_000_000

# A magnitude with its unit around it: "$1500", "0.25%", "-0.5", "7 days", "50 points".
_NUMBER = re.compile(r"^\s*(?P<sign>-?)(?P<dollar>\$?)(?P<digits>\d+(?:\.\d+)?)(?P<unit>.*?)\s*$")


class GridError(AlvhError):
    """A sweep grid that cannot be run: a malformed axis or sweep file (E503), an unknown
    param (E501), a value in the wrong unit (E502)."""

    exit_code = 2
    summary_template = "the sweep grid is not valid for {subject} (see docs/sweep.md)"


@dataclass(frozen=True)
class Axis:
    """One param and the values it takes, as written (``"5d"``), in order."""

    name: str
    values: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """The axes of a sweep, and an optional random sample of their product."""

    axes: tuple[Axis, ...]
    sample: int | None = None
    seed: int = 0

    @property
    def size(self) -> int:
        """How many variants the full product has."""
        n = 1
        for axis in self.axes:
            n *= len(axis.values)
        return n

    def variants(self) -> list[dict[str, str]]:
        """Every variant's overrides, in grid order (the last axis varies fastest); with
        ``sample``, that many drawn without replacement (seeded), still in grid order."""
        names = [a.name for a in self.axes]
        if self.sample is None or self.sample >= self.size:
            combos = itertools.product(*(a.values for a in self.axes))
            return [dict(zip(names, combo, strict=True)) for combo in combos]
        # Drawn by position and decoded, so a sample of a large grid does not build the
        # whole product first (the same draw as sampling the built list would be).
        picked = sorted(random.Random(self.seed).sample(range(self.size), self.sample))
        return [self.variant(i) for i in picked]

    def variant(self, index: int) -> dict[str, str]:
        """The overrides of the variant at ``index`` in grid order."""
        out: dict[str, str] = {}
        for axis in reversed(self.axes):
            index, at = divmod(index, len(axis.values))
            out[axis.name] = axis.values[at]
        return {a.name: out[a.name] for a in self.axes}


def _bad(message: str, help: str | None = None, span: A.Span | None = None) -> Diagnostic:
    return error("E503", message, span, help=help)


def _split_number(text: str) -> tuple[Decimal, str, str] | None:
    """``"-$1500"`` → (Decimal(-1500), "$", ""); ``"0.25%"`` → (Decimal("0.25"), "", "%")."""
    m = _NUMBER.match(text)
    if m is None:
        return None
    try:
        magnitude = Decimal(m["digits"])
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        return None
    return (-magnitude if m["sign"] else magnitude), m["dollar"], m["unit"]


def _expand_range(label: str, low: str, high: str, step: str) -> list[str] | Diagnostic:
    """``LOW..HIGH/STEP`` as the values' text, inclusive of HIGH when the steps land on it."""
    parts = [_split_number(p) for p in (low, high, step)]
    units = [parse_param_value(p) for p in (low, high, step)]
    if any(p is None for p in parts) or any(u is None for u in units):
        return _bad(f"`{label}`: a range is LOW..HIGH/STEP of values such as 5d or 0.25%")
    (lo, dollar, suffix), (hi, _, _), (st, _, _) = parts  # type: ignore[misc]
    kinds = {u.unit for u in units if u is not None and u.unit != "bare"}
    if len(kinds) > 1:
        return error(
            "E502",
            f"`{label}`: LOW, HIGH and STEP are in different units ({', '.join(sorted(kinds))})",
            None,
        )
    if st <= 0:
        return _bad(f"`{label}`: the STEP must be above zero")
    if hi < lo:
        return _bad(f"`{label}`: HIGH is below LOW")
    count = int((hi - lo) / st) + 1
    if count > MAX_VARIANTS:
        return _bad(f"`{label}`: {count:,} values; at most {MAX_VARIANTS:,}")
    out = []
    for i in range(count):
        value = lo + st * i
        sign = "-" if value < 0 else ""
        out.append(f"{sign}{dollar}{_plain(abs(value))}{suffix}")
    return out


def _plain(value: Decimal) -> str:
    """A decimal without exponent or trailing zeros: 0.50 → 0.5, 1E+1 → 10."""
    text = format(value.normalize(), "f")
    return text


def _shape(text: str) -> tuple[str, str] | None:
    """What a value's unit is read from: its dollar sign and the text after its digits
    (``"7 days"`` → ("", " days")); None for text that is not a plain magnitude."""
    parts = _split_number(text)
    return None if parts is None else (parts[1], parts[2])


class _Values:
    """Each value's magnitude in its unit, for finding a value listed twice in two
    spellings (``5d`` and ``5.0 days``): the unit of each shape is parsed once, so a
    range of a million values costs a million regex matches, not a million parses."""

    def __init__(self) -> None:
        self.units: dict[tuple[str, str], A.Number | None] = {}

    def key(self, text: str) -> tuple[Any, ...]:
        parts = _split_number(text)
        if parts is None:
            return ("text", text)
        magnitude, dollar, suffix = parts
        if (dollar, suffix) not in self.units:
            self.units[(dollar, suffix)] = parse_param_value(f"{dollar}1{suffix}")
        one = self.units[(dollar, suffix)]
        if one is None:
            return ("text", text)
        # A unit's value is linear in the magnitude: 1 in this shape scales every value.
        return ((magnitude * Decimal(repr(one.value))).normalize(), one.unit)


def parse_axis(argument: str, label: str | None = None) -> Axis | Diagnostic:
    """``NAME=V1,V2,...`` or ``NAME=LOW..HIGH/STEP`` (units not checked yet); ``label``
    is how messages name it (default ``--grid ARGUMENT``)."""
    label = label or f"--grid {argument}"
    name, sep, rest = argument.partition("=")
    name = name.strip()
    if not sep or not name or not rest.strip():
        return _bad(
            f"`{label}`: expected NAME=V1,V2,... or NAME=LOW..HIGH/STEP",
            help="e.g. --grid roll_dte=5d,7d,10d --grid hedge_budget=0.25%..1%/0.25%",
        )
    values: list[str] = []
    for item in (v.strip() for v in rest.split(",")):
        if not item:
            return _bad(f"`{label}`: an empty value")
        low, dots, tail = item.partition("..")
        if dots:
            high, slash, step = tail.partition("/")
            if not slash:
                return _bad(f"`{label}`: a range needs a /STEP (LOW..HIGH/STEP)")
            expanded = _expand_range(label, low.strip(), high.strip(), step.strip())
            if isinstance(expanded, Diagnostic):
                return expanded
            values.extend(expanded)
        else:
            values.append(item)
    first: dict[tuple[Any, ...], str] = {}
    keys = _Values()
    for value in values:
        seen = first.setdefault(keys.key(value), value)
        if seen is not value:
            again = "" if seen == value else f" (as {seen})"
            return _bad(f"`{label}`: {value} is listed twice{again}: the same variant run twice")
    return Axis(name, tuple(values))


class SweepFileGrid(dict[str, Any]):
    """A sweep file's ``[grid]``, with the file's name, text and each key's line, so that
    :func:`parse_grid`'s messages point into the file."""

    def __init__(self, grid: Mapping[str, Any], file: str, text: str, lines: dict[str, int]):
        super().__init__(grid)
        self.file, self.text, self.lines = file, text, lines

    def span(self, name: str) -> A.Span | None:
        line = self.lines.get(name)
        if line is None:
            return None
        width = len(self.text.splitlines()[line - 1]) + 1
        return A.Span(file=self.file, line=line, column=1, end_line=line, end_column=width)


def parse_grid(
    arguments: Iterable[Any] | Mapping[str, Any] | str,
    program: Program,
    *,
    sample: int | None = None,
    seed: int = 0,
) -> Grid:
    """The grid of ``--grid`` arguments (or a mapping ``{name: [values] | "LOW..HIGH/STEP"}``,
    or one ``NAME=VALUES`` string), every value checked against ``program``'s param
    declarations.

    Raises :class:`GridError` with every problem found.
    """
    entries: list[tuple[str, str, A.Span | None]] = []  # (argument, label, where)
    problems: list[Diagnostic] = []
    sources = dict(program.sources)
    subject = program.root
    if isinstance(arguments, str):
        arguments = [arguments]  # one axis, not one per character
    if isinstance(arguments, Mapping):
        from_file = arguments if isinstance(arguments, SweepFileGrid) else None
        if from_file is not None:
            sources[from_file.file] = from_file.text
            subject = from_file.file
        for name, value in arguments.items():
            span = from_file.span(name) if from_file is not None else None
            text = _axis_text(value)
            if isinstance(text, Diagnostic):
                where = f"sweep file {from_file.file}: " if from_file is not None else ""
                problems.append(_bad(f"{where}`{name}`: {text.message}", span=span))
                continue
            label = f"--grid {name}={text}" if from_file is None else f"{name} = {value!r}"
            entries.append((f"{name}={text}", label, span))
    else:
        for argument in arguments:
            if not isinstance(argument, str):
                problems.append(_bad(f"a --grid argument is text NAME=VALUES, not {argument!r}"))
                continue
            entries.append((argument, f"--grid {argument}", None))
    axes: list[Axis] = []
    for argument, label, span in entries:
        axis = parse_axis(argument, label)
        if isinstance(axis, Diagnostic):
            problems.append(axis if span is None else axis.model_copy(update={"span": span}))
            continue
        if any(a.name == axis.name for a in axes):
            problems.append(_bad(f"`{label}`: `{axis.name}` has another --grid", span=span))
            continue
        found = _check_units(program, axis, label)
        problems.extend(d if span is None else d.model_copy(update={"span": span}) for d in found)
        axes.append(axis)
    if not axes and not problems:
        problems.append(_bad("a sweep needs at least one --grid axis (or a sweep file's [grid])"))
    if sample is not None and (isinstance(sample, bool) or sample < 1):
        problems.append(_bad(f"`--sample {sample}`: expected at least 1"))
    grid = Grid(tuple(axes), sample=sample, seed=seed)
    if not problems and grid.size > MAX_VARIANTS:
        problems.append(_bad(f"the grid has {grid.size:,} variants; at most {MAX_VARIANTS:,}"))
    if problems:
        raise GridError(problems, sources, subject=subject)
    return grid


def _scalar_text(value: Any) -> str | None:
    """A TOML or Python value as ``--grid`` writes it: text as is, a number in plain
    decimal (``1e-05`` → ``0.00001``, which the param grammar reads); None for anything
    else (a bool, a table, None)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return _plain(Decimal(repr(value) if isinstance(value, float) else value))


def _axis_text(value: Any) -> str | Diagnostic:
    """A grid entry's values as one ``--grid`` text; a list's items each one value (or a
    LOW..HIGH/STEP range), never split again at a comma inside one."""
    if isinstance(value, str):
        return value
    items = list(value) if isinstance(value, list | tuple) else [value]
    if not items:
        return _bad("an empty list of values")
    texts = []
    for item in items:
        text = _scalar_text(item)
        if text is None:
            return _bad(f"{item!r} is not a value: write 5d, 0.25%, $1500 or 0.16")
        if "," in text:
            return _bad(f"{item!r}: one value per list item (no commas)")
        texts.append(text)
    return ",".join(texts)


def _check_units(program: Program, axis: Axis, label: str) -> list[Diagnostic]:
    """The loader's own override checks, re-worded for ``--grid``: one value of each
    shape (``5d`` stands for every ``Nd`` of a range: the loader checks the unit alone),
    and every value that is not a plain magnitude."""
    saved = dict(program.param_values)
    before = len(program.diagnostics)
    shapes: set[tuple[str, str]] = set()
    try:
        for value in axis.values:
            shape = _shape(value)
            if shape is not None:
                if shape in shapes:
                    continue
                shapes.add(shape)
            apply_overrides(program, {axis.name: value})
            if len(program.diagnostics) > before:
                break  # one value's problem says it; the rest are the same param
    finally:
        found = program.diagnostics[before:]
        del program.diagnostics[before:]
        program.param_values = saved
    # The loader names `--param NAME=VALUE`; the user wrote the whole --grid argument.
    return [
        d.model_copy(update={"message": f"`{label}`: {d.message.split('`: ', 1)[-1]}"})
        for d in found
    ]


def override_values(program: Program, overrides: Mapping[str, str]) -> dict[str, A.Number]:
    """The param values of ``program`` (as loaded, its own overrides included) with the
    variant's ``overrides`` (already checked) applied on top."""
    saved = dict(program.param_values)
    try:
        apply_overrides(program, overrides)
        return {**saved, **{name: program.param_values[name] for name in overrides}}
    finally:
        program.param_values = saved


def load_sweep_file(path: str | os.PathLike[str]) -> tuple[SweepFileGrid, int | None, int]:
    """A TOML sweep file: its ``[grid]`` (name → list of values, or a range string) and
    its optional ``[sample]`` (``n``, ``seed``). Raises :class:`GridError` (E503), naming
    the file and, where it can, the line."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]

    display = os.fspath(path)
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8")
        doc = tomllib.loads(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        line = _toml_error_line(exc)
        span = None
        if line is not None:
            span = A.Span(file=display, line=line, column=1, end_line=line, end_column=1)
        sources = {display: text} if span is not None else {}
        raise GridError(
            [_bad(f"sweep file {display}: {exc}", span=span)], sources, subject=display
        ) from None
    lines = _key_lines(text)

    def at(table: str, key: str | None = None) -> A.Span | None:
        line = lines.get((table, key))
        if line is None:
            return None
        return A.Span(file=display, line=line, column=1, end_line=line, end_column=1)

    unknown = sorted(set(doc) - {"grid", "sample"})
    grid = doc.get("grid")
    sample = doc.get("sample", {})
    problems = [
        _bad(f"sweep file {display}: unknown key or table `{name}`", span=at(name),
             help="a sweep file has a [grid] table and an optional [sample] (n, seed)")
        for name in unknown
    ]  # fmt: skip
    if not isinstance(grid, dict) or not grid:
        problems.append(
            _bad(f"sweep file {display}: needs a [grid] table of param = values", span=at("grid"))
        )
    if not isinstance(sample, dict):
        problems.append(
            _bad(f"sweep file {display}: [sample] is a table (n, seed)", span=at("sample"))
        )
        sample = {}
    for key in sorted(set(sample) - {"n", "seed"}):
        problems.append(
            _bad(f"sweep file {display}: [sample] takes n and seed, not `{key}`",
                 span=at("sample", key))
        )  # fmt: skip
    n, seed = sample.get("n"), sample.get("seed", 0)
    for key, value in (("n", n), ("seed", seed)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            problems.append(
                _bad(f"sweep file {display}: [sample] {key} is an integer, not {value!r}",
                     span=at("sample", key))
            )  # fmt: skip
    if problems:
        raise GridError(problems, {display: text}, subject=display)
    assert isinstance(grid, dict)
    where = {name: line for (table, name), line in lines.items() if table == "grid" and name}
    return SweepFileGrid(grid, display, text, where), n, seed


def _toml_error_line(exc: Exception) -> int | None:
    """The line a TOML error names (``... (at line 3, column 9)``), if any."""
    m = re.search(r"at line (\d+)", str(exc))
    return int(m[1]) if m else None


_TABLE = re.compile(r"^\s*\[\s*([A-Za-z0-9_-]+)\s*\]")
_KEY = re.compile(r"^\s*(?:\"([^\"]*)\"|'([^']*)'|([A-Za-z0-9_-]+))\s*=")


def _key_lines(text: str) -> dict[tuple[str, str | None], int]:
    """Where each table (``(table, None)``) and each key in a table (``(table, key)``,
    top-level keys as ``(key, None)``) is written, for messages; a sweep file is small
    and flat, so lines are enough (the TOML itself was read by tomllib)."""
    out: dict[tuple[str, str | None], int] = {}
    table: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        m = _TABLE.match(line)
        if m:
            table = m[1]
            out.setdefault((table, None), number)
            continue
        k = _KEY.match(line)
        if k:
            key = next(g for g in k.groups() if g is not None)
            out.setdefault((table, key) if table is not None else (key, None), number)
    return out
