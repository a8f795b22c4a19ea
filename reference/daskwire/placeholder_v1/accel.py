"""The optional compiled scanner and builder (`_scan.c`) behind the codec's fast paths.

`scan`, `frames_ok`, `build`, `decode` and `pack` are None when the extension is not built or
`DASKWIRE_PURE_PYTHON=1` is set; the codec then takes only its exact, pure-Python paths.
Both ways give the same results and the same errors: the fast paths serve only input the
scanner vouches for, and any doubt sends the input down the exact path, which decides every
error (spec/errors.md, ER-3).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any, Final

from daskwire.constants import PRELUDE_INT_BYTES
from daskwire.model import Buffer, Materialized, Offloaded

from .constants import RESERVED_KEYS, TRANSPORT_KEYS

__all__ = [
    "ENV_PURE_PYTHON",
    "Builder",
    "Decoder",
    "FramesCheck",
    "Packer",
    "Scanner",
    "build",
    "decode",
    "frames_ok",
    "pack",
    "scan",
]

#: Set to 1 to ignore the compiled scanner, as msgpack-python's MSGPACK_PUREPYTHON does.
ENV_PURE_PYTHON: Final = "DASKWIRE_PURE_PYTHON"

#: scan(payload, max_depth, max_bin) -> placeholder count, or -1 when not vouched for.
Scanner = Callable[[Buffer, int, int], int]
#: frames_ok(frames, max_frames, max_frame_bytes, max_message_bytes) -> flat frames in limits.
FramesCheck = Callable[[object, int, int, int], bool]
#: build(payload, frames, consuming) -> the message, or NotImplemented when not vouched for.
Builder = Callable[[Buffer, Sequence[Buffer], bool], Any]
#: decode(frames, max_frames, max_frame_bytes, max_message_bytes, max_depth, consuming) ->
#: the message, or NotImplemented: frames_ok, scan and build in one call.
Decoder = Callable[[Sequence[Buffer], int, int, int, int, bool], Any]
#: pack(message, frames, max_depth, shard_size, threshold, materialize) -> bytes, or
#: NotImplemented when the exact walk must decide.
Packer = Callable[[Any, list[Buffer], int, int, int, bool], Any]

scan: Scanner | None = None
frames_ok: FramesCheck | None = None
build: Builder | None = None
decode: Decoder | None = None
pack: Packer | None = None
if os.environ.get(ENV_PURE_PYTHON, "") in ("", "0"):
    try:
        from ._scan import build, configure, decode, frames_ok, pack, scan
    except ImportError:  # not built: the pure-Python paths serve alone
        scan = frames_ok = build = decode = pack = None
    else:
        configure(Offloaded, Materialized, RESERVED_KEYS, TRANSPORT_KEYS, PRELUDE_INT_BYTES)
