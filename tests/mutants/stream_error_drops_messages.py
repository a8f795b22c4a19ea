"""Mutant: a stream reader that loses the messages it read before an error (WF-6)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, run_main


class Mutant(ReferenceTestee):
    def stream(self, chunks: list[bytes], *, limits: Any) -> list[Any]:
        try:
            return super().stream(chunks, limits=limits)
        except Exception as exc:
            if hasattr(exc, "messages"):
                exc.messages = []  # the fault: the messages completed before the error are lost
            raise


if __name__ == "__main__":
    run_main(Mutant())
