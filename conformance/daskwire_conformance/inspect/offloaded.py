"""One line for an offloaded or pickled value: serializer, type, frames, codecs, shards, pickle."""

from __future__ import annotations

from typing import Any, Final

from daskwire_conformance.common.words import counted
from daskwire_conformance.inspect.tree import safe
from daskwire_conformance.traffic.pickles import PickleSketch, sketch
from daskwire_conformance.traffic.summary import OffloadedSummary, offloaded_summary

__all__ = ["FRAME_SIZES_SHOWN", "describe", "offloaded_line", "pickle_json", "pickle_of"]

#: Frame sizes listed one by one at most; more are summed.
FRAME_SIZES_SHOWN: Final = 4


def _frames(sizes: tuple[int, ...], noun: str) -> str:
    if not sizes:
        return f"no {noun}s"
    if len(sizes) <= FRAME_SIZES_SHOWN:
        return f"{counted(len(sizes), noun)} of {' + '.join(map(str, sizes))} bytes"
    return f"{counted(len(sizes), noun)}, {counted(sum(sizes), 'byte')} in all"


def _codecs(codecs: tuple[str | None, ...]) -> str:
    names = {c or "none" for c in codecs}
    if not codecs or names == {"none"}:
        return "not compressed"
    if len(names) == 1:
        return next(iter(names))
    return (
        "compression "
        + ", ".join(c or "none" for c in codecs[:FRAME_SIZES_SHOWN])
        + (", ..." if len(codecs) > FRAME_SIZES_SHOWN else "")
    )


def pickle_of(summary: OffloadedSummary, *, first_only: bool = False) -> PickleSketch | None:
    """The disassembly sketch of a pickled value's pickle bytes, or of the start of a
    pickle-serialized value's first frame; None when there is no pickle to read. With
    `first_only`, read up to its first global only (a one-line summary's)."""
    if summary.pickle is not None:
        return sketch(summary.pickle, first_only=first_only)
    if summary.pickle_head is not None:
        whole = summary.frame_sizes[0] if summary.frame_sizes else None
        return sketch(summary.pickle_head, whole, first_only=first_only)
    return None


def offloaded_line(summary: OffloadedSummary, found: PickleSketch | None, pickles: bool) -> str:
    """The one-line summary of an offloaded or pickled value."""
    if summary.kind == "pickled":
        parts = ["pickled:"]
        if found is None:
            parts.append("no pickle bytes in its sub-header,")
        else:
            protocol = f" (protocol {found.protocol})" if found.protocol is not None else ""
            parts.append(f"{found.size}-byte pickle{protocol},")
            if pickles and found.globals:
                parts.append(f"globals {', '.join(found.globals)},")
            elif found.first_global:
                parts.append(f"first global {found.first_global},")
            else:
                parts.append("names no global,")
        parts.append(_frames(summary.frame_sizes, "buffer"))
        return safe(" ".join(parts))
    parts = ["offloaded:"]
    parts.append(f"serializer {summary.serializer}," if summary.serializer else "no serializer,")
    if summary.type_name:
        parts.append(f"type {summary.type_name},")
    parts.append(_frames(summary.frame_sizes, "frame") + ",")
    parts.append(_codecs(summary.compression))
    if summary.shards is not None:
        parts.append(f", shards {list(summary.shards)}")
    if found is not None and found.globals:
        names = ", ".join(found.globals) if pickles else found.first_global
        parts.append(f", pickle {'globals' if pickles else 'first global'} {names}")
    return safe(" ".join(parts).replace(" ,", ","))


def describe(pickles: bool) -> Any:
    """The `describe` function `tree.tree_lines` takes: a value's line, and with `pickles` its
    disassembly under it."""

    def run(node: Any) -> tuple[str, list[str]]:
        summary = offloaded_summary("", node)
        found = pickle_of(summary, first_only=not pickles)
        line = offloaded_line(summary, found, pickles)
        if not pickles or found is None:
            return line, []
        more = [f"disassembly ({counted(found.opcodes, 'opcode')} read):"]
        more += [f"  {safe(text)}" for text in found.listing]
        if found.opcodes > len(found.listing):
            more.append(f"  ... {counted(found.opcodes - len(found.listing), 'more opcode')}")
        if found.problem:
            more.append(f"  ! {safe(found.problem)}")
        return line, more

    return run


def pickle_json(found: PickleSketch | None, pickles: bool) -> dict[str, Any] | None:
    """A pickle sketch for `--json`: size, protocol, globals; the listing with `--pickles`."""
    if found is None:
        return None
    out: dict[str, Any] = {
        "size": found.size,
        "protocol": found.protocol,
        "first_global": found.first_global,
        "globals": list(found.globals),
        "complete": found.complete,
        "problem": found.problem,
    }
    if pickles:
        out["disassembly"] = list(found.listing)
        out["opcodes"] = found.opcodes
    return out
