"""Inline suppressions: ``# alvh: ignore[W101]`` and ``# alvh: ignore[W101, W202]``.

A suppression is a comment that starts ``# alvh: ignore[`` (anything may follow
the ``]``, e.g. a reason). Which diagnostics it covers:

- a **trailing** comment (code before it on its line): the warnings whose span
  starts on that line;
- a comment **on its own line**: the warnings whose span starts within the
  statement that follows it (a whole rule, from its ``rule`` line to its last
  clause); on its own line inside a rule, the rest of that rule. At the end of
  the file it covers nothing.

Codes are exact warning codes (no prefixes inline: a reviewer sees what is
silenced). Errors cannot be suppressed. A suppression, or one code of it, that
suppresses nothing is W105 at the code (or the comment), and so is a malformed
one (``# alvh: ignore W101``, an unknown code, an error code); W105 itself
goes away only by editing the comment. A file of a book with syntax errors
gets no W105 for unused codes: the checker skips warnings there.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .lang import ast as A
from .lang.diagnostics import CODES, Diagnostic, warning
from .lang.program import Program
from .lang.transform import Comment

__all__ = ["Suppression", "Suppressions", "parse_suppressions"]

_PREFIX = re.compile(r"#\s*alvh\s*:")
_FORM = re.compile(r"#\s*alvh\s*:\s*ignore\[([^\]]*)\]")
_HELP = "write `# alvh: ignore[CODE]` with warning codes, e.g. `# alvh: ignore[W101, W202]`"


@dataclass(frozen=True)
class Suppression:
    """One code of one suppression comment, and the lines it covers."""

    code: str
    span: A.Span  # the code in the comment
    first: int
    last: int

    def covers(self, d: Diagnostic) -> bool:
        span = d.span
        return (
            isinstance(span, A.Span)
            and span.file == self.span.file
            and d.code == self.code
            and self.first <= span.line <= self.last
        )


def _span(file: str, line: int, column: int, length: int) -> A.Span:
    return A.Span(file=file, line=line, column=column, end_line=line, end_column=column + length)


def _covered(comment: Comment, statements: Sequence[A.StatementNode]) -> tuple[int, int]:
    if comment.trailing:
        return comment.line, comment.line
    nxt = next((s for s in statements if s.span.end_line > comment.line), None)
    if nxt is None:
        return 0, -1
    return max(nxt.span.line, comment.line + 1), nxt.span.end_line


def parse_suppressions(
    file: str, comments: Iterable[Comment], statements: Sequence[A.StatementNode]
) -> tuple[list[Suppression], list[Diagnostic]]:
    """The suppressions in a file's comments, and W105 for malformed ones."""
    out: list[Suppression] = []
    problems: list[Diagnostic] = []
    for c in comments:
        if not _PREFIX.match(c.text):
            continue
        m = _FORM.match(c.text)
        if m is None:
            where = _span(file, c.line, c.column, len(c.text))
            problems.append(warning("W105", "not a suppression comment", where, help=_HELP))
            continue
        first, last = _covered(c, statements)
        offset = m.start(1)
        for part in m.group(1).split(","):
            code = part.strip()
            column = c.column + offset + (len(part) - len(part.lstrip()))
            offset += len(part) + 1
            where = _span(file, c.line, column, max(len(code), 1))
            if code in CODES and code[0] == "W" and code != "W105":
                out.append(Suppression(code, where, first, last))
                continue
            if code[:1] == "E" and code in CODES:
                message, hint = f"`{code}` is an error: errors cannot be suppressed", "fix it"
            elif code == "W105":
                message, hint = "W105 cannot be suppressed", "remove the suppression it is about"
            else:
                message, hint = f"`{code}` is not a warning code", _HELP
            problems.append(warning("W105", message, where, help=hint))
    return out, problems


class Suppressions:
    """The suppressions of every checked file, applied book by book; then the unused ones.

    A file included by several books is one set of comments: a code counts as used if
    it suppressed something in any of them.
    """

    def __init__(self) -> None:
        self._by_file: dict[str, list[Suppression]] = {}
        self._used: set[Suppression] = set()
        self._unsure: set[str] = set()  # files in a book with syntax errors
        self.diagnostics: list[Diagnostic] = []

    def apply(self, program: Program) -> list[Diagnostic]:
        """``program``'s diagnostics less the warnings its files' comments suppress."""
        for file, comments in program.comments.items():
            if file not in self._by_file:
                book = program.files.get(file)
                statements = book.statements if book is not None else ()
                sups, problems = parse_suppressions(file, comments, statements)
                self._by_file[file] = sups
                self.diagnostics.extend(problems)
            if program.syntax_errors:
                self._unsure.add(file)
        kept = []
        for d in program.diagnostics:
            hit = None
            if not d.is_error and isinstance(d.span, A.Span):
                sups = self._by_file.get(d.span.file, [])
                hit = next((s for s in sups if s.covers(d)), None)
            if hit is None:
                kept.append(d)
            else:
                self._used.add(hit)
        return kept

    def unused(self) -> list[Diagnostic]:
        """W105 for every malformed suppression and every code that suppressed nothing."""
        out = list(self.diagnostics)
        for file, sups in self._by_file.items():
            if file in self._unsure:
                continue
            for s in sups:
                if s not in self._used:
                    out.append(
                        warning(
                            "W105",
                            f"`# alvh: ignore[{s.code}]` suppresses nothing",
                            s.span,
                            help=f"no {s.code} is reported here: remove `{s.code}`"
                            + ("" if s.first <= s.last else " (nothing follows the comment)"),
                        )
                    )
        return out
