"""Judging: turn a vector into harness requests and compare the testee's replies with it."""

from __future__ import annotations

import hashlib
import importlib
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
from daskwire_conformance.runner.profiles import (
    NotDecompressible,
    ProfileChecks,
    Undecided,
    checks_for,
)

if TYPE_CHECKING:
    from daskwire_conformance.common.suite import Vector

__all__ = [
    "DIRECTION_OF_KIND",
    "Capabilities",
    "Check",
    "Result",
    "bounded",
    "handshake_request",
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
    # the `handshake` capability (in `needs`) is what these vectors need; one that goes on
    # to write or read a message needs `encode` or `decode-consuming` too (_next_directions)
    "handshake": "handshake",
    "reject-handshake": "handshake",
}
MODES: Final = ("forwarding", "consuming")
#: Boolean capabilities a testee may leave out; vectors that need one name it in `needs`.
OPTIONAL_CAPABILITIES: Final = (
    "encode-limits",
    "pack",
    "default-shard-size",
    "str-utf16",
    "handshake",
)
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


#: The profile of a harness protocol 1 testee, the first one.
PLACEHOLDER_V1: Final = "placeholder-v1"


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
    return [
        _semantic_encode(
            exchange, expected["consumed"], frames, caps.profile, independent=compressed
        )
    ]


def _semantic_encode(
    exchange: Exchange, consumed: Any, frames: list[bytes], profile: str, *, independent: bool
) -> Check:
    """CE-10: the frames decode, as a consuming receiver reads them, to the vector's value.

    With `independent` (the options allowed compression) and a profile whose checks can,
    the frames are decompressed without the reference's codecs (runner.profiles), so a bug
    the reference shares cannot hide; otherwise that profile's reference decodes them.
    Then the profile's own layout check must pass: what a decoder tolerates but an encoder
    must not write (placeholder-v1's frame 0, SH-4; dask-2023.11's frame order, DM-11)."""
    import daskwire
    from daskwire.notation import difference, from_notation

    checks = checks_for(profile)
    common: dict[str, Any] = {"stderr": exchange.stderr, "seconds": exchange.seconds}
    try:
        decoded = _consumed(frames, profile, checks if independent else None)
    except daskwire.DaskwireError as exc:
        return Check(
            outcome="failed",
            failure="invalid-output",
            category=str(exc.category),
            message=f"the reference cannot decode the frames produced: {exc}",
            actual=_show_frames(frames),
            **common,
        )
    except NotDecompressible as exc:
        return Check(
            outcome="failed",
            failure="invalid-output",
            message=f"the frames produced do not decompress: {exc}",
            actual=_show_frames(frames),
            **common,
        )
    layout = checks.encoder_output(frames) if checks.encoder_output is not None else None
    if layout is not None:
        return Check(
            outcome="failed",
            failure="invalid-output",
            message=layout,
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


def _consumed(frames: list[bytes], profile: str, checks: ProfileChecks | None) -> Any:
    """The message a consuming receiver reads from an encoder's frames: by the profile's
    independent decompression when `checks` has one and it knows every codec, otherwise by
    the profile's reference."""
    import daskwire

    if checks is not None and checks.independent_consumed is not None:
        try:
            return checks.independent_consumed(frames)
        except Undecided:
            pass
    return daskwire.get_profile(profile).decode(frames, mode="consuming")


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


def handshake_request(vector: Vector) -> dict[str, Any]:
    """The `handshake` request of a handshake vector: the proposal, the peer's frames, and
    the message to write or the frames to read next when the vector has them."""
    body: dict[str, Any] = {
        "cmd": "handshake",
        "local": dict(vector.input["local"]),
        "frames": _hex_list(vector.input["frames"]),
    }
    if "message" in vector.input:
        body["message"] = vector.input["message"]
    if "receive" in vector.input:
        body["receive"] = _hex_list(vector.input["receive"])
    return _with_limits(body, vector)


def _judge_handshake(vector: Vector, caps: Capabilities, send: Send) -> list[Check]:
    """One side of a connection (DK-1 to DK-5): the testee's own handshake for the proposal
    it was given, checked by the profile's own-handshake check, and the options it agreed
    with the peer's handshake, compared as JSON; or the rejection of the peer's."""
    exchange = send(handshake_request(vector))
    if exchange.reply is None:
        return [_transport_check(exchange, None)]
    if vector.kind == "reject-handshake":
        category = str(vector.expected["category"])
        verdict = _non_ok(exchange, None, want_category=category)
        return [verdict or _accepted_invalid(exchange, None, category)]
    verdict = _non_ok(exchange, None, want_category=None)
    if verdict is not None:
        return [verdict]
    result = exchange.reply["result"]
    frames = _parse_hex_frames(result.get("frames"))
    agreed = result.get("agreed")
    if frames is None or not isinstance(agreed, Mapping):
        return [_bad_result(exchange, None, "frames list of hex strings and agreed object")]
    common: dict[str, Any] = {"stderr": exchange.stderr, "seconds": exchange.seconds}
    want = dict(vector.expected["agreed"])
    if json.dumps(dict(agreed), sort_keys=True) != json.dumps(want, sort_keys=True):
        return [
            Check(
                outcome="failed",
                failure="mismatch",
                message=f"agreed {_show_value(dict(agreed))}, expected {want} (DK-5)",
                expected=want,
                actual=_show_value(dict(agreed)),
                **common,
            )
        ]
    checks = checks_for(caps.profile)
    own = checks.own_handshake
    problem = own(frames, vector.input["local"]) if own is not None else None
    if problem is not None:
        return [
            Check(
                outcome="failed",
                failure="invalid-output",
                message=f"its own handshake: {problem}",
                actual=_show_frames(frames),
                **common,
            )
        ]
    if "receive" in vector.input:
        if "received" not in result:
            return [_bad_result(exchange, None, "received message")]
        check = _compare_value(exchange, None, vector.expected["received"], result["received"])
        if check.outcome != "passed":
            return [replace(check, message=f"{check.message} (DK-7)")]
    if "message" not in vector.input:
        return [Check(outcome="passed", **common)]
    encoded = _parse_hex_frames(result.get("encoded"))
    if encoded is None:
        return [_bad_result(exchange, None, "encoded list of hex strings")]
    return [_after_handshake(exchange, vector, encoded, want, caps.profile)]


def _after_handshake(
    exchange: Exchange, vector: Vector, frames: list[bytes], agreed: Mapping[str, Any], profile: str
) -> Check:
    """DK-6: the message a side writes after the handshake decodes to the vector's value,
    and the data frames it compressed itself (those of the message's `Materialized`
    values, in the order the frames hold them) use the agreed codec or none, as the frames
    themselves say; a forwarded value keeps its codec (DR-3)."""
    from daskwire.notation import from_notation

    verdict = _semantic_encode(
        exchange, vector.expected["consumed"], frames, profile, independent=True
    )
    if verdict.outcome != "passed":
        return verdict
    read = checks_for(profile).codecs_used
    per_value = read(frames) if read is not None else []
    own = _own_values(from_notation(vector.input["message"]))
    used = {c for codecs, mine in zip(per_value, own, strict=False) if mine for c in codecs}
    allowed = {None, agreed["compression"]}
    wrong = sorted(str(c) for c in used - allowed)
    if wrong:
        return Check(
            outcome="failed",
            failure="invalid-output",
            message=(
                f"after agreeing on codec {agreed['compression']!r} it compressed data frames "
                f"with {', '.join(wrong)} (DK-6)"
            ),
            actual=_show_frames(frames),
            stderr=exchange.stderr,
            seconds=exchange.seconds,
        )
    return verdict


def _own_values(message: Any) -> list[bool]:
    """For each offloaded value of a message in pre-order (the order an encoder gives their
    frames, DM-11): True for a `Materialized` one, whose frames the encoder compresses
    itself, False for one it forwards in wire form."""
    from daskwire.model import Materialized, Offloaded, Pickled

    out: list[bool] = []
    stack: list[Any] = [message]
    while stack:
        node = stack.pop()
        if isinstance(node, Materialized | Offloaded | Pickled):
            out.append(isinstance(node, Materialized))
        elif isinstance(node, Mapping):
            stack.extend(reversed(list(node.values())))
        elif isinstance(node, list | tuple):
            stack.extend(reversed(node))
    return out


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
    "handshake": _judge_handshake,
    "reject-handshake": _judge_handshake,
}


def _next_directions(vector: Vector) -> tuple[str, ...]:
    """The directions a handshake vector's next message needs: `encode` to write its
    `message` (DK-6), a consuming decoder to read its `receive` (DK-7)."""
    return (
        *(("encode",) if "message" in vector.input else ()),
        *(("decode-consuming",) if "receive" in vector.input else ()),
    )


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
    elif direction == "handshake":
        if "handshake" not in caps.optional:
            return ("capability 'handshake' not declared", True)
        for needed in _next_directions(vector):
            if needed not in caps.directions:
                return (
                    f"direction {needed!r} not declared (the message after the handshake)",
                    False,
                )
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
