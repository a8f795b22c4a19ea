"""The tap's output: one thread writes every line, so nothing else ever waits for the terminal.

A terminal paused with Ctrl-S, or a pipe nobody reads (`daskwire tap | less` left alone),
blocks whoever writes to it. Only the printer thread writes. The event loop hands its lines
over with `say`, which never waits: when the queue is full the line is dropped and counted.
The decoding thread hands its lines over with `emit`, which waits for room: decoding may
stall behind a blocked output, forwarding never does (a stalled connection's decoding falls
behind and stops at its backlog, see `worker`).
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Final, TextIO

__all__ = ["MAX_LINES_WRITTEN", "MAX_QUEUED_LINES", "Printer"]

#: Lines waiting for the output at most; beyond it `say` drops lines (and counts them).
MAX_QUEUED_LINES: Final = 10_000
#: Lines written (and flushed) at once at most: those waiting go out in one write. Some
#: 100 KiB of text: one write is cheap, and a terminal still shows lines as they come.
MAX_LINES_WRITTEN: Final = 1_000


class Printer:
    """Writes lines to `stream` from its own thread; `say` and `emit` only queue them."""

    def __init__(self, stream: TextIO, *, max_queued: int = MAX_QUEUED_LINES) -> None:
        self._stream = stream
        self._queue: queue.Queue[str | None] = queue.Queue(max_queued)
        self._lock = threading.Lock()  # for the counter only, never held while writing
        self._dropped = 0
        #: Once set (`closing`): the time.monotonic() after which nothing waits for room.
        self._deadline: float | None = None
        self._thread = threading.Thread(target=self._run, name="daskwire-tap-print", daemon=True)
        self._thread.start()

    @property
    def dropped(self) -> int:
        """Lines dropped because the output was not read fast enough."""
        with self._lock:
            return self._dropped

    def say(self, line: str) -> None:
        """Queue a line without ever waiting (for the event loop); drop it when full."""
        try:
            self._queue.put_nowait(line)
        except queue.Full:
            with self._lock:
                self._dropped += 1

    def emit(self, line: str) -> None:
        """Queue a line, waiting for room (for the decoding thread): decoding then stalls
        until the output is read again. Once `closing`, it waits only until the deadline,
        then drops the line (and counts it) as `say` does."""
        while True:
            deadline = self._deadline
            wait = 0.1 if deadline is None else min(0.1, deadline - time.monotonic())
            if wait <= 0:
                self.say(line)
                return
            try:
                self._queue.put(line, timeout=wait)
            except queue.Full:
                continue
            return

    def closing(self, timeout: float) -> None:
        """The tap is stopping: from `timeout` seconds on, nothing waits for the output."""
        if self._deadline is None:
            self._deadline = time.monotonic() + timeout

    def close(self, timeout: float) -> bool:
        """Write what is queued, until the `closing` deadline (or `timeout` seconds from now
        when none was set), and end the thread; False when the output did not take it all
        in time (it is blocked: the lines left are lost)."""
        self.closing(timeout)
        assert self._deadline is not None
        deadline = self._deadline
        while True:
            try:
                self._queue.put(None, timeout=0.05)
                break
            except queue.Full:
                if time.monotonic() > deadline:
                    return False
        while self._thread.is_alive():
            self._thread.join(0.05)
            if time.monotonic() > deadline:
                return not self._thread.is_alive()
        return True

    def _run(self) -> None:
        """The thread: write the queued lines, all that are waiting in one write, saying first
        how many were dropped."""
        reported = 0
        while (line := self._queue.get()) is not None:
            lines, end = [line], False
            while len(lines) < MAX_LINES_WRITTEN:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    end = True
                    break
                lines.append(more)
            with self._lock:
                dropped = self._dropped
            if dropped > reported:
                note = f"daskwire tap: {dropped - reported:,} lines dropped: the output was not "
                lines.insert(0, f"{note}read in time")
                reported = dropped
            self._write("\n".join(lines))
            if end:
                return

    def _write(self, line: str) -> None:
        """Write one line; an output that went away is ignored."""
        try:
            self._stream.write(line + "\n")
            self._stream.flush()
        except (BrokenPipeError, ValueError, OSError):  # the reader went away: keep forwarding
            pass
