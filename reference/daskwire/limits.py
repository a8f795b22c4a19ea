"""The decoder limits of the spec (spec/limits.md) as one frozen value with safe defaults."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Final

__all__ = ["DEFAULT_LIMITS", "MSGPACK_MAX_DEPTH", "Limits"]

#: The deepest nesting the msgpack C unpacker handles; `max_depth` may not exceed it.
MSGPACK_MAX_DEPTH: Final = 1024


@dataclass(frozen=True, slots=True, kw_only=True)
class Limits:
    """Bounds every decoder entry point enforces; exceeding one raises `LimitExceeded`.

    Each field's docstring names the requirement that defines it. The defaults admit every
    message a Dask cluster sends in practice and bound memory to what the peer really sent,
    times `max_decompression_ratio` for compressed frames.
    """

    #: Most frames in one message, counting frames 0 and 1 (LM-1).
    max_frames: int = 2**20
    #: Largest single frame on the wire, in bytes (LM-2).
    max_frame_bytes: int = 2**31
    #: Largest message on the wire: prelude plus all frames, in bytes (LM-3).
    max_message_bytes: int = 2**32
    #: Deepest nesting of maps and arrays in frame 0 and frame 1; the top level is depth 1 (LM-4).
    max_depth: int = 256
    #: Largest declared or actual size of one frame after decompression, in bytes (LM-5).
    max_decompressed_bytes: int = 2**31
    #: Largest ratio of decompressed to compressed size of one frame (LM-6).
    max_decompression_ratio: int = 2048

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if type(value) is not int or value < 0:
                msg = f"Limits.{f.name} must be a non-negative int, not {value!r}"
                raise TypeError(msg)
        if self.max_depth > MSGPACK_MAX_DEPTH:
            msg = f"Limits.max_depth may not exceed {MSGPACK_MAX_DEPTH}"
            raise ValueError(msg)


#: The spec's default limits (LM-7).
DEFAULT_LIMITS: Final = Limits()
