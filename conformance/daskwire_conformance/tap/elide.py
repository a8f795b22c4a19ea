"""Skim a stream for the decoder, standing in zeros for large data frames, so memory stays small."""

from __future__ import annotations

import mmap
import struct
from collections.abc import Callable
from typing import Final

import daskwire
from daskwire.constants import PRELUDE_INT_BYTES

from daskwire_conformance.traffic.limits import BYTES_PER_FRAME

from .profiles import kept_frames_of

__all__ = ["DEFAULT_KEEP_BYTES", "Skimmer", "zeros"]

#: Data frames up to this size reach the decoder as they are; larger ones are read past and
#: stand in as zeros of the same length (the decoder reads their sizes, never their bytes).
DEFAULT_KEEP_BYTES: Final = 1 << 20
#: The most frame 0 bytes parsed for markers; a larger frame 0 keeps every frame.
_MAX_MARKER_SCAN: Final = 64 << 20


def zeros(size: int) -> memoryview:
    """`size` read-only zero bytes that take no memory until read (an anonymous mapping)."""
    return memoryview(mmap.mmap(-1, size, prot=mmap.PROT_READ))


def _lead(profile: str) -> int:
    """Bytes before the frame count, from the profile's own `pack` (the dask-2023.11 hint)."""
    prelude = daskwire.get_profile(profile).pack([b"", b""])[0]
    return len(memoryview(prelude).cast("B")) - 3 * PRELUDE_INT_BYTES


class Skimmer:
    """Splits one direction's bytes at frame boundaries and passes them to `sink`, except that
    each large data frame is read past and handed on as zeros once its last byte arrived.

    The offsets and sizes the decoder sees are the stream's own. `held` is the real bytes of
    the message being read that the decoder holds: the decoding backlog of one direction.
    """

    def __init__(
        self,
        profile: str,
        sink: Callable[[memoryview], None],
        *,
        keep_bytes: int = DEFAULT_KEEP_BYTES,
    ) -> None:
        self._kept_frames = kept_frames_of(profile)
        self._sink = sink
        self._keep_bytes = keep_bytes
        self._lead = _lead(profile)
        self._prelude = bytearray()
        self._lengths: list[int] | None = None
        self._frame = 0
        self._left = 0  # bytes of the current frame still to come
        self._eliding = False
        self._frame0 = bytearray()
        #: The frames after frame 0 the message needs whole (for dask-2023.11 the
        #: sub-headers its markers name), once frame 0 is read.
        self._kept: frozenset[int] | None = None
        self._keep_all = False
        self._passed = 0
        self._frames_cost = 0
        #: What the frames the message being read declares cost decoding, from when its
        #: count is read until it ends: `BYTES_PER_FRAME` each (objects, not bytes).
        self._frames_cost = 0
        #: Bytes of large frames read past, over the stream.
        self.elided = 0

    @property
    def held(self) -> int:
        """What the message being read costs decoding: the real bytes passed to the decoder,
        the copy of frame 0 kept to find its markers, and `BYTES_PER_FRAME` per frame its
        prelude declares (the objects decoding keeps per frame), counted from when the
        frame count is read."""
        return self._passed + len(self._frame0) + self._frames_cost

    def feed(self, data: memoryview) -> None:
        """Pass on one chunk, frame by frame."""
        while data.nbytes:
            data = self._take_prelude(data) if self._lengths is None else self._take_frame(data)

    def _prelude_need(self) -> int:
        """Bytes of the prelude needed: up to the count, then all of it."""
        base = self._lead + PRELUDE_INT_BYTES
        if len(self._prelude) < base:
            return base
        count = int.from_bytes(self._prelude[self._lead : base], "little")
        return int(base + PRELUDE_INT_BYTES * count)

    def _take_prelude(self, data: memoryview) -> memoryview:
        """Take prelude bytes; once whole, start the first frame."""
        piece = data[: self._prelude_need() - len(self._prelude)]
        self._prelude += piece
        base = self._lead + PRELUDE_INT_BYTES
        if not self._frames_cost and len(self._prelude) >= base:
            count = int.from_bytes(self._prelude[self._lead : base], "little")
            self._frames_cost = BYTES_PER_FRAME * count
        self._pass(piece)
        if len(self._prelude) >= base and len(self._prelude) == self._prelude_need():
            count = (len(self._prelude) - base) // PRELUDE_INT_BYTES
            self._lengths = list(struct.unpack_from(f"<{count}Q", self._prelude, base))
            self._frame = 0
            self._kept = None
            self._start_frame()
        return data[piece.nbytes :]

    def _start_frame(self) -> None:
        """Start the next non-empty frame, or end the message."""
        assert self._lengths is not None
        while self._frame < len(self._lengths) and self._lengths[self._frame] == 0:
            self._frame += 1
        if self._frame == len(self._lengths):
            self._end_message()
            return
        self._left = self._lengths[self._frame]
        self._eliding = self._left > self._keep_bytes and not self._keeps(self._frame)

    def _keeps(self, index: int) -> bool:
        """Whether frame `index` is read whole (decided once frame 0 is read)."""
        if index == 0:
            return True
        if self._kept is None and not self._keep_all:
            scanned = len(self._frame0) <= _MAX_MARKER_SCAN
            kept = self._kept_frames(bytes(self._frame0)) if scanned else None
            self._kept = frozenset() if kept is None else kept
            self._keep_all = kept is None
            self._frame0 = bytearray()  # read: no longer held
        return self._keep_all or (self._kept is not None and index in self._kept)

    def _take_frame(self, data: memoryview) -> memoryview:
        """Take bytes of the current frame: passed on, or read past."""
        assert self._lengths is not None
        piece = data[: self._left]
        self._left -= piece.nbytes
        if self._eliding:
            self.elided += piece.nbytes
            if not self._left:
                self._sink(zeros(self._lengths[self._frame]))
        else:
            if self._frame == 0 and len(self._frame0) < _MAX_MARKER_SCAN + 1:
                self._frame0 += piece[: _MAX_MARKER_SCAN + 1 - len(self._frame0)]
            self._pass(piece)
        if not self._left:
            self._frame += 1
            self._start_frame()
        return data[piece.nbytes :]

    def _pass(self, piece: memoryview) -> None:
        """Pass real bytes to the decoder; they are held until the message ends."""
        self._passed += piece.nbytes
        self._sink(piece)

    def _end_message(self) -> None:
        """The message is read: forget its prelude, frame 0 and held bytes."""
        self._prelude = bytearray()
        self._lengths = None
        self._frame0 = bytearray()
        self._kept = None
        self._keep_all = False
        self._passed = 0
        self._frames_cost = 0
