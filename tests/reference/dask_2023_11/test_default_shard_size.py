"""dask-2023.11's encoder splits original frames at 64 MiB by default (DC-2), as
distributed's `dumps` does; no vector encodes a frame that large without a `shard_size`."""

from __future__ import annotations

import pytest
from daskwire import Materialized
from daskwire.dask_2023_11 import encode

MiB = 2**20


@pytest.mark.parametrize(
    ("size", "shards"),
    [(MiB + 1, [MiB + 1]), (64 * MiB, [64 * MiB]), (64 * MiB + 1, [64 * MiB, 1])],
)
def test_the_default_shard_size_is_64_mib(size: int, shards: list[int]) -> None:
    frames = encode({"v": Materialized({}, [bytes(size)])})
    assert [memoryview(f).nbytes for f in frames[2:]] == shards
