"""Mutant: a decoder that returns bin values holding UTF-8 text as str (PL-3)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, rewrite, run_main


def _as_text(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        try:
            return bytes(value).decode("utf-8")  # the fault: bin and str are distinct types
        except UnicodeDecodeError:
            return value
    return value


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        return rewrite(super().decode(frames, mode=mode, limits=limits), _as_text)


if __name__ == "__main__":
    run_main(Mutant())
