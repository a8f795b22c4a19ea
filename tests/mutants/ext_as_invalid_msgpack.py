"""Mutant: reports every msgpack-level problem as invalid-msgpack, ext types too (PL-9)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import InvalidMsgpack, UnsupportedType


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        try:
            return super().decode(frames, mode=mode, limits=limits)
        except UnsupportedType as exc:
            raise InvalidMsgpack(str(exc)) from exc  # the fault: wrong category


if __name__ == "__main__":
    run_main(Mutant())
