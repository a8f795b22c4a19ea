"""Recordings of connections: each direction's raw bytes in a file, and a JSON-lines index."""

from __future__ import annotations

import contextlib
import errno
import json
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import IO, Any, Final

__all__ = [
    "DIRECTIONS",
    "INDEX_NAME",
    "TIMELINE_NAME",
    "RecordedConnection",
    "Recorder",
    "RecordingError",
    "TimelineEntry",
    "open_recorded",
    "prepare_folder",
    "read_index",
    "read_timeline",
]

#: The index file of a recording folder: one JSON object per line.
INDEX_NAME: Final = "index.jsonl"
#: What passed when, in the order it passed: one JSON object per line (`TimelineEntry`).
TIMELINE_NAME: Final = "timeline.jsonl"
#: The events of a timeline: a connection opens, a chunk passes, a direction ends, it closes.
TIMELINE_EVENTS: Final = ("open", "data", "end", "close")
#: The two directions of a connection: from the client to the upstream, and back.
DIRECTIONS: Final = ("c2s", "s2c")
#: Traffic can hold secrets: files only their owner reads, in a folder only they enter.
FILE_MODE: Final = 0o600
DIR_MODE: Final = 0o700
#: The longest index line `read_index` accepts, so a damaged index cannot exhaust memory.
MAX_INDEX_LINE: Final = 1 << 16


class RecordingError(ValueError):
    """A recording folder or its index cannot be read."""


@dataclass(frozen=True, slots=True, kw_only=True)
class RecordedConnection:
    """One recorded connection: who talked, when, and the file of each direction."""

    connection: int
    client: str
    upstream: str
    opened: str
    #: Each direction's file, relative to the folder ("c2s" and "s2c"); read-only.
    files: Mapping[str, str]


@dataclass(frozen=True, slots=True, kw_only=True)
class TimelineEntry:
    """One event of a recording's timeline: `t` seconds since the epoch, connection `c`,
    event `e`, and for a chunk (`data`) or the end of a direction (`end`) its direction `d`;
    a chunk's length `n` is how many bytes of that direction's file it was."""

    t: float
    c: int
    e: str
    d: str | None = None
    n: int = 0


#: Flags of every file a recorder creates: new, never through a symbolic link.
_CREATE: Final = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def _open_private(path: Path) -> IO[bytes]:
    fd = os.open(path, _CREATE, FILE_MODE)
    return os.fdopen(fd, "wb")


def prepare_folder(folder: Path) -> None:
    """Make `folder` a fresh private recording folder: created with mode 0700, or, when it
    exists, an empty directory (not a symbolic link) set to mode 0700. Raises `OSError`
    with a message saying why not (an existing folder that holds anything is refused)."""
    try:
        folder.mkdir(mode=DIR_MODE, parents=True)
    except FileExistsError:
        _check_existing(folder)
    except OSError as exc:  # named for the folder asked for, not the parent that failed
        msg = f"cannot create the recording folder {folder}: {exc.strerror or exc}"
        raise OSError(exc.errno, msg) from None
    else:
        folder.chmod(DIR_MODE)  # whatever the umask


def _check_existing(folder: Path) -> None:
    """An existing `folder` may take a recording when it is an empty folder (set to 0700)."""
    if folder.is_symlink() or not folder.is_dir():
        msg = f"{folder} exists and is not a folder: name a new folder"
        raise FileExistsError(errno.EEXIST, msg)
    if any(folder.iterdir()):
        msg = f"{folder} already exists and is not empty: name a new folder"
        raise FileExistsError(errno.EEXIST, msg)
    folder.chmod(DIR_MODE)


class Recorder:
    """Writes a recording folder: call `open` per connection, `write` per chunk, `close`.

    The folder is created when missing; it must not hold a recording already (the tap
    checks it with `prepare_folder` first)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(folder / INDEX_NAME, _CREATE, FILE_MODE)
        self._index = os.fdopen(fd, "w", encoding="utf-8")
        try:
            fd = os.open(folder / TIMELINE_NAME, _CREATE, FILE_MODE)
        except OSError:
            self._index.close()
            raise
        self._timeline = os.fdopen(fd, "w", encoding="utf-8")
        self._files: dict[tuple[int, str], IO[bytes]] = {}

    def _mark(self, when: float | None, connection: int, event: str, **more: Any) -> None:
        if when is not None:
            line = {"t": round(when, 6), "c": connection, "e": event, **more}
            self._timeline.write(json.dumps(line, separators=(",", ":")) + "\n")

    def open(
        self,
        connection: int,
        *,
        client: str,
        upstream: str,
        opened: str,
        when: float | None = None,
    ) -> None:
        """Start recording a connection: one file per direction, and its index line; with
        `when`, also its timeline (as for every later call given `when`).
        Raises `OSError` when a file cannot be created; then nothing of the connection is
        recorded and nothing it opened stays open."""
        files = {d: f"conn-{connection:05d}.{d}.bin" for d in DIRECTIONS}
        made: list[tuple[str, IO[bytes]]] = []
        try:
            for direction, name in files.items():
                made.append((direction, _open_private(self.folder / name)))
        except OSError:
            for direction, handle in made:
                handle.close()
                with contextlib.suppress(OSError):
                    (self.folder / files[direction]).unlink()
            raise
        for direction, handle in made:
            self._files[(connection, direction)] = handle
        line = {
            "connection": connection,
            "client": client,
            "upstream": upstream,
            "opened": opened,
            "files": files,
        }
        self._index.write(json.dumps(line, sort_keys=True) + "\n")
        self._index.flush()
        self._mark(when, connection, "open")

    def write(
        self,
        connection: int,
        direction: str,
        data: bytes | memoryview,
        when: float | None = None,
    ) -> None:
        """Append one chunk of a direction's bytes, exactly as they passed."""
        self._files[(connection, direction)].write(data)
        self._mark(when, connection, "data", d=direction, n=len(data))

    def flush(self) -> None:
        """Write what every open file holds to disk (the index is written at each line)."""
        for handle in self._files.values():
            handle.flush()
        self._timeline.flush()

    def end(self, connection: int, direction: str, when: float | None = None) -> None:
        """One direction of a connection ended (its sender shut it)."""
        self._mark(when, connection, "end", d=direction)

    def close(self, connection: int, when: float | None = None) -> None:
        """Flush and close a connection's files."""
        self._mark(when, connection, "close")
        self._timeline.flush()
        for direction in DIRECTIONS:
            handle = self._files.pop((connection, direction), None)
            if handle is not None:
                handle.close()

    def close_all(self) -> None:
        """Flush and close every file and the index."""
        for connection, _ in list(self._files):
            self.close(connection)
        self._index.close()
        self._timeline.close()


def _field(line: dict[str, Any], key: str, kind: type) -> Any:
    value = line.get(key)
    if not isinstance(value, kind) or isinstance(value, bool):
        msg = f"index line without a valid {key!r}: {json.dumps(line)[:200]}"
        raise RecordingError(msg)
    return value


def _plain_name(name: Any) -> bool:
    """A file name inside the folder: no path separator, not `.` or `..`."""
    return (
        isinstance(name, str)
        and name not in ("", ".", "..")
        and "/" not in name
        and "\0" not in name
    )


def _open_regular(path: Path, what: str) -> int:
    """A file descriptor for reading `path`: a regular file, not a symbolic link, a FIFO or
    a device (which could lead anywhere, or block forever). Raises `RecordingError` with
    `what` first."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except OSError as exc:
        why = "a symbolic link" if exc.errno == errno.ELOOP else exc.strerror or str(exc)
        msg = f"{what}: {why}"
        raise RecordingError(msg) from exc
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        msg = f"{what}: not a regular file"
        raise RecordingError(msg)
    os.set_blocking(fd, True)
    return fd


def open_recorded(folder: Path, name: str) -> IO[bytes]:
    """Open a file a recording's index names, for reading: a plain name in the folder, and
    a regular file, not a symbolic link (which could lead anywhere). Raises `RecordingError`."""
    path = folder / name
    if not _plain_name(name):
        msg = f"{path}: not a file name inside the recording"
        raise RecordingError(msg)
    return os.fdopen(_open_regular(path, str(path)), "rb")


def _json_lines(path: Path, handle: IO[str]) -> Iterator[tuple[int, Any]]:
    """The JSON value of each non-blank line, with its number; a line longer than
    `MAX_INDEX_LINE` or not JSON raises `RecordingError`."""
    for number, text in enumerate(iter(lambda: handle.readline(MAX_INDEX_LINE + 1), ""), 1):
        if len(text) > MAX_INDEX_LINE:
            msg = f"{path}:{number}: a line longer than {MAX_INDEX_LINE} characters"
            raise RecordingError(msg)
        if not text.strip():
            continue
        try:
            yield number, json.loads(text)
        except ValueError as exc:  # not JSON, or an integer too long to convert
            msg = f"{path}:{number}: not JSON: {exc}"
            raise RecordingError(msg) from exc


def _open_text(path: Path, what: str) -> IO[str]:
    """A recording's index or timeline, as UTF-8 text: a regular file (see `_open_regular`)."""
    return os.fdopen(_open_regular(path, what), encoding="utf-8", errors="strict")


def read_index(folder: Path) -> list[RecordedConnection]:
    """The connections of a recording folder, in the order they were opened."""
    index = folder / INDEX_NAME
    out: list[RecordedConnection] = []
    with _open_text(index, f"{folder} is not a recording") as handle:
        try:
            for number, line in _json_lines(index, handle):
                out.append(_connection(index, number, line))
        except UnicodeDecodeError as exc:
            msg = f"{index}: not UTF-8 text: {exc}"
            raise RecordingError(msg) from exc
    return out


def _connection(index: Path, number: int, line: Any) -> RecordedConnection:
    if not isinstance(line, dict):
        msg = f"{index}:{number}: not a JSON object"
        raise RecordingError(msg)
    files = _field(line, "files", dict)
    names = {d: files.get(d) for d in DIRECTIONS}
    if not all(_plain_name(n) for n in names.values()):
        msg = f"{index}:{number}: files must name one file per direction in the folder"
        raise RecordingError(msg)
    return RecordedConnection(
        connection=_field(line, "connection", int),
        client=_field(line, "client", str),
        upstream=_field(line, "upstream", str),
        opened=_field(line, "opened", str),
        files=MappingProxyType({d: str(n) for d, n in names.items()}),
    )


def _entry(line: Any) -> TimelineEntry | None:
    if not isinstance(line, dict):
        return None
    t, c, e, d, n = (line.get(k) for k in ("t", "c", "e", "d", "n"))
    if not isinstance(t, int | float) or isinstance(t, bool) or type(c) is not int:
        return None
    if not isinstance(e, str) or e not in TIMELINE_EVENTS:
        return None
    if (d in DIRECTIONS) != (e in ("data", "end")) or (d is not None and d not in DIRECTIONS):
        return None
    if e == "data" and not (type(n) is int and n >= 0):
        return None
    if e != "data" and n is not None:
        return None
    return TimelineEntry(t=float(t), c=c, e=e, d=d, n=n or 0)


def read_timeline(folder: Path) -> Iterator[TimelineEntry] | None:
    """The timeline of a recording folder, read lazily; None when it has none (a recording
    made without times). A damaged line raises `RecordingError` when it is reached."""
    path = folder / TIMELINE_NAME
    if not path.exists() and not path.is_symlink():
        return None
    handle = _open_text(path, str(path))

    def entries() -> Iterator[TimelineEntry]:
        with handle:
            try:
                for number, line in _json_lines(path, handle):
                    entry = _entry(line)
                    if entry is None:
                        msg = f"{path}:{number}: not a timeline entry"
                        raise RecordingError(msg)
                    yield entry
            except UnicodeDecodeError as exc:
                msg = f"{path}: not UTF-8 text: {exc}"
                raise RecordingError(msg) from exc

    return entries()
