"""One error family: every failure a user can cause is an :class:`AlvhError`.

Each error carries :class:`~alvh_dsl.lang.diagnostics.Diagnostic` values (a
code, a location, a message, a help line) and the sources needed to show them:
a rulebook's problems point into its text, a data file's (history, state,
config) to a row and column or a key path. ``str(error)`` is the rendered
diagnostics; :func:`alvh_dsl.lang.diagnostics.render` is the one renderer, and
the CLI maps the family to exit codes in one place (``alvh_dsl.cli.common.AlvhGroup``).

- :class:`RulebookError`: a book (or a ``--param``) has errors (exit 1);
- :class:`StateError`: a state file cannot be read or is invalid (exit 1);
- :class:`DataError`: a market history file is invalid (exit 1);
- :class:`ConfigError`: a dry-run config file is invalid (exit 1);
- :class:`RunDirectoryError`: an output path is not a dry-run directory (exit 2).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import ClassVar

from .lang.diagnostics import Diagnostic, render

__all__ = [
    "AlvhError",
    "ConfigError",
    "DataError",
    "RulebookError",
    "RunDirectoryError",
    "StateError",
]


class AlvhError(Exception):
    """The base of every error a user can cause.

    ``diagnostics`` are the problems found (all of them, up to a cap;
    ``omitted`` counts the ones past it), ``sources`` maps file names to their
    text for the caret lines, ``subject`` is the file or path at fault (the
    CLI names it in its closing line) and ``hint`` an optional line of advice
    that applies to the error as a whole.
    """

    #: What the CLI exits with: 1 for a bad input file, 2 for a usage error.
    exit_code: ClassVar[int] = 1
    #: The CLI's closing line; ``{subject}`` is replaced by :attr:`subject`.
    summary_template: ClassVar[str] = "{subject} is not valid"

    def __init__(
        self,
        diagnostics: Sequence[Diagnostic],
        sources: Mapping[str, str] | None = None,
        *,
        subject: str | None = None,
        omitted: int = 0,
        hint: str | None = None,
    ) -> None:
        self.diagnostics = list(diagnostics)
        self.sources = dict(sources or {})
        self.omitted = omitted
        self.hint = hint
        self.subject = subject if subject is not None else self._default_subject()
        super().__init__(self.render())

    def __reduce__(self) -> tuple[object, tuple[object, ...], dict[str, object]]:
        # Exception pickles as cls(*self.args), and args holds the rendered text, not the
        # diagnostics: rebuild from the fields, so an error crosses a process (a Dask
        # worker, a multiprocessing pool) whole; BaseException.__setstate__ sets the
        # fields back as attributes.
        fields = {"subject": self.subject, "omitted": self.omitted, "hint": self.hint}
        return (_rebuild, (type(self), self.diagnostics, self.sources), fields)

    def _default_subject(self) -> str:
        span = next((d.span for d in self.diagnostics if d.span is not None), None)
        return span.file if span is not None else "the input"

    def render(self, *, color: bool = False) -> str:
        """The diagnostics as text (with carets where the source is known), then the
        count of omitted ones and the hint."""
        text = render(self.diagnostics, self.sources, color=color)
        if self.omitted:
            text += f"… and {self.omitted} more problem(s) not shown\n"
        if self.hint:
            text += f"hint: {self.hint}\n"
        return text

    def __str__(self) -> str:
        return self.render()

    @property
    def summary(self) -> str:
        """One line for the end of the CLI's output: what was wrong, and where to look."""
        return self.summary_template.format(subject=self.subject)


class RulebookError(AlvhError):
    """A book (or its param overrides) has errors: raised by :func:`alvh_dsl.load` and
    :func:`alvh_dsl.format_source`."""

    summary_template = "{subject} has errors; fix them first (see `alvh check {subject}`)"


class StateError(AlvhError):
    """A state file that cannot be read or is not valid: one E504 per bad JSON path."""

    summary_template = "{subject} is not a valid state (see `alvh schema`)"


class DataError(AlvhError, ValueError):
    """Invalid market data: one E601 per problem, at ``file:row:column``."""

    summary_template = "{subject} is not a valid history (see docs/data.md)"


class ConfigError(AlvhError):
    """A dry-run config file that cannot be read or does not validate: one E602 per problem."""

    summary_template = "{subject} is not a valid dry-run config (see docs/dryrun.md)"


class RunDirectoryError(AlvhError):
    """The output path exists and is not a dry-run directory, so it is not replaced (E603)."""

    exit_code = 2
    summary_template = "{subject} is not a dry-run directory; choose another --out"


def _rebuild(
    cls: type[AlvhError], diagnostics: Sequence[Diagnostic], sources: Mapping[str, str]
) -> AlvhError:
    return cls(diagnostics, sources)
