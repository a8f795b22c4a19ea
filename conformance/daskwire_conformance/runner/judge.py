"""Judging: turn a vector into harness requests and compare the testee's replies with it."""

from __future__ import annotations

import hashlib
import importlib
import itertools
import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Final

from daskwire_conformance.runner.harness import (
    SHORT_LIMIT,
    STDERR_KEEP_BYTES,
    TEXT_LIMIT,
    Exchange,
    clean_text,
)

if TYPE_CHECKING:
    from daskwire_conformance.common.suite import Vector

__all__ = [
    "DIRECTION_OF_KIND",
    "Capabilities",
    "Check",
    "Result",
    "bounded",
    "hexdump_diff",
    "judge_vector",
    "show_command",
]

#: Which declared direction each vector kind needs (decode kinds need one of the two modes).
DIRECTION_OF_KIND: Final = {
    "encode": "encode",
    "reject-encode": "encode",
    "decode": "decode",
    "reject-decode": "decode",
    "unpack": "wire",
    "reject-unpack": "wire",
    "stream": "wire",
}
MODES: Final = ("forwarding", "consuming")
#: Boolean capabilities a testee may leave out; vectors that need one name it in `needs`.
OPTIONAL_CAPABILITIES: Final = ("encode-limits", "pack", "default-shard-size", "str-utf16")
#: The codec every implementation must support (CP-1); a missing one is not optional.
REQUIRED_CODEC: Final = "lz4"
#: Report details show frames up to this many bytes in hex, longer ones as sha256 and length.
SHOW_FRAME_BYTES: Final = 512
#: Report details show notation documents up to this many characters of JSON.
SHOW_VALUE_CHARS: Final = 2000
#: Report details list this many frames of a frame list, then how many more there are.
SHOW_FRAMES: Final = 64
#: Longest expected or actual value kept in a check, as JSON text.
VALUE_LIMIT: Final = 8000
#: Longest hex dump diff kept in a check.
DIFF_LIMIT: Final = 12000
#: Longest vector input kept in a non-passing result, as JSON text.
INPUT_LIMIT: Final = 4000
#: Frame lists bigger than this (frames or bytes) are not dumped for a diff, only compared.
DIFF_MAX_FRAMES: Final = 256
DIFF_MAX_BYTES: Final = 1 << 20

Send = Callable[[Mapping[str, Any]], Exchange]


def show_command(vector_id: str) -> str:
    """The command that prints a vector in full."""
    return f"daskwire vectors show {vector_id}"


def bounded(node: Any, limit: int = VALUE_LIMIT) -> Any:
    """A JSON value kept whole when its JSON text has at most `limit` characters, else
    `{"truncated": first characters, "chars": length}`; strings are cleaned (see clean_text)."""
    if isinstance(node, str):
        return clean_text(node, limit)
    if node is None or isinstance(node, bool | int | float):
        return node
    if isinstance(node, Mapping) and set(node) == {"truncated", "chars"}:
        return node
    text = json.dumps(node, separators=(",", ":"), default=str)
    if len(text) <= limit:
        return node
    return {"truncated": text[:limit], "chars": len(text)}


#: The first profile, whose encoders the judge checks beyond the reference's decoding (SH-4).
PLACEHOLDER_V1: Final = "placeholder-v1"
#: The second profile, whose encoders the judge checks for frame order beyond decoding.
DASK_2023_11: Final = "dask-2023.11"


@dataclass(frozen=True, slots=True, kw_only=True)
class Capabilities:
    """What a testee declared in its start reply."""

    directions: frozenset[str]
    codecs: frozenset[str]
    canonical: bool
    limits: bool
    #: The optional capabilities declared true (OPTIONAL_CAPABILITIES): `encode-limits` (the
    #: encoder honours `limits`, LM-8), `pack` (it answers `pack`), `default-shard-size` (it
    #: takes encode options without `shard_size`).
    optional: frozenset[str] = frozenset()
    #: The profile these capabilities were declared for, whose vectors are judged.
    profile: str = PLACEHOLDER_V1

    @property
    def encode_limits(self) -> bool:
        """The encoder honours `max_depth` in encode requests (LM-8)."""
        return "encode-limits" in self.optional

    @property
    def pack(self) -> bool:
        """The testee answers the `pack` command."""
        return "pack" in self.optional

    @classmethod
    def of(cls, caps: Mapping[str, Any], profile: str = "placeholder-v1") -> Capabilities:
        """Read a capabilities object, one profile's in a start result (missing fields mean
        "no"; see runner.harness.profile_session)."""
        return cls(
            profile=profile,
            directions=frozenset(str(d) for d in caps.get("directions") or ()),
            codecs=frozenset(str(c) for c in caps.get("codecs") or ()),
            canonical=caps.get("canonical") is True,
            limits=caps.get("limits") is True,
            optional=frozenset(c for c in OPTIONAL_CAPABILITIES if caps.get(c) is True),
        )

    def modes(self) -> tuple[str, ...]:
        """The decode modes declared, in a fixed order."""
        return tuple(m for m in MODES if f"decode-{m}" in self.directions)


@dataclass(frozen=True, slots=True, kw_only=True)
class Check:
    """One request of a vector and its verdict (a decode vector has one per mode)."""

    mode: str | None = None
    outcome: str  # passed | failed | errored | skipped
    failure: str | None = None  # why it did not pass, see spec/harness.md "Verdicts"
    message: str = ""
    category: str | None = None  # the category the testee reported, if it rejected
    expected: Any = None
    actual: Any = None
    diff: str = ""
    stderr: str = ""
    seconds: float = 0.0

    def __post_init__(self) -> None:
        # Much of a check is the testee's text: bound and clean it once, here, for every output.
        setter = object.__setattr__
        setter(self, "message", clean_text(self.message, TEXT_LIMIT))
        if self.category is not None:
            setter(self, "category", clean_text(self.category, SHORT_LIMIT))
        setter(self, "diff", clean_text(self.diff, DIFF_LIMIT))
        setter(self, "stderr", clean_text(self.stderr, STDERR_KEEP_BYTES + 100, keep="tail"))
        setter(self, "expected", bounded(self.expected))
        setter(self, "actual", bounded(self.actual))

    def signature(self) -> str:
        """The comparable summary of a non-pass kept in baselines: `[mode:]failure[:category]`."""
        parts = [self.mode] if self.mode else []
        parts.append(self.failure or self.outcome)
        if self.failure in ("wrong-category", "rejected-valid") and self.category:
            parts.append(self.category)
        return ":".join(parts)


@dataclass(frozen=True, slots=True, kw_only=True)
class Result:
    """The verdict on one vector."""

    id: str
    kind: str
    level: str
    requirements: tuple[str, ...]
    outcome: str  # passed | failed | errored | skipped
    checks: tuple[Check, ...] = ()
    reason: str = ""
    #: True when a skip is for a declared-missing optional capability (never counts).
    optional_skip: bool = False
    seconds: float = 0.0
    #: Testee-side time (the part of `seconds` spent waiting for or inside the testee).
    testee_seconds: float = 0.0
    #: The vector's input as shown in reports (bounded), kept only for a result that does not
    #: pass; `daskwire vectors show ID` prints it whole.
    input: Mapping[str, Any] | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "reason", clean_text(self.reason, SHORT_LIMIT + 100))

    @property
    def group(self) -> str:
        """First segment of the id."""
        return self.id.split("/", 1)[0]

    @property
    def area(self) -> str:
        """`group/area` from the id."""
        return "/".join(self.id.split("/")[:2])

    def signature(self) -> str:
        """Baseline signature: `passed`, `skipped`, or the first non-passing check's."""
        if self.outcome == "passed":
            return "passed"
        for check in self.checks:
            if check.outcome != "passed":
                return check.signature()
        return self.outcome


# -- helpers -----------------------------------------------------------------------------------


def _frame_bytes(node: Any) -> bytes:
    from daskwire.notation import frame_from_notation

    return frame_from_notation(node)


def _frame_matches(expected: Any, actual: bytes) -> bool:
    if isinstance(expected, Mapping) and "sha256" in expected:
        return (
            len(actual) == expected.get("length", len(actual))
            and hashlib.sha256(actual).hexdigest() == str(expected["sha256"]).lower()
        )
    return _frame_bytes(expected) == actual


def _show_frame(frame: Any) -> Any:
    if isinstance(frame, Mapping):
        return dict(frame)
    if isinstance(frame, str):
        frame = bytes.fromhex(frame)
    if len(frame) <= SHOW_FRAME_BYTES:
        return bytes(frame).hex()
    return {"sha256": hashlib.sha256(frame).hexdigest(), "length": len(frame)}


def _show_frames(frames: Sequence[Any]) -> list[Any]:
    shown = [_show_frame(f) for f in frames[:SHOW_FRAMES]]
    if len(frames) > SHOW_FRAMES:
        shown.append({"more_frames": len(frames) - SHOW_FRAMES})
    return shown


def _show_value(node: Any) -> Any:
    text = json.dumps(node, separators=(",", ":"))
    if len(text) <= SHOW_VALUE_CHARS:
        return node
    return {"truncated": text[:SHOW_VALUE_CHARS]}


def _parse_hex_frames(node: Any) -> list[bytes] | None:
    if not isinstance(node, list) or not all(isinstance(h, str) for h in node):
        return None
    try:
        return [bytes.fromhex(h) for h in node]
    except ValueError:
        return None


def _annotator() -> Callable[[Sequence[bytes]], str] | None:
    try:
        module = importlib.import_module("daskwire_conformance.common.hexdump")
    except ImportError:
        return None
    annotate = getattr(module, "annotate", None)
    return annotate if callable(annotate) else None


def _plain_dump(frames: Sequence[bytes]) -> str:
    lines: list[str] = []
    for index, frame in enumerate(frames):
        lines.append(f"frame {index} ({len(frame)} bytes)")
        for offset in range(0, min(len(frame), 4096), 16):
            lines.append(f"  {offset:06x}  {frame[offset : offset + 16].hex(' ')}")
        if len(frame) > 4096:
            lines.append(f"  ... {len(frame) - 4096} more bytes")
    return "\n".join(lines)


def _first_difference(expected: Sequence[bytes], actual: Sequence[bytes]) -> str:
    for index, (e, a) in enumerate(zip(expected, actual, strict=False)):
        if e != a:
            at = next((i for i, (x, y) in enumerate(zip(e, a, strict=False)) if x != y), None)
            if at is None:
                return (
                    f"frame {index}: expected {len(e)} bytes, got {len(a)} "
                    f"(first {min(len(e), len(a))} bytes equal)"
                )
            return f"frame {index}, byte {at} (0x{at:x}): expected {e[at]:02x}, got {a[at]:02x}"
    return f"expected {len(expected)} frames, got {len(actual)}"


def _differing_line(lines_e: list[str], lines_a: list[str]) -> str | None:
    for e, a in zip(lines_e, lines_a, strict=False):
        if e != a:
            return e.strip()
    return None


def hexdump_diff(expected: Sequence[bytes], actual: Sequence[bytes]) -> str:
    """An annotated dump diff of two frame lists, headed by where they first differ."""
    import difflib

    head = f"first difference: {_first_difference(expected, actual)}"
    annotate = _annotator()
    dump_e = dump_a = None
    if annotate is not None:
        try:
            dump_e, dump_a = annotate(list(expected)), annotate(list(actual))
        except Exception:
            dump_e = dump_a = None
    if dump_e is None or dump_a is None:
        dump_e, dump_a = _plain_dump(expected), _plain_dump(actual)
    lines_e, lines_a = dump_e.splitlines(), dump_a.splitlines()
    where = _differing_line(lines_e, lines_a)
    if where is not None and annotate is not None:
        head += f"\nfirst differing field (expected): {where}"
    diff = difflib.unified_diff(lines_e, lines_a, "expected", "actual", lineterm="", n=2)
    body = list(diff)
    if len(body) > 80:
        body = [*body[:80], f"... {len(body) - 80} more diff lines"]
    return head + "\n" + "\n".join(body)


# -- judging -----------------------------------------------------------------------------------


def _transport_check(exchange: Exchange, mode: str | None) -> Check:
    return Check(
        mode=mode,
        outcome="errored",
        failure=exchange.failure,
        message=exchange.message,
        stderr=exchange.stderr,
        seconds=exchange.seconds,
    )


def _non_ok(
    exchange: Exchange, mode: str | None, *, want_category: str | None, also: Sequence[str] = ()
) -> Check | None:
    """Judge a reply that is not `ok`; None when it is ok and the caller must judge the result.

    A rejection passes with `want_category` or with one of `also`, the categories a vector
    lists as equally correct (an input that breaks two requirements of one layer, ER-3).
    """
    reply = exchange.reply
    assert reply is not None
    outcome = reply.get("outcome")
    common: dict[str, Any] = {"mode": mode, "stderr": exchange.stderr, "seconds": exchange.seconds}
    if outcome == "ok":
        return None
    if outcome == "skipped":
        reason = str(reply.get("reason", ""))
        return Check(outcome="skipped", failure="skipped", message=reason, **common)
    if outcome == "errored":
        text = str(reply.get("message", ""))
        return Check(outcome="errored", failure="testee-errored", message=text, **common)
    category = str(reply.get("category"))
    text = str(reply.get("message", ""))
    if want_category is None:
        return Check(
            outcome="failed",
            failure="rejected-valid",
            category=category,
            message=f"rejected a valid input as {category}: {text}",
            **common,
        )
    if category == want_category or category in also:
        return Check(outcome="passed", category=category, message=text, **common)
    wanted = " or ".join([want_category, *also])
    return Check(
        outcome="failed",
        failure="wrong-category",
        category=category,
        expected=wanted,
        actual=category,
        message=f"rejected as {category}, expected {wanted}: {text}",
        **common,
    )


def _bad_result(exchange: Exchange, mode: str | None, what: str) -> Check:
    return Check(
        mode=mode,
        outcome="errored",
        failure="protocol",
        message=f"ok reply without a valid {what}",
        stderr=exchange.stderr,
        seconds=exchange.seconds,
    )


def _accepted_invalid(exchange: Exchange, mode: str | None, category: str) -> Check:
    reply = exchange.reply or {}
    return Check(
        mode=mode,
        outcome="failed",
        failure="accepted-invalid",
        expected=category,
        actual=_show_value(reply.get("result")),
        message=f"accepted an input that must be rejected as {category}",
        stderr=exchange.stderr,
        seconds=exchange.seconds,
    )


def _compare_frames(
    exchange: Exchange, mode: str | None, expected: Sequence[Any], actual: list[bytes]
) -> Check:
    common: dict[str, Any] = {"mode": mode, "stderr": exchange.stderr, "seconds": exchange.seconds}
    if len(expected) == len(actual) and all(
        _frame_matches(e, a) for e, a in zip(expected, actual, strict=True)
    ):
        return Check(outcome="passed", **common)
    dumpable = len(actual) <= DIFF_MAX_FRAMES and sum(map(len, actual)) <= DIFF_MAX_BYTES
    if not dumpable:
        diff = ""
        message = f"frames differ from the golden frames: {_first_difference_of(expected, actual)}"
    elif all(not isinstance(e, Mapping) or "repeat" in e for e in expected):
        expected_bytes = [_frame_bytes(e) for e in expected]
        diff = hexdump_diff(expected_bytes, actual)
        message = diff.splitlines()[0]
    else:
        diff = ""
        message = "frames differ from the golden frames (compared by sha256)"
    return Check(
        outcome="failed",
        failure="mismatch",
        message=message,
        expected=_show_frames(expected),
        actual=_show_frames(actual),
        diff=diff,
        **common,
    )


def _compare_value(exchange: Exchange, mode: str | None, expected: Any, actual_node: Any) -> Check:
    from daskwire.notation import NotationError, difference, from_notation

    common: dict[str, Any] = {"mode": mode, "stderr": exchange.stderr, "seconds": exchange.seconds}
    try:
        actual = from_notation(actual_node)
    except NotationError as exc:
        return Check(
            outcome="errored",
            failure="protocol",
            message=f"result message is not typed notation: {exc}",
            **common,
        )
    found = difference(from_notation(expected), actual)
    if found is None:
        return Check(outcome="passed", **common)
    return Check(
        outcome="failed",
        failure="mismatch",
        message=found,
        expected=_show_value(expected),
        actual=_show_value(actual_node),
        **common,
    )


def _first_difference_of(expected: Sequence[Any], actual: Sequence[bytes]) -> str:
    if len(expected) != len(actual):
        return f"expected {len(expected)} frames, got {len(actual)}"
    for index, (e, a) in enumerate(zip(expected, actual, strict=True)):
        if not _frame_matches(e, a):
            return f"frame {index} differs"
    return "no difference found"  # pragma: no cover - only called on a mismatch


def _hex_list(frames: Sequence[Any]) -> list[str]:
    return [_frame_bytes(f).hex() for f in frames]


def _with_limits(body: dict[str, Any], vector: Vector) -> dict[str, Any]:
    limits = vector.input.get("limits")
    if limits:
        body["limits"] = dict(limits)
    return body


def _judge_encode(vector: Vector, caps: Capabilities, send: Send) -> list[Check]:
    body = {
        "cmd": "encode",
        "message": vector.input["message"],
        "options": dict(vector.input.get("options") or {}),
    }
    exchange = send(_with_limits(body, vector))
    if exchange.reply is None:
        return [_transport_check(exchange, None)]
    expected = vector.expected
    if vector.kind == "reject-encode":
        verdict = _non_ok(exchange, None, want_category=str(expected["category"]))
        return [verdict or _accepted_invalid(exchange, None, str(expected["category"]))]
    verdict = _non_ok(exchange, None, want_category=None)
    if verdict is not None:
        return [verdict]
    frames = _parse_hex_frames(exchange.reply["result"].get("frames"))
    if frames is None:
        return [_bad_result(exchange, None, "frames list of hex strings")]
    if caps.canonical and expected.get("canonical") is True:
        return [_compare_frames(exchange, None, expected["frames"], frames)]
    compressed = (vector.input.get("options") or {}).get("compression") is not None
    if caps.profile != PLACEHOLDER_V1:
        return [_semantic_encode_profile(exchange, expected["consumed"], frames, caps.profile)]
    return [_semantic_encode(exchange, expected["consumed"], frames, independent=compressed)]


class _Undecided(Exception):
    """A codec the independent path does not know: the reference decides."""


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
    raise _Undecided(str(codec))


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


class _NotDecompressible(Exception):
    """An encoder's compressed frame that the independent decompression cannot read."""


def _consumed_independently(frames: list[bytes]) -> Any:
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
        return _materialize(daskwire.decode(frames, mode="forwarding"))
    except (_Undecided, daskwire.DaskwireError):
        raise
    except Exception as exc:  # whatever the second codec or the msgpack reader raise
        raise _NotDecompressible(f"{type(exc).__name__}: {exc}") from exc


def _consumed(frames: list[bytes], independent: bool) -> Any:
    """The message a consuming receiver reads from an encoder's frames: decompressed by the
    independent path when asked and it can decide, otherwise by the reference."""
    import daskwire

    if independent:
        try:
            return _consumed_independently(frames)
        except _Undecided:
            pass
    return daskwire.decode(frames, mode="consuming")


def _small_header_for(codec: str) -> bytes:
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


def _frame0_problem(frame0: bytes) -> str | None:
    """Why an encoder's frame 0 is not one SH-4 allows, or None. The frames have decoded, so
    frame 1 is compressed exactly when frame 0 names a codec: frame 0 must then be exactly
    `{"compression": name}` in its shortest form, and otherwise empty."""
    import msgpack

    if not frame0:
        return None
    try:
        small = msgpack.unpackb(frame0)
    except Exception:  # the decoder would have refused it; be safe all the same
        return f"frame 0 {frame0.hex()} is not msgpack"
    codec = small.get("compression") if isinstance(small, dict) else None
    if not isinstance(codec, str):
        return (
            f"frame 0 is {frame0.hex()}, but an encoder writes an empty frame 0 when frame 1 "
            "is not compressed"
        )
    want = _small_header_for(codec)
    if frame0 != want:
        return (
            f"frame 0 is {frame0.hex()}, not exactly {want.hex()}, the shortest "
            f"{{'compression': {codec!r}}}"
        )
    return None


def _marker_order_problem(frames: list[bytes]) -> str | None:
    """Why a dask-2023.11 encoder's frames break DT-2, DM-10 or DM-11, read here with msgpack
    alone, or None: the index markers of frame 0, in pre-order, must claim frames 1, 2, ...
    one after another, each its sub-header and `num-sub-frames` data frames, and no frame
    may be left over. (A decoder accepts markers in any order and unclaimed frames, DM-9 and
    DM-10, so decoding the frames cannot show this.)"""
    import msgpack

    def read(frame: bytes) -> Any:
        return msgpack.unpackb(frame, raw=False, use_list=False, strict_map_key=False)

    try:
        pending: list[Any] = [read(frames[0])]
        expected = 1
        while pending:
            item = pending.pop()
            if type(item) is tuple:
                pending.extend(reversed(item))
            elif type(item) is dict:
                (key, index), *rest = list(item.items()) or [(None, None)]
                if not rest and key in ("__Serialized__", "__Pickled__") and type(index) is int:
                    if index != expected:
                        return f"a {key} marker points at frame {index}, not {expected} (DM-11)"
                    expected = index + 1 + int(read(frames[index])["num-sub-frames"])
                    continue
                pending.extend(reversed(list(item.values())))
    except Exception:  # the decoder has accepted the frames: their shape is not this check's
        return None
    if expected != len(frames):
        return f"the markers claim frames up to {expected - 1}, of {len(frames)} (DM-10, DT-2)"
    return None


def _semantic_encode_profile(
    exchange: Exchange, consumed: Any, frames: list[bytes], profile: str
) -> Check:
    """CE-10 for a profile other than placeholder-v1: the reference of that profile decodes
    the frames as a consuming receiver, and the result must equal the vector's value; for
    dask-2023.11 the frames must also be in the order DM-11 gives, with none left over."""
    import daskwire
    from daskwire.notation import difference, from_notation

    common: dict[str, Any] = {"stderr": exchange.stderr, "seconds": exchange.seconds}
    try:
        decoded = daskwire.get_profile(profile).decode(frames, mode="consuming")
    except daskwire.DaskwireError as exc:
        return Check(
            outcome="failed",
            failure="invalid-output",
            category=str(exc.category),
            message=f"the reference cannot decode the frames produced: {exc}",
            actual=_show_frames(frames),
            **common,
        )
    found = difference(from_notation(consumed), decoded)
    if found is not None:
        return Check(
            outcome="failed",
            failure="mismatch",
            message=f"decoded by the reference (consuming): {found}",
            expected=_show_value(consumed),
            actual=_show_frames(frames),
            **common,
        )
    order = _marker_order_problem(frames) if profile == DASK_2023_11 else None
    if order is not None:
        return Check(
            outcome="failed",
            failure="invalid-output",
            message=f"the frames break the encoder's order: {order}",
            actual=_show_frames(frames),
            **common,
        )
    return Check(outcome="passed", **common)


def _semantic_encode(
    exchange: Exchange, consumed: Any, frames: list[bytes], *, independent: bool = False
) -> Check:
    import daskwire
    from daskwire.notation import difference, from_notation

    common: dict[str, Any] = {"stderr": exchange.stderr, "seconds": exchange.seconds}
    try:
        decoded = _consumed(frames, independent)
    except daskwire.DaskwireError as exc:
        return Check(
            outcome="failed",
            failure="invalid-output",
            category=str(exc.category),
            message=f"the reference cannot decode the frames produced: {exc}",
            actual=_show_frames(frames),
            **common,
        )
    except _NotDecompressible as exc:
        return Check(
            outcome="failed",
            failure="invalid-output",
            message=f"the frames produced do not decompress: {exc}",
            actual=_show_frames(frames),
            **common,
        )
    wrong_frame0 = _frame0_problem(frames[0])
    if wrong_frame0 is not None:
        return Check(
            outcome="failed",
            failure="invalid-output",
            message=f"frame 0 breaks SH-4: {wrong_frame0}",
            actual=_show_frames(frames),
            **common,
        )
    found = difference(from_notation(consumed), decoded)
    if found is None:
        return Check(outcome="passed", **common)
    return Check(
        outcome="failed",
        failure="mismatch",
        message=f"decoded by the reference (consuming): {found}",
        expected=_show_value(consumed),
        actual=_show_frames(frames),
        **common,
    )


def _judge_decode(vector: Vector, caps: Capabilities, send: Send) -> list[Check]:
    frames = _hex_list(vector.input["frames"])
    expected = vector.expected
    checks: list[Check] = []
    reject = vector.kind == "reject-decode"
    # RX-3: a mode a reject-decode vector does not list must accept it, with this message
    accepted: Mapping[str, Any] = expected.get("accepted") or {}
    modes = [
        m for m in caps.modes() if not reject or m in expected.get("modes", MODES) or m in accepted
    ]
    for mode in modes:
        body = _with_limits({"cmd": "decode", "mode": mode, "frames": frames}, vector)
        exchange = send(body)
        if exchange.reply is None:
            checks.append(_transport_check(exchange, mode))
            continue
        if reject and mode not in accepted:
            category = str(expected["category"])
            also = [str(c) for c in expected.get("also", ())]
            verdict = _non_ok(exchange, mode, want_category=category, also=also)
            checks.append(verdict or _accepted_invalid(exchange, mode, category))
            continue
        verdict = _non_ok(exchange, mode, want_category=None)
        if verdict is not None:
            checks.append(verdict)
            continue
        result = exchange.reply["result"]
        if "message" not in result:
            checks.append(_bad_result(exchange, mode, "message"))
            continue
        want = accepted[mode] if mode in accepted else expected[mode]
        checks.append(_compare_value(exchange, mode, want, result["message"]))
    return checks


def _judge_wire(vector: Vector, caps: Capabilities, send: Send) -> list[Check]:
    checks = _judge_unpack_or_stream(vector, send)
    if vector.kind == "unpack" and caps.pack:
        checks.append(_judge_pack(vector, send, caps.profile))
    return checks


def _judge_unpack_or_stream(vector: Vector, send: Send) -> list[Check]:
    expected = vector.expected
    if vector.kind == "stream":
        body = {"cmd": "stream", "chunks": _hex_list(vector.input["chunks"])}
    else:
        body = {"cmd": "unpack", "wire": _frame_bytes(vector.input["wire"]).hex()}
    exchange = send(_with_limits(body, vector))
    if exchange.reply is None:
        return [_transport_check(exchange, None)]
    category = expected.get("category")
    want = str(category) if category else None
    verdict = _non_ok(exchange, None, want_category=want)
    if verdict is not None:
        if verdict.outcome == "passed" and vector.kind == "stream":
            reply = exchange.reply
            if "messages" in reply:  # optional: the messages read before the error (WF-6)
                return [_compare_messages(exchange, expected["messages"], reply["messages"])]
        return [verdict]
    result = exchange.reply["result"]
    if want is not None:
        return [_accepted_invalid(exchange, None, want)]
    if vector.kind == "unpack":
        frames = _parse_hex_frames(result.get("frames"))
        if frames is None:
            return [_bad_result(exchange, None, "frames list of hex strings")]
        return [_compare_frames(exchange, None, expected["frames"], frames)]
    return [_compare_messages(exchange, expected["messages"], result.get("messages"))]


def _judge_pack(vector: Vector, send: Send, profile: str) -> Check:
    """With the `pack` capability: the vector's frames pack to its wire bytes (WF-1), or to
    its `packed` bytes when the input is not what a canonical packer writes (DT-6). Other
    bytes pass when the profile's reference unpacks them to the same frames: placeholder-v1
    leaves no other choice (WF-1), dask-2023.11 lets a packer pick any legal read hint
    (DT-3, DT-6 is a SHOULD)."""
    exchange = send({"cmd": "pack", "frames": _hex_list(vector.expected["frames"])})
    if exchange.reply is None:
        return _transport_check(exchange, "pack")
    verdict = _non_ok(exchange, "pack", want_category=None)
    if verdict is not None:
        return verdict
    wire = _parse_hex_frames([exchange.reply["result"].get("wire")])
    if wire is None:
        return _bad_result(exchange, "pack", "wire hex string")
    want = vector.expected.get("packed", vector.input["wire"])
    check = _compare_frames(exchange, "pack", [want], wire)
    if check.outcome == "passed":
        return check
    import daskwire

    frames = [_frame_bytes(f) for f in vector.expected["frames"]]
    try:
        again = [bytes(f) for f in daskwire.get_profile(profile).unpack(wire[0])]
    except daskwire.DaskwireError as exc:
        return replace(check, message=f"{check.message}; the reference cannot unpack it: {exc}")
    if again == frames:
        return Check(
            outcome="passed", mode="pack", stderr=exchange.stderr, seconds=exchange.seconds
        )
    return check


def _compare_messages(exchange: Exchange, want_messages: Any, messages: Any) -> Check:
    """The frame lists of a stream's messages against the vector's."""
    parsed = [_parse_hex_frames(m) for m in messages] if isinstance(messages, list) else None
    if parsed is None or any(m is None for m in parsed):
        return _bad_result(exchange, None, "messages list of frame lists")
    flat_e = [f for m in want_messages for f in m]
    flat_a = [f for m in parsed for f in m or ()]
    if len(parsed) != len(want_messages) or [len(m) for m in want_messages] != [
        len(m or ()) for m in parsed
    ]:
        return Check(
            outcome="failed",
            failure="mismatch",
            message=f"expected {len(want_messages)} messages with "
            f"{[len(m) for m in want_messages]} frames, got {len(parsed)} with "
            f"{[len(m or ()) for m in parsed[:SHOW_FRAMES]]}"
            + (" ..." if len(parsed) > SHOW_FRAMES else ""),
            expected=[_show_frames(m) for m in want_messages],
            actual=[_show_frames(m or ()) for m in parsed[:SHOW_FRAMES]],
            stderr=exchange.stderr,
            seconds=exchange.seconds,
        )
    return _compare_frames(exchange, None, flat_e, flat_a)


_JUDGES: Final[dict[str, Callable[[Vector, Capabilities, Send], list[Check]]]] = {
    "encode": _judge_encode,
    "reject-encode": _judge_encode,
    "decode": _judge_decode,
    "reject-decode": _judge_decode,
    "unpack": _judge_wire,
    "reject-unpack": _judge_wire,
    "stream": _judge_wire,
}


def unsupported(vector: Vector, caps: Capabilities) -> tuple[str, bool] | None:
    """Why the testee cannot run a vector, and whether that is an optional capability."""
    direction = DIRECTION_OF_KIND.get(vector.kind)
    if direction is None:
        return (f"vector kind {vector.kind!r} is unknown to this runner", False)
    if direction == "decode":
        modes = caps.modes()
        if vector.kind == "reject-decode":
            wanted = (
                *vector.expected.get("modes", MODES),
                *(vector.expected.get("accepted") or ()),
            )
            modes = tuple(m for m in modes if m in wanted)
            if not modes:
                return (f"decoder modes {'/'.join(wanted)} not declared", False)
        elif not modes:
            return ("no decoder mode declared", False)
    elif direction not in caps.directions:
        return (f"direction {direction!r} not declared", False)
    for need in vector.needs:
        if need.startswith("codec:"):
            codec = need.removeprefix("codec:")
            if codec not in caps.codecs:
                return (f"codec {codec!r} not declared", codec != REQUIRED_CODEC)
        elif need == "limits":
            if not caps.limits:
                return ("configurable limits not declared", True)
        elif need in OPTIONAL_CAPABILITIES:
            if need not in caps.optional:
                return (f"capability {need!r} not declared", True)
        else:
            return (f"unknown need {need!r}", False)
    if vector.input.get("limits"):
        if direction == "encode":
            if not caps.encode_limits:
                return ("capability 'encode-limits' not declared", True)
        elif not caps.limits:
            return ("configurable limits not declared", True)
    return None


def _outcome(checks: Sequence[Check]) -> str:
    outcomes = {c.outcome for c in checks}
    for outcome in ("errored", "failed", "skipped"):
        if outcome in outcomes:
            return outcome
    return "passed"


def judge_vector(vector: Vector, caps: Capabilities, send: Send) -> Result:
    """Run one vector through `send` and judge every reply."""
    import time

    began = time.perf_counter()
    common: dict[str, Any] = {
        "id": vector.id,
        "kind": vector.kind,
        "level": vector.level,
        "requirements": tuple(vector.requirements),
    }
    missing = unsupported(vector, caps)
    if missing is not None:
        reason, optional = missing
        return Result(
            outcome="skipped",
            reason=reason,
            optional_skip=optional,
            input=shown_input(vector),
            **common,
        )
    checks = _JUDGES[vector.kind](vector, caps, send)
    outcome = _outcome(checks)
    reason = next((c.message for c in checks if c.outcome == outcome and c.message), "")
    if outcome == "passed":
        reason = ""
    # stderr is kept for the requests that did not pass: a chatty testee's logs of passing
    # requests would only bloat the reports
    checks = [replace(c, stderr="") if c.outcome == "passed" and c.stderr else c for c in checks]
    return Result(
        outcome=outcome,
        checks=tuple(checks),
        reason=reason.splitlines()[0] if reason else "",
        seconds=time.perf_counter() - began,
        testee_seconds=sum(c.seconds for c in checks),
        input=None if outcome == "passed" else shown_input(vector),
        **common,
    )


def shown_input(vector: Vector) -> Any:
    """A vector's input as the reports show it: whole when short, else cut."""
    return bounded(dict(vector.input), INPUT_LIMIT)
