"""Applying the machine-applicable :class:`~alvh_dsl.lang.diagnostics.Fix` of diagnostics.

``alvh check --fix`` collects the fixes of every diagnostic, groups them by
file and applies, per file, those that do not overlap (the first by position
wins; the rest wait for the next pass, after a re-check, as ruff does). The
spans count lines as the parser does (ended by ``\\n``) and columns in
characters, so an offset is the line's start plus the column.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .diagnostics import Diagnostic, Fix


def _line_starts(text: str) -> list[int]:
    starts = [0]
    pos = text.find("\n")
    while pos != -1:
        starts.append(pos + 1)
        pos = text.find("\n", pos + 1)
    return starts


def _offset(starts: list[int], text: str, line: int, column: int) -> int | None:
    """The string index of a 1-based line and column, ``None`` when it is not in ``text``."""
    if not 1 <= line <= len(starts):
        return None
    end = starts[line] - 1 if line < len(starts) else len(text)  # the line's `\n`, or the end
    index = starts[line - 1] + column - 1
    return index if column >= 1 and index <= end else None


def apply_fixes(text: str, fixes: Iterable[Fix]) -> tuple[str, int]:
    """``text`` with every fix that does not overlap an earlier one applied, and how many.

    A fix whose span is not in ``text`` (a stale diagnostic) is skipped; so is a
    duplicate (two books that include one library report its fix twice).
    """
    starts = _line_starts(text)
    edits: set[tuple[int, int, str]] = set()
    for f in fixes:
        s = f.span
        start = _offset(starts, text, s.line, s.column)
        end = _offset(starts, text, s.end_line, s.end_column)
        if start is not None and end is not None and start <= end:
            edits.add((start, end, f.replacement))
    chosen: list[tuple[int, int, str]] = []
    for start, end, replacement in sorted(edits):
        if chosen and start < chosen[-1][1]:
            continue  # overlaps the previous edit: the next pass, after a re-check
        if chosen and start == chosen[-1][0] == chosen[-1][1] == end:
            continue  # a second insertion at one point: order would be a guess
        chosen.append((start, end, replacement))
    out = []
    pos = 0
    for start, end, replacement in chosen:
        out.append(text[pos:start])
        out.append(replacement)
        pos = end
    out.append(text[pos:])
    return "".join(out), len(chosen)


def fixes_by_file(diagnostics: Iterable[Diagnostic]) -> dict[str, list[Fix]]:
    """The fixes of ``diagnostics``, grouped by the file they edit."""
    out: dict[str, list[Fix]] = {}
    for d in diagnostics:
        if d.fix is not None:
            out.setdefault(d.fix.span.file, []).append(d.fix)
    return out


def fix_sources(
    diagnostics: Iterable[Diagnostic], sources: Mapping[str, str]
) -> dict[str, tuple[str, int]]:
    """For each file that ``diagnostics`` have fixes for: its new text and how many applied.

    ``sources`` holds the text the diagnostics were computed on; a file missing
    from it is left alone.
    """
    changed: dict[str, tuple[str, int]] = {}
    for file, fixes in fixes_by_file(diagnostics).items():
        if file not in sources:
            continue
        new, n = apply_fixes(sources[file], fixes)
        if n and new != sources[file]:
            changed[file] = (new, n)
    return changed
