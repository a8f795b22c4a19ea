"""Which parser reads a frame: the C parser only when it reads it exactly as the profile does."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any
from unittest import mock

import daskwire
import pytest
from daskwire import DaskwireError, Float32, Limits, payload
from daskwire.notation import to_notation

from .strategies import pure_python

# (id, frame 1 as hex, the path `payload.parse` must take)
CASES = [
    # A bin whose bytes look like float32 (ca) and ext (d6, c7) markers: plain data.
    ("marker-bytes-inside-bin", "81 a1 62 c4 04 ca d6 c7 00", "fast"),
    # A str whose UTF-8 bytes include ca: plain data.
    ("marker-bytes-inside-str", "81 a1 73 a2 c3 8a", "fast"),
    # A real float32 token: only the exact parser keeps its width.
    ("float32-token", "81 a1 66 ca 3f c0 00 00", "exact"),
    # A timestamp (ext -1): the exact parser refuses it.
    ("timestamp-token", "81 a1 74 d6 ff 00 00 00 01", "exact"),
    # An int in a wider format than needed, next to a marker byte.
    ("non-minimal-int-with-marker", "82 a1 61 cd 00 01 a1 62 c4 01 ca", "exact"),
    # A key that repeats, next to a marker byte: the exact parser reports it.
    ("duplicate-key-with-marker", "82 a1 61 c4 01 ca a1 61 01", "exact"),
    # 300 shallow maps and a marker byte: the C parser, depth counted on the side.
    ("many-shallow-maps", "92 dc 01 2c " + "80 " * 300 + "c4 01 ca", "fast"),
]
IDS = [case[0] for case in CASES]


@pytest.fixture(autouse=True)
def _exact_path_only() -> Iterator[None]:
    """These tests route frames inside the exact path; the C extension would skip it."""
    with pure_python():
        yield


def _which(frame: bytes, max_depth: int = 256) -> str:
    """Decode `frame` as frame 1 and return the one parser that read it."""
    calls: list[str] = []
    fast, exact = payload._parse_fast, payload._parse_exact

    def spy_fast(view: Any, hook: Any) -> Any:
        calls.append("fast")
        return fast(view, hook)

    def spy_exact(view: Any, hook: Any, depth: int) -> Any:
        calls.append("exact")
        return exact(view, hook, depth)

    with (
        mock.patch.object(payload, "_parse_fast", spy_fast),
        mock.patch.object(payload, "_parse_exact", spy_exact),
        contextlib.suppress(DaskwireError),
    ):
        daskwire.decode([b"", frame], limits=Limits(max_depth=max_depth))
    assert len(calls) == 1, calls
    return calls[0]


def _outcome(frame: bytes, *, exact_only: bool) -> tuple[str, Any]:
    def forced(data: Any, hook: Any, max_depth: int) -> Any:
        return payload._parse_exact(memoryview(data), hook, max_depth)

    patch = mock.patch.object(payload, "parse", forced) if exact_only else contextlib.nullcontext()
    with patch:
        try:
            return "ok", to_notation(daskwire.decode([b"", frame]))
        except DaskwireError as exc:
            return "error", exc.category


@pytest.mark.parametrize(("hexed", "path"), [(h, p) for _, h, p in CASES], ids=IDS)
def test_path_taken(hexed: str, path: str) -> None:
    assert _which(bytes.fromhex(hexed)) == path


@pytest.mark.parametrize("hexed", [h for _, h, _ in CASES], ids=IDS)
def test_natural_choice_agrees_with_the_exact_parser(hexed: str) -> None:
    frame = bytes.fromhex(hexed)
    assert _outcome(frame, exact_only=False) == _outcome(frame, exact_only=True)


def test_float32_keeps_its_width_among_marker_bytes() -> None:
    frames = daskwire.encode({"blob": b"\xca\xd6\xca", "f": Float32(1.5)})
    decoded = daskwire.decode(frames)
    assert type(decoded["f"]) is Float32
    assert bytes(decoded["blob"]) == b"\xca\xd6\xca"


@pytest.mark.parametrize(("depth", "path"), [(256, "fast"), (257, "exact")])
def test_depth_is_counted_beside_the_c_parser(depth: int, path: str) -> None:
    """An array nested `depth` deep beside a marker byte (PL-11): at the limit, and one over."""
    nested = "91 " * (depth - 2) + "90"
    frame = bytes.fromhex(f"82 a1 62 c4 01 ca a1 64 {nested}")
    assert _which(frame) == path
    if path == "exact":
        with pytest.raises(daskwire.LimitExceeded):
            daskwire.decode([b"", frame])
    else:
        daskwire.decode([b"", frame])
