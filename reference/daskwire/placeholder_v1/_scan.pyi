"""Types of the compiled scanner (see _scan.c)."""

from collections.abc import Sequence
from typing import Any

from daskwire.model import Buffer

#: The deepest nesting the compiled paths walk; they leave deeper messages to the exact path.
DEPTH_CAP: int

def scan(data: Buffer, max_depth: int, max_bin: int, /) -> int: ...
def frames_ok(
    frames: object, max_frames: int, max_frame_bytes: int, max_message_bytes: int, /
) -> bool: ...
def build(data: Buffer, frames: Sequence[Buffer], consuming: bool, /) -> Any: ...
def configure(
    offloaded_type: type,
    materialized_type: type,
    reserved_keys: tuple[str, str, str],
    transport_keys: tuple[str, str, str, str],
    prelude_int_bytes: int,
    /,
) -> None: ...
def pack(
    message: Any,
    frames: list[Buffer],
    max_depth: int,
    shard_size: int,
    threshold: int,
    materialize: bool,
    /,
) -> Any: ...
def decode(
    frames: Sequence[Buffer],
    max_frames: int,
    max_frame_bytes: int,
    max_message_bytes: int,
    max_depth: int,
    consuming: bool,
    /,
) -> Any: ...
