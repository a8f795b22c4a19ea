"""The buffers the tap reads sockets into: large, reused, and shared with decoding uncopied."""

from __future__ import annotations

import collections
import mmap
from typing import Final

__all__ = ["ARENA_BYTES", "SMALL_READ", "BufferPool", "in_use"]

#: Bytes of one read buffer (an arena): consecutive reads of a socket fill it, each read a
#: slice that is forwarded and decoded without a copy. Large, so a bulk transfer takes few
#: reads and few hand-overs to the decoding thread.
ARENA_BYTES: Final = 1 << 20
#: A read smaller than this into an empty arena is copied out and the arena goes back at once:
#: a connection that only passes small messages holds no arena. Also the least room an arena
#: must have left to be read into again.
SMALL_READ: Final = 64 << 10
#: Free arenas kept for reuse (reused memory takes no page faults; more are freed).
POOL_SIZE: Final = 16


def in_use(buffer: mmap.mmap) -> bool:
    """Whether any view of `buffer` is still alive (a slice queued for decoding, or one a
    transport keeps to send later): such a buffer must not be written again. A map with live
    views cannot be resized, and that is checked first; resizing to its own size changes
    nothing."""
    try:
        buffer.resize(len(buffer))
    except BufferError:
        return True
    except SystemError:  # no mremap() on this platform: checked for views all the same
        return False
    return False


class BufferPool:
    """Free arenas, shared by the event loop's thread (takes) and the decoding thread (gives
    back); a buffer is reused only once no view of it is alive.

    An arena is an anonymous memory map, not a bytearray: a map that is freed goes back to
    the system at once. Freed 1 MiB bytearrays taught the C allocator to keep blocks of that
    size on its heap, where a tap that had served hundreds of connections kept some 0.5 MiB a
    connection after they went quiet (`tests/tap/test_tap_idle.py`)."""

    def __init__(self, size: int = ARENA_BYTES, keep: int = POOL_SIZE) -> None:
        self.size = size
        self._keep = keep
        self._free: collections.deque[mmap.mmap] = collections.deque()

    def take(self) -> mmap.mmap:
        """A free arena, or a new one."""
        try:
            return self._free.pop()  # deque.pop and append are atomic: no lock needed
        except IndexError:
            return mmap.mmap(-1, self.size)

    def give(self, buffer: mmap.mmap) -> None:
        """Give an arena back: kept for reuse when nothing refers to it any more and the pool
        is not full, else left to be freed."""
        if len(buffer) == self.size and len(self._free) < self._keep and not in_use(buffer):
            self._free.append(buffer)
