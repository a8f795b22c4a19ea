"""Counted nouns for generated text, site pages and hex dumps: "1 vector", "2 vectors"."""

from __future__ import annotations

__all__ = ["counted"]


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` followed by `noun`, or by its plural (`noun` + "s" unless given) when not 1."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
