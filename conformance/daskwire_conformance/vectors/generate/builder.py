"""Builds vectors from cases by running the reference, and records where the reference disagrees."""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, TypeGuard

from daskwire.notation import (
    NotationError,
    difference,
    frame_to_notation,
    from_notation,
    to_notation,
)

from daskwire_conformance.common.requirements import requirement_sort_key

from .kit import ProfileKit
from .levels import strongest_level
from .outcome import Disagreement, GenerationError
from .reference import (
    Outcome,
    run_decode,
    run_encode,
    run_handshake,
    run_stream,
    run_unpack,
)
from .sources import (
    Case,
    CaseError,
    build_frame,
    expand_notation,
    frames_of,
    notation_value,
)

__all__ = [
    "DESCRIPTION_MAX",
    "HEX_FRAME_MAX",
    "MODES",
    "SPLITS",
    "Builder",
    "Built",
    "Disagreement",
    "GenerationError",
    "Spec",
    "expected_frame",
]

#: Longest vector description (spec/vectors.md).
DESCRIPTION_MAX: Final = 70
#: Expected frames up to this size are stored as hex; larger ones as sha256 + length unless
#: they are a repeated pattern.
HEX_FRAME_MAX: Final = 4096
#: The two receiver modes.
MODES: Final = ("forwarding", "consuming")
#: The encoder's default shard size, 64 MiB (CE-7), used when a case gives none.
DEFAULT_SHARD_SIZE: Final = 64 * 2**20
_DEFAULT_OPTIONS: Final = {"compression": None, "shard_size": DEFAULT_SHARD_SIZE}
#: Kinds whose `limits` bound an encoder (capability `encode-limits`), not a decoder.
ENCODE_KINDS: Final = frozenset({"encode", "reject-encode"})
#: The optional codecs of the profile (CP-2); a vector using one needs it.
OPTIONAL_CODECS: Final = frozenset({"zlib", "snappy", "zstd"})


@dataclass(frozen=True, slots=True, kw_only=True)
class Built:
    """A finished vector and the bytes later cases may build on."""

    vector: dict[str, Any]
    frames: tuple[bytes, ...] | None = None
    wire: bytes | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Spec:
    """A vector before its level is known and before the reference has checked it."""

    id: str
    description: str
    requirements: tuple[str, ...]
    kind: str
    input: dict[str, Any]
    expected: dict[str, Any]
    needs: tuple[str, ...] = ()
    derived: dict[str, str] | None = None
    #: Raw bytes of the input, so checks need not parse the notation again.
    frames: tuple[bytes, ...] | None = None
    wire: bytes | None = None
    chunks: tuple[bytes, ...] | None = None
    where: str = ""
    extra: Mapping[str, Any] = field(default_factory=dict)


def expected_frame(data: bytes) -> Any:
    """An expected frame: hex when small, a repeat form when periodic, else sha256 + length."""
    node = frame_to_notation(data)
    if isinstance(node, dict) or len(data) <= HEX_FRAME_MAX:
        return node
    return {"sha256": hashlib.sha256(data).hexdigest(), "length": len(data)}


def _ops_text(ops: Sequence[Any]) -> str:
    return "; ".join(json.dumps(op, sort_keys=True, ensure_ascii=False) for op in ops)


def _split_whole(data: bytes, _cuts: Sequence[int]) -> list[bytes]:
    return [data]


def _split_bytes(data: bytes, _cuts: Sequence[int]) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def _split_at(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    # Equal cut points (an empty frame) give an empty chunk, which a reader must take (WF-5).
    points = [0, *(c for c in cuts if 0 < c <= len(data))]
    if points[-1] != len(data):
        points.append(len(data))
    return [data[a:b] for a, b in itertools.pairwise(points)]


_UNEVEN: Final = (1, 2, 3, 5, 8, 13, 21, 34)


def _split_uneven(data: bytes, _cuts: Sequence[int]) -> list[bytes]:
    out: list[bytes] = []
    at = 0
    step = 0
    while at < len(data):
        size = _UNEVEN[step % len(_UNEVEN)]
        out.append(data[at : at + size])
        at += size
        step += 1
    return out


def _split_mid_frame(data: bytes, cuts: Sequence[int]) -> list[bytes]:
    """Chunks that end halfway into every second prelude or frame, so each chunk holds the end
    of one, the whole of the next, and the start of the one after it (WF-5)."""
    points = [0, *(c for c in cuts if 0 < c <= len(data))]
    if points[-1] != len(data):
        points.append(len(data))
    spans = list(itertools.pairwise(points))
    mids = [a + (b - a) // 2 for a, b in spans[1::2]]
    bounds = [0, *(m for m in mids if 0 < m < len(data)), len(data)]
    return [data[a:b] for a, b in itertools.pairwise(bounds)]


#: The named ways a stream case cuts its bytes into chunks, and the phrase for descriptions.
SPLITS: Final[dict[str, tuple[Callable[[bytes, Sequence[int]], list[bytes]], str]]] = {
    "whole": (_split_whole, "in one chunk"),
    "byte-by-byte": (_split_bytes, "one byte per chunk"),
    "frame-boundaries": (_split_at, "cut at frame boundaries"),
    "uneven": (_split_uneven, "in Fibonacci-sized chunks"),
    "mid-frame": (_split_mid_frame, "in chunks ending mid-frame"),
}


def _frame_cuts(
    messages: Sequence[Sequence[bytes]], prelude_size: Callable[[int], int]
) -> list[int]:
    """Offsets of the end of each prelude and of each frame, over back-to-back messages."""
    cuts: list[int] = []
    at = 0
    for frames in messages:
        at += prelude_size(len(frames))
        cuts.append(at)
        for frame in frames:
            at += len(frame)
            cuts.append(at)
    return cuts


class Builder:
    """Turns cases and derivation specs into vectors; keeps every vector built so far."""

    def __init__(self, cases: Iterable[Case], levels: Mapping[str, str], kit: ProfileKit) -> None:
        #: The profile's codec and independent helpers.
        self.kit = kit
        self._profile = kit.profile
        self._cases = {c.id: c for c in cases}
        self._levels = levels
        self._building: set[str] = set()
        #: Every vector by id.
        self.built: dict[str, Built] = {}
        #: Where the reference's outcome differs from the authored one.
        self.disagreements: list[Disagreement] = []
        #: Source problems found while building; generation fails if any remain.
        self.problems: list[str] = []

    # --- entry points ------------------------------------------------------------------

    def build_cases(self) -> None:
        """Build every case (in source order; `from` references are built first)."""
        for cid in self._cases:
            self.case(cid)

    def case(self, cid: str) -> Built:
        """The vector of a case, building it (and what it depends on) on first use."""
        if cid in self.built:
            return self.built[cid]
        case = self._cases.get(cid)
        if case is None:
            msg = f"no case or vector with id {cid!r}"
            raise CaseError(msg)
        if cid in self._building:
            msg = f"case {cid} depends on itself"
            raise CaseError(msg)
        self._building.add(cid)
        try:
            if case.kind == "stream":
                for spec in self._stream_specs(case):
                    self.add(spec)
                # A stream case is referenced by its first split only.
                return self.built[f"{cid}/{case.get('splits', ['whole'])[0]}"]
            spec, keep = self._spec(case)
            return self.add(spec, keep_frames=keep)
        finally:
            self._building.discard(cid)

    def add(self, spec: Spec, *, keep_frames: tuple[bytes, ...] | None = None) -> Built:
        """Check a spec against the reference, give it its level, and store the vector."""
        if spec.id in self.built:
            msg = f"vector id {spec.id} is produced twice"
            raise CaseError(msg)
        if len(spec.description) > DESCRIPTION_MAX:
            self.problems.append(
                f"{spec.where}: {spec.id}: description is {len(spec.description)} characters"
                f" (max {DESCRIPTION_MAX}): {spec.description}"
            )
        self._check(spec)
        if spec.kind == "reject-decode":
            self._record_accepted(spec)
        requirements = sorted(set(spec.requirements), key=requirement_sort_key)
        vector: dict[str, Any] = {
            "id": spec.id,
            "description": spec.description,
            "requirements": requirements,
            "level": strongest_level(requirements, self._levels, spec.where or spec.id),
            "kind": spec.kind,
            "input": spec.input,
            "expected": spec.expected,
        }
        needs = set(spec.needs)
        if "limits" in spec.input:
            needs.add("encode-limits" if spec.kind in ENCODE_KINDS else "limits")
        options = spec.input.get("options")
        if isinstance(options, dict) and "shard_size" not in options:
            needs.add("default-shard-size")
        if '"str-utf16"' in json.dumps(spec.input.get("message")):
            needs.add("str-utf16")  # a notation form older testees do not read
        if isinstance(options, dict) and options.get("compression") in OPTIONAL_CODECS:
            # a codec outside the profile needs nothing: every encoder refuses it (CE-14)
            needs.add(f"codec:{options['compression']}")
        if needs:
            vector["needs"] = sorted(needs)
        if spec.derived is not None:
            vector["derived"] = spec.derived
        frames = keep_frames if keep_frames is not None else spec.frames
        built = Built(vector=vector, frames=frames, wire=spec.wire)
        self.built[spec.id] = built
        return built

    def frames_of(self, vid: str) -> tuple[bytes, ...]:
        """The frames a vector stands for: an encoder's output or a decoder's input."""
        built = self.case(vid) if vid in self._cases else self.built[vid]
        if built.frames is None:
            msg = f"vector {vid} has no frames to build on"
            raise CaseError(msg)
        return built.frames

    def wire_of(self, vid: str) -> bytes:
        """The wire bytes a vector stands for."""
        built = self.case(vid) if vid in self._cases else self.built[vid]
        if built.wire is not None:
            return built.wire
        return self.kit.pack_wire(self.frames_of(vid))

    # --- cases -------------------------------------------------------------------------

    def _disagree(self, vid: str, expected: str, actual: str) -> None:
        self.disagreements.append(Disagreement(id=vid, expected=expected, actual=actual))

    def _options(self, case: Case) -> dict[str, Any]:
        given = case.get("options") or {}
        unknown = set(given) - set(_DEFAULT_OPTIONS)
        if unknown:
            msg = f"{case.source}: case {case.id}: unknown options {sorted(unknown)}"
            raise CaseError(msg)
        options = {**_DEFAULT_OPTIONS, **given}
        if options["shard_size"] is None:
            del options["shard_size"]  # the encoder's default shard size
        return options

    @staticmethod
    def _limits_into(case: Case, inp: dict[str, Any]) -> dict[str, Any]:
        if case.get("limits"):
            inp["limits"] = dict(case.get("limits"))
        return inp

    def _case_frames(self, case: Case) -> tuple[list[bytes], str | None]:
        parent: str | None = None
        if case.get("frames") is not None:
            frames = frames_of(case.get("frames"))
        elif case.get("from") is not None:
            parent = str(case.get("from"))
            frames = list(self.frames_of(parent))
        elif case.get("message") is not None:
            message = notation_value(case.get("message"))
            out = run_encode(self._profile, message, self._options(case))
            if not out.ok:
                msg = f"{case.id}: the reference {out.describe()} the case's message"
                raise GenerationError(msg)
            frames = list(out.value)
        else:
            msg = f"{case.source}: case {case.id} gives no frames, 'from' or 'message'"
            raise CaseError(msg)
        return self.kit.frame_ops(frames, case.get("mutate") or []), parent

    def _case_wire(self, case: Case) -> tuple[bytes, str | None, list[bytes] | None]:
        """The wire bytes of a case, its parent, and its frames when they are known."""
        parent: str | None = None
        frames: list[bytes] | None = None
        if case.get("wire") is not None:
            wire = build_frame(case.get("wire"))
        elif case.get("from") is not None and not case.get("mutate"):
            parent = str(case.get("from"))
            wire = self.wire_of(parent)
            frames = list(self.frames_of(parent))
        else:
            frames, parent = self._case_frames(case)
            wire = self.kit.pack_wire(frames)
        ops = case.get("wire_mutate") or []
        return self.kit.wire_ops(wire, ops), parent, (None if ops else frames)

    def _derived(self, case: Case, parent: str | None) -> dict[str, str] | None:
        ops = [*(case.get("mutate") or []), *(case.get("wire_mutate") or [])]
        if parent is None or not ops:
            return None
        return {"parent": parent, "mutation": _ops_text(ops)}

    def _spec(self, case: Case) -> tuple[Spec, tuple[bytes, ...] | None]:
        base: dict[str, Any] = {
            "id": case.id,
            "description": case.description,
            "requirements": case.requirements,
            "kind": case.kind,
            "needs": tuple(case.get("needs") or ()),
            "where": f"{case.source}: case {case.id}",
        }
        expect = case.get("expect") or {}
        kind = case.kind
        if kind == "encode":
            return self._encode(case, base)
        if kind == "reject-encode":
            node = expand_notation(case.get("message"))
            # Normalised when the notation reader can build it; else kept as written, and the
            # check reports what the reference makes of it.
            with contextlib.suppress(NotationError):
                node = to_notation(from_notation(node))
            options = self._options(case)
            return Spec(
                **base,
                input=self._limits_into(case, {"message": node, "options": options}),
                expected={"category": str(expect.get("category", "unencodable-value"))},
            ), None
        if kind in ("decode", "reject-decode"):
            frames, parent = self._case_frames(case)
            inp: dict[str, Any] = {"frames": [frame_to_notation(f) for f in frames]}
            if kind == "decode":
                return Spec(
                    **base,
                    input=self._limits_into(case, inp),
                    expected=self._decode_expected(case, frames, expect, case.get("limits")),
                    derived=self._derived(case, parent),
                    frames=tuple(frames),
                ), None
            if case.get("limits"):
                inp["limits"] = dict(case.get("limits"))
            return Spec(
                **base,
                input=inp,
                expected=self._reject_expected(case, expect, modes=True),
                derived=self._derived(case, parent),
                frames=tuple(frames),
            ), None
        if kind in ("unpack", "reject-unpack"):
            wire, parent, source = self._case_wire(case)
            inp = {"wire": frame_to_notation(wire)}
            if kind == "unpack":
                self._limits_into(case, inp)
                if "frames" in expect:
                    frames_want = frames_of(expect["frames"])
                elif source is not None:
                    frames_want = list(source)
                else:
                    out = run_unpack(self._profile, wire, case.get("limits"))
                    if not out.ok:
                        msg = f"{case.id}: the reference {out.describe()} the wire bytes"
                        raise GenerationError(msg)
                    frames_want = out.value
                expected_unpack: dict[str, Any] = {
                    "frames": [frame_to_notation(f) for f in frames_want]
                }
                packed = self.kit.pack_wire(frames_want)
                if packed != wire:
                    # a legal input that a packer does not write (a short read hint, DT-5)
                    expected_unpack["packed"] = frame_to_notation(packed)
                return Spec(
                    **base,
                    input=inp,
                    expected=expected_unpack,
                    derived=self._derived(case, parent),
                    wire=wire,
                    frames=tuple(frames_want),
                ), None
            if case.get("limits"):
                inp["limits"] = dict(case.get("limits"))
            return Spec(
                **base,
                input=inp,
                expected=self._reject_expected(case, expect, modes=False),
                derived=self._derived(case, parent),
                wire=wire,
            ), None
        if kind in ("handshake", "reject-handshake"):
            return self._handshake(case, base, expect), None
        msg = f"{case.source}: case {case.id}: kind {kind} is not built here"
        raise CaseError(msg)

    def _handshake(self, case: Case, base: dict[str, Any], expect: Mapping[str, Any]) -> Spec:
        """A handshake case: this side's proposal `local`, the peer's handshake `frames`, and
        the options both agree (`expect.agreed`) or the peer's rejection (DK-1 to DK-5)."""
        local = case.get("local")
        if not _options_ok(local):
            msg = f"{case.source}: case {case.id}: local needs compression and pickle-protocol"
            raise CaseError(msg)
        frames, parent = self._case_frames(case)
        inp: dict[str, Any] = {
            "local": dict(local),
            "frames": [frame_to_notation(f) for f in frames],
        }
        extra: dict[str, Any] = {}
        if case.get("message") is not None:
            # the message this side then writes on the connection (DK-6)
            extra["message"] = notation_value(case.get("message"))
            inp["message"] = to_notation(extra["message"])
        if case.get("receive") is not None:
            # the peer's next message, which this side reads as a consuming receiver (DK-7)
            extra["receive"] = frames_of(case.get("receive"))
            inp["receive"] = [frame_to_notation(f) for f in extra["receive"]]
        self._limits_into(case, inp)
        if case.kind == "reject-handshake":
            expected = self._reject_expected(case, expect, modes=False)
        else:
            agreed = expect.get("agreed")
            if not _options_ok(agreed):
                msg = f"{case.source}: case {case.id}: expect.agreed needs compression and "
                msg += "pickle-protocol (a str or null, a non-negative integer)"
                raise CaseError(msg)
            expected = {"agreed": dict(agreed)}
            if "message" in extra:
                expected["consumed"] = to_notation(self.kit.consumed_form(extra["message"]))
            if "receive" in extra:
                if "received" not in expect:
                    msg = f"{case.source}: case {case.id}: expect.received is required"
                    raise CaseError(msg)
                expected["received"] = to_notation(notation_value(expect["received"]))
        needs = (*base.pop("needs"), "handshake")
        return Spec(
            **base,
            needs=needs,
            input=inp,
            expected=expected,
            derived=self._derived(case, parent),
            frames=tuple(frames),
            extra=extra,
        )

    def _record_accepted(self, spec: Spec) -> None:
        """RX-3: what each mode a reject-decode vector does not list yields for its input."""
        assert spec.frames is not None
        accepted: dict[str, Any] = {}
        for mode in MODES:
            if mode in spec.expected["modes"]:
                continue
            out = run_decode(self._profile, spec.frames, mode, spec.input.get("limits"))
            if out.ok:
                accepted[mode] = to_notation(out.value)
        if accepted:
            spec.expected["accepted"] = accepted

    def _reject_expected(
        self, case: Case, expect: Mapping[str, Any], *, modes: bool
    ) -> dict[str, Any]:
        category = expect.get("category")
        if not isinstance(category, str):
            msg = f"{case.source}: case {case.id}: expect.category is required"
            raise CaseError(msg)
        out: dict[str, Any] = {"category": category}
        also = expect.get("also")
        if also is not None:
            if not modes or not isinstance(also, list) or category in also:
                msg = f"{case.source}: case {case.id}: expect.also lists other categories"
                raise CaseError(msg)
            out["also"] = [str(c) for c in also]
        if modes:
            out["modes"] = list(expect.get("modes") or MODES)
        return out

    def _decode_expected(
        self,
        case: Case,
        frames: Sequence[bytes],
        expect: Mapping[str, Any],
        limits: Mapping[str, int] | None = None,
    ) -> dict[str, Any]:
        expected: dict[str, Any] = {}
        for mode in MODES:
            node = expect.get(mode, expect.get("both"))
            out = run_decode(self._profile, frames, mode, limits)
            if node is not None:
                want = notation_value(node)
                expected[mode] = to_notation(want)
            elif out.ok:
                expected[mode] = to_notation(out.value)
            else:
                msg = (
                    f"{case.id}: the reference {out.describe()} in {mode} mode"
                    " and the case gives no expectation"
                )
                raise GenerationError(msg)
        return expected

    def _encode(self, case: Case, base: dict[str, Any]) -> tuple[Spec, tuple[bytes, ...]]:
        message = notation_value(case.get("message"))
        options = self._options(case)
        input_node = to_notation(message)
        out = run_encode(self._profile, message, options, case.get("limits"))
        if not out.ok:
            msg = f"{case.id}: the reference {out.describe()} a message the case encodes"
            raise GenerationError(msg)
        frames: list[bytes] = out.value
        wire = self.kit.pack_wire(frames)
        if case.get("expect_frames") is not None:
            want = frames_of(case.get("expect_frames"))
            if want != frames:
                lines = [
                    f"  frame {i}: case {w.hex() if w is not None else '-'}\n"
                    f"  {' ' * len(str(i))}  reference {g.hex() if g is not None else '-'}"
                    for i, (w, g) in enumerate(_pad(want, frames))
                    if w != g
                ]
                msg = f"{case.id}: the reference's frames differ from expect_frames:\n" + "\n".join(
                    lines
                )
                raise GenerationError(msg)
        if case.get("expect_wire") is not None:
            want_wire = build_frame(case.get("expect_wire"))
            if want_wire != wire:
                msg = (
                    f"{case.id}: the wire bytes differ from expect_wire:\n"
                    f"  case      {want_wire.hex()}\n  reference {wire.hex()}"
                )
                raise GenerationError(msg)
        consumed = run_decode(self._profile, frames, "consuming", None)
        if not consumed.ok:
            msg = f"{case.id}: the reference {consumed.describe()} its own encoding"
            raise GenerationError(msg)
        expect = case.get("expect") or {}
        if "consumed" in expect:
            consumed_value = notation_value(expect["consumed"])
        else:
            consumed_value = consumed.value
        spec = Spec(
            **base,
            input=self._limits_into(case, {"message": input_node, "options": options}),
            expected={
                "frames": [expected_frame(f) for f in frames],
                "wire": expected_frame(wire),
                "consumed": to_notation(consumed_value),
                "canonical": options["compression"] is None,
            },
            frames=tuple(frames),
            wire=wire,
            extra={"message": message, "options": options},
        )
        return spec, tuple(frames)

    def _stream_specs(self, case: Case) -> list[Spec]:
        expect = case.get("expect") or {}
        if case.get("wire") is not None:
            data = build_frame(case.get("wire"))
            messages = [frames_of(m) for m in expect.get("messages", [])]
            complete = messages
            category = expect.get("category")
        else:
            parts = [str(p) for p in case.get("parts") or []]
            messages = [list(self.frames_of(p)) for p in parts]
            data = b"".join(self.kit.pack_wire(m) for m in messages)
            truncate = int(case.get("truncate") or 0)
            data = data[: len(data) - truncate]
            data = self.kit.wire_ops(data, case.get("wire_mutate") or [])
            complete = []
            at = 0
            for m in messages:
                size = len(self.kit.pack_wire(m))
                if at + size <= len(data):
                    complete.append(m)
                    at += size
            category = "truncated-input" if at < len(data) else None
            category = expect.get("category", category)
            if "messages" in expect:
                complete = [frames_of(m) for m in expect["messages"]]
        cuts = _frame_cuts(messages, self.kit.prelude_size)
        specs: list[Spec] = []
        for split in case.get("splits") or ["whole"]:
            if split not in SPLITS:
                msg = f"{case.source}: case {case.id}: unknown split {split!r}"
                raise CaseError(msg)
            fn, phrase = SPLITS[split]
            chunks = fn(data, cuts)
            expected: dict[str, Any] = {
                "messages": [[frame_to_notation(f) for f in m] for m in complete]
            }
            if category is not None:
                expected["category"] = category
            inp: dict[str, Any] = {"chunks": [frame_to_notation(c) for c in chunks]}
            if case.get("limits"):
                inp["limits"] = dict(case.get("limits"))
            specs.append(
                Spec(
                    id=f"{case.id}/{split}",
                    description=case.description.replace("{split}", phrase),
                    requirements=case.requirements,
                    kind="stream",
                    input=inp,
                    expected=expected,
                    needs=tuple(case.get("needs") or ()),
                    where=f"{case.source}: case {case.id}",
                    chunks=tuple(chunks),
                    extra={"complete": complete},
                )
            )
        return specs

    # --- checks against the reference ---------------------------------------------------

    def _check(self, spec: Spec) -> None:
        """Compare the reference's outcome with the spec's expectation; record differences."""
        kind = spec.kind
        limits = spec.input.get("limits")
        if kind == "encode":
            self._check_encode(spec)
        elif kind == "decode":
            assert spec.frames is not None
            for mode in MODES:
                out = run_decode(self._profile, spec.frames, mode, limits)
                self._compare_value(spec.id, mode, spec.expected[mode], out)
                if out.ok and mode == "forwarding":
                    self._check_reencode(spec.id, out.value)
        elif kind == "reject-decode":
            assert spec.frames is not None
            for mode in MODES:
                out = run_decode(self._profile, spec.frames, mode, limits)
                if mode in spec.expected["modes"]:
                    if out.category != spec.expected["category"]:
                        self._disagree(
                            spec.id,
                            f"{mode} mode to reject with {spec.expected['category']}",
                            out.describe(),
                        )
                elif not out.ok:
                    self._disagree(spec.id, f"{mode} mode to accept (RX-3)", out.describe())
        elif kind == "unpack":
            assert spec.wire is not None
            out = run_unpack(self._profile, spec.wire, limits)
            want = list(spec.frames or ())
            if not out.ok or out.value != want:
                self._disagree(
                    spec.id, "the vector's frames", out.describe() + " with other frames"
                )
            packed = b"".join(bytes(b) for b in self._profile.pack(want))
            if packed != self.kit.pack_wire(want):
                self._disagree(spec.id, "the reference's pack to write these bytes", "other bytes")
        elif kind == "reject-unpack":
            assert spec.wire is not None
            out = run_unpack(self._profile, spec.wire, limits)
            if out.category != spec.expected["category"]:
                self._disagree(
                    spec.id, f"rejection with {spec.expected['category']}", out.describe()
                )
        elif kind == "reject-encode":
            try:
                message = from_notation(spec.input["message"])
            except NotationError as exc:
                # A map key holding an offloaded value or a map has no Python value at all:
                # the reference refuses it by construction, which is the expected outcome.
                if "not hashable" not in str(exc):
                    self._disagree(
                        spec.id, "a message the notation reader builds", f"cannot build it: {exc}"
                    )
                return
            out = run_encode(self._profile, message, spec.input["options"], limits)
            want = spec.expected["category"]
            if out.category != want:
                self._disagree(spec.id, f"rejection with {want}", out.describe())
        elif kind in ("handshake", "reject-handshake"):
            self._check_handshake(spec)
        elif kind == "stream":
            assert spec.chunks is not None
            messages, out = run_stream(self._profile, spec.chunks, limits)
            want = spec.extra.get("complete", [])
            if [list(m) for m in want] != messages:
                self._disagree(
                    spec.id, f"{len(want)} messages", f"read {len(messages)} other messages"
                )
            if out.category != spec.expected.get("category") or out.crash:
                self._disagree(
                    spec.id,
                    f"stream end {spec.expected.get('category') or 'without error'}",
                    out.describe(),
                )

    def _check_handshake(self, spec: Spec) -> None:
        """The reference agrees the vector's options, or rejects with its category; its own
        handshake passes the runner's independent check of it (DK-2, DK-4)."""
        assert spec.frames is not None
        local = spec.input["local"]
        out = run_handshake(self._profile, local, spec.frames, spec.input.get("limits"))
        if spec.kind == "reject-handshake":
            if out.category != spec.expected["category"]:
                self._disagree(
                    spec.id, f"rejection with {spec.expected['category']}", out.describe()
                )
            return
        if not out.ok:
            self._disagree(spec.id, f"agreement on {spec.expected['agreed']}", out.describe())
            return
        mine, agreed = out.value
        if json.dumps(agreed, sort_keys=True) != json.dumps(
            spec.expected["agreed"], sort_keys=True
        ):
            self._disagree(spec.id, f"agreement on {spec.expected['agreed']}", f"{agreed}")
        problem = self.kit.own_handshake(mine, local) if self.kit.own_handshake else None
        if problem is not None:
            self._disagree(spec.id, "the reference's own handshake", problem)
        if "message" in spec.extra:  # what it writes next, on the agreed codec (DK-6)
            options = {"compression": agreed["compression"]}
            written = run_encode(self._profile, spec.extra["message"], options)
            if not written.ok:
                self._disagree(spec.id, "the message encoded", written.describe())
                return
            out = run_decode(self._profile, written.value, "consuming", None)
            self._compare_value(spec.id, "consuming", spec.expected["consumed"], out)
        if "receive" in spec.extra:
            out = run_decode(self._profile, spec.extra["receive"], "consuming", None)
            self._compare_value(spec.id, "received", spec.expected["received"], out)

    def _check_encode(self, spec: Spec) -> None:
        frames = list(spec.frames or ())
        wire_ref = b"".join(self._profile.pack(frames))
        if wire_ref != spec.wire:
            self._disagree(
                spec.id, "the reference's pack to write these bytes", "packed other bytes"
            )
        message = spec.extra["message"]
        try:
            oracle = self.kit.consumed_form(message)
        except (ValueError, TypeError) as exc:
            self._disagree(spec.id, "a message the oracle can model", str(exc))
            return
        self._compare_value(
            spec.id,
            "consuming (CE-10 oracle)",
            to_notation(oracle),
            Outcome(value=from_notation(spec.expected["consumed"])),
        )
        out = run_decode(self._profile, frames, "consuming", None)
        self._compare_value(spec.id, "consuming", spec.expected["consumed"], out)

    def _compare_value(self, vid: str, mode: str, want_node: Any, out: Outcome) -> None:
        if not out.ok:
            self._disagree(vid, f"{mode} mode to accept", out.describe())
            return
        want = from_notation(want_node)
        diff = difference(want, out.value)
        if diff is not None:
            self._disagree(vid, f"{mode} value {want_node!r:.80}", f"gave another value ({diff})")

    def _check_reencode(self, vid: str, value: Any) -> None:
        """RX-4: re-encoding the forwarded message and forwarding it again changes nothing."""
        out = run_encode(self._profile, value, _DEFAULT_OPTIONS)
        if not out.ok:
            self._disagree(vid, "its forwarded message to re-encode (RX-4)", out.describe())
            return
        again = run_decode(self._profile, out.value, "forwarding", None)
        self._compare_value(vid, "re-encoded forwarding (RX-4)", to_notation(value), again)


def _options_ok(node: Any) -> TypeGuard[Mapping[str, Any]]:
    """A case's connection options: exactly `compression` (a str or null) and
    `pickle-protocol` (an int, not a bool or a float, not negative)."""
    return (
        isinstance(node, Mapping)
        and set(node) == {"compression", "pickle-protocol"}
        and (node["compression"] is None or type(node["compression"]) is str)
        and type(node["pickle-protocol"]) is int
        and node["pickle-protocol"] >= 0
    )


def _pad(a: Sequence[bytes], b: Sequence[bytes]) -> list[tuple[bytes | None, bytes | None]]:
    n = max(len(a), len(b))
    return [(a[i] if i < len(a) else None, b[i] if i < len(b) else None) for i in range(n)]
