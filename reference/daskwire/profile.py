"""What a profile is: the codec functions every profile provides, under one frozen type."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from .limits import Limits
from .model import Buffer

__all__ = ["ConnectionOptions", "Handshake", "Profile", "StreamReader", "package_name"]


class StreamReader(Protocol):
    """An incremental reader of one stream of messages (spec/framing.md, WF-5 and WF-6)."""

    def feed(self, data: Buffer) -> list[list[memoryview]]: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class ConnectionOptions:
    """What one side of a connection proposes in its handshake, or what both sides agreed."""

    #: The codec for data frames a writer compresses itself; None for no compression.
    compression: str | None
    #: The highest pickle protocol a side reads, or the one both sides agreed on.
    pickle_protocol: int


#: handshake(local, peer_frames, limits) -> (this side's handshake frames, the agreed options):
#: one side of a connection that proposed `local` and read the peer's first message.
Handshake = Callable[
    [ConnectionOptions, Sequence[Buffer], Limits], tuple[list[Buffer], ConnectionOptions]
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Profile:
    """One way of turning a message into frames, and frames into a byte stream."""

    #: The profile's name, as the spec, the vectors, the harness and the CLI write it.
    name: str
    #: One line on what the profile is, for listings.
    summary: str
    #: encode(message, *, compression=None, shard_size=..., limits=...) -> frames.
    encode: Callable[..., list[Buffer]]
    #: decode(frames, *, mode="forwarding" | "consuming", limits=...) -> message.
    decode: Callable[..., Any]
    #: unpack(wire, *, limits=...) -> the frames of exactly one message.
    unpack: Callable[..., list[memoryview]]
    #: pack(frames) -> [prelude, *frames], the wire bytes of one message.
    pack: Callable[[Sequence[Buffer]], list[Buffer]]
    #: stream_reader(limits) -> a new reader of a stream of messages.
    stream_reader: Callable[[Limits], StreamReader]
    #: The comm handshake, for a profile whose connections start with one; else None.
    handshake: Handshake | None = None
    #: read_handshake(frames, limits) -> what the peer proposed in its first message; None
    #: for a profile without a handshake.
    read_handshake: Callable[[Sequence[Buffer], Limits], ConnectionOptions] | None = None


def package_name(profile: str) -> str:
    """The Python package of a profile: its name with `_` for `-` and `.` (`placeholder_v1`)."""
    return profile.replace("-", "_").replace(".", "_")
