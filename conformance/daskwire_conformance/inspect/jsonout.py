"""The `--json` records of `inspect`, one JSON object per line (schemas/inspect.schema.json)."""

from __future__ import annotations

from typing import Any

from daskwire_conformance.inspect.context import ErrorContext
from daskwire_conformance.inspect.offloaded import pickle_json, pickle_of
from daskwire_conformance.inspect.records import (
    ConnectionReport,
    FailureReport,
    InputReport,
    MessageReport,
    StreamEnd,
    StreamStart,
)
from daskwire_conformance.inspect.tree import shown_notation
from daskwire_conformance.traffic.summary import HandshakeSummary

__all__ = [
    "connection_record",
    "end_record",
    "failure_record",
    "input_record",
    "message_record",
    "start_record",
]


def _stream(label: str, connection: int | None, direction: str | None) -> dict[str, Any]:
    return {"stream": label, "connection": connection, "direction": direction}


def start_record(start: StreamStart) -> dict[str, Any]:
    """The `stream` record."""
    return {
        "kind": "stream",
        **_stream(start.label, start.connection, start.direction),
        "peers": start.peers,
        "size": start.size,
        "profile": start.detection.profile,
        "detected": start.detected,
        "sure": start.detection.sure,
        "reason": start.detection.reason,
    }


def _handshake(shake: HandshakeSummary | None) -> dict[str, Any] | None:
    if shake is None:
        return None
    python = shake.python
    return {
        "compression": shake.compression,
        "pickle_protocol": shake.pickle_protocol,
        # any value may arrive (DK-3): its notation, cut as a message's value is
        "python": shown_notation(python, False) if python is not None else None,
    }


def _context(context: ErrorContext | None) -> dict[str, Any]:
    if context is None:
        return {"offset": None, "dump": None, "dump_base": None}
    return {"offset": context.offset, "dump": context.dump or None, "dump_base": context.base}


def message_record(report: MessageReport, *, full: bool, pickles: bool) -> dict[str, Any]:
    """The `message` record."""
    summary = report.summary
    error = None
    if summary.category is not None:
        error = {
            "category": summary.category,
            "requirement": summary.requirement,
            "message": summary.error,
            **_context(report.context),
        }
    offloaded = [
        {
            "path": value.path,
            "kind": value.kind,
            "serializer": value.serializer,
            "type": value.type_name,
            "frame_sizes": list(value.frame_sizes),
            "compression": list(value.compression),
            "shards": list(value.shards) if value.shards is not None else None,
            "pickle": pickle_json(pickle_of(value), pickles),
        }
        for value in summary.offloaded
    ]
    return {
        "kind": "message",
        **_stream(report.label, report.connection, report.direction),
        "profile": report.profile,
        "index": report.index,
        "offset": report.offset,
        "size": report.size,
        "frame_sizes": list(report.frame_sizes),
        "ops": list(summary.ops),
        "batch": summary.batch,
        "handshake": _handshake(summary.handshake),
        "handshake_note": report.handshake_note,
        "offloaded": offloaded,
        "value": shown_notation(summary.value, full) if summary.value is not None else None,
        "error": error,
    }


def failure_record(failure: FailureReport) -> dict[str, Any]:
    """The `failure` record: the framing error that stops a stream."""
    return {
        "kind": "failure",
        **_stream(failure.label, failure.connection, failure.direction),
        "index": failure.index,
        "message_offset": failure.offset,
        "category": failure.category,
        "requirement": failure.requirement,
        "message": failure.message,
        "why_stop": failure.why_stop,
        **_context(failure.context),
    }


def end_record(end: StreamEnd) -> dict[str, Any]:
    """The `end` record of a stream."""
    return {
        "kind": "end",
        **_stream(end.label, end.connection, end.direction),
        "messages": end.messages,
        "shown": end.shown,
        "errors": end.errors,
        "read": end.read,
        "size": end.size,
        "stopped": end.stopped,
    }


def input_record(report: InputReport) -> dict[str, Any]:
    """The `input-error` record."""
    return {
        "kind": "input-error",
        "stream": report.label,
        "category": report.category,
        "message": report.message,
    }


def connection_record(report: ConnectionReport) -> dict[str, Any]:
    """The `connection` record: both handshakes of a recorded connection, compared."""
    return {
        "kind": "connection",
        "connection": report.connection,
        "c2s": _handshake(report.c2s),
        "s2c": _handshake(report.s2c),
        "compression": report.compression,
        "pickle_protocol": report.pickle_protocol,
        "warnings": list(report.warnings),
    }
