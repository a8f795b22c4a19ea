"""Channels to a testee: a subprocess over JSON lines with hard deadlines, or a Python object."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from daskwire_conformance.testee import PROTOCOL_VERSION, Testee

__all__ = [
    "DEFAULT_MAX_REPLY_BYTES",
    "DEFAULT_MAX_RESTARTS",
    "DEFAULT_START_TIMEOUT",
    "DEFAULT_TIMEOUT",
    "STDERR_KEEP_BYTES",
    "Channel",
    "Exchange",
    "HarnessError",
    "InProcessChannel",
    "ProcessChannel",
    "check_reply_shape",
]

#: Seconds the runner waits for one reply before it kills the testee.
DEFAULT_TIMEOUT: Final = 10.0
#: Seconds a freshly started testee has to answer `start`.
DEFAULT_START_TIMEOUT: Final = 30.0
#: Restarts of a crashed or killed testee allowed per channel before the run is abandoned.
DEFAULT_MAX_RESTARTS: Final = 10
#: Longest reply line accepted from a testee; a longer one is an error, never buffered whole.
DEFAULT_MAX_REPLY_BYTES: Final = 256 * 2**20
#: Bytes of a testee's stderr kept per request (the most recent ones).
STDERR_KEEP_BYTES: Final = 16 * 1024
#: Seconds granted to a testee to exit after `stop` before it is killed.
STOP_GRACE: Final = 2.0

_OUTCOMES: Final = ("ok", "rejected", "skipped", "errored")


class HarnessError(Exception):
    """The testee cannot be used at all: it did not start, failed the handshake or kept dying."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Exchange:
    """One request and what came back: a reply, or a transport failure the runner observed.

    `failure` is None for a well-formed reply; otherwise one of `timeout`, `crash`,
    `garbage`, `wrong-seq`, `oversize`, `protocol` (reply parsed but malformed), and
    `message` explains it. `stderr` is what the testee wrote to stderr meanwhile (bounded).
    """

    reply: Mapping[str, Any] | None
    failure: str | None = None
    message: str = ""
    stderr: str = ""
    seconds: float = 0.0


class Channel(Protocol):
    """A live connection to a testee."""

    def start(self) -> Mapping[str, Any]:
        """Send `start`; return its `result` or raise HarnessError."""
        ...

    def request(self, body: Mapping[str, Any]) -> Exchange:
        """Send one request (without `seq`) and wait, within the deadline, for its reply."""
        ...

    def close(self) -> list[str]:
        """Send `stop` and release the testee; return notes about anything odd."""
        ...

    def abort(self) -> None:
        """Kill the testee now, from any thread (used when the run is interrupted)."""
        ...


def check_reply_shape(reply: Any) -> str | None:
    """Return what is wrong with a reply object's envelope, or None when it is well formed."""
    if not isinstance(reply, dict):
        return f"a reply is a JSON object, not {type(reply).__name__}"
    outcome = reply.get("outcome")
    if outcome not in _OUTCOMES:
        return f"reply outcome {outcome!r} is not one of {', '.join(_OUTCOMES)}"
    if outcome == "ok" and not isinstance(reply.get("result"), dict):
        return "an ok reply needs a `result` object"
    if outcome == "rejected" and not isinstance(reply.get("category"), str):
        return "a rejected reply needs a `category` string"
    return None


def _start_request() -> dict[str, Any]:
    return {"cmd": "start", "protocol": PROTOCOL_VERSION}


def check_start_result(reply: Mapping[str, Any]) -> Mapping[str, Any]:
    """Validate a start reply; return its result or raise HarnessError."""
    if reply.get("outcome") != "ok":
        detail = reply.get("message") or reply.get("reason") or reply.get("category") or ""
        msg = f"testee refused start: outcome {reply.get('outcome')!r} {detail}".rstrip()
        raise HarnessError(msg)
    result = reply.get("result")
    if not isinstance(result, dict):
        msg = "start reply has no result object"
        raise HarnessError(msg)
    if result.get("protocol") != PROTOCOL_VERSION:
        msg = (
            f"testee speaks harness protocol {result.get('protocol')!r}; "
            f"this runner speaks {PROTOCOL_VERSION}"
        )
        raise HarnessError(msg)
    if not isinstance(result.get("capabilities"), dict):
        msg = "start result has no capabilities object"
        raise HarnessError(msg)
    return result


Validator = Callable[[str, Mapping[str, Any]], str | None]


class InProcessChannel:
    """A testee object called directly: no IPC, no deadline (a hung call hangs the run)."""

    def __init__(self, testee: Testee, *, validate: Validator | None = None) -> None:
        self._testee = testee
        self._seq = 0
        self._validate = validate

    def _call(self, body: Mapping[str, Any]) -> Exchange:
        self._seq += 1
        request = {"seq": self._seq, **body}
        if self._validate is not None:
            problem = self._validate("request", request)
            if problem:
                return Exchange(reply=None, failure="protocol", message=f"runner bug: {problem}")
        began = time.perf_counter()
        try:
            reply: Any = self._testee.handle(request)
        except Exception:
            seconds = time.perf_counter() - began
            text = traceback.format_exc(limit=-8)
            return Exchange(reply={"outcome": "errored", "message": text}, seconds=seconds)
        seconds = time.perf_counter() - began
        if isinstance(reply, Mapping) and not isinstance(reply, dict):
            reply = dict(reply)
        problem = check_reply_shape(reply)
        if problem is None and "seq" in reply and reply["seq"] != self._seq:
            problem = f"reply seq {reply['seq']!r} does not echo request seq {self._seq}"
        if problem is None and self._validate is not None:
            problem = self._validate(f"reply:{body.get('cmd')}", {"seq": self._seq, **reply})
        if problem:
            return Exchange(reply=None, failure="protocol", message=problem, seconds=seconds)
        return Exchange(reply=reply, seconds=seconds)

    def start(self) -> Mapping[str, Any]:
        """Send `start` to the object (see Channel.start)."""
        exchange = self._call(_start_request())
        if exchange.reply is None:
            msg = f"start failed: {exchange.message}"
            raise HarnessError(msg)
        return check_start_result(exchange.reply)

    def request(self, body: Mapping[str, Any]) -> Exchange:
        """Call the object with one request (see Channel.request)."""
        return self._call(body)

    def close(self) -> list[str]:
        """Send `stop` (see Channel.close)."""
        exchange = self._call({"cmd": "stop"})
        if exchange.reply is None or exchange.reply.get("outcome") != "ok":
            return [f"stop was not acknowledged: {exchange.message or exchange.reply}"]
        return []

    def abort(self) -> None:
        """Nothing to kill in process."""


@dataclass(slots=True)
class _StderrTap:
    """Drains a pipe in a thread; keeps the newest bytes and a running byte count."""

    keep: int
    total: int = 0
    data: bytearray = field(default_factory=bytearray)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)

    def run(self, fd: int) -> None:
        try:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    break
                if not chunk:
                    break
                with self.lock:
                    self.total += len(chunk)
                    self.data += chunk
                    if len(self.data) > self.keep:
                        del self.data[: len(self.data) - self.keep]
        finally:
            self.done.set()

    def since(self, mark: int) -> str:
        """Text written after byte count `mark`, at most `keep` bytes of it."""
        with self.lock:
            new = self.total - mark
            if new <= 0:
                return ""
            kept = bytes(self.data[-min(new, len(self.data)) :]) if self.data else b""
        text = kept.decode("utf-8", "replace")
        dropped = new - len(kept)
        return f"[... {dropped} earlier bytes dropped]\n{text}" if dropped > 0 else text


def _read_lines(fd: int, out: queue.SimpleQueue[tuple[str, bytes]], cap: int) -> None:
    """Split a pipe into lines for the runner; stop at EOF or at a line longer than `cap`."""
    buf = bytearray()
    scan = 0
    while True:
        try:
            chunk = os.read(fd, 1 << 16)
        except OSError:
            chunk = b""
        if not chunk:
            out.put(("eof", bytes(buf[:200])))
            return
        buf += chunk
        while True:
            end = buf.find(b"\n", scan)
            if end < 0:
                scan = len(buf)
                break
            if end > cap:
                out.put(("oversize", str(end).encode()))
                return
            out.put(("line", bytes(buf[:end])))
            del buf[: end + 1]
            scan = 0
        if len(buf) > cap:
            out.put(("oversize", str(len(buf)).encode()))
            return


class _Process:
    """One running testee process with its reader, writer and stderr threads."""

    def __init__(self, argv: Sequence[str], *, cap: int, env: Mapping[str, str] | None) -> None:
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
        try:
            self.proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                bufsize=0,
                env=dict(env) if env is not None else None,
                **kwargs,
            )
        except OSError as exc:
            msg = f"cannot start testee {' '.join(argv)!r}: {exc}"
            raise HarnessError(msg) from exc
        assert self.proc.stdout is not None
        assert self.proc.stderr is not None
        self.lines: queue.SimpleQueue[tuple[str, bytes]] = queue.SimpleQueue()
        self.outbox: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        self.stderr = _StderrTap(keep=STDERR_KEEP_BYTES)
        self._threads = [
            threading.Thread(
                target=_read_lines, args=(self.proc.stdout.fileno(), self.lines, cap), daemon=True
            ),
            threading.Thread(
                target=self.stderr.run, args=(self.proc.stderr.fileno(),), daemon=True
            ),
            threading.Thread(target=self._write, daemon=True),
        ]
        for thread in self._threads:
            thread.start()

    def _write(self) -> None:
        stdin = self.proc.stdin
        assert stdin is not None
        while True:
            data = self.outbox.get()
            if data is None:
                with contextlib.suppress(OSError):
                    stdin.close()
                return
            try:
                stdin.write(data)
                stdin.flush()
            except OSError:
                return

    def send(self, data: bytes) -> None:
        self.outbox.put(data)

    def receive(self, deadline: float) -> tuple[str, bytes]:
        timeout = deadline - time.monotonic()
        if timeout <= 0:
            return ("timeout", b"")
        try:
            return self.lines.get(timeout=timeout)
        except queue.Empty:
            return ("timeout", b"")

    def exit_status(self, wait: float) -> int | None:
        try:
            return self.proc.wait(timeout=wait)
        except subprocess.TimeoutExpired:
            return None

    def kill(self) -> None:
        """Kill the testee (and its process group) at once; never a polite wait."""
        if self.proc.poll() is None:
            if os.name == "posix":
                with contextlib.suppress(OSError):
                    os.killpg(self.proc.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                self.proc.kill()
        self.reap()

    def reap(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.outbox.put(None)
        self.stderr.done.wait(0.5)
        for pipe in (self.proc.stdout, self.proc.stderr):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()


def describe_status(status: int | None) -> str:
    """Say how a process ended, from its return code."""
    if status is None:
        return "still running"
    if status < 0:
        try:
            return f"killed by signal {signal.Signals(-status).name}"
        except ValueError:
            return f"killed by signal {-status}"
    return f"exited with status {status}"


class ProcessChannel:
    """A testee subprocess speaking JSON lines; the runner owns every deadline.

    A crash, early exit, timeout, garbage line, wrong `seq` or oversized line fails the
    current request, kills the process, and the next request starts a new one (replaying
    `start`), until `max_restarts` is spent: then HarnessError.
    """

    def __init__(
        self,
        argv: Sequence[str],
        *,
        timeout: float = DEFAULT_TIMEOUT,
        start_timeout: float = DEFAULT_START_TIMEOUT,
        max_restarts: int = DEFAULT_MAX_RESTARTS,
        max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES,
        env: Mapping[str, str] | None = None,
        validate: Validator | None = None,
    ) -> None:
        self.argv = list(argv)
        self.timeout = timeout
        self.start_timeout = start_timeout
        self.max_restarts = max_restarts
        self.max_reply_bytes = max_reply_bytes
        self.env = env
        self.restarts = 0
        self._validate = validate
        self._seq = 0
        self._proc: _Process | None = None
        self._start_result: Mapping[str, Any] | None = None

    # -- one request over the current process ------------------------------------------------

    def _exchange(self, body: Mapping[str, Any], timeout: float) -> Exchange:
        proc = self._proc
        assert proc is not None
        self._seq += 1
        seq = self._seq
        request = {"seq": seq, **body}
        if self._validate is not None:
            problem = self._validate("request", request)
            if problem:
                return Exchange(reply=None, failure="protocol", message=f"runner bug: {problem}")
        mark = proc.stderr.total
        began = time.monotonic()
        proc.send(json.dumps(request, separators=(",", ":")).encode() + b"\n")
        kind, data = proc.receive(began + timeout)
        seconds = time.monotonic() - began
        if kind == "line":
            return self._judge_line(data, seq, str(body.get("cmd")), mark, seconds)
        if kind == "timeout":
            proc.kill()
            self._proc = None
            message = f"no reply within {timeout:g} s; testee killed"
        elif kind == "oversize":
            proc.kill()
            self._proc = None
            message = (
                f"reply line longer than {self.max_reply_bytes} bytes "
                f"(at least {data.decode()}); testee killed"
            )
            kind = "oversize"
        else:  # eof: the testee closed stdout, exited or crashed
            status = proc.exit_status(1.0)
            if status is None:
                proc.kill()
                status = proc.proc.returncode
            else:
                proc.reap()
            self._proc = None
            tail = f"; unterminated output {data!r}" if data else ""
            message = f"testee closed its stdout ({describe_status(status)}){tail}"
            kind = "crash"
        return Exchange(
            reply=None,
            failure=kind,
            message=message,
            stderr=proc.stderr.since(mark),
            seconds=seconds,
        )

    def _judge_line(self, data: bytes, seq: int, cmd: str, mark: int, seconds: float) -> Exchange:
        proc = self._proc
        assert proc is not None
        try:
            reply = json.loads(data)
        except ValueError as exc:
            proc.kill()
            self._proc = None
            return Exchange(
                reply=None,
                failure="garbage",
                message=f"stdout line is not JSON ({exc}): {data[:120]!r}; testee killed",
                stderr=proc.stderr.since(mark),
                seconds=seconds,
            )
        problem = check_reply_shape(reply)
        if problem is None and (type(reply.get("seq")) is not int or reply["seq"] != seq):
            proc.kill()
            self._proc = None
            return Exchange(
                reply=None,
                failure="wrong-seq",
                message=f"reply seq {reply.get('seq')!r} does not echo request seq {seq}; "
                "testee killed",
                stderr=proc.stderr.since(mark),
                seconds=seconds,
            )
        if problem is None and self._validate is not None:
            problem = self._validate(f"reply:{cmd}", reply)
        if problem:
            return Exchange(
                reply=None,
                failure="protocol",
                message=problem,
                stderr=proc.stderr.since(mark),
                seconds=seconds,
            )
        return Exchange(reply=reply, stderr=proc.stderr.since(mark), seconds=seconds)

    # -- life cycle ----------------------------------------------------------------------------

    def _launch(self) -> Mapping[str, Any]:
        self._proc = _Process(self.argv, cap=self.max_reply_bytes, env=self.env)
        exchange = self._exchange(_start_request(), self.start_timeout)
        if exchange.reply is None:
            if self._proc is not None:
                self._proc.kill()
                self._proc = None
            stderr = (
                f"\n--- testee stderr ---\n{exchange.stderr.rstrip()}" if exchange.stderr else ""
            )
            msg = f"testee did not answer start: {exchange.message}{stderr}"
            raise HarnessError(msg)
        try:
            return check_start_result(exchange.reply)
        except HarnessError:
            if self._proc is not None:
                self._proc.kill()
            self._proc = None
            raise

    def start(self) -> Mapping[str, Any]:
        """Start the process and handshake (see Channel.start)."""
        self._start_result = self._launch()
        return self._start_result

    def _ensure(self) -> None:
        if self._proc is not None:
            return
        if self.restarts >= self.max_restarts:
            msg = f"testee restart budget exhausted ({self.max_restarts} restarts)"
            raise HarnessError(msg)
        self.restarts += 1
        result = self._launch()
        before = self._start_result
        if before is not None and result.get("capabilities") != before.get("capabilities"):
            self.close()
            msg = "testee declared different capabilities after a restart"
            raise HarnessError(msg)

    def request(self, body: Mapping[str, Any]) -> Exchange:
        """Send one request (see Channel.request); may restart a dead testee first."""
        self._ensure()
        return self._exchange(body, self.timeout)

    def close(self) -> list[str]:
        """Send `stop`, wait briefly for a clean exit, then kill (see Channel.close)."""
        proc = self._proc
        if proc is None:
            return []
        notes: list[str] = []
        exchange = self._exchange({"cmd": "stop"}, min(self.timeout, STOP_GRACE))
        if exchange.reply is None and exchange.failure != "crash":
            notes.append(f"stop was not acknowledged: {exchange.message}")
        proc = self._proc or proc
        status = proc.exit_status(STOP_GRACE)
        if status is None:
            notes.append(f"testee still running {STOP_GRACE:g} s after stop; killed")
            proc.kill()
        else:
            proc.reap()
            if status != 0:
                notes.append(f"testee {describe_status(status)} after stop")
        self._proc = None
        return notes

    def abort(self) -> None:
        """Kill the current process at once (see Channel.abort)."""
        proc = self._proc
        if proc is not None:
            proc.kill()

    def __del__(self) -> None:
        proc = self._proc
        if proc is not None and sys is not None:
            with contextlib.suppress(Exception):
                proc.kill()
