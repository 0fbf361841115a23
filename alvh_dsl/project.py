"""Project configuration: ``[tool.alvh]`` in ``pyproject.toml``, or an ``alvh.toml``.

The configuration that applies to a checked file is the nearest one found
walking up from the file's directory: in each directory ``alvh.toml`` first,
then a ``pyproject.toml`` that has a ``[tool.alvh]`` table (one without it is
passed over, as ruff does). The walk stops after a directory that holds
``.git`` (the repository root) and at a mount point or ``/``: a configuration
outside the repository never applies to it. Keys (top level in ``alvh.toml``,
under ``[tool.alvh]`` in ``pyproject.toml``), documented in docs/ci.md:

``strict``            warnings fail the check, as ``--strict`` does
``exclude``           globs of files not checked as books
``select``/``ignore`` warning codes or prefixes (``"W2"``) reported / not reported
``per-file-ignores``  glob -> warning codes not reported in matching files
``params``            default ``--param`` values (the command line wins)

Globs are relative to the configuration file's directory: ``*`` and ``?``
stay within a path segment, ``**/`` spans directories, a pattern without a
``/`` matches a file name at any depth, and a pattern that matches a directory
matches every file under it. Errors can never be ignored or deselected
(docs/decisions.md). An invalid configuration is one E604 per problem, at the
file and key path, and is not applied.

No numpy here: ``alvh check`` reads this.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, ValidationError

from .fileio import FileTooLargeError, NotRegularFileError, read_regular_file
from .lang.diagnostics import CODES, Diagnostic, data_span, error
from .lang.loader import ParamValue, apply_overrides, load_program, read_source
from .lang.program import Program

if TYPE_CHECKING:  # pragma: no cover
    from types import ModuleType

__all__ = [
    "CONFIG_NAMES",
    "MAX_CONFIG_BYTES",
    "Project",
    "ProjectConfig",
    "Projects",
    "apply_params",
    "default_config",
    "find_config",
    "git_root",
    "glob_match",
    "includers",
    "load_project",
]

#: searched in this order in each directory
CONFIG_NAMES = ("alvh.toml", "pyproject.toml")
#: a configuration is a few lines; a pyproject.toml of a large project a few KiB
MAX_CONFIG_BYTES = 1 * 2**20

ParamDefault = str | int | float

_WARNING_PREFIX = re.compile(r"W[0-9]{0,3}")
#: removed only by removing the suppression comment (docs/decisions.md)
_UNIGNORABLE = "W105"


def _code(code: str) -> str:
    if code[:1] == "E":
        raise ValueError(f"`{code}`: errors cannot be ignored or deselected")
    if not _WARNING_PREFIX.fullmatch(code) or not any(c.startswith(code) for c in CODES):
        raise ValueError(f"`{code}` is not a warning code or a prefix of one (e.g. W2, W101)")
    if code == _UNIGNORABLE:
        raise ValueError("W105 goes away by removing the suppression that suppresses nothing")
    return code


#: a warning code or prefix, checked where it is written (so E604 names its index)
Code = Annotated[str, AfterValidator(_code)]


class ProjectConfig(BaseModel):
    """The keys of a project configuration (module docstring); unknown keys are E604."""

    # Deferred: the validator is built only when a configuration file is read. Building it
    # at import (and pydantic's plugin look-up through importlib.metadata with it) was a
    # fifth of `alvh check`'s start-up, paid even where no configuration exists (issue 11).
    model_config = ConfigDict(
        extra="forbid", strict=True, frozen=True, allow_inf_nan=False, defer_build=True
    )

    strict: bool = False
    exclude: list[str] = Field(default_factory=list, max_length=1000)
    select: list[Code] | None = Field(None, max_length=1000)
    ignore: list[Code] = Field(default_factory=list, max_length=1000)
    per_file_ignores: dict[str, list[Code]] = Field(
        default_factory=dict, alias="per-file-ignores", max_length=1000
    )
    params: dict[str, ParamDefault] = Field(default_factory=dict, max_length=1000)


def default_config() -> ProjectConfig:
    """The configuration of a project without a configuration file: every default.

    Made without validation (defaults are valid), so that a run that reads no
    configuration never builds :class:`ProjectConfig`'s validator. The values are given
    rather than left to the fields' factories: pydantic reads a factory's signature
    first, and ``inspect.signature(list)`` compiles the tokenizer's regex (5 ms)."""
    return ProjectConfig.model_construct(
        set(), strict=False, exclude=[], select=None, ignore=[], per_file_ignores={}, params={}
    )


@dataclass(frozen=True)
class Project:
    """A configuration as it applies: its file (``None`` for the defaults) and directory."""

    root: str
    path: str | None = None
    config: ProjectConfig = field(default_factory=default_config)
    #: where the keys are in the file: ``tool.alvh`` in a pyproject.toml
    prefix: str = ""

    def relative(self, file: str) -> str | None:
        """``file`` relative to :attr:`root` with ``/`` separators, or ``None`` if outside."""
        rel = os.path.relpath(os.path.abspath(file), self.root)
        if rel == ".." or rel.startswith(".." + os.sep):
            return None
        return rel.replace(os.sep, "/")

    def excludes(self, file: str) -> bool:
        rel = self.relative(file)
        return rel is not None and any(glob_match(p, rel) for p in self.config.exclude)

    def reports(self, code: str, file: str | None) -> bool:
        """Whether a warning ``code`` in ``file`` is reported (errors always are)."""
        if code[:1] == "E" or code == _UNIGNORABLE:
            return True
        cfg = self.config
        if cfg.select is not None and not any(code.startswith(s) for s in cfg.select):
            return False
        if any(code.startswith(i) for i in cfg.ignore):
            return False
        rel = self.relative(file) if file is not None else None
        if rel is None:
            return True
        return not any(
            glob_match(pattern, rel) and any(code.startswith(c) for c in codes)
            for pattern, codes in cfg.per_file_ignores.items()
        )


# ------------------------------------------------------------------------ globs


def _glob_regex(pattern: str) -> re.Pattern[str]:
    out = []
    i = 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]*/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and (end := pattern.find("]", i + 2)) != -1:
            body = pattern[i + 1 : end]
            neg = body.startswith("!")
            body = re.escape(body[1:] if neg else body).replace("\\-", "-")
            out.append(f"[{'^' if neg else ''}{body}]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))


def glob_match(pattern: str, rel: str) -> bool:
    """Whether the ``/``-separated relative path ``rel`` matches ``pattern`` (module docstring)."""
    pattern = pattern.strip().removeprefix("./").rstrip("/")
    if not pattern:
        return False
    if "/" not in pattern:
        pattern = "**/" + pattern
    regex = _glob_regex(pattern)
    parts = rel.split("/")
    # the path itself or a directory above it
    return any(regex.fullmatch("/".join(parts[:n])) for n in range(len(parts), 0, -1))


# -------------------------------------------------------------------- discovery


def _stops_at(directory: str) -> bool:
    return os.path.exists(os.path.join(directory, ".git")) or os.path.ismount(directory)


def find_config(start: str) -> str | None:
    """The nearest configuration file for a file or directory ``start`` (module docstring)."""
    here = os.path.abspath(start)
    directory = here if os.path.isdir(here) else os.path.dirname(here)
    while True:
        for name in CONFIG_NAMES:
            candidate = os.path.join(directory, name)
            if os.path.isfile(candidate) and (name == "alvh.toml" or _has_table(candidate)):
                return candidate
        parent = os.path.dirname(directory)
        if parent == directory or _stops_at(directory):
            return None
        directory = parent


def git_root(start: str) -> str | None:
    """The directory holding ``.git`` at or above ``start``, if any."""
    directory = os.path.abspath(start)
    if not os.path.isdir(directory):
        directory = os.path.dirname(directory)
    while True:
        if os.path.exists(os.path.join(directory, ".git")):
            return directory
        parent = os.path.dirname(directory)
        if parent == directory:
            return None
        directory = parent


def _tomllib() -> ModuleType:
    # Imported when a configuration is parsed: a check with none never pays for it.
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover
        import tomli as tomllib  # type: ignore[import-not-found]
    module: ModuleType = tomllib  # tomli is untyped
    return module


#: ``alvh`` as a TOML key: followed (past a closing quote and blanks) by ``=``, ``.`` or
#: ``]``, as every spelling of the table is (``[tool.alvh]``, ``[tool."alvh"]``, ``alvh =
#: {…}`` under ``[tool]``, ``tool.alvh.strict = …``), or by the end of the line (a header
#: left unclosed, which E604 then reports); ``alvh-dsl`` and ``alvh_dsl`` are not
_ALVH_KEY = re.compile(r"""alvh["']?[ \t]*(?:[=.\]]|$)""", re.MULTILINE)


def _has_table(pyproject: str) -> bool:
    # A quick look before parsing: most pyproject.toml files say nothing of alvh, and
    # one that names the package (`alvh-dsl`, `alvh_dsl`) but has no `alvh` key has no
    # table either. One that may have it but is not valid TOML is taken, so that its
    # E604 says why.
    try:
        text = read_regular_file(pyproject, MAX_CONFIG_BYTES).decode("utf-8", "replace")
    except OSError:
        return False
    if not _ALVH_KEY.search(text):
        return False
    toml = _tomllib()
    try:
        doc = toml.loads(text)
    except toml.TOMLDecodeError:
        return True
    tool = doc.get("tool")
    return isinstance(tool, dict) and "alvh" in tool


def _key(loc: tuple[int | str, ...], prefix: str) -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = part if re.fullmatch(r"[A-Za-z0-9_-]+", part) else f'"{part}"'
            out += f".{name}" if out else name
    return out


def load_project(path: str) -> tuple[Project, list[Diagnostic]]:
    """Read a configuration file: the :class:`Project`, or the defaults and E604s."""
    root = os.path.dirname(os.path.abspath(path))
    default = Project(root=root, path=path)
    in_pyproject = os.path.basename(path) == "pyproject.toml"

    def bad(problems: list[tuple[str | None, str]]) -> tuple[Project, list[Diagnostic]]:
        return default, [error("E604", msg, data_span(path, path=key)) for key, msg in problems]

    try:
        data = read_regular_file(path, MAX_CONFIG_BYTES)
    except FileTooLargeError:
        return bad([(None, f"larger than {MAX_CONFIG_BYTES // 2**20} MiB")])
    except (NotRegularFileError, OSError) as exc:
        return bad([(None, f"cannot read: {exc.strerror or exc}")])
    toml = _tomllib()
    try:
        doc: Any = toml.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        return bad([(None, f"not UTF-8 text ({exc.reason})")])
    except toml.TOMLDecodeError as exc:
        return bad([(None, f"not valid TOML: {exc}")])
    prefix = ""
    if in_pyproject:
        doc = doc.get("tool", {}).get("alvh", {}) if isinstance(doc.get("tool"), dict) else {}
        prefix = "tool.alvh"
        if not isinstance(doc, dict):
            return bad([(prefix, "must be a table")])
    try:
        config = ProjectConfig.model_validate(doc)
    except ValidationError as exc:
        return bad(
            [
                (_key(err["loc"], prefix), err["msg"].removeprefix("Value error, "))
                for err in exc.errors()
            ]
        )
    return Project(root=root, path=path, config=config, prefix=prefix), []


class Projects:
    """Which :class:`Project` applies to each file, each configuration read once.

    ``config`` names one file for every path (``alvh check --config``);
    ``isolated`` ignores configuration files (``--isolated``).
    """

    def __init__(self, config: str | None = None, *, isolated: bool = False) -> None:
        self.isolated = isolated
        self.diagnostics: list[Diagnostic] = []
        self._loaded: dict[str, Project] = {}
        # A configuration's E604s, reported once a file it governs is checked: the
        # reverse-include scan reads the configurations of files it only looks at, and
        # a broken one of an unrelated project is not this check's problem.
        self._problems: dict[str, list[Diagnostic]] = {}
        self._fixed = self._load(config) if config is not None else None
        self._default = Project(root=os.getcwd())
        self._by_dir: dict[str, Project] = {}

    def _load(self, path: str, report: bool = True) -> Project:
        key = os.path.abspath(path)
        if key not in self._loaded:
            project, self._problems[key] = load_project(_display(key))
            self._loaded[key] = project
        if report:
            self.diagnostics.extend(self._problems.pop(key, ()))
        return self._loaded[key]

    def for_file(self, file: str, *, report: bool = True) -> Project:
        """The project whose configuration applies to ``file``.

        ``report=False`` (a file only looked at, not checked) keeps the
        configuration's problems back until a file it governs is checked.
        """
        if self._fixed is not None:
            return self._fixed
        if self.isolated:
            return self._default
        directory = os.path.dirname(os.path.abspath(file))
        found = self._by_dir.get(directory)
        if found is None:
            path = find_config(directory)
            found = self._by_dir[directory] = (
                self._load(path, report) if path is not None else self._default
            )
        elif report and found.path is not None:
            self._load(found.path, report)
        return found

    def root_for(self, file: str) -> str:
        """The project root for reverse includes: the configuration's directory, else the
        git root, else the working directory."""
        project = self.for_file(file)
        if project.path is not None:
            return project.root
        return git_root(file) or os.getcwd()


# ----------------------------------------------------------------------- params


def apply_params(
    program: Program, project: Project, given: Mapping[str, ParamValue] | None
) -> None:
    """Resolve ``program``'s params: the configuration's defaults, then ``given`` (``--param``).

    A default applies to the books that declare the param (one configuration serves
    books with different params); a default that does not fit the declared unit is
    E604 at its key, not a ``--param`` error without a place.
    """
    given = dict(given or {})
    declared = program.params
    defaults = {k: v for k, v in project.config.params.items() if k in declared and k not in given}
    if defaults and project.path is not None:
        before = len(program.diagnostics)
        apply_overrides(program, defaults)
        problems = program.diagnostics[before:]
        del program.diagnostics[before:]
        for d in problems:
            key = _key(("params", _param_of(d.message, defaults)), project.prefix)
            where = data_span(project.path, path=key)
            # "`--param NAME=VALUE`: why" from apply_overrides: the value is the config's
            message = re.sub(r"^`--param ([^`]*)`", r"default param `\1`", d.message)
            program.diagnostics.append(error("E604", message, where, help=d.help))
        from_config = dict(program.param_values)
    else:
        from_config = {}
    apply_overrides(program, given)
    for name, value in from_config.items():
        if name in defaults:
            program.param_values[name] = value


def _param_of(message: str, defaults: Mapping[str, object]) -> str:
    # apply_overrides names the param as "`--param NAME…`"
    m = re.match(r"`--param ([^=`]+)", message)
    return m.group(1) if m and m.group(1) in defaults else next(iter(defaults))


# -------------------------------------------------------------- reverse includes

#: at most this many files are read when looking for the books that include a file
MAX_SCANNED_BOOKS = 10_000
#: and at most this many directories listed: a root with no configuration and no git is
#: the working directory, which may be a home directory or /tmp
MAX_SCANNED_DIRS = 10_000


def _alvh_files(root: str) -> Iterator[str]:
    for n, (dirpath, dirnames, filenames) in enumerate(os.walk(root)):
        if n >= MAX_SCANNED_DIRS:
            return
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        yield from (os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(".alvh"))


def _display(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def _scan(root: str, projects: Projects) -> tuple[dict[str, set[str]], set[str]]:
    """Every book under ``root`` that includes something: included file -> books, and
    the set of included files (the libraries)."""
    included_by: dict[str, set[str]] = {}
    for n, path in enumerate(_alvh_files(root)):
        if n >= MAX_SCANNED_BOOKS:
            break
        if projects.for_file(path, report=False).excludes(path):
            continue
        display = _display(path)
        text, _ = read_source(Path(path), display, None)
        if text is None or "include" not in text:
            continue  # a cheap look first: most files include nothing
        program = load_program(display, text)
        for f in program.files:
            if f != program.root:
                included_by.setdefault(os.path.realpath(f), set()).add(display)
    return included_by, set(included_by)


def includers(files: list[str], projects: Projects) -> dict[str, list[str]]:
    """For each of ``files`` that books under its project root include, those books.

    Only the outermost books: a library that includes the file but is itself included
    is checked through its own includers. A file not under its project root, or
    included by no book, is left out (it is checked as a book). Used for files named
    on the command line (pre-commit passes the changed files).
    """
    scans: dict[str, tuple[dict[str, set[str]], set[str]]] = {}
    out: dict[str, list[str]] = {}
    for f in files:
        root = projects.root_for(f)
        if Project(root=root).relative(f) is None:
            continue
        if root not in scans:
            scans[root] = _scan(root, projects)
        included_by, libraries = scans[root]
        tops = sorted(
            b
            for b in included_by.get(os.path.realpath(f), ())
            if os.path.realpath(b) not in libraries
        )
        if tops:
            out[f] = tops
    return out
