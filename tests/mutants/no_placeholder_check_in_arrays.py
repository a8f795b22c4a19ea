"""Mutant: looks for placeholders in map values only, never among array elements (PH-7)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, raw_payload, run_main, walk_placeholders


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        message = super().decode(frames, mode=mode, limits=limits)

        def keep_raw(value: Any, placeholder: Any, in_array: bool) -> Any:
            return placeholder if in_array else value  # the fault: an array element stays a map

        return walk_placeholders(message, raw_payload(frames), keep_raw)


if __name__ == "__main__":
    run_main(Mutant())
