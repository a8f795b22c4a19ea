"""The text of `inspect`: one block per message, for a reader (and for tests, stable)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Final

from daskwire_conformance.common.text import bare
from daskwire_conformance.common.words import counted
from daskwire_conformance.inspect.context import ErrorContext
from daskwire_conformance.inspect.offloaded import describe
from daskwire_conformance.inspect.records import (
    ConnectionReport,
    FailureReport,
    InputReport,
    MessageReport,
    StreamEnd,
    StreamStart,
)
from daskwire_conformance.inspect.tree import safe, scalar_text, tree_lines
from daskwire_conformance.traffic.handshakes import python_text
from daskwire_conformance.traffic.summary import NO_OP, HandshakeSummary, Summary

__all__ = [
    "HANDSHAKE",
    "connection_lines",
    "end_lines",
    "failure_lines",
    "input_diagnostic",
    "input_lines",
    "message_lines",
    "op_labels",
    "op_text",
    "start_lines",
]

#: What a comm handshake is called where ops are listed (`--stats`, `--filter`): it has no
#: op, and an op written this way would be shown quoted (`op_text`), so none passes for it.
HANDSHAKE: Final = "(handshake)"
#: How lines on standard error start.
PROGRAM: Final = "daskwire inspect"
#: Frame sizes listed in a message's first line at most.
SIZES_SHOWN: Final = 8
#: Ops of a batch listed in a message's first line at most.
OPS_SHOWN: Final = 8
#: Characters of an op shown; a longer op is cut.
OP_CHARS: Final = 60
#: An op shown as it is; any other is written as a JSON string.
_PLAIN_OP: Final = re.compile(r"[A-Za-z0-9_.:-]+|-")


def _where(label: str) -> str:
    return f"== {label}"


def start_lines(start: StreamStart) -> list[str]:
    """The head of a stream: its name, who talked, its size, its profile and why."""
    size = f" ({counted(start.size, 'byte')})" if start.size is not None else ""
    lines = [f"{_where(start.label)}{size}"]
    if start.peers:
        lines.append(start.peers)
    how = "detected" if start.detected else "named with --profile"
    sure = "" if start.detection.sure or not start.detected else " (not sure)"
    lines.append(f"profile {start.detection.profile}, {how}{sure}: {start.detection.reason}")
    return [*(safe(line) for line in lines), ""]


def handshake_text(shake: HandshakeSummary) -> str:
    """A handshake in a few words (DK-2)."""
    return (
        f"comm handshake: compression {shake.compression or 'none'}, "
        f"pickle protocol {shake.pickle_protocol}, python {python_text(shake.python)}"
    )


def _what(report: MessageReport) -> str:
    summary = report.summary
    if summary.handshake is not None:
        return handshake_text(summary.handshake)
    if summary.value is None:
        return "does not decode"
    if summary.batch:
        ops = ", ".join(map(op_text, summary.ops[:OPS_SHOWN]))
        more = ", ..." if len(summary.ops) > OPS_SHOWN else ""
        return f"batch of {len(summary.ops)}: {ops}{more}" if summary.ops else "empty batch"
    if summary.ops and summary.ops[0] != NO_OP:
        return f"op {op_text(summary.ops[0])}"
    if type(summary.value) is str:
        return f"no op: a bare reply, {scalar_text(summary.value, False)}"
    return "no op"


def op_labels(summary: Summary) -> tuple[str, ...]:
    """The ops of a message as `--stats` and `--filter` name them: `HANDSHAKE` for a comm
    handshake, which has no op; else its op, or each batch element's, as `op_text` shows it
    (`-`: none)."""
    if summary.handshake is not None:
        return (HANDSHAKE,)
    return tuple(map(op_text, summary.ops))


def op_text(op: str) -> str:
    """An op as shown: a plain name as it is, any other in the value notation (a JSON string),
    so an op holding spaces or commas cannot pass for other fields; cut at `OP_CHARS`."""
    if _PLAIN_OP.fullmatch(op) and len(op) <= OP_CHARS:
        return op
    cut = op[:OP_CHARS]
    return json.dumps(cut, ensure_ascii=False) + ("..." if len(op) > OP_CHARS else "")


def _context_lines(context: ErrorContext | None) -> Iterator[str]:
    if context is None or not context.dump:
        return
    if context.base is not None:
        yield f"  hex dump (offsets in hex from byte {context.base}, where the message starts):"
    else:
        yield "  hex dump (offsets from the start of each frame):"
    for line in context.dump.splitlines():
        yield f"  {line}"


def message_lines(report: MessageReport, *, full: bool, pickles: bool) -> list[str]:
    """One message's block: where and how big, what it is, its tree or its error."""
    sizes = report.frame_sizes
    shown = ", ".join(map(str, sizes[:SIZES_SHOWN])) + (", ..." if len(sizes) > SIZES_SHOWN else "")
    where = f" at byte {report.offset}" if report.offset is not None else ""
    size = f"{counted(report.size, 'byte')}, " if report.size is not None else ""
    head = (
        f"message {report.index}{where}: {size}{counted(len(sizes), 'frame')} ({shown}), "
        f"{_what(report)}"
    )
    lines = [head]
    summary = report.summary
    if report.handshake_note:
        lines.append(f"  note: {report.handshake_note}")
    if summary.category is not None:
        requirement = f" [{summary.requirement}]" if summary.requirement else ""
        at = ""
        if report.context is not None:
            offset = report.context.offset
            at = f" at byte {offset}" if offset is not None else " (offset unknown)"
        why = bare(summary.error, summary.category, summary.requirement)
        lines.append(f"  error {summary.category}{requirement}{at}: {why}")
        lines.extend(_context_lines(report.context))
        lines.append("  the next message is read: this one's framing held")
    if summary.value is not None:
        lines.extend(tree_lines(summary.value, describe(pickles), full=full, indent="  "))
    return [*(safe(line) for line in lines), ""]


def failure_lines(failure: FailureReport) -> list[str]:
    """The framing error that stops a stream, the bytes around it, and why reading stops."""
    requirement = f" [{failure.requirement}]" if failure.requirement else ""
    at = failure.context.offset if failure.context.offset is not None else failure.offset
    why = bare(failure.message, failure.category, failure.requirement)
    head = (
        f"message {failure.index} at byte {failure.offset}: framing error "
        f"{failure.category}{requirement} at byte {at}: {why}"
    )
    lines = [
        head,
        *_context_lines(failure.context),
        f"  reading stops: {failure.why_stop}",
    ]
    return [*(safe(line) for line in lines), ""]


def end_lines(end: StreamEnd) -> list[str]:
    """The last line of a stream: how many messages, errors, and where reading ended."""
    errors = f", {counted(end.errors, 'with an error', 'with errors')}" if end.errors else ""
    filtered = f", {end.shown} shown" if end.shown != end.messages else ""
    text = f"end of {end.label}: {counted(end.messages, 'message')} read{filtered}{errors}"
    if end.stopped and end.read is not None and end.size is not None:
        text += f"; stopped at byte {end.read} of {end.size}"
    elif end.size is not None:
        text += f", {counted(end.size, 'byte')}, a clean end"
    return [safe(text), ""]


def input_lines(report: InputReport) -> list[str]:
    """An input that cannot be read."""
    return [
        safe(f"{_where(report.label)}: cannot read it: {report.category}: {report.message}"),
        "",
    ]


def input_diagnostic(report: InputReport) -> str:
    """An input that cannot be read, as one line for standard error."""
    return safe(f"{PROGRAM}: {report.label}: cannot read it: {report.category}: {report.message}")


def connection_lines(report: ConnectionReport) -> list[str]:
    """A recorded connection's handshakes compared, with warnings in plain words."""
    lines = [
        f"connection {report.connection}: client {handshake_text(report.c2s)}",
        f"connection {report.connection}: server {handshake_text(report.s2c)}",
        (
            f"connection {report.connection}: agreed (DK-5): compression "
            f"{report.compression or 'none'}, pickle protocol {report.pickle_protocol}"
        ),
    ]
    lines += [f"connection {report.connection}: warning: {w}" for w in report.warnings]
    return [*(safe(line) for line in lines), ""]
