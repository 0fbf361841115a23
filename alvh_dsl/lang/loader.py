"""Files → a :class:`Program`: read a rulebook, resolve its includes, apply param overrides.

Includes are guarded: a path must be relative, must stay inside the root
book's directory (symlinks resolved), must exist, may not form a cycle, and
there are limits on depth and file count. A file included twice is loaded
once. Every problem is a diagnostic; nothing here raises on bad input.

:func:`load_program` is the first stage of :func:`alvh_dsl.api.load`, which
chains it with the checker and the compiler.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping
from pathlib import Path

from ..fileio import FileTooLargeError, read_regular_file
from . import ast as A
from .construct import construct
from .diagnostics import Diagnostic, error, fix, note
from .names import suggest
from .parse import MAX_FILE_BYTES, ParseResult, parse
from .printer import quote
from .program import Program

MAX_INCLUDE_DEPTH = 16
MAX_INCLUDED_FILES = 64

ParamValue = str | int | float


def read_source(
    path: Path, display: str, span: A.Span | None
) -> tuple[str | None, Diagnostic | None]:
    """A book's text, or the diagnostic (E401/E406/E408…) that says why it cannot be read.

    ``span`` is where the book is named (an ``include`` line); ``None`` for a book named on
    the command line, whose problem is then placed at its first line: the whole file is at
    fault, and every output format (text, GitHub annotations, SARIF) needs a location.
    """
    if span is None:
        span = A.Span(file=display, line=1, column=1, end_line=1, end_column=1)
    try:
        data = read_regular_file(path, MAX_FILE_BYTES)
    except FileTooLargeError:
        return None, error(
            "E406",
            f"`{_short(display)}` is larger than {MAX_FILE_BYTES // (1024 * 1024)} MiB",
            span,
            help="split it into included files",
        )
    except OSError as exc:
        return None, error("E408", f"cannot read `{_short(display)}`: {exc.strerror or exc}", span)
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        where = A.Span(file=display, line=line, column=col, end_line=line, end_column=col + 1)
        return None, error(
            "E408", f"`{display}` is not valid UTF-8", where, help="save the file as UTF-8"
        )


class ParseCache:
    """Parse results by file name and content, the most recent :attr:`size` kept.

    Parsing is a function of the text and the name its spans carry, and its result is
    immutable (frozen AST, tuples), so a file whose text has not changed is not parsed
    again: what an editor re-checks on every change (``alvh lsp``) is the buffer, while
    the files it includes, and the buffer itself when only re-checked (a library saved),
    come from here. The key is a digest of the text, not the text, so the cache holds no
    second copy of a large file.
    """

    def __init__(self, size: int = 32) -> None:
        self.size = size
        self._results: dict[tuple[str, bytes], ParseResult] = {}
        self.hits = 0

    def parse(self, text: str, file: str) -> ParseResult:
        """``parse(text, file)``, from the cache when this file had this text recently."""
        key = (file, hashlib.blake2b(text.encode("utf-8", "surrogatepass")).digest())
        found = self._results.pop(key, None)
        if found is None:
            found = self.fresh(text, file)
            if len(self._results) >= self.size:
                del self._results[next(iter(self._results))]  # the least recently used
        else:
            self.hits += 1
        self._results[key] = found
        return found

    def fresh(self, text: str, file: str) -> ParseResult:
        """The parse of a text not in the cache: :func:`~alvh_dsl.lang.parse.parse`.

        A subclass may build it from an earlier parse of the same file instead (the
        editor's :class:`alvh_dsl.lsp.incremental.IncrementalParses`), if what it returns
        is what ``parse(text, file)`` would."""
        return parse(text, file)


def load_program(
    path: str | os.PathLike[str],
    text: str | None = None,
    *,
    files: Mapping[str, str] | None = None,
    cache: ParseCache | None = None,
) -> Program:
    """Read a book and everything it includes. Never raises for bad input.

    ``text`` overrides the root file's content (e.g. an editor buffer). ``files`` maps
    every file's path (as :attr:`Program.sources` names them) to its text: the book is then
    loaded from it alone, without touching the disk — how a book travels to another
    process or machine (``pickle``, a Dask worker). The include guards apply unchanged.
    ``cache`` reuses the parse of files whose text has not changed (an editor's session).
    """
    display = os.fspath(path)
    program = Program(root=display)
    root_path = Path(display)
    if text is None and files is not None:
        text = files.get(display)
        if text is None:
            program.diagnostics.append(error("E401", f"`{display}` is not among the files", None))
            return program
    if text is None:
        text, problem = read_source(root_path, display, None)
        if problem is not None:
            program.diagnostics.append(problem)
            return program
    assert text is not None
    root_dir = os.path.realpath(root_path.parent if root_path.parent != Path("") else Path("."))
    loaded: set[str] = set()
    _load_file(program, root_path, display, text, root_dir, [], loaded, files, cache)
    return program


def _load_file(
    program: Program,
    path: Path,
    display: str,
    text: str,
    root_dir: str,
    stack: list[tuple[str, A.Span]],
    loaded: set[str],
    files: Mapping[str, str] | None = None,
    cache: ParseCache | None = None,
) -> None:
    real = os.path.realpath(path)
    loaded.add(real)
    result = parse(text, display) if cache is None else cache.parse(text, display)
    program.files[display] = result.book
    program.sources[display] = text
    program.comments[display] = result.comments
    program.diagnostics.extend(result.diagnostics)
    if not result.ok:
        program.syntax_errors.add(display)
    for stmt in result.book.statements:
        if isinstance(stmt, A.Include):
            _include(program, stmt, display, root_dir, stack, loaded, files, cache)
        else:
            program.statements.append(stmt)


def _include(
    program: Program,
    stmt: A.Include,
    includer: str,
    root_dir: str,
    stack: list[tuple[str, A.Span]],
    loaded: set[str],
    files: Mapping[str, str] | None = None,
    cache: ParseCache | None = None,
) -> None:
    span = stmt.path_span
    raw = stmt.path
    if os.path.isabs(raw) or raw.startswith("~") or (len(raw) > 1 and raw[1] == ":"):
        program.diagnostics.append(
            error(
                "E403",
                f"include path `{raw}` is absolute",
                span,
                help="write the path relative to this file",
            )
        )
        return
    if "\0" in raw:
        # No file can have such a name, and os.path raises ValueError on it.
        program.diagnostics.append(
            error("E408", "include path contains a NUL character", span, help="remove it")
        )
        return
    display = os.path.normpath(os.path.join(os.path.dirname(includer), raw))
    target = Path(display)
    real = os.path.realpath(target)
    if os.path.commonpath([real, root_dir]) != root_dir:
        program.diagnostics.append(
            error(
                "E404",
                f"`{raw}` is outside the rulebook's directory",
                span,
                help=f"included files must live under {root_dir}",
            )
        )
        return
    chain = [*stack, (includer, span)]
    if any(os.path.realpath(p) == real for p, _ in chain):
        cycle = " → ".join([*(os.path.basename(p) for p, _ in chain), os.path.basename(display)])
        program.diagnostics.append(
            error(
                "E402",
                f"include cycle: {cycle}",
                span,
                related=[note(s, "included from here") for _, s in stack],
            )
        )
        return
    if real in loaded:
        return  # already loaded through another include: its statements are in already
    if len(stack) + 1 > MAX_INCLUDE_DEPTH or len(loaded) >= MAX_INCLUDED_FILES:
        limit = (
            f"more than {MAX_INCLUDE_DEPTH} levels deep"
            if len(stack) + 1 > MAX_INCLUDE_DEPTH
            else f"more than {MAX_INCLUDED_FILES} files"
        )
        program.diagnostics.append(error("E405", f"includes go {limit}", span))
        return
    text: str | None = None
    if files is not None:
        text = files.get(display)
        if text is None:
            program.diagnostics.append(
                error("E401", f"included file `{raw}` is not among the files", span)
            )
            return
    else:
        problem = _not_a_book(target, display, span, raw)
        if problem is None:
            text, problem = read_source(target, display, span)
        if problem is not None:
            program.diagnostics.append(problem)
            return
    assert text is not None
    _load_file(program, target, display, text, root_dir, chain, loaded, files, cache)


def _not_a_book(target: Path, display: str, span: A.Span, raw: str) -> Diagnostic | None:
    """E401 (with a did-you-mean and its fix) or E408 when an included path (``raw``, as
    written) is no file to read.

    A regular file is left to :func:`read_source` (``None``)."""
    try:
        is_file = target.is_file()
    except OSError as exc:  # a name too long (ENAMETOOLONG), a permission denied, …
        return error("E408", f"cannot read `{_short(display)}`: {exc.strerror or exc}", span)
    if is_file:
        return None
    if target.exists():  # a directory, a FIFO, a device: it exists, but is no book
        return read_source(target, display, span)[1]
    siblings = []
    if target.parent.is_dir():
        siblings = [p.name for p in target.parent.iterdir() if p.suffix == ".alvh"]
    guess = suggest(target.name, siblings)
    edit = None
    if guess and raw.endswith(target.name):  # the path as written, with the name replaced
        edit = fix(span, quote(raw[: len(raw) - len(target.name)] + guess))
    return error(
        "E401",
        f"included file `{display}` does not exist",
        span,
        help=f"did you mean `{guess}`?" if guess else None,
        fix=edit,
    )


def _short(path: str, limit: int = 80) -> str:
    """A path cut to ``limit`` characters for a message (names can be 4096 long)."""
    return path if len(path) <= limit else path[: limit - 1] + "…"


# ------------------------------------------------------------------ overrides


def parse_param_value(text: str) -> A.Number | None:
    """Parse ``5d``, ``7 days``, ``$1500``, ``2%``, ``-0.5`` with the rulebook grammar."""
    result = parse(f"param __override__ = {text.strip()}", "<param>")
    if not result.ok or len(result.book.statements) != 1:
        return None
    stmt = result.book.statements[0]
    return stmt.value if isinstance(stmt, A.Param) else None


def apply_overrides(program: Program, overrides: Mapping[str, ParamValue] | None) -> None:
    """Resolve param values, applying run-time overrides with the declared units checked."""
    params = program.params
    program.param_values = {name: p.value for name, p in params.items()}
    for name, raw in (overrides or {}).items():
        where = None  # overrides come from the command line or the API, not a file
        param = params.get(name)
        if param is None:
            guess = suggest(name, params)
            program.diagnostics.append(
                error(
                    "E501",
                    f"`--param {name}`: the book has no param `{name}`",
                    where,
                    help=f"did you mean `{guess}`?" if guess else None,
                )
            )
            continue
        if (
            isinstance(raw, bool)
            or not isinstance(raw, str | int | float)
            or (isinstance(raw, float) and not math.isfinite(raw))
        ):
            # NaN or infinity would make every comparison silently false.
            program.diagnostics.append(
                error("E503", f"`--param {name}`: expected a number or text, got {raw!r}", where)
            )
            continue
        value = parse_param_value(str(raw)) if isinstance(raw, str) else None
        if isinstance(raw, str) and value is None:
            program.diagnostics.append(
                error(
                    "E503",
                    f"`--param {name}={raw}`: not a value",
                    where,
                    help="write a number with an optional unit: 5d, 7 days, 50 points, $1500, 2%",
                )
            )
            continue
        declared = param.value.unit
        if value is None:
            value = construct(A.Number, span=param.value.span, value=float(raw), unit=declared)
        if value.unit == "bare":
            value = construct(A.Number, span=value.span, value=value.value, unit=declared)
        if value.unit != declared and declared != "bare":
            program.diagnostics.append(
                error(
                    "E502",
                    f"`--param {name}={raw}`: `{name}` is in {_unit_word(declared)}, "
                    f"not {_unit_word(value.unit)}",
                    where,
                    help=f"declared at {param.span}",
                )
            )
            continue
        if declared == "bare" and value.unit != "bare":
            program.diagnostics.append(
                error(
                    "E502",
                    f"`--param {name}={raw}`: `{name}` is a plain number, "
                    f"not {_unit_word(value.unit)}",
                    where,
                    help=f"declared at {param.span}",
                )
            )
            continue
        program.param_values[name] = value


def _unit_word(unit: str) -> str:
    return {"bare": "a plain number", "percent": "percent"}.get(unit, unit)
