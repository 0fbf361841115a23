"""A rulebook at a git revision: ``rulebooks/core.alvh@HEAD~1`` as a book on disk.

``alvh diff`` compares two versions of a book, and the old one usually lives in git. A
:class:`BookRef` names a book in the working tree or at a revision
(:func:`parse_book_ref`); :func:`export_revision` writes that revision's root file and
every file it includes (followed include by include, at the same revision) into a
temporary directory laid out as the repository is, so the loader's include guards
(relative paths, no escape from the book's directory, cycles, limits) apply unchanged.
Only the files the book names are exported, never the repository.

``git`` runs as a subprocess with an argument list (never a shell string), with
literal pathspecs; a revision starting with ``-`` is refused so that it cannot be read
as an option. Every failure (no git, not a repository, unknown revision, a path the
revision does not have) is a :class:`RevisionError`: E605 with the argument and git's
own message.
"""

from __future__ import annotations

import os
import posixpath
import subprocess
from collections import deque
from dataclasses import dataclass
from pathlib import Path

from .errors import AlvhError
from .lang import ast as A
from .lang.diagnostics import DataSpan, Diagnostic, data_span, error

__all__ = ["BookRef", "RevisionError", "export_revision", "parse_book_ref", "relabel"]

#: files exported per book at most: past the loader's 64, so its own E405 reports the excess
MAX_EXPORTED_FILES = 80


class RevisionError(AlvhError):
    """A ``PATH@REV`` that git cannot resolve (E605): no git, not a repository, an unknown
    revision, or a path the revision does not have."""

    summary_template = "{subject}: cannot read the book at that revision"


@dataclass(frozen=True)
class BookRef:
    """A book as the user named it: ``path`` (as given) and, for ``PATH@REV``, the revision."""

    argument: str
    path: str
    revision: str | None = None

    @property
    def display(self) -> str:
        return self.path if self.revision is None else f"{self.path}@{self.revision}"


def parse_book_ref(argument: str) -> BookRef:
    """``PATH`` or ``PATH@REV``.

    An argument naming an existing file is a path, whatever it holds. Otherwise it
    splits at the first ``@`` that follows ``.alvh`` (so ``book.alvh@HEAD@{1}`` keeps
    its reflog revision), else at the first ``@``.
    """
    if "@" not in argument or os.path.isfile(argument):
        return BookRef(argument, argument)
    cut = argument.find(".alvh@")
    at = cut + len(".alvh") if cut >= 0 else argument.index("@")
    path, revision = argument[:at], argument[at + 1 :]
    if not path or not revision:
        return BookRef(argument, argument)
    return BookRef(argument, path, revision)


def _fail(ref: BookRef, message: str, detail: str = "") -> RevisionError:
    text = f"{message}: {detail.strip()}" if detail.strip() else message
    diag = error("E605", text, data_span(ref.argument), help="PATH@REV takes any revision "
                 "`git rev-parse` accepts: HEAD~1, main, a tag, a commit")  # fmt: skip
    return RevisionError([diag], subject=ref.argument)


def _git(
    ref: BookRef, cwd: str, *args: str, check: bool = True
) -> subprocess.CompletedProcess[bytes]:
    try:
        done = subprocess.run(
            ["git", "--literal-pathspecs", "-C", cwd, *args],
            capture_output=True,
            check=False,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise _fail(ref, "git is not installed (needed for PATH@REV)") from None
    if check and done.returncode != 0:
        raise _fail(ref, f"git {args[0]} failed", done.stderr.decode("utf-8", "replace"))
    return done


@dataclass(frozen=True)
class Export:
    """A revision's book on disk: ``root`` the local path of the book file, ``commit`` the
    full hash, ``short`` the abbreviated one, and how to name its files for people."""

    ref: BookRef
    root: str
    local_dir: str  # the book's directory inside the temporary tree
    commit: str
    short: str

    def display(self, file: str) -> str:
        """``rulebooks/lib/x.alvh@HEAD~1`` for a file of the exported tree (else ``file``)."""
        rel = os.path.relpath(file, self.local_dir)
        if rel.startswith(".."):
            return file
        user_dir = os.path.dirname(self.ref.path)
        return f"{os.path.normpath(os.path.join(user_dir, rel))}@{self.ref.revision}"


def _repository(ref: BookRef) -> tuple[str, str]:
    """(top level of the repository, the book's path inside it, POSIX)."""
    parent = Path(ref.path).parent
    rest: list[str] = [Path(ref.path).name]
    while not parent.is_dir():  # the book's folder may be gone from the working tree
        rest.insert(0, parent.name)
        if parent == parent.parent:
            break
        parent = parent.parent
    anchor = os.fspath(parent) or "."
    lines = _git(ref, anchor, "rev-parse", "--show-toplevel", "--show-prefix").stdout
    top, _, prefix = lines.decode("utf-8", "replace").partition("\n")
    inside = posixpath.normpath(posixpath.join(prefix.strip() or ".", *rest))
    if inside.startswith("../") or inside == "..":
        raise _fail(ref, f"`{ref.path}` is outside the repository at {top.strip()}")
    return top.strip(), inside


def export_revision(ref: BookRef, directory: str | os.PathLike[str]) -> Export:
    """Write the book of ``ref`` (a ``PATH@REV``) and its includes under ``directory``."""
    assert ref.revision is not None
    if ref.revision.startswith("-"):
        raise _fail(ref, f"`{ref.revision}` is not a revision")
    top, inside = _repository(ref)
    done = _git(ref, top, "rev-parse", "--verify", "--quiet", f"{ref.revision}^{{commit}}",
                check=False)  # fmt: skip
    if done.returncode != 0:
        raise _fail(
            ref, f"unknown revision `{ref.revision}`", done.stderr.decode("utf-8", "replace")
        )
    commit = done.stdout.decode().strip()
    short = _git(ref, top, "rev-parse", "--short", commit).stdout.decode().strip()
    base = os.fspath(directory)
    entry = _tree_entry(ref, top, commit, inside)
    if entry is None or entry[0] != "blob":
        what = "a directory" if entry is not None else "not in that revision"
        raise _fail(ref, f"`{inside}` is {what} ({ref.revision} = {short})")
    book_dir = posixpath.dirname(inside)
    queue, seen = deque([inside]), {inside}
    while queue and len(seen) <= MAX_EXPORTED_FILES:
        path = queue.popleft()
        for follow in _export_file(ref, top, commit, path, base):
            target = posixpath.normpath(follow)
            inside_book = book_dir in ("", ".") or target.startswith(book_dir + "/")
            if inside_book and not target.startswith("../") and target not in seen:
                seen.add(target)
                queue.append(target)
    local_dir = os.path.join(base, *book_dir.split("/")) if book_dir else base
    return Export(ref, os.path.join(base, *inside.split("/")), local_dir, commit, short)


def _tree_entry(ref: BookRef, top: str, commit: str, path: str) -> tuple[str, str, str] | None:
    """(type, mode, object) of ``path`` at ``commit``, or None when it has none."""
    out = _git(ref, top, "ls-tree", "-z", commit, "--", path).stdout.decode("utf-8", "replace")
    for item in out.split("\0"):
        meta, _, name = item.partition("\t")
        if name == path:
            mode, kind, obj = meta.split(" ")
            return kind, mode, obj
    return None


def _export_file(ref: BookRef, top: str, commit: str, path: str, base: str) -> list[str]:
    """Write one file of the revision; return the paths it leads to (includes, a link)."""
    from .lang.parse import MAX_FILE_BYTES, parse

    entry = _tree_entry(ref, top, commit, path)
    if entry is None or entry[0] != "blob":
        return []  # the loader reports the missing include (E401) as it would on disk
    _, mode, obj = entry
    local = Path(base, *path.split("/"))
    local.parent.mkdir(parents=True, exist_ok=True)
    # One byte past the loader's limit is enough for it to say the file is too large.
    data = _blob(ref, top, obj, MAX_FILE_BYTES + 1)
    if mode == "120000":  # a symbolic link: recreated, so the loader's escape guard sees it
        target = data.decode("utf-8", "replace")
        os.symlink(target, local)
        return [] if posixpath.isabs(target) else [posixpath.join(posixpath.dirname(path), target)]
    local.write_bytes(data)
    result = parse(data.decode("utf-8", "replace"), path)
    return [
        posixpath.join(posixpath.dirname(path), s.path)
        for s in result.book.statements
        if isinstance(s, A.Include) and not posixpath.isabs(s.path) and "\0" not in s.path
    ]


def _blob(ref: BookRef, top: str, obj: str, limit: int) -> bytes:
    try:
        proc = subprocess.Popen(
            ["git", "-C", top, "cat-file", "blob", obj],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
    except FileNotFoundError:
        raise _fail(ref, "git is not installed (needed for PATH@REV)") from None
    assert proc.stdout is not None
    with proc:
        data = proc.stdout.read(limit)
        proc.stdout.close()
        proc.kill()
    return data


def relabel(diagnostics: list[Diagnostic], export: Export) -> list[Diagnostic]:
    """The diagnostics of an exported book with its files named ``path@rev``."""
    out = []
    for d in diagnostics:
        update: dict[str, object] = {}
        if d.span is not None:
            update["span"] = _refile(d.span, export)
        if d.related:
            update["related"] = tuple(
                r.model_copy(update={"span": _refile(r.span, export)}) for r in d.related
            )
        if d.fix is not None:
            update["fix"] = d.fix.model_copy(update={"span": _refile(d.fix.span, export)})
        out.append(d.model_copy(update=update))
    return out


def _refile(span: A.Span | DataSpan, export: Export) -> A.Span | DataSpan:
    """``span`` in its file's exported name: a text span is a named tuple, a data span a model."""
    if isinstance(span, A.Span):
        return span._replace(file=export.display(span.file))
    return span.model_copy(update={"file": export.display(span.file)})
