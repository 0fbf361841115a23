"""`alvh lsp`: start-up, and the diagnostics round trip after a change (issue 12).

Run: ``python benchmarks/bench_lsp.py``. Times, as an editor sees them:

- start-up: from starting the process to the ``initialize`` response, and to the first
  diagnostics of the reference book opened right after it;
- round trip: from sending ``didChange`` to receiving the ``publishDiagnostics`` of that
  version. The change is the whole text with a param added at the top (every line below
  it moves, so nothing of the buffer's last check can be reused as it was), sent after a
  pause (:data:`PAUSE`, a user who stopped typing: the server checks it at once); with
  the server's debounce at 0 and at its default, which a single edit must not wait for;
- a burst: :data:`BURST` changes :data:`BURST_GAP` apart, timed from the last one sent
  to its diagnostics (the burst's debounce, then one check).

On the reference book (rulebooks/alvh_core.alvh) and on a generated 200-rule book
(benchmarks/bench_scale.py's generator). Runs are interleaved (each book, each debounce,
then again) and medians reported beside the target, with the server's CPU time per
change (from ``/proc``, on Linux: what the change costs whatever else the machine is
doing), and the in-process cost of checking the buffer
(:func:`alvh_dsl.lsp.checking.check_buffer`: parse and check, what every change costs
before any LSP overhead, in CPU time). ``REPS=9`` sets the repetitions. The target
(issue 12) is diagnostics within 50 ms of a change on 200 rules.
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
from bench_scale import generate  # noqa: E402

from alvh_dsl.lsp.server import DEFAULT_DEBOUNCE  # noqa: E402

SERVER = [sys.executable, "-c", "from alvh_dsl.cli import main; main()", "lsp"]
TARGET = 0.050  # seconds, change to diagnostics on 200 rules (issue 12)
PAUSE = 0.25  # seconds before a timed change: longer than any debounce measured
BURST, BURST_GAP = 5, 0.01


class Session:
    """A bare JSON-RPC client over the server's pipes (no client library in the timing)."""

    def __init__(self, debounce: float) -> None:
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            SERVER, stdin=subprocess.PIPE, stdout=subprocess.PIPE, cwd=HERE
        )
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
        """The server process's CPU seconds so far (``nan`` where ``/proc`` is missing)."""
        try:
            fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return float("nan")
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def close(self) -> None:
        self.request("shutdown", {})
        self.notify("exit", {})
        self.proc.wait(timeout=30)


def _edited(text: str, version: int) -> str:
    return text.replace("param", f"param p{version} = {version}\nparam", 1)


def _change(session: Session, uri: str, text: str, version: int) -> None:
    session.notify("textDocument/didChange", {
        "textDocument": {"uri": uri, "version": version},
        "contentChanges": [{"text": text}],
    })  # fmt: skip


def round_trips(session: Session, path: Path, changes: int) -> list[tuple[float, float]]:
    """Open ``path``, then time ``changes`` whole-text changes, each after a pause, to
    their diagnostics: wall seconds and the server's CPU seconds, each."""
    uri = path.as_uri()
    text = path.read_text(encoding="utf-8")
    session.notify("textDocument/didOpen", {
        "textDocument": {"uri": uri, "languageId": "alvh", "version": 1, "text": text},
    })  # fmt: skip
    session.diagnostics(uri, 1)
    out = []
    for version in range(2, changes + 2):
        edited = _edited(text, version)
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


def _in_process(path: Path, reps: int) -> float:
    from alvh_dsl.lsp.checking import check_buffer

    text = path.read_text(encoding="utf-8")
    check_buffer(str(path), text)  # the parser's tables, once per process
    times = []
    for _ in range(reps):
        start = time.process_time()  # CPU: what a shared machine's load does not inflate
        check_buffer(str(path), text)
        times.append(time.process_time() - start)
    return statistics.median(times)


def main() -> None:
    reps = int(os.environ.get("REPS", "9"))
    with tempfile.TemporaryDirectory(prefix="alvh-bench-lsp-") as tmp:
        big = Path(tmp) / "rules_200.alvh"
        big.write_text(generate(200) + "\n", encoding="utf-8")
        books = {"alvh_core.alvh": HERE / "rulebooks" / "alvh_core.alvh", "200 rules": big}
        startup: list[float] = []
        startup_cpu: list[float] = []
        first: list[float] = []
        trips: dict[tuple[str, float], list[tuple[float, float]]] = {}
        bursts: dict[tuple[str, float], list[float]] = {}
        for _ in range(reps):
            for debounce in (0.0, DEFAULT_DEBOUNCE):
                session = Session(debounce)
                startup.append(session.startup)
                startup_cpu.append(session.startup_cpu)
                core = books["alvh_core.alvh"]
                session.notify("textDocument/didOpen", {"textDocument": {
                    "uri": core.as_uri(), "languageId": "alvh", "version": 1,
                    "text": core.read_text(encoding="utf-8"),
                }})  # fmt: skip
                session.diagnostics(core.as_uri(), 1)
                first.append(time.perf_counter() - session.started)
                for label, path in books.items():
                    times = round_trips(session, path, 3)
                    trips.setdefault((label, debounce), []).extend(times[1:])  # 1st: warm-up
                    bursts.setdefault((label, debounce), []).append(burst(session, path, 10))
                session.close()
        in_process = {label: _in_process(path, reps) for label, path in books.items()}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"alvh lsp, {reps} interleaved runs, medians (python {sys.version.split()[0]}, "
        f"{os.cpu_count()} CPUs, load average {load:.1f})"
    )
    print(
        f"  start-up to the initialize response: {statistics.median(startup) * 1000:7.1f} ms"
        f"  (server CPU {statistics.median(startup_cpu) * 1000:5.0f} ms)"
    )
    print(f"  start-up to the first diagnostics:   {statistics.median(first) * 1000:7.1f} ms")
    for label, seconds in in_process.items():
        print(f"  check_buffer in process, {label:<15}:       {seconds * 1000:7.1f} ms CPU")
    for (label, debounce), times in trips.items():
        wall = statistics.median(t for t, _ in times) * 1000
        cpu = statistics.median(c for _, c in times) * 1000
        print(
            f"  change → diagnostics, {label:<15} debounce {debounce * 1000:3.0f} ms: "
            f"{wall:7.1f} ms  (target {TARGET * 1000:.0f} ms; server CPU {cpu:5.0f} ms)"
        )
    for (label, debounce), seconds in bursts.items():
        print(
            f"  last of a burst of {BURST} → diagnostics, {label:<15} debounce "
            f"{debounce * 1000:3.0f} ms: {statistics.median(seconds) * 1000:7.1f} ms"
        )


if __name__ == "__main__":
    main()
