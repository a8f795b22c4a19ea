"""placeholder-v1's output checks: frame 0 as SH-4 allows, decompressed without the reference."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any, Final

from . import NotDecompressible, ProfileChecks, Undecided

__all__ = ["CHECKS", "consumed_independently", "frame0_problem", "small_header_for"]


def small_header_for(codec: str) -> bytes:
    """The one frame 0 SH-4 allows for a frame 1 compressed with `codec`: a fixmap of one
    entry, the fixstr "compression" and the codec's name as the shortest str, written here
    byte by byte rather than by a msgpack library."""
    name = codec.encode("utf-8")
    n = len(name)
    if n < 32:
        head = bytes([0xA0 | n])
    elif n < 2**8:
        head = b"\xd9" + n.to_bytes(1, "big")
    elif n < 2**16:
        head = b"\xda" + n.to_bytes(2, "big")
    else:
        head = b"\xdb" + n.to_bytes(4, "big")
    return b"\x81\xabcompression" + head + name


def frame0_problem(frames: Sequence[bytes]) -> str | None:
    """Why an encoder's frame 0 is not one SH-4 allows, or None. The frames have decoded, so
    frame 1 is compressed exactly when frame 0 names a codec: frame 0 must then be exactly
    `{"compression": name}` in its shortest form, and otherwise empty."""
    import msgpack

    frame0 = bytes(frames[0])
    if not frame0:
        return None
    try:
        small = msgpack.unpackb(frame0)
    except Exception:  # the decoder would have refused it; be safe all the same
        return f"frame 0 breaks SH-4: frame 0 {frame0.hex()} is not msgpack"
    codec = small.get("compression") if isinstance(small, dict) else None
    if not isinstance(codec, str):
        return (
            f"frame 0 breaks SH-4: frame 0 is {frame0.hex()}, but an encoder writes an empty "
            "frame 0 when frame 1 is not compressed"
        )
    want = small_header_for(codec)
    if frame0 != want:
        return (
            f"frame 0 breaks SH-4: frame 0 is {frame0.hex()}, not exactly {want.hex()}, the "
            f"shortest {{'compression': {codec!r}}}"
        )
    return None


def _decompress(codec: Any, data: bytes) -> bytes:
    """One compressed frame, decompressed without the reference's codecs module: cramjam's
    lz4 when it is installed, else python-lz4's block API; zlib from the standard library.
    The default limits bound the output (LM-5, LM-6): an encoder's output decodes under them."""
    from daskwire.limits import DEFAULT_LIMITS

    most = min(
        DEFAULT_LIMITS.max_decompressed_bytes,
        DEFAULT_LIMITS.max_decompression_ratio * max(len(data) - (4 if codec == "lz4" else 0), 1),
    )
    if codec == "lz4":
        size = int.from_bytes(data[:4], "little")
        if len(data) < 5 or size > most:
            msg = f"an lz4 frame of {len(data)} bytes declaring {size} bytes"
            raise ValueError(msg)
        try:
            import cramjam
        except ImportError:
            import lz4.block

            out = bytes(lz4.block.decompress(data[4:], uncompressed_size=size))
        else:
            out = bytes(cramjam.lz4.decompress_block(data[4:], output_len=size))
        if len(out) != size:
            msg = f"an lz4 frame declares {size} bytes and holds {len(out)}"
            raise ValueError(msg)
        return out
    if codec == "zlib":
        import zlib

        decompressor = zlib.decompressobj()
        out = decompressor.decompress(data, most + 1)
        if len(out) > most or not decompressor.eof or decompressor.unused_data:
            msg = "a zlib frame that does not end where its stream ends"
            raise ValueError(msg)
        return out
    raise Undecided(str(codec))


def _materialize(value: Any) -> Any:
    """The consuming form of a forwarded value: each offloaded value's wire frames
    decompressed by `_decompress` and merged by its `lengths` (RX-2, CP-6)."""
    from daskwire.model import Materialized, Offloaded

    if isinstance(value, Offloaded):
        header = value.header
        codecs = header.get("compression") or [None] * len(value.frames)
        parts = [
            _decompress(c, bytes(f)) if c is not None else bytes(f)
            for c, f in zip(codecs, value.frames, strict=True)
        ]
        lengths = header.get("lengths")
        if lengths is None:
            frames = parts
        else:
            data = b"".join(parts)
            bounds = [0]
            for n in lengths:
                bounds.append(bounds[-1] + n)
            if bounds[-1] != len(data):
                msg = f"lengths add up to {bounds[-1]}, the frames to {len(data)} bytes"
                raise ValueError(msg)
            frames = [data[a:b] for a, b in itertools.pairwise(bounds)]
        kept = {k: v for k, v in header.items() if k not in _TRANSPORT_KEYS}
        return Materialized(kept, frames)
    if isinstance(value, Mapping):
        return {k: _materialize(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_materialize(v) for v in value)
    return value


#: The header keys a consuming receiver drops (RX-2).
_TRANSPORT_KEYS: Final = frozenset({"count", "deserialize", "lengths", "compression"})


def consumed_independently(frames: Sequence[bytes]) -> Any:
    """A consuming receiver's message, with every decompression done by `_decompress`: frame 1
    is decompressed here and the rest decoded by the reference as a forwarding receiver,
    which decompresses nothing but raw byte strings."""
    import daskwire
    import msgpack

    try:
        small = msgpack.unpackb(frames[0]) if frames[0] else {}
        codec = small.get("compression") if isinstance(small, dict) else None
        if codec is not None:
            frames = [b"", _decompress(codec, frames[1]), *frames[2:]]
        return _materialize(daskwire.decode(list(frames), mode="forwarding"))
    except (Undecided, daskwire.DaskwireError):
        raise
    except Exception as exc:  # whatever the second codec or the msgpack reader raise
        raise NotDecompressible(f"{type(exc).__name__}: {exc}") from exc


#: placeholder-v1's checks: its encoders' frame 0 (SH-4) and an independent consuming read
#: (CE-10); it has no comm handshake.
CHECKS: Final = ProfileChecks(
    encoder_output=frame0_problem, independent_consumed=consumed_independently
)
