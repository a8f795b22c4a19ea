"""The tap's output lines, one per message, handshake or warning: the same live and replayed."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Sequence
from typing import Final

from daskwire import ConnectionOptions

from daskwire_conformance.common.text import bare, escape
from daskwire_conformance.common.words import counted
from daskwire_conformance.traffic.detect import Detection
from daskwire_conformance.traffic.handshakes import compare, python_text
from daskwire_conformance.traffic.stream import Failure
from daskwire_conformance.traffic.summary import HandshakeSummary

from .decoder import Seen

__all__ = [
    "agreed_line",
    "closed_line",
    "detection_line",
    "failure_line",
    "message_line",
    "open_line",
    "stamp",
    "warning_lines",
]

#: How many distinct ops of a batch a line names before it says how many more there are.
MAX_OPS_SHOWN: Final = 4
#: Characters of one op shown; a longer op is cut with "...".
MAX_OP_CHARS: Final = 60
#: Who wrote each direction, in the words of the lines.
SIDES: Final = {"c2s": "client", "s2c": "upstream"}


def stamp(when: float) -> str:
    """A line's time: UTC, rounded to the microsecond (the same wherever a recording is
    replayed: the timeline keeps times to the microsecond)."""
    seconds, micros = f"{when:.6f}".split(".")  # correctly rounded, as round(when, 6) is
    return time.strftime("%H:%M:%S", time.gmtime(int(seconds))) + f".{micros}"


#: An op shown as it is; any other is quoted, so that it cannot pass for other fields.
_PLAIN_OP: Final = re.compile(r"[A-Za-z0-9_.:-]+|-")  # as `daskwire inspect` shows ops


def _cut(op: str) -> str:
    """An op as a line shows it: plain, or quoted as a JSON string (escapes and all), cut
    after `MAX_OP_CHARS` characters with "..."."""
    cut = op if len(op) <= MAX_OP_CHARS else op[:MAX_OP_CHARS]
    shown = cut if _PLAIN_OP.fullmatch(cut) else json.dumps(cut)
    return shown if cut is op else shown + "..."


def _ops(seen: Seen) -> str:
    """The op part of a message line: `handshake`, the op, or a batch's ops."""
    if seen.handshake is not None:
        return "handshake"
    if not seen.batch:
        return _cut(seen.ops[0]) if seen.ops else "?"
    counts = Counter(_cut(op) for op in seen.ops)
    named = [op if n == 1 else f"{op}*{n}" for op, n in list(counts.items())[:MAX_OPS_SHOWN]]
    more = len(counts) - MAX_OPS_SHOWN
    return f"batch[{len(seen.ops)}] " + ",".join(named) + (f",+{more} more" if more > 0 else "")


def proposal(handshake: HandshakeSummary) -> str:
    """One side's proposal, in words."""
    return (
        f"compression {handshake.compression or 'none'}, "
        f"pickle-protocol {handshake.pickle_protocol}, python {python_text(handshake.python)}"
    )


def open_line(connection: int, client: str, upstream: str) -> str:
    """A connection starts (without its time: the forwarding side adds it)."""
    return f"conn {connection} open: client {client} -> upstream {upstream}"


def closed_line(
    when: str, connection: int, counts: dict[str, tuple[int, int]], *, decoded: bool = True
) -> str:
    """A connection ended: the messages decoded and the bytes of each direction."""
    sides = ", ".join(f"{d} {m:,} messages ({b:,} B)" for d, (m, b) in counts.items())
    after = "" if decoded else " (decoding had stopped: messages up to then)"
    return f"{when} conn {connection} closed: {sides}{after}"


def message_line(when: str, connection: int, direction: str, seen: Seen) -> list[str]:
    """One message: time, connection, direction, index, op(s), bytes, frames, offloaded values
    and the codecs of their frames; then its violation, if it breaks the profile."""
    parts = [f"{seen.size:,} B", counted(seen.frames, "frame")]
    if seen.offloaded:
        nbytes = sum(o.nbytes for o in seen.offloaded)  # a pickled value's pickle too
        parts.append(f"{counted(len(seen.offloaded), 'offloaded value')} ({nbytes:,} B)")
        codecs = sorted({c for o in seen.offloaded for c in o.compression if c is not None})
        parts.append(f"compression {'+'.join(codecs) if codecs else 'none'}")
    text = f"{when} conn {connection} {direction} #{seen.index} {_ops(seen)} {', '.join(parts)}"
    if seen.handshake is not None:
        text += f": proposes {proposal(seen.handshake)}"
    out = [text]
    if seen.category is not None:
        out.append(
            f"{when} conn {connection} {direction} #{seen.index} violation: "
            f"{seen.category} ({seen.requirement or 'no requirement'}) in the message at byte "
            f"{seen.offset:,}: {bare(seen.error, seen.category, seen.requirement)}"
        )
    return [escape(line) for line in out]


def failure_line(when: str, connection: int, direction: str, failure: Failure) -> str:
    """The stream's framing broke: the category, requirement, offset, and why decoding stops
    (forwarding goes on)."""
    return escape(
        f"{when} conn {connection} {direction} #{failure.index} violation: {failure.category} "
        f"({failure.requirement or 'no requirement'}) at byte {failure.offset:,}: "
        f"{bare(failure.message, failure.category, failure.requirement)}. "
        f"Decoding of {direction} stops here ({failure.why_stop}); "
        "the bytes are still forwarded unchanged"
    )


def detection_line(when: str, connection: int, direction: str, detection: Detection) -> str:
    """The profile a direction was read as, and why."""
    doubt = "" if detection.sure else " (not sure)"
    return escape(
        f"{when} conn {connection} {direction} profile {detection.profile}{doubt}: "
        f"{detection.reason}"
    )


def agreed_line(when: str, connection: int, agreed: ConnectionOptions) -> str:
    """What both sides compute from the two handshakes (DK-5)."""
    return (
        f"{when} conn {connection} agreed: compression {agreed.compression or 'none'}, "
        f"pickle-protocol {agreed.pickle_protocol} (DK-5)"
    )


def warning_lines(
    when: str, connection: int, client: HandshakeSummary, upstream: HandshakeSummary
) -> Sequence[str]:
    """Plain words on what breaks Dask clusters: different compression, pickle protocols or
    Python versions (major.minor) on the two sides of a connection; the comparison every
    tool makes (`traffic.handshakes.compare`)."""
    return [f"{when} conn {connection} warning: {w.text}" for w in compare(client, upstream)]
