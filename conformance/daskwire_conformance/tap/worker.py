"""The decoding thread: decodes views of forwarded chunks, bounded by a backlog per connection
and one over all connections."""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Final

from daskwire.limits import Limits

from daskwire_conformance.traffic.limits import TOOL_LIMITS

from .buffers import Arena
from .lines import stamp
from .session import Event, Session

__all__ = ["DEFAULT_MAX_BACKLOG", "DEFAULT_MAX_TOTAL_BACKLOG", "GATHER_SECONDS", "DecodeWorker"]

#: Bytes a connection's decoding may fall behind (queued, plus held for the message being
#: read, including the copy of frame 0 kept to find its markers and `BYTES_PER_FRAME` per
#: frame the message declares) before the tap stops decoding it; forwarding never waits for
#: decoding.
DEFAULT_MAX_BACKLOG: Final = 32 << 20
#: The same over all connections together: a chunk that would take the tap's decoding
#: further behind stops decoding the connection it belongs to.
DEFAULT_MAX_TOTAL_BACKLOG: Final = 256 << 20
#: Seconds the decoding thread waits, once woken by a chunk with nothing else queued, before
#: it decodes: the chunks that arrive meanwhile are decoded in the same turn. The thread then
#: takes the interpreter lock from the forwarding thread once per turn, not once per chunk:
#: the hand-overs, not the decoding, were most of the latency the tap added to small messages
#: (`bench/bench_tap.py`: some 200 us a message without the wait, some 30 us with it).
#: Decoding runs this much later; forwarding never waits for it.
GATHER_SECONDS: Final = 0.001


class DecodeWorker:
    """Decodes every connection's events in one thread, in the order they happened.

    Its lines go to `emit`, called from that thread (it may wait for the output); a backlog
    notice is made in the forwarding thread and goes to `say`, which must never wait."""

    def __init__(
        self,
        emit: Callable[[str], None],
        *,
        say: Callable[[str], None] | None = None,
        recycle: Callable[[Arena], None] | None = None,
        max_backlog: int = DEFAULT_MAX_BACKLOG,
        max_total_backlog: int = DEFAULT_MAX_TOTAL_BACKLOG,
        limits: Limits = TOOL_LIMITS,
    ) -> None:
        self._emit = emit
        self._say = say if say is not None else emit
        self._recycle = recycle
        self._max_backlog = max_backlog
        self._max_total = max_total_backlog
        self._queue: queue.SimpleQueue[Event | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        #: Per connection being decoded: bytes queued, and bytes its decoding holds.
        self._pending: dict[int, int] = {}
        self._held: dict[int, int] = {}
        #: Connections open whose decoding stopped: only their byte counts still pass.
        self._dropped: set[int] = set()
        self._total = 0
        self.session = Session(limits=limits)
        self._thread = threading.Thread(target=self._run, name="daskwire-tap-decode", daemon=True)
        #: Connections whose decoding stopped because it fell behind.
        self.stopped_decoding = 0
        #: Set when `stop` gave up waiting: the thread ends without another line.
        self._abandoned = False

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def put(self, event: Event) -> bool:
        """Queue an event; never waits for decoding. A chunk is not decoded, and its
        connection's decoding stops, when that connection's decoding is more than the
        backlog behind, or the tap's over all connections more than the total backlog.

        True when a chunk is queued for decoding: its read buffer (`Event.buffer`) is then
        the decoding thread's to give back; else it stays the caller's."""
        n = event.connection
        notice = ""
        queued = False
        with self._lock:
            if event.kind == "open":
                self._pending[n] = 0
                self._held[n] = 0
            elif n in self._dropped:
                if event.kind == "data":  # only its size: the closed line counts it
                    event = Event(n, "skip", event.when, event.direction, size=len(event.data))
                elif event.kind == "close":
                    self._dropped.discard(n)
            elif n not in self._pending:
                return False
            elif event.kind == "data":
                notice = self._admit(n, _cost(event))
                if notice:
                    self._stop(n)
                    self._queue.put(Event(n, "drop", event.when))
                    event = Event(n, "skip", event.when, event.direction, size=len(event.data))
                else:
                    queued = True
            elif event.kind == "close":
                self._forget(n)
        if notice:
            self._say(f"{stamp(event.when)} conn {n} decoding stops: {notice}")
        self._queue.put(event)
        return queued

    def _admit(self, n: int, size: int) -> str:
        """Count a chunk into the backlog, or why it cannot be (with the lock held)."""
        why = self._over(n, size)
        if not why:
            self._pending[n] += size
            self._total += size
        return why

    def _over(self, n: int, size: int = 0) -> str:
        """Why connection `n`'s decoding, `size` bytes more behind, would be beyond a
        backlog limit, or "" (with the lock held)."""
        backlog = self._pending[n] + self._held[n] + size
        if backlog > self._max_backlog:
            return (
                f"it is {backlog:,} B behind, more than --max-backlog {self._max_backlog:,} B; "
                "forwarding goes on unchanged"
            )
        if self._total + size > self._max_total:
            return (
                f"the tap's decoding is {self._total + size:,} B behind over all connections, "
                f"more than --max-total-backlog {self._max_total:,} B; forwarding goes on "
                "unchanged"
            )
        return ""

    def _forget(self, n: int) -> None:
        """Drop a connection from the backlog counts (with the lock held)."""
        self._total -= self._pending.pop(n, 0) + self._held.pop(n, 0)

    def _stop(self, n: int) -> None:
        """Stop decoding a connection: only its byte counts pass from now on."""
        self._forget(n)
        self._dropped.add(n)
        self.stopped_decoding += 1

    def stop(self, timeout: float, hurry: threading.Event | None = None) -> bool:
        """Decode what is queued (for at most `timeout` seconds, or until `hurry` is set) and
        end the thread; False when it did not finish in time."""
        if not self._thread.is_alive():
            return True
        self._queue.put(None)
        deadline = time.monotonic() + timeout
        while self._thread.is_alive():
            if time.monotonic() > deadline or (hurry is not None and hurry.is_set()):
                self._abandoned = True  # the thread stops at its next event, saying no more
                return False
            self._thread.join(0.05)
        return True

    def _give_back(self, event: Event) -> None:
        """Decoding's own view of a chunk is let go (the transport was given another: it may
        still hold that one to send later); the read buffer the chunk ends goes back to the
        pool, which reuses it only once no view of it is alive."""
        if isinstance(event.data, memoryview):
            with contextlib.suppress(BufferError):  # still exported: the pool will not reuse it
                event.data.release()
        if event.buffer is not None and self._recycle is not None:
            self._recycle(event.buffer)

    def _next(self) -> Event | None:
        """The next event; when none is queued, wait for one, then `GATHER_SECONDS` more for
        those that follow it (None: the thread is to end)."""
        try:
            return self._queue.get_nowait()
        except queue.Empty:
            event = self._queue.get()
        if event is not None:
            time.sleep(GATHER_SECONDS)
        return event

    def _run(self) -> None:
        """The thread: decode each event in order, pass on its lines."""
        while (event := self._next()) is not None and not self._abandoned:
            n = event.connection
            try:
                lines = self.session.handle(event)
            except Exception as exc:  # a decoder bug must not end every connection's decoding
                why = f"internal error {type(exc).__name__}: {exc}"
                lines = [f"{stamp(event.when)} conn {n} decoding stops: {why}"]
                self.session.handle(Event(n, "drop", event.when))
                with self._lock:
                    if n in self._pending:
                        self._stop(n)
            if event.kind == "data":
                cost = _cost(event)
                why = ""
                with self._lock:
                    if n in self._pending:
                        held = self.session.held(n)
                        self._total += held - self._held[n] - cost
                        self._pending[n] -= cost
                        self._held[n] = held
                        # what decoding holds grew past a limit (a message declaring many
                        # frames): stop before it reads on, not only at the next chunk
                        why = self._over(n)
                        if why:
                            self._stop(n)
                self._give_back(event)
                if why:
                    self.session.handle(Event(n, "drop", event.when))
                    lines.append(f"{stamp(event.when)} conn {n} decoding stops: {why}")
            for line in lines:
                if self._abandoned:
                    return
                self._emit(line)


def _cost(event: Event) -> int:
    """What a queued chunk counts in the backlog: its bytes, and its buffer's spare bytes."""
    return len(event.data) + event.spare
