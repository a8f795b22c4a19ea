"""Thin wrappers that run one profile's reference codec and turn its outcome into plain data."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import daskwire
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.profile import ConnectionOptions, Profile

Mode = Literal["forwarding", "consuming"]

__all__ = [
    "Outcome",
    "options_to_json",
    "run_decode",
    "run_encode",
    "run_handshake",
    "run_stream",
    "run_unpack",
    "to_limits",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class Outcome:
    """What the reference did: a value, a rejection with a category, or a crash."""

    value: Any = None
    category: str | None = None
    crash: str | None = None

    @property
    def ok(self) -> bool:
        """True when the call returned normally."""
        return self.category is None and self.crash is None

    def describe(self) -> str:
        """A short text for reports."""
        if self.crash is not None:
            return f"crashed ({self.crash})"
        if self.category is not None:
            return f"rejected with {self.category}"
        return "accepted"


def to_limits(limits: Mapping[str, int] | None) -> Limits:
    """A `Limits` value from a vector's `limits` object."""
    if not limits:
        return DEFAULT_LIMITS
    return Limits(**dict(limits))


def _fail(exc: BaseException) -> Outcome:
    if isinstance(exc, daskwire.DaskwireError):
        return Outcome(category=str(exc.category.value))
    return Outcome(crash=f"{type(exc).__name__}: {exc}")


def run_encode(
    profile: Profile,
    message: Any,
    options: Mapping[str, Any],
    limits: Mapping[str, int] | None = None,
) -> Outcome:
    """Encode with the reference; the value is the list of frames as bytes.

    Options without `shard_size` use the encoder's default; `limits` bound its depth.
    """
    extra = {"shard_size": options["shard_size"]} if "shard_size" in options else {}
    try:
        frames = profile.encode(
            message, compression=options["compression"], limits=to_limits(limits), **extra
        )
        return Outcome(value=[bytes(f) for f in frames])
    except Exception as exc:
        return _fail(exc)


def run_decode(
    profile: Profile, frames: Sequence[bytes], mode: str, limits: Mapping[str, int] | None
) -> Outcome:
    """Decode a frame list with the reference in one receiver mode."""
    try:
        value = profile.decode(list(frames), mode=cast("Mode", mode), limits=to_limits(limits))
        return Outcome(value=value)
    except Exception as exc:
        return _fail(exc)


def run_unpack(profile: Profile, wire: bytes, limits: Mapping[str, int] | None) -> Outcome:
    """Unpack one message of wire bytes; the value is the list of frames as bytes."""
    try:
        return Outcome(value=[bytes(f) for f in profile.unpack(wire, limits=to_limits(limits))])
    except Exception as exc:
        return _fail(exc)


def run_stream(
    profile: Profile, chunks: Sequence[bytes], limits: Mapping[str, int] | None
) -> tuple[list[list[bytes]], Outcome]:
    """Feed chunks to a stream reader; returns the messages read and how the stream ended."""
    messages: list[list[bytes]] = []
    try:
        reader = profile.stream_reader(to_limits(limits))
        for chunk in chunks:
            for message in reader.feed(chunk):
                messages.append([bytes(f) for f in message])
        reader.close()
    except Exception as exc:
        return messages, _fail(exc)
    return messages, Outcome()


def run_handshake(
    profile: Profile,
    local: Mapping[str, Any],
    frames: Sequence[bytes],
    limits: Mapping[str, int] | None,
) -> Outcome:
    """One side of a connection that proposes `local` (harness form: `compression`,
    `pickle-protocol`) and reads the peer's handshake `frames`; the value is the pair
    (its own handshake frames as bytes, the agreed options in harness form)."""
    if profile.handshake is None:
        return Outcome(crash=f"profile {profile.name} has no comm handshake")
    try:
        options = ConnectionOptions(
            compression=local["compression"], pickle_protocol=local["pickle-protocol"]
        )
        mine, agreed = profile.handshake(options, list(frames), to_limits(limits))
        return Outcome(value=([bytes(f) for f in mine], options_to_json(agreed)))
    except Exception as exc:
        return _fail(exc)


def options_to_json(options: ConnectionOptions) -> dict[str, Any]:
    """Connection options in the form of the harness and the vectors."""
    return {"compression": options.compression, "pickle-protocol": options.pickle_protocol}
