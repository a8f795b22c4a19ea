"""Mutant (dask-2023.11): a consuming receiver decompresses each data frame but ignores the
split keys, yielding the shards as separate original frames (DR-4, DS-4)."""

from __future__ import annotations

import dataclasses
import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main

DECODER = importlib.import_module("daskwire.dask_2023_11.decoder")
MATERIALIZE = DECODER._materialize


def materialize(sub: Any, frames: Any, limits: Any) -> Any:
    return MATERIALIZE(dataclasses.replace(sub, runs=None), frames, limits)  # the fault


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with patched(DECODER, "_materialize", materialize):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
