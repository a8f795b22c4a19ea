"""The reference codec passes every golden vector, run in-process without the runner."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any

import daskwire
import pytest
from daskwire import DaskwireError, FrameReader, Limits
from daskwire.notation import NotationError, difference, frame_from_notation, from_notation
from daskwire_conformance.common.suite import Vector, load_vectors

VECTORS = load_vectors()
MODES = ("forwarding", "consuming")


def _limits(vector: Vector) -> Limits:
    return Limits(**dict(vector.input.get("limits") or {}))


def _frames(nodes: Sequence[Any]) -> list[bytes]:
    return [frame_from_notation(n) for n in nodes]


def _same_frame(expected: Any, actual: bytes) -> bool:
    """Compare bytes with an expected frame: hex, a repeat form, or sha256 + length."""
    if isinstance(expected, Mapping) and "sha256" in expected:
        return (
            len(actual) == expected["length"]
            and hashlib.sha256(actual).hexdigest() == expected["sha256"]
        )
    return frame_from_notation(expected) == actual


def _assert_same(expected_node: Any, actual: Any, what: str) -> None:
    diff = difference(from_notation(expected_node), actual)
    assert diff is None, f"{what}: {diff}"


def _encode_options(vector: Vector) -> dict[str, Any]:
    """The keywords of an encode vector: its options (no shard_size: the default), limits."""
    kwargs: dict[str, Any] = dict(vector.input["options"])
    kwargs["limits"] = _limits(vector)
    return kwargs


def _run_encode(vector: Vector) -> None:
    message = from_notation(vector.input["message"])
    frames = [bytes(f) for f in daskwire.encode(message, **_encode_options(vector))]
    expected = vector.expected
    if expected["canonical"]:
        assert len(frames) == len(expected["frames"]), "frame count differs"
        for i, (want, got) in enumerate(zip(expected["frames"], frames, strict=True)):
            assert _same_frame(want, got), f"frame {i} differs: {got.hex()[:200]}"
        wire = bytes(daskwire.pack_bytes(frames))
        assert _same_frame(expected["wire"], wire), "wire bytes differ"
    consumed = daskwire.decode(frames, mode="consuming")
    _assert_same(expected["consumed"], consumed, "consumed message")


def _run_decode(vector: Vector) -> None:
    frames = _frames(vector.input["frames"])
    for mode in MODES:
        decoded = daskwire.decode(frames, mode=mode, limits=_limits(vector))
        _assert_same(vector.expected[mode], decoded, mode)


def _run_reject_decode(vector: Vector) -> None:
    frames = _frames(vector.input["frames"])
    category = vector.expected["category"]
    for mode in MODES:
        if mode in vector.expected["modes"]:
            with pytest.raises(DaskwireError) as caught:
                daskwire.decode(frames, mode=mode, limits=_limits(vector))
            assert caught.value.category == category, f"{mode}: {caught.value}"
        else:
            # A mode the vector does not list must accept the input (RX-3), as recorded.
            decoded = daskwire.decode(frames, mode=mode, limits=_limits(vector))
            _assert_same(vector.expected["accepted"][mode], decoded, f"{mode} (accepted)")


def _run_unpack(vector: Vector) -> None:
    wire = frame_from_notation(vector.input["wire"])
    frames = [bytes(f) for f in daskwire.unpack(wire, limits=_limits(vector))]
    assert frames == _frames(vector.expected["frames"])
    assert bytes(daskwire.pack_bytes(frames)) == wire  # WF-1: packing gives the bytes back


def _run_reject_unpack(vector: Vector) -> None:
    wire = frame_from_notation(vector.input["wire"])
    with pytest.raises(DaskwireError) as caught:
        daskwire.unpack(wire, limits=_limits(vector))
    assert caught.value.category == vector.expected["category"], str(caught.value)


def _run_reject_encode(vector: Vector) -> None:
    try:
        message = from_notation(vector.input["message"])
    except NotationError as exc:
        unbuildable = str(exc)
    else:
        with pytest.raises(DaskwireError) as caught:
            daskwire.encode(message, **_encode_options(vector))
        assert caught.value.category == vector.expected["category"], str(caught.value)
        return
    # A map key holding an offloaded value has no Python value: refused by construction.
    assert "not hashable" in unbuildable


def _run_stream(vector: Vector) -> None:
    reader = FrameReader(limits=_limits(vector))
    messages: list[list[bytes]] = []
    category: str | None = None
    try:
        for chunk in _frames(vector.input["chunks"]):
            messages.extend([bytes(f) for f in m] for m in reader.feed(chunk))
        reader.close()
    except DaskwireError as exc:
        category = exc.category
    assert category == vector.expected.get("category")
    assert messages == [_frames(m) for m in vector.expected["messages"]]


_RUNNERS = {
    "encode": _run_encode,
    "decode": _run_decode,
    "reject-decode": _run_reject_decode,
    "unpack": _run_unpack,
    "reject-unpack": _run_reject_unpack,
    "reject-encode": _run_reject_encode,
    "stream": _run_stream,
}


@pytest.mark.parametrize("vector", VECTORS, ids=[v.id for v in VECTORS])
def test_reference_passes_vector(vector: Vector) -> None:
    for need in vector.needs:
        if need.startswith("codec:"):
            assert need[6:] in daskwire.SUPPORTED_CODECS, f"the reference lacks {need}"
    _RUNNERS[vector.kind](vector)


def test_every_kind_has_a_runner() -> None:
    assert {v.kind for v in VECTORS} <= set(_RUNNERS)
