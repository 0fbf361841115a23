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
import os
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import AlvhError
from ..lang import ast as A
from ..lang.diagnostics import Diagnostic, error
from ..lang.loader import apply_overrides, parse_param_value
from ..lang.program import Program

__all__ = ["Axis", "Grid", "GridError", "load_sweep_file", "parse_axis", "parse_grid"]

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
        combos = itertools.product(*(a.values for a in self.axes))
        every = [dict(zip(names, combo, strict=True)) for combo in combos]
        if self.sample is None or self.sample >= len(every):
            return every
        picked = sorted(random.Random(self.seed).sample(range(len(every)), self.sample))
        return [every[i] for i in picked]


def _bad(message: str, help: str | None = None) -> Diagnostic:
    return error("E503", message, None, help=help)


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


def _expand_range(argument: str, low: str, high: str, step: str) -> list[str] | Diagnostic:
    """``LOW..HIGH/STEP`` as the values' text, inclusive of HIGH when the steps land on it."""
    parts = [_split_number(p) for p in (low, high, step)]
    units = [parse_param_value(p) for p in (low, high, step)]
    if any(p is None for p in parts) or any(u is None for u in units):
        return _bad(
            f"`--grid {argument}`: a range is LOW..HIGH/STEP of values such as 5d or 0.25%",
        )
    (lo, dollar, suffix), (hi, _, _), (st, _, _) = parts  # type: ignore[misc]
    kinds = {u.unit for u in units if u is not None and u.unit != "bare"}
    if len(kinds) > 1:
        return error(
            "E502",
            f"`--grid {argument}`: LOW, HIGH and STEP are in different units "
            f"({', '.join(sorted(kinds))})",
            None,
        )
    if st <= 0:
        return _bad(f"`--grid {argument}`: the STEP must be above zero")
    if hi < lo:
        return _bad(f"`--grid {argument}`: HIGH is below LOW")
    count = int((hi - lo) / st) + 1
    if count > MAX_VARIANTS:
        return _bad(f"`--grid {argument}`: {count:,} values; at most {MAX_VARIANTS:,}")
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


def parse_axis(argument: str) -> Axis | Diagnostic:
    """``NAME=V1,V2,...`` or ``NAME=LOW..HIGH/STEP`` (units not checked yet)."""
    name, sep, rest = argument.partition("=")
    name = name.strip()
    if not sep or not name or not rest.strip():
        return _bad(
            f"`--grid {argument}`: expected NAME=V1,V2,... or NAME=LOW..HIGH/STEP",
            help="e.g. --grid roll_dte=5d,7d,10d --grid hedge_budget=0.25%..1%/0.25%",
        )
    values: list[str] = []
    for item in (v.strip() for v in rest.split(",")):
        if not item:
            return _bad(f"`--grid {argument}`: an empty value")
        low, dots, tail = item.partition("..")
        if dots:
            high, slash, step = tail.partition("/")
            if not slash:
                return _bad(f"`--grid {argument}`: a range needs a /STEP (LOW..HIGH/STEP)")
            expanded = _expand_range(argument, low.strip(), high.strip(), step.strip())
            if isinstance(expanded, Diagnostic):
                return expanded
            values.extend(expanded)
        else:
            values.append(item)
    if len(set(values)) != len(values):
        return _bad(f"`--grid {argument}`: a value is listed twice")
    return Axis(name, tuple(values))


def parse_grid(
    arguments: Iterable[str] | Mapping[str, Any],
    program: Program,
    *,
    sample: int | None = None,
    seed: int = 0,
) -> Grid:
    """The grid of ``--grid`` arguments (or a mapping ``{name: [values] | "LOW..HIGH/STEP"}``),
    every value checked against ``program``'s param declarations.

    Raises :class:`GridError` with every problem found.
    """
    if isinstance(arguments, Mapping):
        arguments = [f"{name}={_axis_text(value)}" for name, value in arguments.items()]
    problems: list[Diagnostic] = []
    axes: list[Axis] = []
    for argument in arguments:
        axis = parse_axis(argument)
        if isinstance(axis, Diagnostic):
            problems.append(axis)
            continue
        if any(a.name == axis.name for a in axes):
            problems.append(_bad(f"`--grid {argument}`: `{axis.name}` has another --grid"))
            continue
        problems.extend(_check_units(program, axis, argument))
        axes.append(axis)
    if not axes and not problems:
        problems.append(_bad("a sweep needs at least one --grid axis (or a sweep file's [grid])"))
    if sample is not None and sample < 1:
        problems.append(_bad(f"`--sample {sample}`: expected at least 1"))
    grid = Grid(tuple(axes), sample=sample, seed=seed)
    if not problems and grid.size > MAX_VARIANTS:
        problems.append(_bad(f"the grid has {grid.size:,} variants; at most {MAX_VARIANTS:,}"))
    if problems:
        raise GridError(problems, program.sources, subject=program.root)
    return grid


def _axis_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, Sequence):
        return ",".join(str(v) for v in value)
    return str(value)


def _check_units(program: Program, axis: Axis, argument: str) -> list[Diagnostic]:
    """The loader's own override checks, per value, re-worded for ``--grid``."""
    saved = dict(program.param_values)
    before = len(program.diagnostics)
    try:
        for value in axis.values:
            apply_overrides(program, {axis.name: value})
            if len(program.diagnostics) > before:
                break  # one value's problem says it; the rest are the same param
    finally:
        found = program.diagnostics[before:]
        del program.diagnostics[before:]
        program.param_values = saved
    # The loader names `--param NAME=VALUE`; the user wrote the whole --grid argument.
    return [
        d.model_copy(update={"message": f"`--grid {argument}`: {d.message.split('`: ', 1)[-1]}"})
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


def load_sweep_file(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int | None, int]:
    """A TOML sweep file: its ``[grid]`` (name → list of values, or a range string) and
    its optional ``[sample]`` (``n``, ``seed``). Raises :class:`GridError` (E503)."""
    import sys

    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]

    display = os.fspath(path)
    try:
        with open(path, "rb") as f:
            doc = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise GridError([_bad(f"sweep file {display}: {exc}")], subject=display) from None
    unknown = sorted(set(doc) - {"grid", "sample"})
    grid = doc.get("grid")
    sample = doc.get("sample", {})
    problems = []
    if unknown:
        problems.append(_bad(f"sweep file {display}: unknown table(s) {', '.join(unknown)}"))
    if not isinstance(grid, dict) or not grid:
        problems.append(_bad(f"sweep file {display}: needs a [grid] table of param = values"))
    if not isinstance(sample, dict) or set(sample) - {"n", "seed"}:
        problems.append(_bad(f"sweep file {display}: [sample] takes n and seed"))
    if problems:
        raise GridError(problems, subject=display)
    assert isinstance(grid, dict)
    n, seed = sample.get("n"), sample.get("seed", 0)
    if (n is not None and not isinstance(n, int)) or not isinstance(seed, int):
        raise GridError([_bad(f"sweep file {display}: n and seed are integers")], subject=display)
    return grid, n, seed
