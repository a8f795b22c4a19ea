"""Reading the inputs of `inspect` stream by stream, in bounded memory, into reports."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, Final

import daskwire
from daskwire.limits import DEFAULT_LIMITS, Limits

from daskwire_conformance.common.words import counted
from daskwire_conformance.inspect import jsonout, text
from daskwire_conformance.inspect.context import (
    DUMP_BYTES,
    ErrorContext,
    frames_context,
    wire_context,
)
from daskwire_conformance.inspect.handshakes import Shake, compare_connection
from daskwire_conformance.inspect.progress import progress_bar
from daskwire_conformance.inspect.records import (
    FailureReport,
    InputReport,
    MessageReport,
    StreamEnd,
    StreamStart,
)
from daskwire_conformance.inspect.sources import FrameList, InputError, Stream, open_input
from daskwire_conformance.inspect.stats import Stats
from daskwire_conformance.inspect.tree import safe
from daskwire_conformance.traffic.detect import (
    PROBE_BYTES,
    Detection,
    detect_frames,
    detect_profile,
)
from daskwire_conformance.traffic.limits import TOOL_LIMITS
from daskwire_conformance.traffic.stream import READ_CHUNK, Failure, Message, MessageStream
from daskwire_conformance.traffic.summary import Summary, summarize

__all__ = [
    "EXIT_CODES",
    "EXIT_FRAMING",
    "EXIT_INPUT",
    "EXIT_OK",
    "EXIT_PAYLOAD",
    "EXIT_USAGE",
    "HANDSHAKE_MODES",
    "Options",
    "inspect_paths",
]

EXIT_OK: Final = 0
EXIT_PAYLOAD: Final = 1
EXIT_USAGE: Final = 2
EXIT_FRAMING: Final = 3
EXIT_INPUT: Final = 4
#: Every exit code and what it means; the help text and the site's table are made from it.
EXIT_CODES: Final = (
    (EXIT_OK, "every message was read and decodes"),
    (EXIT_PAYLOAD, "a message does not decode (a payload error); the messages after it were read"),
    (EXIT_USAGE, "the command line is wrong"),
    (
        EXIT_FRAMING,
        "a stream's framing broke, or it ends inside a message: reading it stopped there",
    ),
    (EXIT_INPUT, "an input cannot be read: missing, empty, not a recording, or a bad frames file"),
)
#: `--handshake`: auto reads the first message as a comm handshake when it is one; expect
#: requires it to be one (DK-3); none reads it as any other message.
HANDSHAKE_MODES: Final = ("auto", "expect", "none")
#: The profile with a comm handshake first on each connection.
_HANDSHAKE_CATEGORY: Final = "invalid-handshake"
#: When a `--filter` matched no message, the ops of the messages read that are named.
SEEN_SHOWN: Final = 10
#: The category of a stream that ends inside a message (WF-6).
_TRUNCATED: Final = "truncated-input"
#: Bytes of a stream looked at to read a message's prelude: its frame lengths (up to the
#: limits' frame count) fit.
_PRELUDE_PEEK: Final = 8 * (DEFAULT_LIMITS.max_frames + 4)


@dataclass(frozen=True, slots=True, kw_only=True)
class Options:
    """What the command line asked for."""

    profile: str = "auto"
    full: bool = False
    pickles: bool = False
    as_json: bool = False
    ops: tuple[str, ...] = ()
    stats: bool = False
    #: One of HANDSHAKE_MODES, or "" for the default: expect in a recording, else auto.
    handshake: str = ""
    input_kind: str = "auto"
    limits: Limits = TOOL_LIMITS
    progress: bool = True


@dataclass(slots=True)
class _Run:
    """The state of one run: where output goes, the exit code so far, the statistics."""

    options: Options
    out: IO[str]
    err: IO[str]
    code: int = EXIT_OK
    stats: Stats = field(default_factory=Stats)
    #: Each recorded connection's handshakes, by connection and direction.
    shakes: dict[int, dict[str, Shake]] = field(default_factory=dict)
    #: With --filter: the names asked for that some message has, and the first ops seen
    #: (as shown, in the order first met).
    matched: set[str] = field(default_factory=set)
    seen: dict[str, None] = field(default_factory=dict)

    def fail(self, code: int) -> None:
        """Raise the exit code to `code`: the highest met wins."""
        self.code = max(self.code, code)

    def emit(self, record: dict[str, Any], lines: list[str]) -> None:
        """Write one record: as a JSON line with --json, else as its text lines."""
        if self.options.as_json:
            self.out.write(json.dumps(record, ensure_ascii=True) + "\n")
        else:
            self.out.writelines(line + "\n" for line in lines)


def _detection(options: Options, head: Callable[[], Detection]) -> tuple[Detection, bool]:
    """The profile to read as and whether it was detected: the one --profile names, or
    what `head` detects."""
    if options.profile != "auto":
        return Detection(profile=options.profile, reason="as asked", sure=True), False
    return head(), True


def _handshake_mode(options: Options, from_start: bool) -> str:
    """The --handshake mode: as asked, else expect for a stream known to start where its
    connection starts (a recording), auto for any other."""
    return options.handshake or ("expect" if from_start else "auto")


def _summarize(
    run: _Run, profile: str, frames: Any, first: bool, mode: str
) -> tuple[Summary, str | None]:
    """Sum one message up; a first message that is no handshake, under auto, is read again
    as an ordinary one, with the note that says why."""
    limits = run.options.limits
    has_handshake = daskwire.get_profile(profile).read_handshake is not None
    if not (first and has_handshake) or mode == "none":
        return summarize(profile, frames, limits=limits), None
    summary = summarize(profile, frames, first=True, limits=limits)
    if mode == "auto" and summary.category == _HANDSHAKE_CATEGORY and summary.value is not None:
        note = (
            f"not a comm handshake ({summary.error}): read as an ordinary message, "
            "as if the capture started after the handshake"
        )
        return summarize(profile, frames, limits=limits), note
    return summary, None


def _matches(summary: Summary) -> set[str]:
    """The names `--filter op=NAME` picks a message by: its ops as shown (`op_labels`, so
    `(handshake)` for a comm handshake), and an op's own text, when it is shown quoted."""
    labels = set(text.op_labels(summary))
    if summary.handshake is None:  # an op spelled as a label is picked by its quoted form
        labels.update(op for op in summary.ops if op != text.HANDSHAKE)
    return labels


def _shown(run: _Run, summary: Summary) -> bool:
    """Whether --filter lets a message through: no filter, an error, or an op asked for;
    note the ops asked for that it has, and the ops seen (for `_unmatched`)."""
    wanted = run.options.ops
    if not wanted:
        return True
    names = _matches(summary)
    found = names.intersection(wanted)
    run.matched |= found
    for label in text.op_labels(summary):
        if len(run.seen) <= SEEN_SHOWN:  # one more, to know there are more
            run.seen.setdefault(label)
    return summary.category is not None or bool(found)


def _unmatched(run: _Run) -> None:
    """Say on standard error, one line each, which `--filter op=NAME` matched no message,
    and which ops there were."""
    seen = ", ".join(list(run.seen)[:SEEN_SHOWN]) + (", ..." if len(run.seen) > SEEN_SHOWN else "")
    for name in dict.fromkeys(run.options.ops):
        if name not in run.matched:
            ops = f"; the ops read are: {seen}" if seen else ""
            line = f"{text.PROGRAM}: --filter op={name} matched no message{ops}"
            run.err.write(safe(line) + "\n")


def _report_message(run: _Run, report: MessageReport) -> bool:
    """Count and write one message (its errors always; the rest unless --stats or --filter
    leaves it out); whether it was shown."""
    if report.summary.category is not None:
        run.fail(EXIT_PAYLOAD)
    if not _shown(run, report.summary):
        return False
    run.stats.add(report)
    options = run.options
    failed = report.summary.category is not None
    if options.stats and not failed:
        return True  # --stats: only the statistics, and the errors
    lines = []
    if not options.as_json:
        lines = text.message_lines(report, full=options.full, pickles=options.pickles)
        if options.stats:
            lines = [lines[0], *(line for line in lines if line.startswith("  error ")), ""]
    run.emit(jsonout.message_record(report, full=options.full, pickles=options.pickles), lines)
    return True


def _failure_context(
    failure: Failure, window: bytes, profile: str, limits: Limits, *, fed: int, size: int | None
) -> ErrorContext:
    """The bytes around a framing error; a stream that ends inside a message (of `size`
    bytes, when its prelude is whole) is at fault where its bytes end, `fed`."""
    if failure.category != _TRUNCATED:
        return wire_context(window, failure.offset, profile, limits, prelude=True)
    held = fed - failure.offset
    context = wire_context(window, failure.offset, profile, limits, size, held=held, prelude=True)
    return dataclasses.replace(context, offset=fed)


def _truncation(index: int, held: int, size: int | None) -> str:
    """What a stream that ends inside message `index` holds of it: `held` of its `size`
    bytes (None: its prelude is not whole, so its size is unknown)."""
    if size is None:
        return (
            f"the stream ends inside message {index}, in its prelude: "
            f"{counted(held, 'byte')} of it are there"
        )
    return f"the stream ends inside message {index}: {held} of its {size} bytes are there"


def _input_error(run: _Run, label: str, category: str, message: str) -> None:
    """Report an input that cannot be read, in its place in the report and, for text output,
    on standard error too (where a user whose output goes to a file sees it; with --json
    its record says it, and standard error stays free of copies), and exit with EXIT_INPUT."""
    report = InputReport(label=label, category=category, message=message.removeprefix(f"{label}: "))
    run.emit(jsonout.input_record(report), text.input_lines(report))
    if not run.options.as_json:
        run.err.write(text.input_diagnostic(report) + "\n")
    run.stats.not_read(report)
    run.fail(EXIT_INPUT)


class _StreamReading:
    """One stream read from its file: each message reported as it completes."""

    def __init__(self, run: _Run, stream: Stream, profile: str) -> None:
        """Read `stream` as `profile` for `run`."""
        self.run = run
        self.stream = stream
        self.profile = profile
        self.mode = _handshake_mode(run.options, stream.from_start)
        self.reader = MessageStream(profile, run.options.limits)
        self.messages = self.shown = self.errors = 0

    def declared_size(self, offset: int, head: bytes) -> int | None:
        """The length of the message at `offset`, from its prelude (`head` is its start,
        read again when the prelude is longer), or None when the prelude is not whole."""
        size = self.reader.wire_size(head)
        held = self.reader.fed - offset
        if size is None and held > len(head):
            size = self.reader.wire_size(self.stream.source.window(offset, _PRELUDE_PEEK))
        return size if size is not None and size > held else None

    def failure(self, item: Failure) -> None:
        """Report the framing error that stops the stream, with the bytes around it; for a
        stream that ends inside a message, how much of it is there, in plain words."""
        stream, limits, fed = self.stream, self.run.options.limits, self.reader.fed
        window = stream.source.window(item.offset, DUMP_BYTES)
        message, size = item.message, None
        if item.category == _TRUNCATED:
            size = self.declared_size(item.offset, window)
            message = _truncation(item.index, fed - item.offset, size)
        report = FailureReport(
            label=stream.label,
            connection=stream.connection,
            direction=stream.direction,
            index=item.index,
            offset=item.offset,
            category=item.category,
            requirement=item.requirement,
            message=message,
            why_stop=item.why_stop,
            context=_failure_context(item, window, self.profile, limits, fed=fed, size=size),
        )
        self.run.emit(jsonout.failure_record(report), text.failure_lines(report))
        self.run.stats.stop(report)
        self.run.fail(EXIT_FRAMING)

    def message(self, item: Message) -> None:
        """Sum up and report one message; keep a recorded connection's handshake."""
        run, stream, limits = self.run, self.stream, self.run.options.limits
        summary, note = _summarize(run, self.profile, item.frames, item.index == 0, self.mode)
        context = None
        if summary.category is not None:
            self.errors += 1
            window = stream.source.window(item.offset, min(item.size, DUMP_BYTES))
            context = wire_context(
                window, item.offset, self.profile, limits, item.size, frames=len(item.frames)
            )
        if summary.handshake is not None and stream.connection is not None:
            shakes = run.shakes.setdefault(stream.connection, {})
            shakes[stream.direction or ""] = Shake(
                summary=summary.handshake,
                frames=tuple(bytes(f) for f in item.frames),
                profile=self.profile,
            )
        report = MessageReport(
            label=stream.label,
            connection=stream.connection,
            direction=stream.direction,
            profile=self.profile,
            index=item.index,
            offset=item.offset,
            size=item.size,
            frame_sizes=tuple(len(f) for f in item.frames),
            summary=summary,
            handshake_note=note,
            context=context,
        )
        self.messages += 1
        self.shown += _report_message(run, report)

    def read(self, size: int) -> None:
        """Feed the file to the reader in pieces; report each message and the end."""
        stream = self.stream
        try:
            with (
                progress_bar(
                    self.run.err, stream.label, size, enabled=self.run.options.progress
                ) as advance,
                stream.source.mapped() as data,
            ):
                for piece in _pieces(self.reader, data):
                    advance(len(piece))
                    for item in self.reader.feed(piece):
                        if isinstance(item, Failure):
                            self.failure(item)
                        else:
                            self.message(item)
                for failure in self.reader.close():
                    self.failure(failure)
        except OSError as exc:
            _input_error(self.run, stream.label, "unreadable", str(exc))
        end = StreamEnd(
            label=stream.label,
            connection=stream.connection,
            direction=stream.direction,
            messages=self.messages,
            shown=self.shown,
            errors=self.errors,
            read=self.reader.offset,
            size=size,
            stopped=self.reader.failure is not None,
        )
        self.run.emit(jsonout.end_record(end), text.end_lines(end))


def _pieces(reader: MessageStream, data: memoryview) -> Iterator[memoryview]:
    """`data` cut for `reader`: at message boundaries, as its preludes say, whole messages
    up to `READ_CHUNK` at a time, or one larger message whole, so the reader cuts them from
    the mapping without copying; where a prelude is not whole or not plausible (a broken or
    truncated stream), `READ_CHUNK` bytes, and the reader says what is wrong."""
    position, total = 0, len(data)
    while position < total and reader.failure is None:
        end = position
        if reader.at_boundary:
            while end < total:
                size = reader.wire_size(data[end : end + _PRELUDE_PEEK])
                if size is None or size == 0 or end + size > total:
                    break
                if end > position and end + size > position + READ_CHUNK:
                    break
                end += size
                if end - position >= READ_CHUNK:
                    break
        if end == position:
            end = min(total, position + READ_CHUNK)
        yield data[position:end]
        position = end


def _read_stream(run: _Run, stream: Stream) -> None:
    """Read one stream: its start record (profile and why), each message, its end."""
    if stream.problem is not None:
        _input_error(run, stream.label, stream.problem.category, str(stream.problem))
        return
    source = stream.source
    try:
        size = source.size()
        detection, detected = _detection(
            run.options, lambda: detect_profile(source.window(0, PROBE_BYTES), run.options.limits)
        )
    except OSError as exc:
        _input_error(run, stream.label, "unreadable", str(exc))
        return
    if size == 0:
        detection = Detection(profile=detection.profile, reason="no bytes", sure=False)
    start = StreamStart(
        label=stream.label,
        connection=stream.connection,
        direction=stream.direction,
        peers=stream.peers,
        size=size,
        detection=detection,
        detected=detected,
    )
    run.emit(jsonout.start_record(start), text.start_lines(start))
    _StreamReading(run, stream, detection.profile).read(size)


def _read_frames(run: _Run, frames: FrameList) -> None:
    """Read a frames file: its start record, each message given as frames, its end."""
    options = run.options
    first = frames.messages[0] if frames.messages else ()
    detection, detected = _detection(options, lambda: detect_frames(first, options.limits))
    start = StreamStart(
        label=frames.label,
        connection=None,
        direction=None,
        peers=None,
        size=None,
        detection=detection,
        detected=detected,
    )
    run.emit(jsonout.start_record(start), text.start_lines(start))
    profile = detection.profile
    mode = _handshake_mode(options, from_start=False)
    shown = errors = 0
    for index, message in enumerate(frames.messages):
        views = [memoryview(f) for f in message]
        summary, note = _summarize(run, profile, views, index == 0, mode)
        context = None
        if summary.category is not None:
            errors += 1
            context = frames_context(message, profile, options.limits)
        report = MessageReport(
            label=frames.label,
            connection=None,
            direction=None,
            profile=profile,
            index=index,
            offset=None,
            size=None,
            frame_sizes=tuple(len(f) for f in message),
            summary=summary,
            handshake_note=note,
            context=context,
        )
        shown += _report_message(run, report)
    end = StreamEnd(
        label=frames.label,
        connection=None,
        direction=None,
        messages=len(frames.messages),
        shown=shown,
        errors=errors,
        read=None,
        size=None,
        stopped=False,
    )
    run.emit(jsonout.end_record(end), text.end_lines(end))


def inspect_paths(paths: list[Path], options: Options, out: IO[str], err: IO[str]) -> int:
    """Inspect every input in turn; returns the exit code (the highest of EXIT_CODES met)."""
    run = _Run(options=options, out=out, err=err)
    try:
        _inspect_all(run, paths)
        with contextlib.suppress(AttributeError):
            out.flush()
    except BrokenPipeError:
        # the reader went away (`| head`): stop quietly, with the code of what was read
        _discard(out)
    return run.code


def _inspect_all(run: _Run, paths: list[Path]) -> None:
    """Read every input, then write the statistics when asked."""
    options = run.options
    for path in paths:
        try:
            found = open_input(path, options.input_kind)
        except InputError as exc:
            _input_error(run, str(path), exc.category, str(exc))
            continue
        if isinstance(found, FrameList):
            _read_frames(run, found)
            continue
        for stream in found:
            _read_stream(run, stream)
            if stream.connection is not None and stream.direction == "s2c":
                compared = compare_connection(
                    stream.connection, run.shakes.pop(stream.connection, {}), options.limits
                )
                if compared is not None:
                    run.emit(
                        jsonout.connection_record(compared),
                        text.connection_lines(compared),
                    )
    if options.stats:
        run.emit(run.stats.as_json(), run.stats.lines())
    _unmatched(run)


def _discard(out: IO[str]) -> None:
    """Point `out` at the null device, so that what is still buffered, and the flush at
    exit, go nowhere instead of failing again (as cli.main does for every command)."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
        os.close(devnull)
