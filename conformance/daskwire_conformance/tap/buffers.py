"""The buffers the tap reads sockets into: large, reused, and shared with decoding uncopied."""

from __future__ import annotations

import collections
import mmap
import sys
from typing import Final, TypeAlias

__all__ = ["ARENA_BYTES", "MAPPED", "SMALL_READ", "Arena", "BufferPool", "in_use", "new_arena"]

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


#: Whether arenas are memory maps: where a map can tell whether a view of it is alive
#: without copying it (`resize` to its own size: Linux's mremap); elsewhere bytearrays.
MAPPED: Final = sys.platform == "linux" and hasattr(mmap.mmap, "resize")

#: A read buffer: a memory map or, where a map cannot tell its views (`MAPPED`), a bytearray.
Arena: TypeAlias = mmap.mmap | bytearray


def new_arena(size: int) -> Arena:
    """A read buffer of `size` bytes."""
    return mmap.mmap(-1, size) if MAPPED else bytearray(size)


def in_use(buffer: Arena) -> bool:
    """Whether any view of `buffer` is still alive (a slice queued for decoding, or one a
    transport keeps to send later): such a buffer must not be written again. Neither a
    bytearray nor a map with live views can be resized; shrinking a bytearray by a byte and
    regrowing it is O(1), and a map is checked for views before its size is looked at.
    When the check itself fails, the buffer counts as in use: never reused."""
    try:
        if isinstance(buffer, bytearray):
            last = buffer.pop()
            buffer.append(last)
        else:
            buffer.resize(len(buffer))
    except BufferError:
        return True
    except (AttributeError, OSError, SystemError, ValueError):
        return True
    return False


class BufferPool:
    """Free arenas, shared by the event loop's thread (takes) and the decoding thread (gives
    back); a buffer is reused only once no view of it is alive.

    An arena is an anonymous memory map where it can be (`MAPPED`), not a bytearray: a map
    that is freed goes back to the system at once. Freed 1 MiB bytearrays taught the C
    allocator to keep blocks of that size on its heap, where a tap that had served hundreds
    of connections kept some 0.5 MiB a connection after they went quiet
    (`tests/tap/test_tap_idle.py`)."""

    def __init__(self, size: int = ARENA_BYTES, keep: int = POOL_SIZE) -> None:
        self.size = size
        self._keep = keep
        self._free: collections.deque[Arena] = collections.deque()

    def take(self) -> Arena:
        """A free arena, or a new one."""
        try:
            return self._free.pop()  # deque.pop and append are atomic: no lock needed
        except IndexError:
            return new_arena(self.size)

    def give(self, buffer: Arena, *, unused: bool = False) -> None:
        """Give an arena back: kept for reuse when nothing refers to it any more (`unused`:
        the caller knows no view of it is left) and the pool is not full, else left to be
        freed."""
        if (
            len(buffer) == self.size
            and len(self._free) < self._keep
            and (unused or not in_use(buffer))
        ):
            self._free.append(buffer)
