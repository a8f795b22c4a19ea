"""`--stats`: what fills the traffic: counts and bytes per op, codecs, the largest messages."""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from typing import Any, Final

from daskwire_conformance.common.words import counted
from daskwire_conformance.inspect.records import FailureReport, InputReport, MessageReport
from daskwire_conformance.inspect.text import HANDSHAKE, op_labels, op_text
from daskwire_conformance.inspect.tree import safe

__all__ = ["HANDSHAKE", "LARGEST", "LISTED", "MAX_OPS", "OTHER_OPS", "Stats"]

#: How many of the largest messages are listed, and the ops of each listed at most.
LARGEST: Final = 5
LARGEST_OPS: Final = 8
#: Distinct ops counted one by one at most; the rest are counted together (bounded memory).
MAX_OPS: Final = 1000
OTHER_OPS: Final = "(other ops)"
#: Streams that stopped, and inputs not read, listed at most (the rest are counted).
LISTED: Final = 20


@dataclass(slots=True)
class _Op:
    count: int = 0
    messages: int = 0
    bytes: int = 0
    offloaded_bytes: int = 0


@dataclass(slots=True)
class _Codec:
    frames: int = 0
    bytes: int = 0


@dataclass(slots=True)
class Stats:
    """Counts gathered over every message shown (after `--filter`)."""

    messages: int = 0
    bytes: int = 0
    batches: int = 0
    #: Messages that do not decode, and framing errors that stopped a stream.
    errors: int = 0
    offloaded_bytes: int = 0
    ops: dict[str, _Op] = field(default_factory=dict)
    codecs: dict[str, _Codec] = field(default_factory=dict)
    #: A min-heap of (size, -order, where, ops) for the largest messages.
    largest: list[tuple[int, int, str, tuple[str, ...]]] = field(default_factory=list)
    #: The framing errors that stopped a stream, and the inputs not read: how many, and the
    #: first `LISTED` of each.
    stops: int = 0
    stopped: list[FailureReport] = field(default_factory=list)
    unreadable: int = 0
    unread: list[InputReport] = field(default_factory=list)

    def stop(self, failure: FailureReport) -> None:
        """Count a framing error that stopped a stream: an error, and the counts are not
        of the whole stream."""
        self.errors += 1
        self.stops += 1
        if len(self.stopped) < LISTED:
            self.stopped.append(failure)

    def not_read(self, report: InputReport) -> None:
        """Count an input, or a stream of a recording, that could not be read."""
        self.unreadable += 1
        if len(self.unread) < LISTED:
            self.unread.append(report)

    def _op(self, name: str) -> _Op:
        """The entry of an op as shown (`op_labels`)."""
        if name not in self.ops and len(self.ops) >= MAX_OPS:
            name = OTHER_OPS
        return self.ops.setdefault(name, _Op())

    def add(self, report: MessageReport) -> None:
        """Count one message."""
        summary = report.summary
        size = report.size if report.size is not None else sum(report.frame_sizes)
        self.messages += 1
        self.bytes += size
        if summary.category is not None and summary.value is None:
            self.errors += 1
            return
        if summary.category is not None:
            self.errors += 1
        self.batches += summary.batch
        ops = op_labels(summary)
        for name in ops:
            self._op(name).count += 1
        for name in set(ops):
            entry = self._op(name)
            entry.messages += 1
            entry.bytes += size
        for value in summary.offloaded:
            self.offloaded_bytes += value.nbytes
            owner = op_text(_owner(value.path, summary.ops, summary.batch))
            self._op(owner).offloaded_bytes += value.nbytes
            for codec, length in zip(value.compression, value.frame_sizes, strict=False):
                entry_codec = self.codecs.setdefault(codec or "none", _Codec())
                entry_codec.frames += 1
                entry_codec.bytes += length
        where = f"{report.label} message {report.index}"
        if report.offset is not None:
            where += f" at byte {report.offset}"
        shown = ops[:LARGEST_OPS]
        if len(ops) > LARGEST_OPS:
            shown += (f"+{len(ops) - LARGEST_OPS} more",)
        item = (size, -self.messages, where, shown)
        if len(self.largest) < LARGEST:
            heapq.heappush(self.largest, item)
        else:
            heapq.heappushpop(self.largest, item)

    def _ranked(self) -> list[tuple[int, int, str, tuple[str, ...]]]:
        return sorted(self.largest, reverse=True)

    def as_json(self) -> dict[str, Any]:
        """The `stats` record of `--json`."""
        return {
            "kind": "stats",
            "messages": self.messages,
            "bytes": self.bytes,
            "batches": self.batches,
            "errors": self.errors,
            "offloaded_bytes": self.offloaded_bytes,
            "ops": {
                name: {
                    "count": op.count,
                    "messages": op.messages,
                    "bytes": op.bytes,
                    "offloaded_bytes": op.offloaded_bytes,
                }
                for name, op in sorted(self.ops.items(), key=lambda kv: (-kv[1].bytes, kv[0]))
            },
            "compression": {
                name: {"frames": c.frames, "bytes": c.bytes}
                for name, c in sorted(self.codecs.items())
            },
            "largest": [
                {"size": size, "where": where, "ops": list(ops)}
                for size, _, where, ops in self._ranked()
            ],
            "stopped": {
                "count": self.stops,
                "first": [
                    {
                        "stream": f.label,
                        "connection": f.connection,
                        "direction": f.direction,
                        "index": f.index,
                        "message_offset": f.offset,
                        "category": f.category,
                        "requirement": f.requirement,
                        "offset": f.context.offset,
                    }
                    for f in self.stopped
                ],
            },
            "unread": {
                "count": self.unreadable,
                "first": [{"stream": r.label, "category": r.category} for r in self.unread],
            },
        }

    def _problems(self) -> list[str]:
        """Lines that say what the counts leave out: streams whose reading stopped at a
        framing error, and inputs not read."""
        out = []
        if self.stops:
            out.append(
                f"reading stopped at a framing error in {counted(self.stops, 'stream')} "
                "(counted in the errors): the counts leave out what follows it"
            )
            for f in self.stopped:
                requirement = f" [{f.requirement}]" if f.requirement else ""
                at = f.context.offset if f.context.offset is not None else f.offset
                out.append(
                    f"  {f.label}: message {f.index} at byte {f.offset}: framing error "
                    f"{f.category}{requirement} at byte {at}"
                )
            if self.stops > len(self.stopped):
                out.append(f"  ... and {self.stops - len(self.stopped)} more")
        if self.unreadable:
            out.append(
                f"{counted(self.unreadable, 'input')} not read: the counts leave "
                f"{'it' if self.unreadable == 1 else 'them'} out"
            )
            out.extend(f"  {r.label}: {r.category}" for r in self.unread)
            if self.unreadable > len(self.unread):
                out.append(f"  ... and {self.unreadable - len(self.unread)} more")
        return out

    def lines(self) -> list[str]:
        """The statistics as text."""
        head = (
            f"statistics: {counted(self.messages, 'message')}, {counted(self.bytes, 'byte')}, "
            f"{counted(self.batches, 'batch', 'batches')}, {counted(self.errors, 'error')}, "
            f"{counted(self.offloaded_bytes, 'byte')} offloaded"
        )
        out = [head, *self._problems()]
        if self.ops:
            width = max(12, *(len(name) for name in self.ops))
            out.append("")
            out.append(
                f"{'op':<{width}}  {'count':>8}  {'messages':>8}  {'bytes':>12}  "
                f"{'offloaded bytes':>15}"
            )
            for name, op in sorted(self.ops.items(), key=lambda kv: (-kv[1].bytes, kv[0])):
                out.append(
                    f"{name:<{width}}  {op.count:>8}  {op.messages:>8}  {op.bytes:>12}  "
                    f"{op.offloaded_bytes:>15}"
                )
            out.append("(a batch counts towards each op in it: the bytes column does not add up)")
        if self.codecs:
            out.append("")
            out.append("compression of offloaded frames:")
            out.extend(
                f"  {name}: {counted(c.frames, 'frame')}, {counted(c.bytes, 'byte')}"
                for name, c in sorted(self.codecs.items())
            )
        if self.largest:
            out.append("")
            out.append("largest messages:")
            out.extend(
                f"  {size:>12} bytes  {where}: {', '.join(ops) or '(no op)'}"
                for size, _, where, ops in self._ranked()
            )
        return [safe(line) for line in out]


def _owner(path: str, ops: tuple[str, ...], batch: bool) -> str:
    """The op of the message, or of the batch element, that an offloaded value is in."""
    if not batch:
        return ops[0] if ops else "-"
    head = path[2 : path.find("]")] if path.startswith("$[") else ""
    return ops[int(head)] if head.isdigit() and int(head) < len(ops) else "-"
