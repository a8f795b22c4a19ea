"""Mutant (dask-2023.11): the reader skips the 8-byte no-split hint without looking at it.
It finds each message's end from the prelude, as DT-4 says, but never rejects a hint that
breaks DT-3: 0, inside the prelude or a frame, past the end, or over the message limit."""

from __future__ import annotations

from contextlib import ExitStack, contextmanager
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import wire


@contextmanager
def hint_skipped() -> Any:
    with ExitStack() as stack:
        stack.enter_context(patched(wire, "_check_hint", lambda hint, limits, rule: None))
        stack.enter_context(patched(wire, "_check_hint_boundary", lambda *args: None))
        stack.enter_context(patched(wire, "_on_boundary", lambda hint, lengths: True))
        yield


class Mutant(ReferenceTestee):
    def unpack(self, data: bytes, *, limits: Any) -> Any:
        with hint_skipped():
            return super().unpack(data, limits=limits)

    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        with hint_skipped():
            return super().stream(chunks, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
