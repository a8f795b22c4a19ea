"""Systematic negative vectors derived from valid ones; each records its parent and mutation."""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from daskwire import Float32
from daskwire.limits import DEFAULT_LIMITS
from daskwire.notation import frame_to_notation, to_notation

from daskwire_conformance.vectors.generate.builder import MODES, Builder, Spec
from daskwire_conformance.vectors.generate.mpk import edit, pack, unpack_payload
from daskwire_conformance.vectors.generate.sources import CaseError, DeriveRule

from .mutations import U64_MAX, edit_payload, plain_payload, small_header_codec
from .sites import PlaceholderSite, find_placeholders

__all__ = ["FAMILIES", "derive", "unpack_model"]

_Payload = Callable[[Any], Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class _Mutation:
    """One payload or frame mutation of a family, before it becomes a Spec."""

    name: str
    description: str
    mutation: str
    category: str
    requirements: tuple[str, ...]
    frames: list[bytes]
    modes: tuple[str, ...] = MODES
    #: Categories as correct as `category`: the mutation breaks two requirements of one layer.
    also: tuple[str, ...] = ()


_NAMES: dict[str, str] = {}


def _show(value: Any) -> str:
    """A value as typed notation text, for mutation descriptions."""
    return json.dumps(to_notation(value), ensure_ascii=False, sort_keys=True)


def _slug(parent: str) -> str:
    """The short name of a parent in derived ids and descriptions (derived.yaml `as`)."""
    return _NAMES.get(parent, parent.rsplit("/", 1)[-1])


def _reject_decode(
    family_area: str, parent: str, m: _Mutation, limits: Mapping[str, int] | None = None
) -> Spec:
    inp: dict[str, Any] = {"frames": [frame_to_notation(f) for f in m.frames]}
    if limits:
        inp["limits"] = dict(limits)
    return Spec(
        id=f"invalid/{family_area}/{_slug(parent)}/{m.name}",
        description=m.description,
        requirements=(*m.requirements, "RX-3"),
        kind="reject-decode",
        input=inp,
        expected={
            "category": m.category,
            **({"also": list(m.also)} if m.also else {}),
            "modes": list(m.modes),
        },
        derived={"parent": parent, "mutation": m.mutation},
        frames=tuple(m.frames),
        where=f"derived from {parent}",
    )


def _reject_unpack(
    area: str,
    parent: str,
    name: str,
    *,
    description: str,
    mutation: str,
    wire: bytes,
    category: str,
    requirements: Sequence[str],
) -> Spec:
    return Spec(
        id=f"invalid/{area}/{_slug(parent)}/{name}",
        description=description,
        requirements=tuple(requirements),
        kind="reject-unpack",
        input={"wire": frame_to_notation(wire)},
        expected={"category": category},
        derived={"parent": parent, "mutation": mutation},
        wire=wire,
        where=f"derived from {parent}",
    )


# --- wire families ---------------------------------------------------------------------------


def _truncation(builder: Builder, parent: str, _options: Mapping[str, Any]) -> Iterator[Spec]:
    wire = builder.wire_of(parent)
    n = len(wire)
    for k in range(n):
        yield _reject_unpack(
            "truncation",
            parent,
            f"at-{k:03d}",
            description=f"Rejects {_slug(parent)} wire bytes cut to {k} of {n} bytes",
            mutation=f"keep the first {k} of {n} wire bytes",
            wire=wire[:k],
            category="truncated-input",
            requirements=("WF-4",),
        )


def unpack_model(wire: bytes, *, whole_prelude: bool = False) -> tuple[str | None, tuple[str, ...]]:
    """What reading wire bytes as one message must give under the default limits.

    An independent model of WF-1..WF-7 and LM-1..LM-3, reading in stream order: N is checked
    as soon as it is read, each length as soon as it is read, the total after the lengths.
    With whole_prelude, a prelude that the input cannot hold is reported as truncated before
    any length is read (what a reader of a complete buffer may do). Returns (category or
    None, the requirements that decide it).
    """
    limits = DEFAULT_LIMITS
    if len(wire) < 8:
        return "truncated-input", ("WF-4",)
    (n,) = struct.unpack_from("<Q", wire, 0)
    if n < 2:
        return "too-few-frames", ("WF-2",)
    if n > limits.max_frames:
        return "limit-exceeded", ("WF-7", "LM-1")
    if whole_prelude and len(wire) < 8 + 8 * n:
        return "truncated-input", ("WF-4",)
    total = 0
    for i in range(n):
        at = 8 + 8 * i
        if len(wire) < at + 8:
            return "truncated-input", ("WF-4",)
        (length,) = struct.unpack_from("<Q", wire, at)
        if length > limits.max_frame_bytes:
            return "limit-exceeded", ("WF-7", "LM-2")
        total += length
    size = 8 + 8 * n + total
    if size > limits.max_message_bytes:
        return "limit-exceeded", ("WF-7", "LM-3")
    if len(wire) < size:
        return "truncated-input", ("WF-4",)
    if len(wire) > size:
        return "trailing-bytes", ("WF-3",)
    return None, ()


_COUNT_VARIANTS: Final = (
    ("u64-max", "2**64-1", lambda n: U64_MAX),
    ("plus-one", "one more", lambda n: n + 1),
    ("zero", "0", lambda n: 0),
    ("one", "1", lambda n: 1),
    ("limit", "max_frames", lambda n: DEFAULT_LIMITS.max_frames),
    ("limit-plus-one", "max_frames + 1", lambda n: DEFAULT_LIMITS.max_frames + 1),
)
_LENGTH_VARIANTS: Final = (
    ("u64-max", "2**64-1", lambda n: U64_MAX),
    ("plus-one", "one more", lambda n: n + 1),
    ("zero", "0", lambda n: 0),
    ("limit", "max_frame_bytes", lambda n: DEFAULT_LIMITS.max_frame_bytes),
    ("limit-plus-one", "max_frame_bytes + 1", lambda n: DEFAULT_LIMITS.max_frame_bytes + 1),
)


def _prelude_fields(builder: Builder, parent: str, _options: Mapping[str, Any]) -> Iterator[Spec]:
    wire = builder.wire_of(parent)
    (n,) = struct.unpack_from("<Q", wire, 0)
    fields: list[tuple[str, str, int, Sequence[Any]]] = [
        ("count", "frame count", 0, _COUNT_VARIANTS)
    ]
    for i in range(n):
        fields.append((f"length-{i}", f"length {i}", 8 + 8 * i, _LENGTH_VARIANTS))
    for field_name, label, offset, variants in fields:
        (old,) = struct.unpack_from("<Q", wire, offset)
        for vname, vtext, fn in variants:
            new = fn(old)
            if new == old:
                continue
            mutated = wire[:offset] + struct.pack("<Q", new) + wire[offset + 8 :]
            category, reqs = unpack_model(mutated)
            if category is None or unpack_model(mutated, whole_prelude=True)[0] != category:
                # Valid, or a length over the limit in a cut prelude: WF-9 vectors by hand.
                continue
            yield _reject_unpack(
                "prelude",
                parent,
                f"{field_name}-{vname}",
                description=f"Rejects {_slug(parent)} wire bytes with {label} set to {vtext}",
                mutation=f"set the u64 {label} from {old} to {new}",
                wire=mutated,
                category=category,
                requirements=("WF-1", *reqs),
            )


def _trailing_bytes(builder: Builder, parent: str, _options: Mapping[str, Any]) -> Iterator[Spec]:
    wire = builder.wire_of(parent)
    slug = _slug(parent)
    yield _reject_unpack(
        "trailing",
        parent,
        "one-zero-byte",
        description=f"Rejects {slug} wire bytes followed by one 00 byte",
        mutation="append 00",
        wire=wire + b"\x00",
        category="trailing-bytes",
        requirements=("WF-3",),
    )
    yield _reject_unpack(
        "trailing",
        parent,
        "second-message",
        description=f"Rejects {slug} wire bytes followed by a copy of them",
        mutation="append the wire bytes again",
        wire=wire + wire,
        category="trailing-bytes",
        requirements=("WF-3",),
    )


# --- frame 1 ---------------------------------------------------------------------------------


def _payload_truncation(
    builder: Builder, parent: str, _options: Mapping[str, Any]
) -> Iterator[Spec]:
    frames = list(builder.frames_of(parent))
    if small_header_codec(frames[0]) is not None:
        msg = f"payload-truncation needs an uncompressed payload; {parent} is compressed"
        raise CaseError(msg)
    payload = frames[1]
    slug = _slug(parent)
    for k in range(len(payload)):
        cut = [frames[0], payload[:k], *frames[2:]]
        yield _reject_decode(
            "payload-truncation",
            parent,
            _Mutation(
                name=f"at-{k:03d}",
                description=f"Rejects {slug} with frame 1 cut to {k} of {len(payload)} bytes",
                mutation=f"keep the first {k} of {len(payload)} bytes of frame 1",
                category="invalid-msgpack",
                requirements=("PL-1",),
                frames=cut,
            ),
        )


def _sites(frames: Sequence[bytes]) -> tuple[Any, list[PlaceholderSite]]:
    payload = unpack_payload(plain_payload(frames))
    return payload, find_placeholders(payload)


def _site(
    frames: Sequence[bytes], options: Mapping[str, Any], parent: str
) -> tuple[list[PlaceholderSite], PlaceholderSite]:
    _payload, sites = _sites(frames)
    index = int(options.get("site", 0))
    if index >= len(sites):
        msg = f"{parent} has no placeholder number {index}"
        raise CaseError(msg)
    return sites, sites[index]


def _set(path: Sequence[Any], value: Any) -> _Payload:
    return lambda payload: edit(payload, path, lambda _old: value)


def _update_map(path: Sequence[Any], fn: Callable[[dict[Any, Any]], dict[Any, Any]]) -> _Payload:
    return lambda payload: edit(payload, path, lambda m: fn(dict(m)))


def _wrong_types(value: int) -> list[tuple[str, str, Any]]:
    """Values of the wrong type for a non-negative integer field (PH-3, HD-2)."""
    return [
        ("negative", "-1", -1),
        ("bool", "a bool", value != 0),
        ("float64", "a float64", float(value)),
        ("float32", "a float32", Float32(value)),
        ("str", "a str", str(value)),
        ("nil", "nil", None),
        ("bin", "a bin", bytes([value % 256])),
        ("array", "an array", (value,)),
        ("map", "a map", {}),
    ]


def _placeholder_fields(
    builder: Builder, parent: str, options: Mapping[str, Any]
) -> Iterator[Spec]:
    frames = list(builder.frames_of(parent))
    sites, p = _site(frames, options, parent)
    offload = len(frames) - 2
    where = p.describe()
    slug = _slug(parent)
    muts: list[_Mutation] = []

    def add(
        name: str,
        desc: str,
        mutation: str,
        fn: _Payload,
        outcome: tuple[str, tuple[str, ...]],
        *,
        also: tuple[str, ...] = (),
    ) -> None:
        category, reqs = outcome
        muts.append(
            _Mutation(
                name=name,
                description=desc,
                mutation=f"{mutation} (placeholder at {where})",
                category=category,
                requirements=reqs,
                frames=edit_payload(frames, fn),
                also=also,
            )
        )

    header_wrong: list[tuple[str, str, Any]] = [
        ("int", "an int", 1),
        ("str", "a str", "header"),
        ("nil", "nil", None),
        ("bool", "a bool", True),
        ("array", "an array", ()),
        ("bin", "a bin of msgpack", pack(p.header)),
    ]
    for tname, ttext, value in header_wrong:
        add(
            f"header-{tname}",
            f"Rejects {slug} with _$header set to {ttext}",
            f"set _$header to {ttext}",
            _set((*p.path, "_$header"), value),
            ("invalid-placeholder", ("PH-3",)),
        )
    for key, current in (("_$findex", p.findex), ("_$fcount", p.fcount)):
        short = key[2:]
        # A wrong-typed _$fcount also differs from count (PH-10), in the same layer.
        also = ("count-mismatch",) if key == "_$fcount" else ()
        for tname, ttext, value in _wrong_types(current):
            add(
                f"{short}-{tname}",
                f"Rejects {slug} with {key} set to {ttext}",
                f"set {key} to {_show(value)}",
                _set((*p.path, key), value),
                ("invalid-placeholder", ("PH-3",)),
                also=also,
            )

    def without(key: str) -> _Payload:
        return _update_map(p.path, lambda m: {a: b for a, b in m.items() if a != key})

    for key in ("_$header", "_$findex", "_$fcount"):
        add(
            f"missing-{key[2:]}",
            f"Rejects {slug} with a placeholder that lacks {key}",
            f"delete {key}",
            without(key),
            ("invalid-placeholder", ("PH-2",)),
        )
    add(
        "extra-str-key",
        f"Rejects {slug} with a fourth key in a placeholder",
        'add the entry "extra": 1',
        _update_map(p.path, lambda m: {**m, "extra": 1}),
        ("invalid-placeholder", ("PH-2",)),
    )
    add(
        "extra-int-key",
        f"Rejects {slug} with a fourth, int key in a placeholder",
        "add the entry 0: 1",
        _update_map(p.path, lambda m: {**m, 0: 1}),
        ("invalid-placeholder", ("PH-2",)),
    )
    add(
        "fcount-as-bin-key",
        f"Rejects {slug} with _$fcount keyed by a bin, not a str",
        "re-key _$fcount as the bin 5f2466636f756e74",
        _update_map(
            p.path, lambda m: {(b"_$fcount" if k == "_$fcount" else k): v for k, v in m.items()}
        ),
        ("invalid-placeholder", ("PH-1", "PH-2")),
    )

    others = [s for s in sites if s is not p]

    def clear(start: int, count: int) -> bool:
        return all(
            s.fcount == 0 or count == 0 or start + count <= s.findex or s.end <= start
            for s in others
        )

    past = offload - p.fcount + 1
    add(
        "findex-past-end",
        f"Rejects {slug} with a range past the offload area",
        f"set _$findex from {p.findex} to {past}",
        _set((*p.path, "_$findex"), past),
        ("frame-out-of-range", ("PH-6",)),
    )
    add(
        "findex-u64-max",
        f"Rejects {slug} with _$findex set to 2**64-1",
        "set _$findex to 2**64-1",
        _set((*p.path, "_$findex"), U64_MAX),
        ("frame-out-of-range", ("PH-6",)),
    )

    def set_count(new: int, *, drop_compression: bool = False) -> _Payload:
        def fn(m: dict[Any, Any]) -> dict[Any, Any]:
            header = dict(m["_$header"])
            header["count"] = new
            if "compression" in header:
                if drop_compression:
                    del header["compression"]
                else:
                    codecs = list(header["compression"])
                    header["compression"] = tuple((codecs + [None] * new)[:new])
            return {**m, "_$header": header, "_$fcount": new}

        return _update_map(p.path, fn)

    grow = offload - p.findex + 1
    if grow > p.fcount and clear(p.findex, grow - 1) and p.findex <= offload:
        add(
            "fcount-past-end",
            f"Rejects {slug} with _$fcount and count running past the end",
            f"set _$fcount and count from {p.fcount} to {grow}",
            set_count(grow),
            ("frame-out-of-range", ("PH-6",)),
        )
    add(
        "fcount-u64-max",
        f"Rejects {slug} with _$fcount and count set to 2**64-1",
        "set _$fcount and count to 2**64-1, drop compression",
        set_count(U64_MAX, drop_compression=True),
        ("frame-out-of-range", ("PH-6",)),
        # The range then also claims the frames of the values after it (PH-8).
        also=() if clear(p.findex, U64_MAX) else ("overlapping-frames",),
    )
    if p.fcount >= 1:
        add(
            "fcount-one-less",
            f"Rejects {slug} with _$fcount one less than count",
            f"set _$fcount from {p.fcount} to {p.fcount - 1}",
            _set((*p.path, "_$fcount"), p.fcount - 1),
            ("count-mismatch", ("PH-10",)),
        )

    def bump_count(m: dict[Any, Any]) -> dict[Any, Any]:
        header = dict(m["_$header"])
        header["count"] = p.fcount + 1
        if "compression" in header:
            header["compression"] = (*header["compression"], None)
        return {**m, "_$header": header}

    add(
        "count-one-more",
        f"Rejects {slug} with count one more than _$fcount",
        f"set count from {p.fcount} to {p.fcount + 1} (compression padded with nil)",
        _update_map(p.path, bump_count),
        ("count-mismatch", ("PH-10",)),
    )

    for q in others:
        if p.fcount >= 1 and q.fcount >= 1 and q.findex + p.fcount <= offload:
            add(
                "overlapping",
                f"Rejects {slug} with two placeholders claiming one frame",
                f"set _$findex from {p.findex} to {q.findex}, the start of {q.describe()}",
                _set((*p.path, "_$findex"), q.findex),
                ("overlapping-frames", ("PH-8",)),
            )
            break

    inner = {
        "_$header": {"count": 0, "deserialize": False, "lengths": ()},
        "_$findex": 0,
        "_$fcount": 0,
    }
    add(
        "placeholder-in-header",
        f"Rejects {slug} with a placeholder inside a header",
        'add a zero-frame placeholder as header key "inner"',
        _update_map((*p.path, "_$header"), lambda h: {**h, "inner": inner}),
        ("misplaced-placeholder", ("PH-7",)),
    )
    for m in muts:
        yield _reject_decode("placeholder-fields", parent, m)


def _header_fields(builder: Builder, parent: str, options: Mapping[str, Any]) -> Iterator[Spec]:
    frames = list(builder.frames_of(parent))
    _sites_all, p = _site(frames, options, parent)
    slug = _slug(parent)
    hpath = (*p.path, "_$header")
    header = dict(p.header)
    muts: list[_Mutation] = []

    def add(
        name: str,
        desc: str,
        mutation: str,
        fn: _Payload,
        reqs: tuple[str, ...],
        *,
        also: tuple[str, ...] = (),
    ) -> None:
        muts.append(
            _Mutation(
                name=name,
                description=desc,
                mutation=f"{mutation} (header at {p.describe()})",
                category="invalid-header",
                requirements=(*reqs, "HD-6"),
                frames=edit_payload(frames, fn),
                also=also,
            )
        )

    def without(key: str) -> _Payload:
        return _update_map(hpath, lambda h: {k: v for k, v in h.items() if k != key})

    count = int(header["count"])
    for tname, ttext, value in _wrong_types(count):
        add(
            f"count-{tname}",
            f"Rejects {slug} with header count {ttext}",
            f"set count to {_show(value)}",
            _set((*hpath, "count"), value),
            ("HD-2",),
            also=("count-mismatch",),  # a wrong-typed count also differs from _$fcount (PH-10)
        )
    add(
        "count-missing",
        f"Rejects {slug} with a header that lacks count",
        "delete count",
        without("count"),
        ("HD-2",),
        also=("count-mismatch",),
    )
    for tname, ttext, value in (
        ("int", "an int", 0),
        ("str", "a str", "false"),
        ("nil", "nil", None),
        ("array", "an array", ()),
        ("map", "a map", {}),
    ):
        add(
            f"deserialize-{tname}",
            f"Rejects {slug} with header deserialize {ttext}",
            f"set deserialize to {_show(value)}",
            _set((*hpath, "deserialize"), value),
            ("HD-3",),
        )
    add(
        "deserialize-missing",
        f"Rejects {slug} with a header that lacks deserialize",
        "delete deserialize",
        without("deserialize"),
        ("HD-3",),
    )
    lengths = tuple(header["lengths"])
    total = sum(lengths)
    for tname, ttext, value in (
        ("int", "an int", total),
        ("str", "a str", str(total)),
        ("nil", "nil", None),
        ("map", "a map", {}),
        ("bin", "a bin", b"\x00"),
        ("item-str", "[a str]", (str(total),)),
        ("item-negative", "[-1]", (-1,)),
        ("item-bool", "[true]", (True,)),
        ("item-float", "[a float64]", (float(total),)),
        ("item-nil", "[nil]", (None,)),
    ):
        add(
            f"lengths-{tname}",
            f"Rejects {slug} with header lengths {ttext}",
            f"set lengths to {_show(value)}",
            _set((*hpath, "lengths"), value),
            ("HD-4",),
        )
    add(
        "lengths-missing",
        f"Rejects {slug} with a header that lacks lengths",
        "delete lengths",
        without("lengths"),
        ("HD-4",),
    )
    codecs = tuple(header.get("compression") or (None,) * count)

    def set_compression(value: Any) -> _Payload:
        return _update_map(hpath, lambda h: {**h, "compression": value})

    for tname, ttext, value in (
        ("str", "a str", "lz4"),
        ("nil", "nil", None),
        ("int", "an int", 0),
        ("map", "a map", {}),
        ("item-int", "[0, ...]", (0,) * max(count, 1)),
        ("item-bool", "[false, ...]", (False,) * max(count, 1)),
        ("item-bin", "[a bin, ...]", (b"lz4",) * max(count, 1)),
        ("one-more", "count + 1 entries", (*codecs, None)),
    ):
        add(
            f"compression-{tname}",
            f"Rejects {slug} with header compression {ttext}",
            f"set compression to {_show(value)}",
            set_compression(value),
            ("HD-5",),
        )
    if count >= 1:
        add(
            "compression-one-less",
            f"Rejects {slug} with header compression one entry short",
            f"set compression to {_show(codecs[:-1])}",
            set_compression(codecs[:-1]),
            ("HD-5",),
        )
    for m in muts:
        yield _reject_decode("header-fields", parent, m)


def _offload_frames(builder: Builder, parent: str, _options: Mapping[str, Any]) -> Iterator[Spec]:
    frames = list(builder.frames_of(parent))
    _payload, sites = _sites(frames)
    slug = _slug(parent)
    muts = [
        _Mutation(
            name="extra-empty-frame",
            description=f"Rejects {slug} with an unclaimed empty frame appended",
            mutation="append an empty frame",
            category="unclaimed-frame",
            requirements=("PH-9",),
            frames=[*frames, b""],
        ),
        _Mutation(
            name="extra-frame",
            description=f"Rejects {slug} with an unclaimed frame 00 appended",
            mutation="append the frame 00",
            category="unclaimed-frame",
            requirements=("PH-9",),
            frames=[*frames, b"\x00"],
        ),
        _Mutation(
            name="one-frame",
            description=f"Rejects {slug} cut to frame 0 alone",
            mutation="keep frame 0 only",
            category="too-few-frames",
            requirements=("WF-2",),
            frames=frames[:1],
        ),
        _Mutation(
            name="no-frames",
            description=f"Rejects {slug} with every frame removed",
            mutation="keep no frame",
            category="too-few-frames",
            requirements=("WF-2",),
            frames=[],
        ),
    ]
    offload = len(frames) - 2
    if any(s.fcount >= 1 and s.end == offload for s in sites):
        muts.append(
            _Mutation(
                name="last-frame-dropped",
                description=f"Rejects {slug} with its last frame removed",
                mutation="remove the last frame",
                category="frame-out-of-range",
                requirements=("PH-6",),
                frames=frames[:-1],
            )
        )
    if offload and any(s.fcount >= 1 for s in sites):
        muts.append(
            _Mutation(
                name="offload-area-dropped",
                description=f"Rejects {slug} with its offload area removed",
                mutation="keep frames 0 and 1 only",
                category="frame-out-of-range",
                requirements=("PH-6",),
                frames=frames[:2],
            )
        )
    for m in muts:
        yield _reject_decode("offload-frames", parent, m)


# --- compression -----------------------------------------------------------------------------


def _lz4_mutations(
    slug: str, what: str, frame: bytes
) -> list[tuple[str, str, str, bytes, str, tuple[str, ...]]]:
    """(name, description, mutation, new frame, category, requirements) for one lz4 frame."""
    (size,) = struct.unpack_from("<I", frame, 0)
    block = frame[4:]

    def prefix(n: int) -> bytes:
        return struct.pack("<I", n) + block

    limit = DEFAULT_LIMITS.max_decompressed_bytes
    return [
        (
            "size-plus-one",
            f"Rejects {slug} whose {what} declares one byte too many",
            f"set the lz4 size prefix from {size} to {size + 1}",
            prefix(size + 1),
            "invalid-compressed-data",
            ("CP-1", "CP-4"),
        ),
        (
            "size-minus-one",
            f"Rejects {slug} whose {what} declares one byte too few",
            f"set the lz4 size prefix from {size} to {size - 1}",
            prefix(size - 1),
            "invalid-compressed-data",
            ("CP-1", "CP-4"),
        ),
        (
            "size-zero",
            f"Rejects {slug} whose {what} declares 0 bytes",
            f"set the lz4 size prefix from {size} to 0",
            prefix(0),
            "invalid-compressed-data",
            ("CP-1", "CP-4"),
        ),
        (
            "size-over-limit",
            f"Rejects {slug} whose {what} declares 2**31 + 1 bytes",
            f"set the lz4 size prefix to {limit + 1}",
            prefix(limit + 1),
            "limit-exceeded",
            ("CP-5", "LM-5"),
        ),
        (
            "size-over-ratio",
            f"Rejects {slug} whose {what} declares 2**31 bytes",
            f"set the lz4 size prefix to {limit} (within LM-5, beyond the ratio)",
            prefix(limit),
            "limit-exceeded",
            ("CP-5", "LM-6"),
        ),
        (
            "size-u32-max",
            f"Rejects {slug} whose {what} declares 2**32-1 bytes",
            "set the lz4 size prefix to 2**32-1",
            prefix(2**32 - 1),
            "limit-exceeded",
            ("CP-5", "LM-5"),
        ),
        (
            "block-cut",
            f"Rejects {slug} whose {what} lacks its last byte",
            "remove the last byte",
            frame[:-1],
            "invalid-compressed-data",
            ("CP-4",),
        ),
        (
            "block-extra-byte",
            f"Rejects {slug} with a byte after the lz4 block of {what}",
            "append 00 after the block",
            frame + b"\x00",
            "invalid-compressed-data",
            ("CP-4",),
        ),
        (
            "prefix-only",
            f"Rejects {slug} whose {what} is only an lz4 size prefix",
            "keep the 4-byte size prefix only",
            frame[:4],
            "invalid-compressed-data",
            ("CP-1",),
        ),
        (
            "three-bytes",
            f"Rejects {slug} whose {what} is 3 bytes long",
            "keep the first 3 bytes",
            frame[:3],
            "invalid-compressed-data",
            ("CP-1",),
        ),
    ]


def _payload_compression(
    builder: Builder, parent: str, _options: Mapping[str, Any]
) -> Iterator[Spec]:
    frames = list(builder.frames_of(parent))
    if small_header_codec(frames[0]) != "lz4":
        msg = f"payload-compression needs an lz4 payload; {parent} has none"
        raise CaseError(msg)
    slug = _slug(parent)
    for name, desc, mutation, frame, category, reqs in _lz4_mutations(slug, "frame 1", frames[1]):
        yield _reject_decode(
            "payload-compression",
            parent,
            _Mutation(
                name=name,
                description=desc,
                mutation=f"{mutation} of frame 1",
                category=category,
                requirements=(*reqs, "CP-9"),
                frames=[frames[0], frame, *frames[2:]],
            ),
        )
    for name, codec in (("codec-unknown", "brotli"), ("codec-empty-name", "")):
        small = pack({"compression": codec})
        yield _reject_decode(
            "payload-compression",
            parent,
            _Mutation(
                name=name,
                description=f"Rejects {slug} with frame 0 naming the codec {_show(codec)}",
                mutation=f'set frame 0 to {{"compression": "{codec}"}}',
                category="unknown-codec",
                requirements=("CP-2", "SH-2"),
                frames=[small, *frames[1:]],
            ),
        )


def _merge(builder: Builder, parent: str, options: Mapping[str, Any]) -> Iterator[Spec]:
    """Mutations found only when an offloaded value is decompressed and merged (layer 6)."""
    frames = list(builder.frames_of(parent))
    _sites_all, p = _site(frames, options, parent)
    slug = _slug(parent)
    raw = p.header.get("deserialize") is True
    modes = MODES if raw else ("consuming",)
    extra = ("HD-9",) if raw else ()
    # `lengths` of a value with no compressed frame are checked by every receiver (CP-11).
    plain = not any(c is not None for c in p.header.get("compression") or ())
    length_modes = MODES if plain else modes
    length_reqs = ("CP-11",) if plain else ()
    hpath = (*p.path, "_$header")
    lengths = tuple(p.header["lengths"])
    muts: list[_Mutation] = []

    def set_lengths(value: tuple[int, ...], name: str, desc: str) -> None:
        muts.append(
            _Mutation(
                name=name,
                description=desc,
                mutation=f"set lengths from {_show(lengths)} to {_show(value)}",
                category="length-mismatch",
                requirements=("CP-6", *length_reqs, *extra),
                frames=edit_payload(frames, _set((*hpath, "lengths"), value)),
                modes=length_modes,
            )
        )

    if lengths:
        set_lengths(
            (*lengths[:-1], lengths[-1] + 1),
            "lengths-sum-plus-one",
            f"Rejects {slug} with lengths adding up to one byte more",
        )
    if sum(lengths) > 0:
        set_lengths(
            (*lengths[:-1], lengths[-1] - 1) if lengths[-1] else (sum(lengths) - 1,),
            "lengths-sum-minus-one",
            f"Rejects {slug} with lengths adding up to one byte less",
        )
        set_lengths((), "lengths-empty", f"Rejects {slug} with empty lengths for non-empty frames")
    set_lengths(
        (*lengths, 1), "lengths-extra-entry", f"Rejects {slug} with an extra entry in lengths"
    )
    codecs = list(p.header.get("compression") or [])
    for j, codec in enumerate(codecs):
        if codec != "lz4":
            continue
        index = 2 + p.findex + j
        what = f"frame {index}"
        for name, desc, mutation, frame, category, reqs in _lz4_mutations(
            slug, what, frames[index]
        ):
            new = list(frames)
            new[index] = frame
            muts.append(
                _Mutation(
                    name=name,
                    description=desc,
                    mutation=f"{mutation} of {what}",
                    category=category,
                    requirements=(*reqs, *extra),
                    frames=new,
                    modes=modes,
                )
            )
        for name, new_codec in (("codec-unknown", "brotli"), ("codec-empty-name", "")):
            changed = tuple(new_codec if k == j else c for k, c in enumerate(codecs))
            muts.append(
                _Mutation(
                    name=name,
                    description=f"Rejects {slug} with a compression entry {_show(new_codec)}",
                    mutation=f"set compression entry {j} to {_show(new_codec)}",
                    category="unknown-codec",
                    requirements=("CP-2", *extra),
                    frames=edit_payload(frames, _set((*hpath, "compression"), changed)),
                    modes=modes,
                )
            )
        break
    for m in muts:
        yield _reject_decode("merge", parent, m)


#: The derivation families by name (vectors/placeholder-v1/cases/derived.yaml uses these names).
FAMILIES: Final[dict[str, Callable[[Builder, str, Mapping[str, Any]], Iterator[Spec]]]] = {
    "truncation": _truncation,
    "prelude-fields": _prelude_fields,
    "trailing-bytes": _trailing_bytes,
    "payload-truncation": _payload_truncation,
    "placeholder-fields": _placeholder_fields,
    "header-fields": _header_fields,
    "offload-frames": _offload_frames,
    "payload-compression": _payload_compression,
    "merge": _merge,
}


def derive(rule: DeriveRule, builder: Builder) -> list[Spec]:
    """Every vector a derivation rule yields, over all its parents."""
    family = FAMILIES.get(rule.family)
    if family is None:
        msg = f"{rule.source}: unknown derivation family {rule.family!r}"
        raise CaseError(msg)
    out: list[Spec] = []
    for entry in rule.parents:
        parent, _, name = (p.strip() for p in entry.partition(" as "))
        if name:
            _NAMES[parent] = name
        out.extend(family(builder, parent, rule.options))
    return out
