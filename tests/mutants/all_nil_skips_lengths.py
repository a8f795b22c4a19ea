"""Mutant: a forwarding decoder that skips the lengths check when `compression` is all nil
(CP-11)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire.errors import LengthMismatch
from daskwire.placeholder_v1 import decoder
from daskwire.placeholder_v1.constants import HEADER_COMPRESSION, HEADER_LENGTHS


def check_plain_lengths(self: Any, header: dict[Any, Any], wire: Any) -> None:
    """`_Decoding._check_plain_lengths`, returning early for any `compression` list."""
    if header.get(HEADER_COMPRESSION) is not None:  # the fault: an all-nil list is no codec
        return
    total = sum(map(len, wire))
    if sum(header[HEADER_LENGTHS]) != total and self.deferred is None:
        self.deferred = LengthMismatch("lengths do not add up", requirement="CP-11")


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with pure_python(), patched(decoder._Decoding, "_check_plain_lengths", check_plain_lengths):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
