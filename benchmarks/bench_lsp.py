"""`alvh lsp`: start-up, and the diagnostics round trip after a change (issue 12).

Run: ``python benchmarks/bench_lsp.py``. Times, as an editor sees them:

- start-up: from starting the process to the ``initialize`` response, and to the first
  diagnostics of the reference book opened right after it;
- round trip: from sending ``didChange`` to receiving the ``publishDiagnostics`` of that
  version, each change sent after a pause (:data:`PAUSE`, a user who stopped typing:
  the server checks it at once), with the server's debounce at 0 and at its default,
  which a single edit must not wait for. Each change is sent as an editor sends it to
  a server that syncs incrementally: the one range it replaces and its new text. Two
  kinds: *a line edited* (a param line at the top, its name and value changed each
  time: the line count stays, as when typing in a line) and *a line added or removed*
  (one or two param lines at the top, in turn: every line below moves, so every span
  the buffer's last parse had below it moves too);
- a burst: :data:`BURST` changes :data:`BURST_GAP` apart, timed from the last one sent
  to its diagnostics (the burst's debounce, then one check).

On the reference book (rulebooks/alvh_core.alvh) and on a generated 200-rule book
(benchmarks/bench_scale.py's generator). Runs are interleaved (each book, each debounce,
then again) and medians reported beside the target, with the server's CPU time per
change (from ``/proc``, on Linux, in nanoseconds where the kernel keeps scheduler
statistics: what the change costs whatever else the machine is doing), and the
in-process cost of checking the buffer
(:func:`alvh_dsl.lsp.checking.check_buffer`, in CPU time): parsed whole, what a change
costs when nothing of the last parse is reused, and with the session's
:class:`~alvh_dsl.lsp.incremental.IncrementalParses` after a line edited. ``REPS=9``
sets the repetitions. ``OLD=DIR`` runs a second server from the tree ``DIR`` (started
in it, so that ``python -c`` imports its ``alvh_dsl/``) beside this one, interleaved,
each figure printed for both. The target (issue 12) is diagnostics within 50 ms of a
change on 200 rules.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(HERE / "benchmarks"))
import bench_env  # noqa: E402
from bench_scale import generate  # noqa: E402

from alvh_dsl.lsp.server import DEFAULT_DEBOUNCE  # noqa: E402

SERVER = [sys.executable, "-c", "from alvh_dsl.cli import main; main()", "lsp"]
KINDS = ("a line edited", "a line added or removed")
TARGET = 0.050  # seconds, change to diagnostics on 200 rules (issue 12)
PAUSE = 0.25  # seconds before a timed change: longer than any debounce measured
BURST, BURST_GAP = 5, 0.01


class Session:
    """A bare JSON-RPC client over the server's pipes (no client library in the timing)."""

    def __init__(self, debounce: float, tree: Path | None = None) -> None:
        # OLD=DIR: run in that tree, whose alvh_dsl/ `python -c` then imports first
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=tree or HERE,
            env=bench_env.child_env(),  # from bytecode, as an installed server runs
        )  # fmt: skip
        self.texts: dict[str, str] = {}
        self.next_id = 0
        self.request("initialize", {
            "processId": os.getpid(), "rootUri": HERE.as_uri(), "capabilities": {},
            "initializationOptions": {"debounce": debounce},
        })  # fmt: skip
        self.startup = time.perf_counter() - self.started
        self.startup_cpu = self.cpu()
        self.notify("initialized", {})

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps({"jsonrpc": "2.0", **message}).encode()
        assert self.proc.stdin is not None
        self.proc.stdin.write(b"Content-Length: %d\r\n\r\n%s" % (len(body), body))
        self.proc.stdin.flush()

    def receive(self) -> dict[str, Any]:
        assert self.proc.stdout is not None
        length = 0
        while True:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("the server exited")
            if line in (b"\r\n", b"\n"):
                break
            name, _, value = line.decode().partition(":")
            if name.lower() == "content-length":
                length = int(value)
        message: dict[str, Any] = json.loads(self.proc.stdout.read(length))
        return message

    def request(self, method: str, params: dict[str, Any]) -> Any:
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        while True:
            message = self.receive()
            if message.get("id") == self.next_id and "method" not in message:
                return message.get("result")

    def notify(self, method: str, params: dict[str, Any]) -> None:
        self.send({"method": method, "params": params})

    def diagnostics(self, uri: str, version: int) -> list[Any]:
        while True:
            message = self.receive()
            params = message.get("params") or {}
            if (
                message.get("method") == "textDocument/publishDiagnostics"
                and params.get("uri") == uri
                and params.get("version") == version
            ):
                return list(params["diagnostics"])

    def cpu(self) -> float:
        """The server process's CPU seconds so far, all its threads: from ``/proc``'s
        scheduler statistics (nanoseconds), else its 10 ms ticks; ``nan`` without ``/proc``."""
        try:
            tasks = Path(f"/proc/{self.proc.pid}/task")
            return sum(int((t / "schedstat").read_text().split()[0]) for t in tasks.iterdir()) / 1e9
        except (OSError, ValueError, IndexError):
            pass
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.request("shutdown", {})
        self.notify("exit", {})
        self.proc.wait(timeout=30)


def _edited(text: str, version: int, kind: str = KINDS[0]) -> str:
    """The book's text at ``version``: one param line added at the top, named after the
    version (a line edited), or one or two in turn (a line added or removed)."""
    added = 1 if kind == KINDS[0] else 1 + version % 2
    lines = "".join(f"param p{version}_{j} = {version}\n" for j in range(added))
    return text.replace("param", lines + "param", 1)


def _position(text: str, offset: int) -> dict[str, int]:
    before = text[:offset]
    return {"line": before.count("\n"), "character": offset - (before.rfind("\n") + 1)}


def _change(session: Session, uri: str, text: str, version: int) -> None:
    """Send ``text`` as an editor would: the one range of the document it replaces."""
    old = session.texts[uri]
    start = 0
    while start < min(len(old), len(text)) and old[start] == text[start]:
        start += 1
    end = 0
    while end < min(len(old), len(text)) - start and old[-1 - end] == text[-1 - end]:
        end += 1
    session.texts[uri] = text
    session.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{
            "range": {"start": _position(old, start), "end": _position(old, len(old) - end)},
            "text": text[start : len(text) - end],
        }],
    })  # fmt: skip


def _open(session: Session, path: Path) -> str:
    uri, text = path.as_uri(), path.read_text(encoding="utf-8")
    session.texts[uri] = text
    session.notify("textDocument/didOpen", {
        "textDocument": {"uri": uri, "languageId": "alvh", "version": 1, "text": text},
    })  # fmt: skip
    session.diagnostics(uri, 1)
    return uri


def round_trips(
    session: Session, path: Path, changes: int, kind: str, first: int = 2
) -> list[tuple[float, float]]:
    """Time ``changes`` changes of ``path`` (open) of one kind, from version ``first``,
    each after a pause, to their diagnostics: wall seconds and the server's CPU seconds."""
    uri, text = path.as_uri(), path.read_text(encoding="utf-8")
    out = []
    for version in range(first, first + changes):
        edited = _edited(text, version, kind)
        time.sleep(PAUSE)
        start, cpu = time.perf_counter(), session.cpu()
        _change(session, uri, edited, version)
        session.diagnostics(uri, version)
        out.append((time.perf_counter() - start, session.cpu() - cpu))
    return out


def burst(session: Session, path: Path, first: int) -> float:
    """:data:`BURST` changes :data:`BURST_GAP` apart (versions from ``first``): seconds
    from sending the last to its diagnostics (``path`` is open already)."""
    uri, text = path.as_uri(), path.read_text(encoding="utf-8")
    time.sleep(PAUSE)
    for version in range(first, first + BURST):
        if version > first:
            time.sleep(BURST_GAP)
        start = time.perf_counter()
        _change(session, uri, _edited(text, version), version)
    session.diagnostics(uri, first + BURST - 1)
    return time.perf_counter() - start


def _in_process(path: Path, reps: int) -> tuple[float, float]:
    """CPU seconds of check_buffer on ``path``: parsed whole, and with the session's
    IncrementalParses after a line edited (medians)."""
    from alvh_dsl.lsp.checking import check_buffer
    from alvh_dsl.lsp.incremental import IncrementalParses
    from alvh_dsl.perf import paused_gc

    text = path.read_text(encoding="utf-8")
    check_buffer(str(path), text)  # the parser's tables, once per process
    whole, reused = [], []
    cache = IncrementalParses()
    check_buffer(str(path), _edited(text, 1), cache=cache)
    for rep in range(reps):
        with paused_gc():  # as the server checks
            start = time.process_time()  # CPU: what a shared machine's load does not inflate
            check_buffer(str(path), text)
            whole.append(time.process_time() - start)
            edited = _edited(text, rep + 2)
            start = time.process_time()
            check_buffer(str(path), edited, cache=cache)
            reused.append(time.process_time() - start)
    return statistics.median(whole), statistics.median(reused)


def main() -> None:  # Long: one interleaved loop over servers, debounces and books, then the table
    reps = int(os.environ.get("REPS", "9"))
    trees: dict[str, Path | None] = {"": None}
    if os.environ.get("OLD"):
        trees = {"new ": None, "old ": Path(os.environ["OLD"]).resolve()}
    with tempfile.TemporaryDirectory(prefix="alvh-bench-lsp-") as tmp:
        big = Path(tmp) / "rules_200.alvh"
        big.write_text(generate(200) + "\n", encoding="utf-8")
        books = {"alvh_core.alvh": HERE / "rulebooks" / "alvh_core.alvh", "200 rules": big}
        startup: dict[str, list[float]] = {}
        startup_cpu: dict[str, list[float]] = {}
        first: dict[str, list[float]] = {}
        trips: dict[tuple[str, str, str, float], list[tuple[float, float]]] = {}
        bursts: dict[tuple[str, str, float], list[float]] = {}
        for tree in trees.values():  # untimed: the disk cache and the bytecode
            Session(0.0, tree).close()
        for _ in range(reps):
            for debounce in (0.0, DEFAULT_DEBOUNCE):
                for tree_label, tree in trees.items():
                    session = Session(debounce, tree)
                    startup.setdefault(tree_label, []).append(session.startup)
                    startup_cpu.setdefault(tree_label, []).append(session.startup_cpu)
                    _open(session, books["alvh_core.alvh"])
                    first.setdefault(tree_label, []).append(time.perf_counter() - session.started)
                    for label, path in books.items():
                        _open(session, path)
                        version = 2
                        for kind in KINDS:
                            times = round_trips(session, path, 3, kind, version)
                            version += 3
                            key = (tree_label, label, kind, debounce)
                            trips.setdefault(key, []).extend(times[1:])  # 1st: warm-up
                        bursts.setdefault((tree_label, label, debounce), []).append(
                            burst(session, path, version)
                        )
                    session.close()
        in_process = {label: _in_process(path, reps) for label, path in books.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"alvh lsp, {reps} interleaved runs, medians (python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f})"
    )
    for tree_label in trees:
        print(
            f"  {tree_label}start-up to the initialize response: "
            f"{statistics.median(startup[tree_label]) * 1000:7.1f} ms"
            f"  (server CPU {statistics.median(startup_cpu[tree_label]) * 1000:5.0f} ms)"
        )
        print(
            f"  {tree_label}start-up to the first diagnostics:   "
            f"{statistics.median(first[tree_label]) * 1000:7.1f} ms"
        )
    for label, (whole, reused) in in_process.items():
        print(
            f"  check_buffer in process, {label:<15}: {whole * 1000:7.1f} ms CPU parsed whole, "
            f"{reused * 1000:7.1f} ms after a line edited"
        )
    for (tree_label, label, kind, debounce), times in trips.items():
        wall = statistics.median(t for t, _ in times) * 1000
        cpu = statistics.median(c for _, c in times) * 1000
        print(
            f"  {tree_label}{kind:<23} → diagnostics, {label:<15} debounce "
            f"{debounce * 1000:3.0f} ms: {wall:7.1f} ms  (target {TARGET * 1000:.0f} ms; "
            f"server CPU {cpu:5.0f} ms)"
        )
    for (tree_label, label, debounce), seconds in bursts.items():
        print(
            f"  {tree_label}last of a burst of {BURST} → diagnostics, {label:<15} debounce "
            f"{debounce * 1000:3.0f} ms: {statistics.median(seconds) * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
