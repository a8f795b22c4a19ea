"""One vector in full: notation, annotated bytes and the harness requests `daskwire check` sends."""

from __future__ import annotations

import difflib
import json
from collections.abc import Mapping, Sequence
from typing import Any, Final

from daskwire import PROFILE

from daskwire_conformance.common.hexdump import annotate, annotate_handshake, annotate_wire
from daskwire_conformance.common.suite import Vector
from daskwire_conformance.runner.judge import handshake_request

__all__ = ["close_matches", "harness_requests", "render_text", "show_document"]

#: The receiver modes, in the order the runner sends decode requests (spec/harness.md).
MODES: Final = ("forwarding", "consuming")
#: The text view shortens strings longer than this (hex mostly); --json never does.
TEXT_STRING_CHARS: Final = 200
#: Chunk sizes named in the title of a stream's dump.
CHUNK_SIZES: Final = 16
#: How many close matches an unknown id gets.
MATCHES: Final = 5


def _frames(nodes: Sequence[Any]) -> list[bytes]:
    from daskwire.notation import frame_from_notation

    return [frame_from_notation(n) for n in nodes]


def _hex(nodes: Sequence[Any]) -> list[str]:
    return [frame.hex() for frame in _frames(nodes)]


def _with_limits(body: dict[str, Any], vector: Vector) -> dict[str, Any]:
    limits = vector.input.get("limits")
    if limits:
        body["limits"] = dict(limits)
    return body


def harness_requests(vector: Vector) -> list[tuple[str, dict[str, Any]]]:
    """(direction, request body) for each request the runner sends for a vector.

    The bodies follow spec/harness.md ("Requests", "Verdicts"): one `encode`; one `decode`
    per receiver mode (for reject-decode, per mode among the vector's `modes` and
    `accepted`), sent only to a testee that declares it; one `unpack` or `stream`; for
    `unpack` also one `pack` of its frames, sent only with the `pack` capability. Frames
    travel as hex, repeat forms expanded; `limits` only when the vector gives some. `seq` is
    left to the caller.
    """
    kind = vector.kind
    if kind in ("encode", "reject-encode"):
        body = {
            "cmd": "encode",
            "message": vector.input["message"],
            "options": dict(vector.input.get("options") or {}),
        }
        return [("encode", _with_limits(body, vector))]
    if kind in ("decode", "reject-decode"):
        frames = _hex(vector.input["frames"])
        modes = (
            (*vector.expected.get("modes", MODES), *(vector.expected.get("accepted") or ()))
            if kind == "reject-decode"
            else MODES
        )
        return [
            (
                f"decode-{mode}",
                _with_limits({"cmd": "decode", "mode": mode, "frames": frames}, vector),
            )
            for mode in MODES
            if mode in modes
        ]
    if kind in ("handshake", "reject-handshake"):
        return [("wire", handshake_request(vector))]
    if kind == "stream":
        body = {"cmd": "stream", "chunks": _hex(vector.input["chunks"])}
    else:
        body = {"cmd": "unpack", "wire": _frames([vector.input["wire"]])[0].hex()}
    requests = [("wire", _with_limits(body, vector))]
    if kind == "unpack":
        requests.append(("pack", {"cmd": "pack", "frames": _hex(vector.expected["frames"])}))
    return requests


def _digest(node: Any) -> bool:
    return isinstance(node, Mapping) and "sha256" in node


def _dumps(vector: Vector, profile: str) -> list[dict[str, str]]:
    """Titled annotated hex dumps of the bytes a vector of `profile`'s suite is about."""
    kind = vector.kind
    if kind in ("decode", "reject-decode"):
        text = annotate(_frames(vector.input["frames"]), limits=vector.limits, profile=profile)
        return [{"title": "input frames", "text": text}]
    if kind in ("handshake", "reject-handshake"):
        frames = _frames(vector.input["frames"])
        text = annotate_handshake(frames, limits=vector.limits, profile=profile)
        dumps = [{"title": "the peer's handshake frames", "text": text}]
        if "receive" in vector.input:
            text = annotate(_frames(vector.input["receive"]), limits=vector.limits, profile=profile)
            dumps.append({"title": "the peer's next message", "text": text})
        return dumps
    if kind in ("unpack", "reject-unpack"):
        wire = _frames([vector.input["wire"]])[0]
        text = annotate_wire(wire, limits=vector.limits, profile=profile)
        return [{"title": "input wire bytes", "text": text}]
    if kind == "stream":
        chunks = _frames(vector.input["chunks"])
        sizes = ", ".join(str(len(c)) for c in chunks[:CHUNK_SIZES])
        more = ", ..." if len(chunks) > CHUNK_SIZES else ""
        title = f"input stream, in {len(chunks)} chunks of {sizes}{more} bytes"
        text = annotate_wire(b"".join(chunks), stream=True, limits=vector.limits, profile=profile)
        return [{"title": title, "text": text}]
    if kind == "encode":
        expected_wire = vector.expected.get("wire")
        if expected_wire is not None and not _digest(expected_wire):
            text = annotate_wire(_frames([expected_wire])[0], profile=profile)
            return [{"title": "expected output, as wire bytes", "text": text}]
        frames = vector.expected.get("frames") or []
        if not any(_digest(f) for f in frames):
            text = annotate(_frames(frames), profile=profile)
            return [{"title": "expected output frames", "text": text}]
        return [{"title": "expected output", "text": "(stored as sha256 digests: no bytes)"}]
    return []  # reject-encode: the input is a message, there are no bytes


def show_document(vector: Vector, profile: str = PROFILE) -> dict[str, Any]:
    """Everything about one vector, as the JSON that `daskwire vectors show --json` prints.

    `profile` names the suite the vector is in; its bytes are annotated as that profile's.

    `requests` hold each request as the runner sends it in `daskwire check --run ID` to a
    harness protocol 1 testee: `start` is seq 1 and the vector's requests follow, each sent
    only when the testee declares its `direction` (and every capability in `needs`). Under
    protocol 2 each also names the suite's profile (`"profile"`).
    """
    requests = [
        {"direction": direction, "request": {"seq": seq, **body}}
        for seq, (direction, body) in enumerate(harness_requests(vector), start=2)
    ]
    return {
        "id": vector.id,
        "description": vector.description,
        "kind": vector.kind,
        "level": vector.level,
        "requirements": list(vector.requirements),
        "needs": list(vector.needs),
        "derived": None if vector.derived is None else dict(vector.derived),
        "file": vector.file,
        "input": dict(vector.input),
        "expected": dict(vector.expected),
        "dumps": _dumps(vector, profile),
        "requests": requests,
    }


def close_matches(vector_id: str, ids: Sequence[str]) -> list[str]:
    """Ids that look like one that names no vector: the area it names, then similar ids."""
    folder = vector_id.rstrip("/") + "/"
    inside = [i for i in ids if i.startswith(folder)]
    similar = difflib.get_close_matches(vector_id, ids, n=MATCHES, cutoff=0.6)
    return list(dict.fromkeys([*inside[:MATCHES], *similar]))[:MATCHES]


def _short(node: Any) -> Any:
    """The node with long strings cut, for reading on a terminal."""
    if isinstance(node, str) and len(node) > TEXT_STRING_CHARS:
        return f"{node[: TEXT_STRING_CHARS // 2]}... ({len(node)} characters in all)"
    if isinstance(node, Mapping):
        return {k: _short(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_short(v) for v in node]
    return node


def _compact(node: Any) -> str:
    return json.dumps(_short(node), separators=(",", ":"), ensure_ascii=False)


def _block(title: str, text: str) -> list[str]:
    return [f"{title}:", *(f"  {line}" for line in text.splitlines()), ""]


def render_text(doc: Mapping[str, Any]) -> str:
    """The text view of a show document: fields, notation, hex dumps and request lines."""
    derived = doc["derived"]
    rows = [
        ("kind", doc["kind"]),
        ("level", doc["level"]),
        ("requirements", ", ".join(doc["requirements"])),
        ("needs", ", ".join(doc["needs"]) or "-"),
        ("derived", f"from {derived.get('parent')}: {derived.get('mutation')}" if derived else "-"),
        ("file", doc["file"]),
    ]
    lines = [doc["id"], f"  {doc['description']}", ""]
    lines += [f"{name:<13}{value}" for name, value in rows] + [""]
    for key in ("input", "expected"):
        fields = [f"{name}: {_compact(value)}" for name, value in doc[key].items()]
        lines += _block(f"{key} (typed value notation)", "\n".join(fields))
    for dump in doc["dumps"]:
        lines += _block(f"{dump['title']} (annotated hex dump)", dump["text"])
    requests = [f"{r['direction']:<18} {_compact(r['request'])}" for r in doc["requests"]]
    head = (
        "harness requests (`daskwire check --run ID`; start is seq 1; sent if declared;"
        " protocol 2 adds the profile)"
    )
    lines += _block(head, "\n".join(requests))
    if any(_was_cut(doc[key]) for key in ("input", "expected", "requests")):
        lines.append(f"(strings over {TEXT_STRING_CHARS} characters are cut; --json shows all)")
    return "\n".join(lines).rstrip() + "\n"


def _was_cut(node: Any) -> bool:
    if isinstance(node, str):
        return len(node) > TEXT_STRING_CHARS
    if isinstance(node, Mapping):
        return any(_was_cut(v) for v in node.values())
    if isinstance(node, list):
        return any(_was_cut(v) for v in node)
    return False
