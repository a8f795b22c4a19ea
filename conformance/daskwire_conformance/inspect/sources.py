"""The inputs `inspect` reads: a raw byte file, a tap recording, or a JSON list of frames."""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from daskwire_conformance.traffic.detect import PROBE_BYTES, detect_profile
from daskwire_conformance.traffic.recording import INDEX_NAME, RecordingError, read_index

__all__ = [
    "KINDS",
    "MAX_FILE_FRAMES",
    "MAX_JSON_BYTES",
    "ByteFile",
    "FrameList",
    "InputError",
    "Stream",
    "open_input",
]

#: How an input is read: guessed from the path, or named with `--input`.
KINDS: Final = ("auto", "bytes", "recording", "frames")
#: The largest JSON frames file read; a larger one is refused before it is parsed.
MAX_JSON_BYTES: Final = 64 << 20
#: The most frames a frames file holds, over all its messages; a file with more is refused
#: before its frames are decoded from hex (a frames file is for a few hand-made messages).
MAX_FILE_FRAMES: Final = 1 << 16


class InputError(Exception):
    """An input cannot be read at all: missing, unreadable, or not in the form it claims."""

    def __init__(self, category: str, message: str) -> None:
        super().__init__(message)
        #: One of `not-found`, `unreadable`, `not-a-recording`, `bad-frames-file`, `empty`.
        self.category = category


@dataclass(frozen=True, slots=True, kw_only=True)
class ByteFile:
    """A file of raw bytes, mapped to be read; a window of it on demand."""

    path: Path
    #: False for a file a recording names: a symbolic link there is refused (O_NOFOLLOW).
    follow: bool = True

    def size(self) -> int:
        """Its length in bytes now."""
        fd = _open(self.path, self.follow)
        try:
            return os.fstat(fd).st_size
        finally:
            os.close(fd)

    @contextlib.contextmanager
    def mapped(self) -> Iterator[memoryview]:
        """Its bytes as a read-only mapping: messages are cut from it without copying, and
        only the pages something reads take memory (a large data frame's never do)."""
        fd = _open(self.path, self.follow)
        try:
            size = os.fstat(fd).st_size
            mapping = mmap.mmap(fd, size, access=mmap.ACCESS_READ) if size else None
        finally:
            os.close(fd)
        if mapping is None:
            yield memoryview(b"")
            return
        try:
            yield memoryview(mapping)
        finally:
            # views of it may live on in what was reported; it is unmapped when they go
            with contextlib.suppress(BufferError):
                mapping.close()

    def window(self, offset: int, length: int) -> bytes:
        """At most `length` bytes from `offset`."""
        fd = _open(self.path, self.follow)
        try:
            return os.pread(fd, length, offset)
        finally:
            os.close(fd)


def _open(path: Path, follow: bool = True) -> int:
    """A read-only descriptor of `path`, which must be a regular file; unless `follow`, a
    symbolic link is refused (O_NOFOLLOW)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0)
    if not follow:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(f"{path}: not a regular file")
    return fd


@dataclass(frozen=True, slots=True, kw_only=True)
class Stream:
    """One direction of a connection, or one capture file: what to read and how to name it."""

    label: str
    source: ByteFile
    #: For a recording: the connection number, its direction, and who talked.
    connection: int | None = None
    direction: str | None = None
    peers: str | None = None
    #: Whether the stream is known to start where its connection starts (a recording).
    from_start: bool = False
    #: Why the stream cannot be read, when its recording names a file that is not there.
    problem: InputError | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FrameList:
    """Messages given as frames, from a JSON file: no wire prelude, so no byte offsets."""

    label: str
    messages: tuple[tuple[bytes, ...], ...]


def _stat(path: Path) -> os.stat_result:
    try:
        return path.stat()
    except FileNotFoundError as exc:
        raise InputError("not-found", f"{path}: no such file or folder") from exc
    except OSError as exc:
        raise InputError("unreadable", f"{path}: {exc.strerror or exc}") from exc


def _recording(folder: Path) -> list[Stream]:
    try:
        connections = read_index(folder)
    except RecordingError as exc:
        raise InputError("not-a-recording", str(exc)) from exc
    except (ValueError, UnicodeError, RecursionError) as exc:
        # a damaged index: bytes that are not UTF-8, an int too long to convert, ...
        msg = f"{folder}: not a recording: its {INDEX_NAME} is damaged: {str(exc)[:200]}"
        raise InputError("not-a-recording", msg) from exc
    if not connections:
        msg = f"{folder}: its {INDEX_NAME} names no connection: there is nothing to read"
        raise InputError("empty", msg)
    streams: list[Stream] = []
    home = folder.resolve()
    for conn in connections:
        peers = f"client {conn.client} -> upstream {conn.upstream}, opened {conn.opened}"
        for direction, name in sorted(conn.files.items()):
            path = folder / name
            problem = _recorded_file_problem(path, home)
            streams.append(
                Stream(
                    label=f"connection {conn.connection} {direction}",
                    source=ByteFile(path=path, follow=False),
                    connection=conn.connection,
                    direction=direction,
                    peers=peers,
                    from_start=True,
                    problem=problem,
                )
            )
    return streams


def _recorded_file_problem(path: Path, home: Path) -> InputError | None:
    """Why a file a recording's index names cannot be read: missing, a symbolic link, not a
    regular file, or outside the recording's folder. None when it can."""
    try:
        info = path.lstat()
    except FileNotFoundError:
        return InputError("not-found", f"{path}: the index names it; it is not there")
    except OSError as exc:
        return InputError("unreadable", f"{path}: {exc.strerror or exc}")
    if stat.S_ISLNK(info.st_mode):
        return InputError("unreadable", f"{path}: a symbolic link; a recording's files are not")
    if not stat.S_ISREG(info.st_mode):
        return InputError("unreadable", f"{path}: not a regular file")
    if path.resolve().parent != home:
        return InputError("unreadable", f"{path}: outside the recording's folder")
    return None


def _hex_frames(node: Any, where: str) -> tuple[bytes, ...]:
    if not isinstance(node, list) or not all(isinstance(f, str) for f in node):
        msg = f"{where} is not a list of hex strings"
        raise InputError("bad-frames-file", msg)
    try:
        return tuple(bytes.fromhex(f) for f in node)
    except ValueError as exc:
        raise InputError("bad-frames-file", f"{where}: a frame is not hex: {exc}") from exc


def _wire_hint(path: Path, raw: bytes) -> str:
    """What to do with a supposed frames file whose bytes read as a message on the wire:
    "; it looks like ..." (empty when they do not)."""
    found = detect_profile(raw[:PROBE_BYTES])
    if not found.sure:
        return ""
    how = "--input bytes" if path.suffix == ".json" else "--input bytes, or without --input"
    return f"; it looks like the raw wire bytes of a capture ({found.profile}): read it with {how}"


def _frames_file(path: Path) -> FrameList:
    try:
        with path.open("rb") as handle:
            # read what the file holds (up to the limit), not a buffer of the limit's size
            size = min(os.fstat(handle.fileno()).st_size, MAX_JSON_BYTES)
            raw = handle.read(size + 1)
    except OSError as exc:
        raise InputError("unreadable", f"{path}: {exc.strerror or exc}") from exc
    if len(raw) > MAX_JSON_BYTES:
        msg = f"{path}: a JSON frames file is read up to {MAX_JSON_BYTES} bytes; this is longer"
        raise InputError("bad-frames-file", msg)
    strings = raw.count(b'"') // 2  # every frame is a JSON string: count before parsing
    if strings > MAX_FILE_FRAMES:
        msg = (
            f"{path}: a JSON frames file holds at most {MAX_FILE_FRAMES} frames; this has {strings}"
        )
        raise InputError("bad-frames-file", msg)
    try:
        document = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as exc:
        msg = (
            f"{path}: not UTF-8 text, so not a frames file (JSON text: a list of frames as hex "
            f"strings){_wire_hint(path, raw)}"
        )
        raise InputError("bad-frames-file", msg) from exc
    except (ValueError, RecursionError) as exc:
        msg = f"{path}: not JSON: {str(exc)[:200]}{_wire_hint(path, raw)}"
        raise InputError("bad-frames-file", msg) from exc
    if not isinstance(document, list):
        msg = f"{path}: a JSON frames file holds a list of hex frames, or a list of such lists"
        raise InputError("bad-frames-file", msg)
    nested = bool(document) and all(isinstance(item, list) for item in document)
    count = sum(len(item) for item in document) if nested else len(document)
    if count > MAX_FILE_FRAMES:
        msg = f"{path}: a JSON frames file holds at most {MAX_FILE_FRAMES} frames; this has {count}"
        raise InputError("bad-frames-file", msg)
    if nested:
        messages = tuple(
            _hex_frames(item, f"{path}: message {i}") for i, item in enumerate(document)
        )
    else:
        messages = (_hex_frames(document, f"{path}"),)
    return FrameList(label=path.name, messages=messages)


def open_input(path: Path, kind: str = "auto") -> list[Stream] | FrameList:
    """What `path` holds: the streams to read (a byte file, or each direction of each
    connection of a recording), or a list of frames. Raises `InputError`."""
    info = _stat(path)
    if kind == "auto":
        if path.is_dir() or path.name == INDEX_NAME:
            kind = "recording"
        elif path.suffix == ".json":
            kind = "frames"
        else:
            kind = "bytes"
    if kind == "recording":
        if not path.is_dir() and path.name != INDEX_NAME:
            msg = (
                f"{path}: not a recording folder (a recording is a folder with {INDEX_NAME}: "
                f"name the folder, or its {INDEX_NAME})"
            )
            raise InputError("not-a-recording", msg)
        folder = path if path.is_dir() else path.parent
        if not (folder / INDEX_NAME).is_file():
            msg = f"{folder}: not a recording: it has no {INDEX_NAME}"
            raise InputError("not-a-recording", msg)
        return _recording(folder)
    if path.is_dir():
        raise InputError("unreadable", f"{path}: a folder, not a file")
    if not stat.S_ISREG(info.st_mode):
        # a pipe or a device cannot be read twice: once to detect, once to read
        raise InputError("unreadable", f"{path}: not a regular file; save the bytes to a file")
    if kind == "frames":
        return _frames_file(path)
    if info.st_size == 0:
        raise InputError("empty", f"{path}: the file holds no bytes")
    return [Stream(label=path.name, source=ByteFile(path=path))]
