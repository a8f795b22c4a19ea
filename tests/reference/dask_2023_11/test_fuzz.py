"""Fuzz smoke without atheris: random mutations of the dask-2023.11 vectors' inputs, in process.

Each mutation goes through `fuzz/fuzz_dask.py`'s own checks (only `DaskwireError` escapes;
FrameReader and unpack agree however the stream is chunked; both decoders agree up to layer 4;
what decodes re-encodes and decodes to itself; a consuming decode yields no `Offloaded`). The
seeds are the target's seed corpus: every vector's wire bytes, stream or frame list.
"""

from __future__ import annotations

import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ..strategies import FUZZ_SCALE  # noqa: TID252

FUZZ = Path(__file__).resolve().parents[3] / "fuzz"
#: Mutations in one run (scaled by DASKWIRE_FUZZ_SCALE, as the Hypothesis fuzz tests are).
MUTATIONS = max(1, round(3_000 * FUZZ_SCALE))
#: One input of the smoke must finish well within this (a hang is a finding).
QUICK_SECONDS = 2.0

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def target() -> Any:
    """fuzz/fuzz_dask.py as a module (imported, it instruments nothing)."""
    sys.path.insert(0, str(FUZZ))
    try:
        import fuzz_dask  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(FUZZ))
    return fuzz_dask


@pytest.fixture(scope="module")
def seeds(target: Any) -> list[bytes]:
    return list(target.seeds().values())


def _edit(data: bytearray, rng: random.Random, seeds: list[bytes]) -> None:
    """One byte-level edit, as libFuzzer's mutators make them."""
    action = rng.randrange(9)
    at = rng.randrange(len(data) + 1)
    if action == 0 and data:
        data[min(at, len(data) - 1)] = rng.randrange(256)
    elif action == 1 and data:
        data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
    elif action == 2:
        data[at:at] = rng.randbytes(rng.randrange(1, 9))
    elif action == 3:
        del data[at : at + rng.randrange(1, 9)]
    elif action == 4:  # a u64 at a prelude or hint position, or anywhere
        pos = min(rng.choice([at, 6, 14, 22, 30]), len(data))
        value = rng.choice([0, 1, 2, 15, 16, 24, 255, 2**31, 2**32, 2**63, 2**64 - 1])
        data[pos : pos + 8] = value.to_bytes(8, "little")
    elif action == 5:  # splice another seed in
        other = rng.choice(seeds)
        start = rng.randrange(len(other) + 1)
        data[at:] = other[start : start + rng.randrange(1, 64)] + data[at:]
    elif action == 6:  # an op program after the frames (frame list inputs)
        data += rng.randbytes(rng.randrange(1, 24))
    elif action == 7 and data:  # other flags or limits
        data[rng.randrange(min(2, len(data)))] = rng.randrange(256)
    else:
        del data[at:]


@pytest.mark.slow
def test_mutated_vector_inputs_keep_every_invariant(target: Any, seeds: list[bytes]) -> None:
    assert len(seeds) > 300, len(seeds)
    check: Callable[[bytes], None] = target.test_one_input
    slowest = 0.0
    for index in range(MUTATIONS):
        rng = random.Random(index)
        data = bytearray(rng.choice(seeds))
        for _ in range(rng.randint(1, 4)):
            _edit(data, rng, seeds)
        start = time.perf_counter()
        try:
            check(bytes(data))
        except Exception as exc:
            pytest.fail(f"mutation {index} ({bytes(data[:64]).hex()}...): {exc!r}")
        slowest = max(slowest, time.perf_counter() - start)
    assert slowest < QUICK_SECONDS, f"an input took {slowest:.2f} s"


def test_every_seed_keeps_every_invariant(target: Any, seeds: list[bytes]) -> None:
    for data in seeds:
        target.test_one_input(data)
