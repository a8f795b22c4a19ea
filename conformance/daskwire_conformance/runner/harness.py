"""Channels to a testee: a subprocess over JSON lines with hard deadlines, or a Python object."""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import select
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Protocol

from daskwire_conformance.testee import PROTOCOL_VERSION, PROTOCOL_VERSIONS, Testee

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
    "clean_text",
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
#: Seconds a reply may still arrive after the testee's first process has exited.
EXIT_GRACE: Final = 0.5
#: Seconds between two looks at whether the testee's first process is still alive.
_POLL_SECONDS: Final = 0.05
#: Longest text of a message the runner keeps (testee-supplied text, cut with a note).
TEXT_LIMIT: Final = 2000
#: Longest short text kept: a category, a reason line, an implementation field.
SHORT_LIMIT: Final = 200

#: Characters shown escaped: C0 and C1 controls but tab and newline, DEL, surrogates (which
#: no UTF-8 output can hold) and the two XML non-characters.
_UNPRINTABLE: Final = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


#: The note that ends a text clean_text has cut; a second cut keeps its full length.
_CUT_NOTE: Final = re.compile(r" \[\.\.\. cut: (\d+) characters in all\]\Z")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def clean_text(text: str, limit: int = TEXT_LIMIT, *, keep: str = "head") -> str:
    """Testee-supplied text made safe for any output: at most `limit` characters, printable.

    Control characters (but tab and newline), lone surrogates and XML non-characters are
    shown as escapes. Longer text keeps its head (or, with keep="tail", its end) and a note of
    its full length. The result is left unchanged by a second call.
    """
    if len(text) <= limit and not _UNPRINTABLE.search(text):
        return text
    total = len(text)
    earlier = _CUT_NOTE.search(text) if keep == "head" else None
    if earlier is not None:  # cut before: keep the length of the original text
        text = text[: earlier.start()]
        total = int(earlier.group(1))
    part = text[-limit:] if keep == "tail" else text[:limit]
    safe = _UNPRINTABLE.sub(_escape, part.replace("\r\n", "\n"))
    if total <= limit and len(safe) <= limit and earlier is None:
        return safe
    if keep == "tail":
        room = max(0, limit - 48)
        shown = safe[len(safe) - room :] if room else ""
        return f"[... {total - len(shown)} earlier characters cut]\n{shown}"
    note = f" [... cut: {total} characters in all]"
    return safe[: max(0, limit - len(note))] + note


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
    #: How the testee's first process ended, for a `crash` (its return code), else None.
    status: int | None = None


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
        shown = clean_text(repr(outcome), SHORT_LIMIT)
        return f"reply outcome {shown} is not one of {', '.join(_OUTCOMES)}"
    if outcome == "ok" and not isinstance(reply.get("result"), dict):
        return "an ok reply needs a `result` object"
    if outcome == "rejected" and not isinstance(reply.get("category"), str):
        return "a rejected reply needs a `category` string"
    return None


def _start_request() -> dict[str, Any]:
    # `protocol` stays 1, which every testee reads; `protocols` offers 2 to those that know it.
    return {"cmd": "start", "protocol": PROTOCOL_VERSION, "protocols": list(PROTOCOL_VERSIONS)}


def check_start_result(reply: Mapping[str, Any]) -> Mapping[str, Any]:
    """Validate a start reply; return its result or raise HarnessError."""
    if reply.get("outcome") != "ok":
        detail = reply.get("message") or reply.get("reason") or reply.get("category") or ""
        outcome = clean_text(repr(reply.get("outcome")), SHORT_LIMIT)
        msg = f"testee refused start: outcome {outcome} {clean_text(str(detail))}".rstrip()
        raise HarnessError(msg)
    result = reply.get("result")
    if not isinstance(result, dict):
        msg = "start reply has no result object"
        raise HarnessError(msg)
    protocol = result.get("protocol")
    if protocol not in PROTOCOL_VERSIONS or isinstance(protocol, bool):
        spoken = " and ".join(str(v) for v in PROTOCOL_VERSIONS)
        msg = (
            f"testee speaks harness protocol {clean_text(repr(protocol), 100)}; "
            f"this runner speaks {spoken}"
        )
        raise HarnessError(msg)
    if protocol == PROTOCOL_VERSION:
        if not isinstance(result.get("capabilities"), dict):
            msg = "start result has no capabilities object"
            raise HarnessError(msg)
        _check_capabilities(result["capabilities"], "capabilities")
    else:
        profiles = result.get("profiles")
        if not isinstance(profiles, dict) or not profiles:
            msg = "a protocol 2 start result needs a profiles object of capabilities objects"
            raise HarnessError(msg)
        for name, caps in profiles.items():
            shown = clean_text(repr(name), 100)
            if not name or not isinstance(caps, dict):
                msg = f"profile {shown} of the start result needs a name and a capabilities object"
                raise HarnessError(msg)
            _check_capabilities(caps, f"the capabilities of profile {shown}")
    return result


def _check_capabilities(caps: Mapping[str, Any], where: str) -> None:
    """The lists of a capabilities object hold strings (spec/harness.md); raise HarnessError."""
    for key in ("directions", "codecs"):
        items = caps.get(key, [])
        if not isinstance(items, list) or not all(isinstance(i, str) for i in items):
            msg = f"{where}: {key} is not a list of strings"
            raise HarnessError(msg)


#: How many declared profile names a harness error shows.
_NAMES_SHOWN: Final = 5


def declared_profiles(result: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """Each profile a started testee implements, with its capabilities (protocol 1:
    placeholder-v1 only)."""
    from daskwire import PROFILE

    if result.get("protocol") == PROTOCOL_VERSION:
        return {PROFILE: result.get("capabilities") or {}}
    return dict(result.get("profiles") or {})


def profile_session(
    channel: Channel, result: Mapping[str, Any], profile: str
) -> tuple[Mapping[str, Any], Callable[[Mapping[str, Any]], Exchange]]:
    """The capabilities a started testee declared for `profile`, and a function that sends
    requests for it (protocol 2 requests name the profile). Raises HarnessError when the
    testee does not implement `profile`."""
    declared = declared_profiles(result)
    if profile not in declared:
        shown = [clean_text(repr(n), 100) for n in list(declared)[:_NAMES_SHOWN]]
        more = len(declared) - len(shown)
        names = ", ".join(shown) + (f" and {more} more" if more > 0 else "")
        msg = f"the testee implements the profiles {names}, not {profile}"
        raise HarnessError(msg)
    if result.get("protocol") == PROTOCOL_VERSION:
        return declared[profile], channel.request

    def send(body: Mapping[str, Any]) -> Exchange:
        return channel.request({**body, "profile": profile})

    return declared[profile], send


Validator = Callable[[str, Mapping[str, Any]], str | None]
#: The harness error of a channel used after `abort`.
_ABORTED: Final = "the run was interrupted; the testee was killed"


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
            shown = clean_text(repr(reply["seq"]), 100)
            problem = f"reply seq {shown} does not echo request seq {self._seq}"
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
            return [clean_text(f"stop was not acknowledged: {exchange.message or exchange.reply}")]
        return []

    def abort(self) -> None:
        """Nothing to kill in process."""


@dataclass(slots=True)
class _StderrTap:
    """Drains a pipe in a thread; keeps the newest bytes and a running byte count.

    Reads happen under the lock, and `since` first drains what the pipe already holds, so
    that stderr a testee wrote before its reply is in that reply's exchange: the two pipes
    are read by different threads, and the reply can be read first.
    """

    keep: int
    total: int = 0
    #: The byte count up to which stderr went into an exchange; what comes after it belongs to
    #: the next exchange, even when it was written before that request was sent.
    claimed: int = 0
    data: bytearray = field(default_factory=bytearray)
    lock: threading.Lock = field(default_factory=threading.Lock)
    done: threading.Event = field(default_factory=threading.Event)
    fd: int = -1

    def run(self, fd: int) -> None:
        self.fd = fd
        os.set_blocking(fd, False)
        try:
            while not self.done.is_set():
                with contextlib.suppress(OSError, ValueError):  # closed under us: see close()
                    select.select([fd], [], [], _POLL_SECONDS)
                with self.lock:
                    self._drain()
        finally:
            self.done.set()

    def close(self) -> None:
        """Stop reading before the pipe is closed, so that its number is never read again."""
        with self.lock:
            self.fd = -1
            self.done.set()

    def _drain(self) -> None:
        """Read what the pipe holds now, without waiting (the lock is held); EOF ends the tap."""
        while not self.done.is_set() and self.fd >= 0:
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                return
            except OSError:
                chunk = b""
            if not chunk:
                self.done.set()
                return
            self.total += len(chunk)
            self.data += chunk
            if len(self.data) > self.keep:
                del self.data[: len(self.data) - self.keep]

    def since(self, mark: int) -> str:
        """Text written after byte count `mark`, at most `keep` bytes of it."""
        with self.lock:
            self._drain()
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

    def close_stdin(self) -> None:
        """End the testee's input (the writer closes the pipe after what it has queued)."""
        self.outbox.put(None)

    def receive(self, deadline: float) -> tuple[str, bytes]:
        """The next line, `eof`, `oversize`, `timeout`, or `exit`: the first process ended
        without a reply while something it started still holds its standard output."""
        exited_at: float | None = None
        while True:
            now = time.monotonic()
            if now >= deadline:
                return ("timeout", b"")
            wait = deadline - now
            if exited_at is None:
                wait = min(wait, _POLL_SECONDS)
            else:
                wait = min(wait, exited_at + EXIT_GRACE - now)
            try:
                return self.lines.get(timeout=max(wait, 0.0))
            except queue.Empty:
                pass
            if exited_at is not None:
                if time.monotonic() >= exited_at + EXIT_GRACE:
                    return ("exit", b"")
            elif self.exited():
                exited_at = time.monotonic()  # a reply written just before the exit may follow

    def exited(self) -> bool:
        """True once the first process has ended; it is not reaped, so its process group id
        stays reserved until `kill` has signalled the group."""
        if self.proc.returncode is not None:
            return True
        if hasattr(os, "waitid"):
            try:
                info = os.waitid(os.P_PID, self.proc.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT)
            except ChildProcessError:
                return True
            return info is not None
        return self.proc.poll() is not None  # pragma: no cover - platforms without waitid

    def wait_exit(self, seconds: float) -> bool:
        """Wait up to `seconds` for the first process to end (without reaping it)."""
        deadline = time.monotonic() + seconds
        while not self.exited():
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(_POLL_SECONDS / 2, max(0.0, deadline - time.monotonic())))
        return True

    def kill(self) -> int | None:
        """End the testee and everything left in its process group, at once; return the first
        process's status. The group is killed whether or not that process is still alive:
        what it started must not outlive it (never a polite wait)."""
        if os.name == "posix":
            with contextlib.suppress(OSError):
                os.killpg(self.proc.pid, signal.SIGKILL)
        elif self.proc.returncode is None:  # pragma: no cover - no process groups
            with contextlib.suppress(OSError):
                self.proc.kill()
        self.reap()
        return self.proc.returncode

    def reap(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(timeout=5)
        self.close_stdin()
        self.stderr.done.wait(0.5)
        self.stderr.close()
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
        self._aborted = False

    # -- one request over the current process ------------------------------------------------

    def _exchange(self, body: Mapping[str, Any], timeout: float) -> Exchange:
        """One request and its reply, with the stderr the testee wrote since the last exchange:
        a testee that writes why it fails and exits before it reads the request (a busy
        machine starts the request late) still gets its words into the verdict."""
        proc = self._proc
        assert proc is not None
        mark = proc.stderr.claimed
        exchange = self._exchange_from(body, timeout, proc, mark)
        proc.stderr.claimed = proc.stderr.total
        return exchange

    def _exchange_from(
        self, body: Mapping[str, Any], timeout: float, proc: _Process, mark: int
    ) -> Exchange:
        self._seq += 1
        seq = self._seq
        request = {"seq": seq, **body}
        if self._validate is not None:
            problem = self._validate("request", request)
            if problem:
                return Exchange(reply=None, failure="protocol", message=f"runner bug: {problem}")
        began = time.monotonic()
        proc.send(json.dumps(request, separators=(",", ":")).encode() + b"\n")
        kind, data = proc.receive(began + timeout)
        seconds = time.monotonic() - began
        status: int | None = None
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
        elif kind == "exit":  # the first process died; something it started holds stdout
            status = proc.kill()
            self._proc = None
            message = (
                f"testee {describe_status(status)} without replying; "
                "the processes it left were killed"
            )
            kind = "crash"
        else:  # eof: the testee closed stdout, exited or crashed
            exited = proc.wait_exit(1.0)
            status = proc.kill()
            self._proc = None
            tail = f"; unterminated output {data!r}" if data else ""
            how = describe_status(status) if exited else "still running; killed"
            message = f"testee closed its stdout ({how}){tail}"
            kind = "crash"
        return Exchange(
            reply=None,
            failure=kind,
            message=message,
            stderr=proc.stderr.since(mark),
            seconds=seconds,
            status=status,
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
        if self._aborted:
            raise HarnessError(_ABORTED)
        self._proc = _Process(self.argv, cap=self.max_reply_bytes, env=self.env)
        if self._aborted:  # abort() ran while the process started: it may not have seen it
            self._proc.kill()
            self._proc = None
            raise HarnessError(_ABORTED)
        exchange = self._exchange(_start_request(), self.start_timeout)
        if exchange.reply is None:
            if self._proc is not None:
                self._proc.kill()
                self._proc = None
            stderr = clean_text(exchange.stderr.rstrip(), STDERR_KEEP_BYTES, keep="tail")
            stderr = f"\n--- testee stderr ---\n{stderr}" if stderr else ""
            msg = f"testee did not answer start: {clean_text(exchange.message)}{stderr}"
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
        if self._aborted:
            raise HarnessError(_ABORTED)
        if self.restarts >= self.max_restarts:
            msg = f"testee restart budget exhausted ({self.max_restarts} restarts)"
            raise HarnessError(msg)
        self.restarts += 1
        result = self._launch()
        before = self._start_result
        if before is not None and result.get("protocol") != before.get("protocol"):
            self.close()
            msg = "testee spoke another harness protocol after a restart"
            raise HarnessError(msg)
        if before is not None and declared_profiles(result) != declared_profiles(before):
            self.close()
            msg = "testee declared different capabilities after a restart"
            raise HarnessError(msg)

    def request(self, body: Mapping[str, Any]) -> Exchange:
        """Send one request (see Channel.request); may restart a dead testee first."""
        self._ensure()
        return self._exchange(body, self.timeout)

    def close(self) -> list[str]:
        """Send `stop`, close the testee's stdin, wait briefly for a clean exit, then end its
        process group, whatever is left of it (see Channel.close)."""
        proc = self._proc
        if proc is None:
            return []
        notes: list[str] = []
        exchange = self._exchange({"cmd": "stop"}, min(self.timeout, STOP_GRACE))
        if exchange.reply is None and exchange.failure != "crash":
            notes.append(f"stop was not acknowledged: {clean_text(exchange.message)}")
        elif exchange.failure == "crash" and exchange.status != 0:
            notes.append(f"testee {describe_status(exchange.status)} after stop")
        proc.close_stdin()
        if proc is self._proc:
            exited = proc.wait_exit(STOP_GRACE)
            status = proc.kill()
            if not exited:
                notes.append(f"testee still running {STOP_GRACE:g} s after stop; killed")
            elif status != 0:
                notes.append(f"testee {describe_status(status)} after stop")
        self._proc = None
        return notes

    def abort(self) -> None:
        """Kill the testee at once and start no other (see Channel.abort)."""
        self._aborted = True
        proc = self._proc
        if proc is not None:
            proc.kill()
            self._proc = None

    def __del__(self) -> None:
        proc = self._proc
        if proc is not None and sys is not None:
            with contextlib.suppress(Exception):
                proc.kill()
