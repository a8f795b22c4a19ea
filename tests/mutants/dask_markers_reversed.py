"""Mutant (dask-2023.11): the encoder lays out the frames of its index markers after the walk,
popping them off a stack, so the last marker met gets frame 1 and the first the last frames
(DM-11). Its own decoder reads the result back fine (DM-9): only the order is wrong."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main

ENCODER = importlib.import_module("daskwire.dask_2023_11.encoder")


class Reversed(ENCODER._Encoding):
    """The encoder's state, with index markers numbered after the walk."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.pending: list[tuple[dict[str, int], bytes, Any]] = []

    def index_marker(self, pickled: bool, header: Any, frames: Any, path: Any) -> dict[str, int]:
        key = ENCODER.KEY_PICKLED if pickled else ENCODER.KEY_SERIALIZED
        marker = {key: 0}
        self.pending.append((marker, self.sub_header(header, key, path), list(frames)))
        return marker

    def walk(self, root: Any) -> Any:
        tree = super().walk(root)
        while self.pending:  # the fault: last in, first numbered
            marker, sub_header, frames = self.pending.pop()
            (key,) = marker
            marker[key] = len(self.frames)
            self.frames.append(sub_header)
            self.frames.extend(frames)
        return tree


class Mutant(ReferenceTestee):
    def encode(
        self, message: Any, *, compression: str | None, shard_size: int | None, **kwargs: Any
    ) -> Any:
        with (
            patched(ENCODER, "_Encoding", Reversed),
            patched(ENCODER, "_encode_fast", lambda message, state: None),
        ):
            return super().encode(message, compression=compression, shard_size=shard_size, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
