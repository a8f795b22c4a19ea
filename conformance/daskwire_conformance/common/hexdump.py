"""Annotated hex dumps of frame lists and wire bytes, for the site and for reports."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = ["annotate", "annotate_wire"]

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

_RESERVED: Final = ("_$header", "_$findex", "_$fcount")
_TRANSPORT: Final = ("count", "deserialize", "lengths", "compression")


class _Stop(Exception):
    """The bytes end or break the msgpack format; the dump stops here."""


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

    __slots__ = ("budget", "placeholders", "rows")

    def __init__(self) -> None:
        self.rows: list[tuple[int | None, bytes, int, str]] = []
        self.placeholders: list[_Placeholder] = []
        #: Row count at which walking the current frame stops.
        self.budget = FRAME_ROWS

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
            self.note(depth, f"... {len(data) - len(shown)} more bytes")

    def render(self) -> str:
        lines = []
        for offset, data, depth, text in self.rows:
            indent = "  " * min(depth, MAX_INDENT)
            where = f"{offset:06x}" if offset is not None else "      "
            hexed = " ".join(f"{b:02x}" for b in data)
            lines.append(f"{where}  {hexed:<{ROW_BYTES * 3 - 1}}  {indent}{text}".rstrip())
        return "\n".join(lines)


def _n(count: int, word: str, plural: str | None = None) -> str:
    """'1 byte', '2 bytes'."""
    return f"{count} {word if count == 1 else plural or word + 's'}"


def _need(data: bytes, pos: int, size: int) -> None:
    if pos + size > len(data):
        raise _Stop(f"!! truncated: needs {pos + size - len(data)} more bytes")


def _text(value: str) -> str:
    shown = value if len(value) <= TEXT_CHARS else value[:TEXT_CHARS] + "..."
    return '"' + shown.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def _key_text(key: Any) -> str:
    if type(key) is str:
        return key
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
                text = "!! not UTF-8"
            form = "" if b <= 0xBF else f" (str {8 * {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]})"
            self._head(pos, size, depth, f"{prefix}str, {_n(n, 'byte')}{form}: {text}")
            self.dump.data(self.base + pos + size, raw, depth + 1, "")
            return pos + size + n, raw.decode("utf-8", "replace")
        if b in (0xC4, 0xC5, 0xC6):
            width = {0xC4: 1, 0xC5: 2, 0xC6: 4}[b]
            size, n = self._length(pos, width)
            _need(data, pos, size + n)
            self._head(pos, size, depth, f"{prefix}bin, {_n(n, 'byte')} (bin {8 * width})")
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
            text = f"{prefix}!! ext type {ext_type}, {_n(n, 'byte')} (not allowed)"
            self._head(pos, size, depth, text)
            self.dump.data(self.base + pos + size, data[pos + size : pos + size + n], depth + 1, "")
            return pos + size + n, None
        self._head(pos, 1, depth, f"{prefix}!! byte c1 is never used in msgpack")
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
        self._head(pos, size, depth, f"{prefix}array, {_n(n, 'element')}{form}")
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
        head = self._head(pos, size, depth, f"{prefix}map, {_n(n, 'entry', 'entries')}{form}")
        pos += size
        result = _Map()
        value_rows: dict[str, int] = {}
        for _ in range(n):
            key_start = len(self.dump.rows)
            pos, key = self.value(pos, depth + 1, path, "key", "key")
            if context == "header" and type(key) is str:
                role = "transport key" if key in _TRANSPORT else "serializer key"
                self._suffix(key_start, f" ({role})")
            sub = f"{path}.{key}" if type(key) is str else f"{path}[{_key_text(key)}]"
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
        where = " (!! inside a header)" if context == "header" else ""
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


def _walk_value(dump: _Dump, data: bytes, base: int, depth: int, context: str = "") -> Any:
    """Annotate one msgpack value filling data; notes what is left over or broken."""
    walker = _Walker(dump, data, base)
    dump.budget = len(dump.rows) + FRAME_ROWS
    try:
        pos, value = walker.value(0, depth, "$", "", context)
    except _Stop as stop:
        if str(stop):
            dump.note(depth, str(stop))
        return None
    if pos < len(data):
        dump.note(depth, f"!! {_n(len(data) - pos, 'byte')} after the value")
    return value


def _codec_of(value: Any) -> str | None:
    if isinstance(value, _Map):
        codec = value.get("compression")
        return codec if isinstance(codec, str) else None
    return None


def _decompress(codec: str, data: bytes) -> bytes | None:
    """Decompressed bytes for display, or None when they cannot be shown."""
    try:
        if codec == "lz4":
            import lz4.block

            if len(data) < 5 or struct.unpack_from("<I", data)[0] > 1 << 24:
                return None
            out: bytes = lz4.block.decompress(data)
            return out
        if codec == "zlib":
            return zlib.decompressobj().decompress(data, 1 << 24)
    except Exception:
        return None
    return None


def _compressed(
    dump: _Dump, codec: str, data: bytes, *, base: int, depth: int, what: str
) -> bytes | None:
    if codec == "lz4" and len(data) >= 4:
        (size,) = struct.unpack_from("<I", data)
        dump.row(base, data[:4], depth, f"lz4 size prefix: {size} bytes when decompressed")
        dump.data(base + 4, data[4:], depth, f"LZ4 block, {len(data) - 4} bytes")
    else:
        dump.data(base, data, depth, f"{codec} data, {len(data)} bytes")
    plain = _decompress(codec, data)
    if plain is None:
        dump.note(depth, f"!! {what} does not decompress as {codec}")
    return plain


def _frames(dump: _Dump, frames: Sequence[bytes], bases: Sequence[int]) -> None:
    small = frames[0] if frames else b""
    codec: str | None = None
    if frames:
        if small:
            dump.note(0, f"frame 0: small header, {_n(len(small), 'byte')}")
            codec = _codec_of(_walk_value(dump, small, bases[0], 1))
        else:
            dump.note(0, "frame 0: small header, empty (frame 1 not compressed)")
    if len(frames) > 1:
        payload = frames[1]
        dump.note(
            0, f"frame 1: payload, {_n(len(payload), 'byte')}" + (f", {codec}" if codec else "")
        )
        if codec:
            plain = _compressed(dump, codec, payload, base=bases[1], depth=1, what="frame 1")
            if plain is not None:
                dump.note(1, f"decompressed payload, {len(plain)} bytes (offsets within it):")
                _walk_value(dump, plain, 0, 2)
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
            who = "!! claimed by no placeholder"
        else:
            p, k = claim
            who = f"{p.path}, frame {k + 1} of {p.fcount}"
        dump.note(0, f"frame {j + 2}: offload area [{j}], {_n(len(frame), 'byte')}: {who}")
        frame_codec = None
        if claim is not None and claim[1] < len(claim[0].codecs):
            entry = claim[0].codecs[claim[1]]
            frame_codec = entry if isinstance(entry, str) else None
        if frame_codec:
            _compressed(dump, frame_codec, frame, base=bases[j + 2], depth=1, what=f"frame {j + 2}")
        elif frame:
            dump.data(bases[j + 2], frame, 1, "")


def annotate(frames: Sequence[bytes]) -> str:
    """An annotated hex dump of a frame list; offsets count from the start of each frame.

    Frame 0 and frame 1 are walked token by token (a compressed frame 1 is shown, then
    decompressed and walked), placeholders name the frames they claim, and each offloaded
    frame names the placeholder that claims it. Broken input is shown up to where it breaks.
    """
    dump = _Dump()
    frames = [bytes(f) for f in frames]
    _frames(dump, frames, [0] * len(frames))
    return dump.render()


def annotate_wire(data: bytes, *, stream: bool = False) -> str:
    """An annotated hex dump of wire bytes: the prelude, then every frame as `annotate` does.

    Offsets are positions in `data`. With stream=True, messages that follow one another are
    dumped one after the other; otherwise bytes after the first message are only counted.
    """
    data = bytes(data)
    dump = _Dump()
    pos: int | None = 0
    number = 1
    while pos is not None:
        if stream:
            dump.note(0, f"message {number}")
        pos = _message(dump, data, pos)
        if pos is None or pos >= len(data):
            break
        if not stream:
            dump.note(0, f"!! {_n(len(data) - pos, 'byte')} after the last frame")
            break
        number += 1
        dump.placeholders.clear()
    return dump.render()


def _message(dump: _Dump, data: bytes, start: int) -> int | None:
    """Dump one message from start; returns where it ends, or None if it is cut short."""
    if len(data) - start < 8:
        if len(data) > start:
            dump.row(start, data[start:], 0, "!! truncated inside the frame count")
        else:
            dump.note(0, "!! no bytes: truncated before the frame count")
        return None
    (n,) = struct.unpack_from("<Q", data, start)
    dump.row(start, data[start : start + 8], 0, f"frame count N = {n}")
    lengths: list[int] = []
    pos = start + 8
    for i in range(n):
        if i == PRELUDE_ROWS and n > PRELUDE_ROWS + 1:
            dump.note(0, f"... {n - PRELUDE_ROWS} more lengths not shown")
            if len(data) < start + 8 + 8 * n:
                dump.note(0, "!! truncated inside the frame lengths")
                return None
        if len(data) < pos + 8:
            dump.row(pos, data[pos:], 0, "!! truncated inside the frame lengths")
            return None
        (length,) = struct.unpack_from("<Q", data, pos)
        lengths.append(length)
        if i < PRELUDE_ROWS:
            dump.row(pos, data[pos : pos + 8], 0, f"length of frame {i} = {length}")
        pos += 8
    frames: list[bytes] = []
    bases: list[int] = []
    for i, length in enumerate(lengths):
        if len(data) < pos + length:
            dump.note(0, f"!! truncated inside frame {i}: {len(data) - pos} of {length} bytes")
            frames.append(data[pos:])
            bases.append(pos)
            _frames(dump, frames, bases)
            return None
        frames.append(data[pos : pos + length])
        bases.append(pos)
        pos += length
    _frames(dump, frames, bases)
    return pos
