"""The bytes around an error: the site's annotated hex dump, cut to the rows near the fault."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from daskwire.limits import Limits

from daskwire_conformance.common.hexdump import PROFILES, annotate, annotate_wire
from daskwire_conformance.common.words import counted

__all__ = ["DUMP_BYTES", "ErrorContext", "frames_context", "wire_context"]

#: The most bytes of one message that are dumped; a longer message is dumped up to here.
DUMP_BYTES: Final = 1 << 20
#: The most frames of a message that are dumped (a dump annotates every frame, and its
#: memory grows with them), whether the message is given as wire bytes (`wire_context`,
#: `frames=`) or as frames (`frames_context`). A message of more frames has no dump, and
#: the offset of its fault is unknown.
DUMP_FRAMES: Final = 4096
#: The most bytes a dump decompresses one frame to, to show it.
DUMP_DECOMPRESSED: Final = 1 << 24
#: Rows shown before and after the first row that marks a fault.
ROWS_BEFORE: Final = 8
ROWS_AFTER: Final = 12
#: A dump row starts with six hex digits of offset (or blanks), then its bytes from column 8
#: to 31, then its note from column 33.
_OFFSET: Final = re.compile(r"[0-9a-f]{6}| {6}")
#: A note marks a fault with "!" at its start or after a label ("value: ! ..."); "!!" is the
#: reference's verdict, which the caller states itself.
_MARK: Final = re.compile(r"(?:^|: )!(?!!)")
#: Where a note starts in a dump row; the dump's own notes about its frames and prelude
#: start there, unindented (a walked value's notes are indented).
_NOTE: Final = 33
#: The note of the frame the dumped bytes end inside, after that frame's rows: "frame 2:
#: the input ends after 10 of 30 bytes".
_FRAME_ENDS: Final = re.compile(r"frame (\d+): the input ends after (\d+) of (\d+) bytes?")
#: What the walker notes when a value needs more bytes than its frame has; in the frame the
#: dump ends inside, the dump's end made it, and it says so instead (`_not_truncated`).
_TRUNCATED: Final = re.compile(r"! truncated: needs [\d,]+ more bytes?")
_DUMP_ENDS_INSIDE: Final = "(the dump ends inside this value)"
#: The other notes that say the bytes end: in the prelude, or before it.
_INPUT_ENDS: Final = re.compile(
    r"((?:frame count|no-split hint|length of frame \d+): |no bytes: )?the input ends\b"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorContext:
    """Where in the input an error is, and the annotated dump of the bytes around it."""

    #: The byte offset of the first byte the dump marks as wrong, or of the message start.
    offset: int | None
    #: The dump's rows near that byte; offsets in it count from `base`.
    dump: str
    base: int | None


def _fault(lines: Sequence[str]) -> tuple[int | None, int | None, int | None]:
    """The index of the first row whose note marks a fault (`_MARK`), and the offset of the
    byte it marks: its own, or for a note without bytes, the byte after the last row shown;
    and the offset of the last row with bytes (where a dump of a prelude stopped)."""
    following = 0
    last: int | None = None
    for number, line in enumerate(lines):
        where = line[:6].strip()
        if line[6:8] != "  " or not _OFFSET.fullmatch(line[:6]):
            continue
        if where:
            following = int(where, 16) + len(line[8:31].split())
            last = int(where, 16)
        note = line[33:].strip()
        if _MARK.search(note):
            return number, int(where, 16) if where else following, last
    return None, None, last


def _ends(lines: list[str], dumped: int, held: int) -> tuple[list[str], int | None]:
    """The dump's rows, and the index of the note that says where its bytes end: inside a
    frame (written after that frame's rows), or else in or before the prelude.

    When the dump has fewer bytes than the input holds (`dumped` of `held`), those notes say
    that the dump ends there, not the input, and how much of the frame the input holds; and
    a value of that frame cut short by the dump's end is no fault (`! truncated`): the rest
    of it is in the input, past the dump."""
    cut = held > dumped
    kept: list[str] = []
    end: int | None = None
    for row in lines:
        line = row
        note = row[_NOTE:] if not row[:_NOTE].strip() else ""
        found = _FRAME_ENDS.fullmatch(note)
        if found is not None and end is None:
            end = len(kept)
            if cut:
                frame, have, length = (int(group) for group in found.groups())
                there = min(length, have + held - dumped)
                note = (
                    f"frame {frame}: the dump shows its first {have} of {counted(length, 'byte')}"
                )
                if there < length:
                    note += f"; the input holds {there}"
                line = f"{row[:_NOTE]}{note}"
                _not_truncated(kept, frame)
        elif _INPUT_ENDS.match(row[_NOTE:]) and not row[:_NOTE].strip():
            end = len(kept) if end is None else end
            if cut:
                line = row[:_NOTE] + row[_NOTE:].replace("the input ends", "the dump ends", 1)
        kept.append(line)
    return kept, end


def _not_truncated(rows: list[str], frame: int) -> None:
    """In the rows of `frame` (from its own first note on), the walker's `! truncated`
    notes, which the dump's end made, become plain notes: no fault."""
    head = f"frame {frame}: "
    for at in range(len(rows) - 1, -1, -1):
        rows[at] = _TRUNCATED.sub(_DUMP_ENDS_INSIDE, rows[at])
        if rows[at][_NOTE:].startswith(head):
            return


def _cut(
    text: str, dumped: int | None = None, held: int | None = None
) -> tuple[str, int | None, int | None]:
    """The dump's rows around its first fault (the reference's own "!!" verdicts, which the
    caller states itself, left out), or else where the input ends; that fault's offset, and
    the last row's offset. The dump holds `dumped` of the `held` bytes of the input."""
    lines = [line for line in text.splitlines() if not line[_NOTE:].lstrip().startswith("!!")]
    lines, end = _ends(lines, dumped or 0, held or 0)
    at, offset, last = _fault(lines)
    centre = at if at is not None else end if end is not None else 0
    first = max(0, centre - ROWS_BEFORE)
    end = min(len(lines), centre + ROWS_AFTER + 1)
    shown = lines[first:end]
    if first:
        shown.insert(0, f"        ... {counted(first, 'row')} before")
    if end < len(lines):
        shown.append(f"        ... {counted(len(lines) - end, 'row')} after")
    return "\n".join(shown), offset, last


def _dump_limits(limits: Limits) -> Limits:
    return dataclasses.replace(
        limits, max_decompressed_bytes=min(limits.max_decompressed_bytes, DUMP_DECOMPRESSED)
    )


def wire_context(
    data: bytes,
    base: int,
    profile: str,
    limits: Limits,
    size: int | None = None,
    *,
    held: int | None = None,
    prelude: bool = False,
    frames: int | None = None,
) -> ErrorContext:
    """The context of an error in the wire bytes `data` of one message, found at byte `base`
    of its stream; `data` may hold only the start of the message, whose length is `size`,
    and of which the input holds `held` bytes (by default `size`, else `len(data)`).
    At most `DUMP_BYTES` are dumped, of a message of at most `DUMP_FRAMES` frames (`frames`,
    when known; for more, the offset is None: unknown). With `prelude`
    (a framing error), the dump stops at the field whose check fails (WF-9), so an unmarked
    fault is its last row. When the fault is not in the bytes dumped, its offset is None and
    the dump says so."""
    if profile not in PROFILES:
        return ErrorContext(offset=base, dump="", base=base)
    if frames is not None and frames > DUMP_FRAMES:
        # the fault's byte is found by the dump alone: without one it is not known (the
        # message's start would be a wrong answer)
        return ErrorContext(
            offset=None,
            dump=f"(too many frames for a hex dump: {frames:,}; the fault's offset is unknown)",
            base=base,
        )
    shown = min(len(data), DUMP_BYTES)
    if held is None:
        held = size if size is not None else len(data)
    try:
        text = annotate_wire(data[:DUMP_BYTES], profile=profile, limits=_dump_limits(limits))
    except Exception as exc:
        return ErrorContext(offset=base, dump=f"(no hex dump: {exc})"[:200], base=base)
    dump, offset, last = _cut(text, shown, held)
    if offset is None and prelude:
        offset = last
    if held > shown:
        whole = (
            f"the message's {size} bytes"
            if size is not None
            else f"the {held} bytes of the message that the input holds"
        )
        head = f"(the dump shows the first {shown} of {whole}"
        if size is not None and held < size:
            head += f"; the input holds {held} of them"
        if offset is None:
            head += "; it marks no fault: the fault lies past them"
        dump = f"{head})\n{dump}"
        return ErrorContext(offset=None if offset is None else base + offset, dump=dump, base=base)
    return ErrorContext(offset=base + (offset or 0), dump=dump, base=base)


def frames_context(frames: Sequence[bytes], profile: str, limits: Limits) -> ErrorContext:
    """The context of an error in a message given as frames; offsets count in each frame."""
    if profile not in PROFILES:
        return ErrorContext(offset=None, dump="", base=None)
    if len(frames) > DUMP_FRAMES or sum(len(f) for f in frames) > DUMP_BYTES:
        return ErrorContext(offset=None, dump="(too long for a hex dump)", base=None)
    try:
        text = annotate(frames, profile=profile, limits=_dump_limits(limits))
    except Exception as exc:
        return ErrorContext(offset=None, dump=f"(no hex dump: {exc})"[:200], base=None)
    dump, _, _ = _cut(text)
    return ErrorContext(offset=None, dump=dump, base=None)
