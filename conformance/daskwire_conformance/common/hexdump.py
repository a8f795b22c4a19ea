"""Annotated hex dumps of frame lists and wire bytes, for the site and for reports.

A note that starts with "!" marks what looks wrong at that place in the bytes. A note that
starts with "!!" says what a decoder reports for them: it is the reference's own error
(category, requirement and message), so it always agrees with the vectors' expected outcome.
"""

from __future__ import annotations

import re
import struct
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

from daskwire.dask_2023_11.constants import (
    COMPRESSION,
    INDEX_KEYS,
    KEY_ENUM,
    KEY_ENUM_CLASS,
    KEY_ENUM_NAME,
    KEY_PICKLED,
    KEY_SET,
    KEY_SET_ITEMS,
    MIN_FRAMES,
    NUM_SUB_FRAMES,
    PICKLED_OBJ,
    RESERVED_KEYS,
    SERIALIZED_TRANSPORT_KEYS,
    SPLIT_NUM_SUB_FRAMES,
    SPLIT_OFFSETS,
)
from daskwire.dask_2023_11.constants import PROFILE as DASK_2023_11
from daskwire.errors import DaskwireError
from daskwire.limits import DEFAULT_LIMITS, Limits
from daskwire.placeholder_v1.constants import PROFILE as PLACEHOLDER_V1
from daskwire.registry import get_profile as _get_profile

from daskwire_conformance.common.words import counted

__all__ = ["PROFILES", "annotate", "annotate_handshake", "annotate_wire", "fit_width"]

#: Bytes shown per row.
ROW_BYTES: Final = 8
#: Rows shown for the data of one str, bin or frame before the rest is summarised.
DATA_ROWS: Final = 4
#: Rows shown for one frame before the rest of it is summarised.
FRAME_ROWS: Final = 160
#: Frame lengths listed from a prelude before the rest is summarised.
PRELUDE_ROWS: Final = 64
#: Indentation stops growing at this depth, so deep values stay readable.
MAX_INDENT: Final = 16
#: Characters of a str shown in its annotation.
TEXT_CHARS: Final = 40
#: The receiver modes a frame list is decoded in (spec/receivers.md).
MODES: Final = ("forwarding", "consuming")
#: Unicode categories shown escaped: controls, format characters (such as bidi overrides),
#: line and paragraph separators, surrogates.
_HIDDEN_CATEGORIES: Final = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs"})
#: Escapes for the characters that have a short one.
_SHORT_ESCAPES: Final = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r"}
#: What ends a line for `str.splitlines`, and the other characters a terminal acts on (C0,
#: DEL, C1, bidi controls): a note from the traffic (a codec name) shows them escaped, so
#: one row is one line of the dump and nothing in it moves a terminal.
_NOT_SHOWN: Final = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")

#: The profiles whose bytes a dump annotates.
PROFILES: Final = (PLACEHOLDER_V1, DASK_2023_11)

_RESERVED: Final = ("_$header", "_$findex", "_$fcount")
_TRANSPORT: Final = ("count", "deserialize", "lengths", "compression")


class _Stop(Exception):
    """The bytes end or break the msgpack format; the dump stops here. `at` is where the
    value that the bytes end inside starts, so the bytes present of it can still be shown."""

    def __init__(self, text: str = "", at: int | None = None) -> None:
        super().__init__(text)
        self.at = at


@dataclass(frozen=True, slots=True)
class _Map:
    """A decoded msgpack map, kept as pairs (keys need not be hashable)."""

    pairs: list[tuple[Any, Any]] = field(default_factory=list)

    def get(self, key: str) -> Any:
        for k, v in self.pairs:
            if type(k) is str and k == key:
                return v
        return None


@dataclass(frozen=True, slots=True, kw_only=True)
class _Placeholder:
    path: str
    findex: int
    fcount: int
    codecs: list[Any]


class _Dump:
    """Accumulates rows of (offset or None, bytes, depth, text) and the placeholders seen."""

    __slots__ = ("budget", "cut", "placeholders", "rows")

    def __init__(self) -> None:
        self.rows: list[tuple[int | None, bytes, int, str]] = []
        self.placeholders: list[_Placeholder] = []
        #: Row count at which walking the current frame stops.
        self.budget = FRAME_ROWS
        #: Whether a walk stopped before the end of its value, so placeholders may be unseen.
        self.cut = False

    def row(self, offset: int | None, data: bytes, depth: int, text: str) -> int:
        self.rows.append((offset, data, depth, text))
        return len(self.rows) - 1

    def note(self, depth: int, text: str) -> None:
        self.row(None, b"", depth, text)

    def data(self, base: int, data: bytes, depth: int, what: str) -> None:
        """Rows for raw bytes: DATA_ROWS rows, then a summary of the rest."""
        shown = data[: ROW_BYTES * DATA_ROWS]
        for i in range(0, len(shown), ROW_BYTES):
            self.row(base + i, shown[i : i + ROW_BYTES], depth, what if i == 0 else "")
        if len(data) > len(shown):
            self.note(depth, f"... {counted(len(data) - len(shown), 'more byte')}")

    def render(self) -> str:
        lines = []
        for offset, data, depth, text in self.rows:
            indent = "  " * min(depth, MAX_INDENT)
            where = f"{offset:06x}" if offset is not None else "      "
            hexed = " ".join(f"{b:02x}" for b in data)
            shown = _NOT_SHOWN.sub(lambda found: _escape(found[0]), text)
            lines.append(f"{where}  {hexed:<{ROW_BYTES * 3 - 1}}  {indent}{shown}".rstrip())
        return "\n".join(lines)


def _need(data: bytes, pos: int, size: int) -> None:
    if pos + size > len(data):
        raise _Stop(f"! truncated: needs {counted(pos + size - len(data), 'more byte')}", pos)


def _escape(char: str) -> str:
    """A character as shown in a note: itself, or an escape when it would not show."""
    short = _SHORT_ESCAPES.get(char)
    if short is not None:
        return short
    if unicodedata.category(char) not in _HIDDEN_CATEGORIES and char.isprintable():
        return char
    code = ord(char)
    return (
        f"\\x{code:02x}"
        if code < 0x100
        else f"\\u{code:04x}"
        if code < 0x10000
        else f"\\U{code:08x}"
    )


def _visible(value: str) -> str:
    """`value` with controls, format characters, quotes and backslashes escaped."""
    return "".join(_escape(c) for c in value)


def _text(value: str) -> str:
    if len(value) <= TEXT_CHARS:
        return f'"{_visible(value)}"'
    return f'"{_visible(value[:TEXT_CHARS])}..."'


def _key_text(key: Any) -> str:
    if type(key) is str:
        return _visible(key)
    if isinstance(key, bytes):
        return f"bin {key.hex()}"
    return repr(key)


class _Walker:
    """Walks msgpack bytes token by token, for display only (not a decoder)."""

    def __init__(self, dump: _Dump, data: bytes, base: int) -> None:
        self.dump = dump
        self.data = data
        self.base = base

    def _head(self, pos: int, size: int, depth: int, text: str) -> int:
        _need(self.data, pos, size)
        return self.dump.row(self.base + pos, self.data[pos : pos + size], depth, text)

    def value(
        self, pos: int, depth: int, path: str, label: str = "", context: str = ""
    ) -> tuple[int, Any]:
        """Annotate the value at pos; returns the position after it and its value."""
        if len(self.dump.rows) > self.dump.budget:
            raise _Stop("... more tokens not shown")
        _need(self.data, pos, 1)
        b = self.data[pos]
        prefix = f"{label}: " if label else ""
        data = self.data
        if b <= 0x7F or b >= 0xE0:
            value = b if b <= 0x7F else b - 0x100
            self._head(pos, 1, depth, f"{prefix}int {value}")
            return pos + 1, value
        if 0x80 <= b <= 0x8F or b in (0xDE, 0xDF):
            size, n = (1, b & 0x0F) if b <= 0x8F else self._count(pos, b == 0xDF)
            return self._map(pos, size, n, depth=depth, path=path, prefix=prefix, context=context)
        if 0x90 <= b <= 0x9F or b in (0xDC, 0xDD):
            size, n = (1, b & 0x0F) if b <= 0x9F else self._count(pos, b == 0xDD)
            return self._array(pos, size, n, depth=depth, path=path, prefix=prefix, context=context)
        if 0xA0 <= b <= 0xBF or b in (0xD9, 0xDA, 0xDB):
            size, n = (
                (1, b & 0x1F) if b <= 0xBF else self._length(pos, {0xD9: 1, 0xDA: 2, 0xDB: 4}[b])
            )
            _need(data, pos, size + n)
            raw = data[pos + size : pos + size + n]
            try:
                text = _text(raw.decode("utf-8"))
            except UnicodeDecodeError:
                text = "! not UTF-8"
            form = "" if b <= 0xBF else f" (str {8 * {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]})"
            self._head(pos, size, depth, f"{prefix}str, {counted(n, 'byte')}{form}: {text}")
            self.dump.data(self.base + pos + size, raw, depth + 1, "")
            return pos + size + n, raw.decode("utf-8", "replace")
        if b in (0xC4, 0xC5, 0xC6):
            width = {0xC4: 1, 0xC5: 2, 0xC6: 4}[b]
            size, n = self._length(pos, width)
            _need(data, pos, size + n)
            self._head(pos, size, depth, f"{prefix}bin, {counted(n, 'byte')} (bin {8 * width})")
            raw = data[pos + size : pos + size + n]
            self.dump.data(self.base + pos + size, raw, depth + 1, "")
            return pos + size + n, raw
        if b == 0xC0:
            self._head(pos, 1, depth, f"{prefix}nil")
            return pos + 1, None
        if b in (0xC2, 0xC3):
            self._head(pos, 1, depth, f"{prefix}{'true' if b == 0xC3 else 'false'}")
            return pos + 1, b == 0xC3
        if b in (0xCA, 0xCB):
            width = 4 if b == 0xCA else 8
            _need(data, pos, 1 + width)
            (number,) = struct.unpack(">f" if width == 4 else ">d", data[pos + 1 : pos + 1 + width])
            self._head(pos, 1 + width, depth, f"{prefix}float{8 * width} {number!r}")
            return pos + 1 + width, number
        if 0xCC <= b <= 0xD3:
            width = 1 << ((b - 0xCC) % 4)
            signed = b >= 0xD0
            _need(data, pos, 1 + width)
            number = int.from_bytes(data[pos + 1 : pos + 1 + width], "big", signed=signed)
            kind = f"{'int' if signed else 'uint'} {8 * width}"
            self._head(pos, 1 + width, depth, f"{prefix}int {number} ({kind})")
            return pos + 1 + width, number
        if 0xD4 <= b <= 0xD8 or b in (0xC7, 0xC8, 0xC9):
            if b >= 0xD4:
                size, n = 2, 1 << (b - 0xD4)
                _need(data, pos, 2)
            else:
                width = {0xC7: 1, 0xC8: 2, 0xC9: 4}[b]
                size, n = self._length(pos, width)
                size += 1
                _need(data, pos, size)
            ext_type = struct.unpack(">b", data[pos + size - 1 : pos + size])[0]
            _need(data, pos, size + n)
            text = f"{prefix}! ext type {ext_type}, {counted(n, 'byte')} (not allowed)"
            self._head(pos, size, depth, text)
            self.dump.data(self.base + pos + size, data[pos + size : pos + size + n], depth + 1, "")
            return pos + size + n, None
        self._head(pos, 1, depth, f"{prefix}! byte c1 is never used in msgpack")
        raise _Stop("")

    def _count(self, pos: int, wide: bool) -> tuple[int, int]:
        return self._length(pos, 4 if wide else 2)

    def _length(self, pos: int, width: int) -> tuple[int, int]:
        _need(self.data, pos, 1 + width)
        return 1 + width, int.from_bytes(self.data[pos + 1 : pos + 1 + width], "big")

    def _array(
        self, pos: int, size: int, n: int, *, depth: int, path: str, prefix: str, context: str
    ) -> tuple[int, Any]:
        form = "" if size == 1 else f" (array {8 * (size - 1)})"
        self._head(pos, size, depth, f"{prefix}array, {counted(n, 'element')}{form}")
        pos += size
        items = []
        for i in range(n):
            pos, item = self.value(pos, depth + 1, f"{path}[{i}]", f"[{i}]", context)
            items.append(item)
        return pos, items

    def _map(
        self, pos: int, size: int, n: int, *, depth: int, path: str, prefix: str, context: str
    ) -> tuple[int, Any]:
        form = "" if size == 1 else f" (map {8 * (size - 1)})"
        head = self._head(pos, size, depth, f"{prefix}map, {counted(n, 'entry', 'entries')}{form}")
        pos += size
        result = _Map()
        value_rows: dict[str, int] = {}
        for _ in range(n):
            key_start = len(self.dump.rows)
            pos, key = self.value(pos, depth + 1, path, "key", "key")
            if context == "header" and type(key) is str:
                role = "transport key" if key in _TRANSPORT else "serializer key"
                self._suffix(key_start, f" ({role})")
            sub = f"{path}.{_key_text(key)}" if type(key) is str else f"{path}[{_key_text(key)}]"
            inner = (
                "header"
                if type(key) is str and key == "_$header"
                else context
                if context == "header"
                else ""
            )
            value_rows[str(key)] = len(self.dump.rows)
            pos, value = self.value(pos, depth + 1, sub, "value", inner)
            result.pairs.append((key, value))
        keys = {k for k, _ in result.pairs if type(k) is str}
        if keys & set(_RESERVED):
            self._placeholder(head, result, path, value_rows, context)
        return pos, result

    def _suffix(self, index: int, text: str) -> None:
        offset, data, depth, old = self.dump.rows[index]
        self.dump.rows[index] = (offset, data, depth, old + text)

    def _placeholder(
        self, head: int, found: _Map, path: str, rows: dict[str, int], context: str
    ) -> None:
        findex, fcount, header = found.get("_$findex"), found.get("_$fcount"), found.get("_$header")
        where = " (! inside a header)" if context == "header" else ""
        self._suffix(head, f": placeholder at {path}{where}")
        if type(findex) is int and "_$findex" in rows:
            self._suffix(rows["_$findex"], f" -> first frame is frame {2 + findex}")
        if type(findex) is int and type(fcount) is int and "_$fcount" in rows:
            last = f"frames {2 + findex}..{1 + findex + fcount}" if fcount else "no frames"
            self._suffix(rows["_$fcount"], f" -> {last}")
            codecs = header.get("compression") if isinstance(header, _Map) else None
            self.dump.placeholders.append(
                _Placeholder(
                    path=path,
                    findex=findex,
                    fcount=fcount,
                    codecs=list(codecs) if isinstance(codecs, list) else [],
                )
            )


def _walk_value(
    dump: _Dump,
    data: bytes,
    base: int,
    depth: int,
    context: str = "",
    *,
    walker: _Walker | None = None,
) -> Any:
    """Annotate one msgpack value filling data; notes what is left over or broken."""
    walker = _Walker(dump, data, base) if walker is None else walker
    dump.budget = len(dump.rows) + FRAME_ROWS
    try:
        pos, value = walker.value(0, depth, "$", "", context)
    except _Stop as stop:
        dump.cut = True
        if stop.at is not None and stop.at < len(data):
            # the bytes present of the value the input ends inside: shown, not left out
            dump.row(base + stop.at, data[stop.at : stop.at + ROW_BYTES], depth, str(stop))
        elif str(stop):
            dump.note(depth, str(stop))
        return None
    if pos < len(data):
        dump.note(depth, f"! {counted(len(data) - pos, 'byte')} after the value")
    return value


def _codec_of(value: Any) -> str | None:
    if isinstance(value, _Map):
        codec = value.get("compression")
        return codec if isinstance(codec, str) else None
    return None


#: The largest size a dump decompresses a frame to, to show it.
_SHOWN_DECOMPRESSED: Final = 1 << 24


def _decompress(codec: str, data: bytes) -> tuple[bytes | None, str]:
    """Decompressed bytes for display, or None and a note that says why there are none."""
    if codec not in ("lz4", "zlib"):
        return None, f"{codec} data is not decompressed here"
    try:
        if codec == "lz4":
            import lz4.block

            if len(data) >= 4 and struct.unpack_from("<I", data)[0] > _SHOWN_DECOMPRESSED:
                return None, "not decompressed here: the size prefix is over 16 MiB"
            out: bytes = lz4.block.decompress(data)
            return out, ""
        return zlib.decompressobj().decompress(data, _SHOWN_DECOMPRESSED), ""
    except Exception:
        return None, f"! does not decompress as {codec}"


def _compressed(dump: _Dump, codec: str, data: bytes, *, base: int, depth: int) -> bytes | None:
    if codec == "lz4" and len(data) >= 4:
        (size,) = struct.unpack_from("<I", data)
        dump.row(
            base, data[:4], depth, f"lz4 size prefix: {counted(size, 'byte')} when decompressed"
        )
        dump.data(base + 4, data[4:], depth, f"LZ4 block, {counted(len(data) - 4, 'byte')}")
    else:
        dump.data(base, data, depth, f"{codec} data, {counted(len(data), 'byte')}")
    plain, why = _decompress(codec, data)
    if plain is None:
        dump.note(depth, why)
    return plain


def _frames(dump: _Dump, frames: Sequence[bytes], bases: Sequence[int]) -> None:
    small = frames[0] if frames else b""
    codec: str | None = None
    if frames:
        if small:
            dump.note(0, f"frame 0: small header, {counted(len(small), 'byte')}")
            codec = _codec_of(_walk_value(dump, small, bases[0], 1))
        else:
            dump.note(0, "frame 0: small header, empty (frame 1 not compressed)")
    if len(frames) > 1:
        payload = frames[1]
        dump.note(
            0,
            f"frame 1: payload, {counted(len(payload), 'byte')}" + (f", {codec}" if codec else ""),
        )
        if codec:
            plain = _compressed(dump, codec, payload, base=bases[1], depth=1)
            if plain is not None:
                shown = counted(len(plain), "byte")
                dump.note(1, f"decompressed payload, {shown} (offsets within it):")
                _walk_value(dump, plain, 0, 2)
            else:
                dump.cut = True
        else:
            _walk_value(dump, payload, bases[1], 1)
    owner: dict[int, tuple[_Placeholder, int]] = {}
    area = max(len(frames) - 2, 0)
    for p in dump.placeholders:
        # Only the claimed indices inside the offload area matter (ranges may be huge).
        for j in range(max(p.findex, 0), min(p.findex + p.fcount, area)):
            owner.setdefault(j, (p, j - p.findex))
    for j, frame in enumerate(frames[2:]):
        claim = owner.get(j)
        if claim is None:
            # A walk cut short may not have seen the placeholder that claims the frame.
            who = "claimed by no placeholder shown" if dump.cut else "! claimed by no placeholder"
        else:
            p, k = claim
            who = f"{p.path}, frame {k + 1} of {p.fcount}"
        dump.note(0, f"frame {j + 2}: offload area [{j}], {counted(len(frame), 'byte')}: {who}")
        frame_codec = None
        if claim is not None and claim[1] < len(claim[0].codecs):
            entry = claim[0].codecs[claim[1]]
            frame_codec = entry if isinstance(entry, str) else None
        if frame_codec:
            _compressed(dump, frame_codec, frame, base=bases[j + 2], depth=1)
        elif frame:
            dump.data(bases[j + 2], frame, 1, "")


def _verdict(error: DaskwireError, mode: str = "") -> str:
    """The note that states an error of the reference: "!! category [ID]: message"."""
    where = f" [{error.requirement}]" if error.requirement else ""
    how = f" in {mode} mode" if mode else ""
    return f"!! {error.category.value}{where}{how}: {Exception.__str__(error)}"


def _decode_verdicts(
    frames: Sequence[bytes], limits: Limits, profile: str = PLACEHOLDER_V1
) -> list[str]:
    """What the reference's `decode` reports for a frame list in each receiver mode."""
    decode = _get_profile(profile).decode
    errors: dict[str, DaskwireError] = {}
    for mode in MODES:
        try:
            decode(frames, mode=mode, limits=limits)
        except DaskwireError as error:
            errors[mode] = error
    if not errors:
        return []
    notes = [_verdict(e) for e in errors.values()]
    if len(errors) == len(MODES) and len(set(notes)) == 1:
        return notes[:1]
    return [
        _verdict(errors[mode], mode) if mode in errors else f"{mode} mode decodes it"
        for mode in MODES
    ]


def annotate(
    frames: Sequence[bytes], *, limits: Limits = DEFAULT_LIMITS, profile: str = PLACEHOLDER_V1
) -> str:
    """An annotated hex dump of a frame list; offsets count from the start of each frame.

    Frame 0 and frame 1 are walked token by token (a compressed frame 1 is shown, then
    decompressed and walked), placeholders name the frames they claim, and each offloaded
    frame names the placeholder that claims it. Broken input is shown up to where it breaks.
    The last notes say what the reference's `decode` reports under `limits`, in each receiver
    mode that rejects the frames. `profile` names the format (`PROFILES`); dask-2023.11's
    frames are shown as `annotate_wire` describes.
    """
    dump = _Dump()
    frames = [bytes(f) for f in frames]
    if _profile(profile) == DASK_2023_11:
        _dask_frames(dump, frames, [0] * len(frames), limits=limits)
    else:
        _frames(dump, frames, [0] * len(frames))
    for note in _decode_verdicts(frames, limits, profile):
        dump.note(0, note)
    return dump.render()


def annotate_handshake(
    frames: Sequence[bytes], *, limits: Limits = DEFAULT_LIMITS, profile: str = PLACEHOLDER_V1
) -> str:
    """`annotate` of the first message of a connection, read as a comm handshake: as a
    forwarding receiver reads it (DK-3), its last note says what the peer proposed, or why
    it is no handshake."""
    dump = _Dump()
    frames = [bytes(f) for f in frames]
    if _profile(profile) == DASK_2023_11:
        _dask_frames(dump, frames, [0] * len(frames), limits=limits)
    else:
        _frames(dump, frames, [0] * len(frames))
    notes: list[str] = []
    try:
        _get_profile(profile).decode(frames, mode="forwarding", limits=limits)
    except DaskwireError as error:
        notes = [_verdict(error)]
    read = _get_profile(profile).read_handshake
    if not notes and read is not None:
        try:
            options = read(frames, limits)
        except DaskwireError as error:
            notes = [_verdict(error)]
        else:
            codec = options.compression or "none"
            proposal = f"compression {codec}, pickle protocol {options.pickle_protocol}"
            notes = [f"comm handshake: proposes {proposal}"]
    for note in notes:
        dump.note(0, note)
    return dump.render()


def _wire_error(
    data: bytes, *, stream: bool, limits: Limits, profile: str = PLACEHOLDER_V1
) -> tuple[DaskwireError | None, int]:
    """What the reference reports for wire bytes, and how many messages a stream yields first."""
    entry = _get_profile(profile)
    if not stream:
        try:
            entry.unpack(data, limits=limits)
        except DaskwireError as error:
            return error, 0
        return None, 1
    reader = entry.stream_reader(limits)
    try:
        messages = reader.feed(data)
    except DaskwireError as error:
        return error, 0
    try:
        reader.close()
    except DaskwireError as error:
        return error, len(messages)
    return None, len(messages)


def annotate_wire(
    data: bytes,
    *,
    stream: bool = False,
    limits: Limits = DEFAULT_LIMITS,
    profile: str = PLACEHOLDER_V1,
) -> str:
    """An annotated hex dump of wire bytes: the prelude, then every frame as `annotate` does.

    Offsets are positions in `data`. With stream=True, messages that follow one another are
    dumped one after the other; otherwise bytes after the first message are only counted.
    The prelude is read in the order of the spec's checks (WF-9) under `limits`, and the dump
    stops at the first check that fails, with the error the reference's `unpack` (or, for a
    stream, `FrameReader`) reports for the same bytes.

    For `profile` dask-2023.11 (spec/dask-2023.11/) a message starts with its no-split read
    hint H, which is shown with the frame boundary it ends on, and its checks run in the
    order of DT-8. Frame 0 is walked token by token with each marker called out, each
    sub-header with its transport keys, and each data frame with the marker that claims it,
    its place among the shards and its codec; frames no marker claims are named. What a frame
    claims comes from the reference's checks of its sub-header; when the bytes split into
    one message without error, the last notes say what the reference's `decode` reports in
    each receiver mode that rejects its frames.
    """
    data = bytes(data)
    dask = _profile(profile) == DASK_2023_11
    error, _ = _wire_error(data, stream=stream, limits=limits, profile=profile)
    verdict = _verdict(error) if error is not None else "(the reference reports no error here)"
    dump = _Dump()
    pos = 0
    number = 1
    while True:
        if stream and pos == len(data):
            if error is None:
                shown = counted(number - 1, "message")
                dump.note(0, f"end of stream after {shown}: a clean end")
            else:
                dump.note(0, verdict)
            break
        if stream:
            dump.note(0, f"message {number}")
        end = _dask_message(dump, data, pos, limits) if dask else _message(dump, data, pos, limits)
        if end is None:
            dump.note(0, verdict)
            break
        if dask and not stream and error is None:
            frames = _get_profile(profile).unpack(data, limits=limits)
            for note in _decode_verdicts([bytes(f) for f in frames], limits, profile):
                dump.note(0, note)
        pos = end
        if not stream:
            if pos < len(data):
                dump.note(0, f"{counted(len(data) - pos, 'byte')} after the last frame")
            if pos < len(data) or error is not None:
                dump.note(0, verdict)
            break
        number += 1
        dump.placeholders.clear()
        dump.cut = False
    return dump.render()


def _message(dump: _Dump, data: bytes, start: int, limits: Limits) -> int | None:
    """Dump one message from start; returns where it ends, or None where a check fails (WF-9)."""
    read = _prelude(dump, data, start, limits, minimum=2)
    if read is None:
        return None
    pos, lengths = read
    total = 8 * (len(lengths) + 1) + sum(lengths)
    if total > limits.max_message_bytes:
        dump.note(0, f"message size 8 + 8N + the lengths = {total}")
        return None
    return _body(dump, data, pos, lengths, _frames)


def _prelude(
    dump: _Dump, data: bytes, start: int, limits: Limits, *, minimum: int
) -> tuple[int, list[int]] | None:
    """Dump the frame count and lengths from start; returns where they end and the lengths,
    or None where a check fails (WF-9 steps 1 to 3)."""
    available = len(data) - start
    if available < 8:
        if available:
            shown = f"frame count: the input ends after {counted(available, 'byte')} of 8"
            dump.row(start, data[start:], 0, shown)
        else:
            dump.note(0, "no bytes: the input ends before the frame count")
        return None
    (n,) = struct.unpack_from("<Q", data, start)
    dump.row(start, data[start : start + 8], 0, f"frame count N = {n}")
    if n > limits.max_frames or n < minimum:
        return None
    present = min(n, (available - 8) // 8)
    lengths: list[int] = []
    pos = start + 8
    for i in range(present):
        (length,) = struct.unpack_from("<Q", data, pos)
        lengths.append(length)
        over = length > limits.max_frame_bytes
        if i < PRELUDE_ROWS or over:
            if i > PRELUDE_ROWS:
                dump.note(0, f"... {counted(i - PRELUDE_ROWS, 'more length')} not shown")
            dump.row(pos, data[pos : pos + 8], 0, f"length of frame {i} = {length}")
        if over:
            return None
        pos += 8
    if present > PRELUDE_ROWS:
        dump.note(0, f"... {counted(present - PRELUDE_ROWS, 'more length')} not shown")
    if present < n:
        rest = data[pos:]
        shown = f"length of frame {present}: the input ends after {counted(len(rest), 'byte')} of 8"
        if rest:
            dump.row(pos, rest, 0, shown)
        else:
            dump.note(0, f"the input ends before the length of frame {present}")
        return None
    return pos, lengths


def _body(
    dump: _Dump,
    data: bytes,
    pos: int,
    lengths: Sequence[int],
    show: Callable[[_Dump, Sequence[bytes], Sequence[int]], None],
) -> int | None:
    """Dump the frames from pos with `show`; returns where they end, or None if cut short."""
    frames: list[bytes] = []
    bases: list[int] = []
    for i, length in enumerate(lengths):
        if len(data) < pos + length:
            frames.append(data[pos:])
            bases.append(pos)
            show(dump, frames, bases)
            have = f"{len(data) - pos} of {counted(length, 'byte')}"
            dump.note(0, f"frame {i}: the input ends after {have}")  # after its bytes
            return None
        frames.append(data[pos : pos + length])
        bases.append(pos)
        pos += length
    show(dump, frames, bases)
    return pos


# --- dask-2023.11 ----------------------------------------------------------------------------


def _profile(name: str) -> str:
    """`name` when a dump can annotate its bytes; raises ValueError for any other name."""
    if name not in PROFILES:
        msg = f"no hex dump for profile {name!r}; the profiles are: {', '.join(PROFILES)}"
        raise ValueError(msg)
    return name


#: Characters of a map key shown in a path; a longer key is cut, so that notes fit a line.
_PATH_KEY_CHARS: Final = 24


@dataclass(frozen=True, slots=True)
class _Marker:
    """An index marker met in frame 0: where it stands, its key and its frame index."""

    path: str
    key: str
    index: int


class _DaskWalker(_Walker):
    """Walks dask-2023.11 msgpack for display: calls out markers and sub-header keys.

    `kind` is "message" for frame 0 and the key of the index marker whose sub-header is
    walked otherwise. The index markers of frame 0 are collected in `markers`; the rows of
    the values of a sub-header's top-level keys in `top`.
    """

    def __init__(self, dump: _Dump, data: bytes, base: int, *, kind: str, frames: int) -> None:
        super().__init__(dump, data, base)
        self.kind = kind
        self.frames = frames
        self.markers: list[_Marker] = []
        self.top: dict[str, int] = {}

    def _role(self, key: str) -> str:
        if self.kind == KEY_PICKLED and key == PICKLED_OBJ:
            return "pickle bytes: opaque, never loaded"
        if key in SERIALIZED_TRANSPORT_KEYS and (
            self.kind != KEY_PICKLED or key in (NUM_SUB_FRAMES, COMPRESSION)
        ):
            return "transport key"
        return "serializer key"

    def _map(
        self, pos: int, size: int, n: int, *, depth: int, path: str, prefix: str, context: str
    ) -> tuple[int, Any]:
        form = "" if size == 1 else f" (map {8 * (size - 1)})"
        head = self._head(pos, size, depth, f"{prefix}map, {counted(n, 'entry', 'entries')}{form}")
        pos += size
        top = path == "$" and context != "key" and self.kind != "message"
        result = _Map()
        for _ in range(n):
            key_start = len(self.dump.rows)
            pos, key = self.value(pos, depth + 1, path, "key", "key")
            if top and type(key) is str:
                self._suffix(key_start, f" ({self._role(key)})")
                self.top[key] = len(self.dump.rows)
            step = _key_text(key)
            if len(step) > _PATH_KEY_CHARS:
                step = step[: _PATH_KEY_CHARS - 3] + "..."
            sub = f"{path}.{step}" if type(key) is str else f"{path}[{step}]"
            pos, value = self.value(pos, depth + 1, sub, "value", context)
            result.pairs.append((key, value))
        self._marker(head, result, path)
        return pos, result

    def _marker(self, head: int, found: _Map, path: str) -> None:
        keys = sorted({k for k, _ in found.pairs if type(k) is str and k in RESERVED_KEYS})
        if not keys:
            return
        if len(keys) > 1:
            self._suffix(head, f": ! more than one reserved key ({', '.join(keys)})")
            return
        (key,) = keys
        if self.kind != "message":
            self._suffix(head, f": {key} map, kept as a map in a sub-header")
            return
        if key in INDEX_KEYS:
            index = found.get(key)
            if len(found.pairs) != 1 or type(index) is not int or index < 1:
                self._suffix(head, f": ! a {key} map that is not an index marker")
                return
            last = self.frames - 1
            where = (
                f"sub-header in frame {index}"
                if index <= last
                else f"! frame {index} is past the last frame, {last}"
            )
            self._suffix(head, f": {key} marker at {path} -> {where}")
            self.markers.append(_Marker(path, key, index))
        elif key == KEY_SET:
            items = found.get(KEY_SET_ITEMS)
            size = f" of {counted(len(items), 'element')}" if isinstance(items, list) else ""
            self._suffix(head, f": {key} marker at {path}, a set{size}")
        else:
            name, cls = found.get(KEY_ENUM_NAME), found.get(KEY_ENUM_CLASS)
            what = f", {cls}.{name}" if type(name) is str and type(cls) is str else ""
            self._suffix(head, f": {KEY_ENUM} marker at {path}{what}")


@dataclass(frozen=True, slots=True)
class _Claim:
    """What one frame is to the marker that claims it: its sub-header, or a data frame."""

    marker: _Marker
    #: 0 for the sub-header; j + 1 for the marker's data frame j.
    place: int
    #: The reference's checked sub-header (daskwire.dask_2023_11.decoder.check_sub_header).
    sub: Any


def _frame_range(first: int, last: int) -> str:
    return f"frame {first}" if first == last else f"frames {first}..{last}"


def _shard(sub: Any, j: int) -> str:
    """Which original frame data frame j of a sub-header is a shard of (DS-4), or ""."""
    for original, (offset, shards) in enumerate(sub.runs or ()):
        if offset <= j < offset + shards:
            return f", original frame {original}" + (
                f", shard {j - offset + 1} of {shards}" if shards != 1 else ""
            )
    return ""


def _sub_header_notes(walker: _DaskWalker, sub: Any, index: int) -> None:
    """Say on the rows of a sub-header's transport keys what the reference reads in them."""
    rows = walker.top
    count = sub.count
    if NUM_SUB_FRAMES in rows:
        claimed = f"data in {_frame_range(index + 1, index + count)}" if count else "no data"
        walker._suffix(rows[NUM_SUB_FRAMES], f" -> {claimed}")
    if COMPRESSION in rows and sub.codecs is not None:
        codecs = [f"frame {index + 1 + j} {c or 'none'}" for j, c in enumerate(sub.codecs)]
        shown = ", ".join(codecs[:4]) + (", ..." if len(codecs) > 4 else "")
        walker._suffix(rows[COMPRESSION], f" -> {shown}" if codecs else " -> no codecs")
    if SPLIT_NUM_SUB_FRAMES in rows and sub.runs is not None:
        originals = counted(len(sub.runs), "original frame")
        walker._suffix(rows[SPLIT_NUM_SUB_FRAMES], f" -> {originals}")
    if SPLIT_OFFSETS in rows and sub.runs is not None:
        runs = [
            f"original {k} = {_frame_range(index + 1 + o, index + o + n) if n else 'no frames'}"
            for k, (o, n) in enumerate(sub.runs[:4])
        ]
        more = ", ..." if len(sub.runs) > 4 else ""
        walker._suffix(rows[SPLIT_OFFSETS], f" -> {', '.join(runs)}{more}")


def _dask_data(dump: _Dump, codec: str | None, data: bytes, base: int, limits: Limits) -> None:
    """Rows of a data frame; a compressed one with what the reference decompresses it to."""
    from daskwire.codecs import decompress

    if codec is None:
        dump.data(base, data, 1, "")
        return
    if codec == "lz4" and len(data) >= 4:
        (size,) = struct.unpack_from("<I", data)
        dump.row(base, data[:4], 1, f"lz4 size prefix: {counted(size, 'byte')} when decompressed")
        dump.data(base + 4, data[4:], 1, f"LZ4 block, {counted(len(data) - 4, 'byte')}")
    else:
        dump.data(base, data, 1, f"{codec} data, {counted(len(data), 'byte')}")
    try:
        plain = decompress(codec, data, limits)
    except DaskwireError as error:
        dump.note(1, f"! {error.category.value}: {Exception.__str__(error)}")
        return
    dump.note(1, f"decompresses to {counted(len(plain), 'byte')}")


def _dask_frames(
    dump: _Dump, frames: Sequence[bytes], bases: Sequence[int], *, limits: Limits
) -> None:
    """Frame 0 token by token, then each other frame as what claims it (DM-7, DS-*)."""
    from daskwire.dask_2023_11.decoder import check_sub_header

    if not frames:
        return
    count = len(frames)
    dump.note(0, f"frame 0: the message, {counted(len(frames[0]), 'byte')}")
    walker = _DaskWalker(dump, frames[0], bases[0], kind="message", frames=count)
    _walk_value(dump, frames[0], bases[0], 1, walker=walker)
    claims: dict[int, list[_Claim]] = {}
    problems: dict[int, str] = {}
    for marker in sorted(walker.markers, key=lambda m: m.index):
        if marker.index >= count:
            continue
        try:
            sub = check_sub_header(memoryview(frames[marker.index]), marker.key, limits.max_depth)
        except DaskwireError as error:
            where = f" [{error.requirement}]" if error.requirement else ""
            problems[marker.index] = f"! {error.category.value}{where}: {Exception.__str__(error)}"
            claims.setdefault(marker.index, []).append(_Claim(marker, 0, None))
            continue
        # Only the claimed frames that exist matter (a count may be huge).
        for place in range(min(sub.count, count - 1 - marker.index) + 1):
            claims.setdefault(marker.index + place, []).append(_Claim(marker, place, sub))
    for i in range(1, count):
        frame, base = frames[i], bases[i]
        size = counted(len(frame), "byte")
        found = claims.get(i, [])
        if not found:
            who = "claimed by no marker shown" if dump.cut else "claimed by no marker"
            dump.note(0, f"frame {i}: {size}, {who}: a decoder drops it (DM-10)")
            if frame:
                dump.data(base, frame, 1, "")
            continue
        claim = found[0]
        marker = claim.marker
        also = "".join(f"; ! also claimed by {c.marker.key} at {c.marker.path}" for c in found[1:])
        if claim.place == 0:
            dump.note(0, f"frame {i}: sub-header of {marker.key} at {marker.path}, {size}{also}")
            sub_walker = _DaskWalker(dump, frame, base, kind=marker.key, frames=count)
            _walk_value(dump, frame, base, 1, walker=sub_walker)
            if claim.sub is not None:
                _sub_header_notes(sub_walker, claim.sub, i)
            elif i in problems:
                dump.note(1, problems[i])
            continue
        sub = claim.sub
        j = claim.place - 1
        codec = sub.codecs[j] if sub.codecs is not None else None
        kind = "buffer" if marker.key == KEY_PICKLED else "data frame"
        how = codec or "not compressed"
        dump.note(
            0,
            f"frame {i}: {kind} {claim.place} of {sub.count} of {marker.path}, {size},"
            f" {how}{_shard(sub, j)}{also}",
        )
        _dask_data(dump, codec, frame, base, limits)


def _hint_text(hint: int, lengths: Sequence[int]) -> tuple[str, bool]:
    """Where a read hint ends among a message's parts (DT-3), and whether that is allowed."""
    count = len(lengths)
    edge = 8 * (count + 1)
    if hint < edge:
        return f"! ends inside the prelude of {counted(edge, 'byte')} (DT-3)", False
    if hint == edge:
        return "ends after the prelude, before frame 0", True
    for i, length in enumerate(lengths):
        if hint < edge + length:
            return f"! ends inside frame {i} (DT-3)", False
        edge += length
        if hint == edge:
            last = ", the last" if i == count - 1 else ""
            return f"ends after frame {i}{last}", True
    return f"! {counted(hint - edge, 'byte')} past the end of the message (DT-3)", False


def _dask_message(dump: _Dump, data: bytes, start: int, limits: Limits) -> int | None:
    """Dump one dask-2023.11 message from start; returns where it ends, or None where a
    check fails (DT-8)."""
    available = len(data) - start
    if available < 8:
        if available:
            shown = f"no-split hint: the input ends after {counted(available, 'byte')} of 8"
            dump.row(start, data[start:], 0, shown)
        else:
            dump.note(0, "no bytes: the input ends before the no-split hint")
        return None
    (hint,) = struct.unpack_from("<Q", data, start)
    head = dump.row(start, data[start : start + 8], 0, f"no-split hint H = {hint}")
    if hint > limits.max_message_bytes:
        dump.rows[head] = (*dump.rows[head][:3], f"no-split hint H = {hint}: ! over the limit")
        return None
    if hint < 16:
        dump.rows[head] = (*dump.rows[head][:3], f"no-split hint H = {hint}: ! less than 16")
        return None
    read = _prelude(dump, data, start + 8, limits, minimum=MIN_FRAMES)
    if read is None:
        return None
    pos, lengths = read
    total = 8 * (len(lengths) + 2) + sum(lengths)
    if total > limits.max_message_bytes:
        dump.note(0, f"message size 16 + 8N + the lengths = {total}")
        return None
    where, allowed = _hint_text(hint, lengths)
    dump.rows[head] = (*dump.rows[head][:3], f"no-split hint H = {hint}: {where}")
    if not allowed:
        return None

    def show(dump: _Dump, frames: Sequence[bytes], bases: Sequence[int]) -> None:
        _dask_frames(dump, frames, bases, limits=limits)

    return _body(dump, data, pos, lengths, show)


# --- width -----------------------------------------------------------------------------------

#: The start of a dump row: offset (or blanks), then the row's bytes.
_ROW_RE: Final = re.compile(rf"^(?:[0-9a-f]{{6}}| {{6}})  [0-9a-f ]{{{ROW_BYTES * 3 - 1}}}  ")
#: The narrowest a wrapped note gets: a deep note's next lines start further left.
_NOTE_MIN: Final = 24


def fit_width(text: str, width: int) -> str:
    """`text` with each line longer than `width` wrapped at spaces into lines that fit.

    A dump row keeps its offset and bytes, and its note goes on two columns to the right of
    where it starts; other lines go on under their own indentation. A word longer than a
    whole line is cut, so that every line fits.
    """
    import textwrap

    out: list[str] = []
    for line in text.splitlines():
        if len(line) <= width:
            out.append(line)
            continue
        row = _ROW_RE.match(line)
        start = row.end() if row else 0
        start += len(line) - start - len(line[start:].lstrip(" "))
        start = max(0, min(start, width - _NOTE_MIN))
        hang = max(0, min(start + 2, width - _NOTE_MIN))
        wrapped = textwrap.wrap(
            line[start:].lstrip(" "),
            width=width,
            initial_indent=" " * start,
            subsequent_indent=" " * hang,
            break_on_hyphens=False,
        ) or [" " * start]
        out.append(line[:start] + wrapped[0][start:])
        out.extend(wrapped[1:])
    return "\n".join(out)
