"""What the shared vector builder needs from a profile: its codec and independent helpers."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from daskwire.profile import Profile

__all__ = ["ProfileKit"]

#: Case mutations of a frame list or of wire bytes, as a case's `mutate` / `wire_mutate` list.
FrameOps = Callable[[Sequence[bytes], Sequence[Mapping[str, Any]]], list[bytes]]
WireOps = Callable[[bytes, Sequence[Mapping[str, Any]]], bytes]


@dataclass(frozen=True, slots=True, kw_only=True)
class ProfileKit:
    """One profile's side of vector building.

    Everything but `profile` is written independently of the reference codec (struct,
    msgpack, python-lz4 and zlib only), so that the builder checks the reference against
    something other than itself.
    """

    #: The reference codec under test (its registry entry).
    profile: Profile
    #: The wire bytes of one message's frames.
    pack_wire: Callable[[Sequence[bytes]], bytes]
    #: How many bytes precede frame 0 on the wire for a message of N frames.
    prelude_size: Callable[[int], int]
    #: Applies a case's `mutate` operations to a frame list.
    frame_ops: FrameOps
    #: Applies a case's `wire_mutate` operations to wire bytes.
    wire_ops: WireOps
    #: What a consuming receiver must yield for a message an encoder was given.
    consumed_form: Callable[[Any], Any]
    #: Why a side's own comm handshake frames do not fit its proposal (harness form), or
    #: None; None for a profile without a handshake.
    own_handshake: Callable[[Sequence[bytes], Mapping[str, Any]], str | None] | None = None
