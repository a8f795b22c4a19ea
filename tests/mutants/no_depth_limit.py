"""Mutant: a decoder with no limit on nesting depth (PL-11, LM-4)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main
from daskwire import LimitExceeded


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        try:
            return super().decode(frames, mode=mode, limits=limits)
        except LimitExceeded as exc:
            if exc.limit != "max_depth":
                raise
            return {}  # the missing check: the deep payload is accepted


if __name__ == "__main__":
    run_main(Mutant())
