"""What a profile's vector builder hands back: its vectors, and where the reference disagreed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BuiltSuite", "Disagreement", "GenerationError"]


class GenerationError(RuntimeError):
    """A case cannot be turned into a vector (the reference fails where the case needs data)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Disagreement:
    """The reference's outcome differs from what a case or derivation rule expects."""

    id: str
    expected: str
    actual: str

    def __str__(self) -> str:
        return f"{self.id}: expected {self.expected}; the reference {self.actual}"


@dataclass(frozen=True, slots=True, kw_only=True)
class BuiltSuite:
    """One profile's built vectors, by id, and the reference's disagreements with the cases."""

    vectors: dict[str, dict[str, Any]]
    disagreements: tuple[Disagreement, ...]
