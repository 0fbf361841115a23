"""Writing files so that an interrupted run never leaves one half-written; reading
input files (books, states, histories) with a bound on what is read."""

from __future__ import annotations

import contextlib
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import IO


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> None:
    """Write ``text`` to a temporary file beside ``path``, then rename it into place."""
    with atomic_open(path, "w", encoding=encoding) as f:
        f.write(text)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    with atomic_open(path, "wb") as f:
        f.write(data)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[str]:
    """Yield a temporary file name beside ``path``; on success rename it over ``path``.

    For writers that want a file name (pandas, pyarrow). On any exception the
    temporary file is removed and ``path`` is untouched. An existing file keeps
    its permission bits; a new one gets what a plain ``open()`` would give
    (``mkstemp`` creates files 0600).
    """
    import tempfile  # here: `alvh check` reads through this module and writes nothing

    target = Path(path)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield tmp
        if target.exists():
            mode = target.stat().st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


@contextlib.contextmanager
def atomic_open(
    path: str | os.PathLike[str], mode: str = "w", encoding: str | None = None
) -> Iterator[IO]:  # type: ignore[type-arg]
    """Open a temporary file beside ``path``; on success rename it over ``path``
    (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        newline = "" if "b" not in mode else None
        with open(tmp, mode, encoding=encoding, newline=newline) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())


def cache_dir() -> Path | None:
    """The project's writable cache directory (``$ALVH_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/alvh-dsl``, else ``~/.cache/alvh-dsl``), created if need be; None
    when it cannot be used, in which case callers simply do without a cache."""
    base = os.environ.get("ALVH_CACHE_DIR")
    if base:
        path = Path(base)
    else:
        xdg = os.environ.get("XDG_CACHE_HOME")
        path = Path(xdg) / "alvh-dsl" if xdg else Path.home() / ".cache" / "alvh-dsl"
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return path if os.access(path, os.W_OK) else None


class NotRegularFileError(OSError):
    """An input path that is a FIFO, a device, a socket or a directory, not a file."""


class FileTooLargeError(OSError):
    """An input file with more bytes than the reader's limit."""

    def __init__(self, limit: int) -> None:
        super().__init__(f"larger than {limit} bytes")
        self.limit = limit


_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


# Twenty years of daily rows are under 1 MiB: room for centuries and wide files, and a
# device or a runaway file is stopped long before memory is.
HISTORY_LIMIT = 256 * 2**20


def read_regular_file(
    path: str | os.PathLike[str],
    limit: int,
    refuse: Callable[[str], Exception] | None = None,
) -> bytes:
    """The bytes of a regular file (symlinks followed), at most ``limit`` of them.

    A FIFO, device or directory raises :class:`NotRegularFileError` (a FIFO would
    block forever, ``/dev/zero`` never ends); more than ``limit`` bytes raises
    :class:`FileTooLargeError`. The bound is on bytes actually read, never on
    ``stat``'s size (0 for ``/dev/zero``, stale for a growing file). With ``refuse``,
    those two raise ``refuse("cannot read the file: …")`` instead (the caller's error).
    """
    try:
        return _read_bounded(path, limit)
    except (NotRegularFileError, FileTooLargeError) as exc:
        if refuse is None:
            raise
        raise refuse(f"cannot read the file: {exc}") from None


def _read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    # O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            kind = next((name for test, name in _KINDS if test(mode)), "something else")
            raise NotRegularFileError(f"it is {kind}, not a regular file")
    except BaseException:
        os.close(fd)
        raise
    with open(fd, "rb", closefd=True) as f:
        data = f.read(limit + 1)
    if len(data) > limit:
        raise FileTooLargeError(limit)
    return data


def find_files(paths: Iterable[str], suffix: str) -> list[str]:
    """Files named directly, plus every file ending in ``suffix`` under directories
    (sorted, recursive, hidden directories skipped): how ``alvh check`` finds books and
    ``alvh test`` finds test files."""
    out: list[str] = []
    for p in paths:
        if os.path.isdir(p):
            for dirpath, dirnames, filenames in os.walk(p):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                out.extend(
                    os.path.join(dirpath, f) for f in sorted(filenames) if f.endswith(suffix)
                )
        else:
            out.append(p)
    return out
