"""The placeholders of a decoded payload: where each stands and what it claims (PH-1, PH-5)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from daskwire.placeholder_v1.constants import KEY_FCOUNT, KEY_FINDEX, KEY_HEADER, RESERVED_KEYS

__all__ = ["PlaceholderSite", "find_placeholders"]


@dataclass(frozen=True, slots=True, kw_only=True)
class PlaceholderSite:
    """A placeholder found in a decoded payload: where it is and what it claims."""

    path: tuple[Any, ...]
    findex: int
    fcount: int
    header: Mapping[Any, Any]

    @property
    def end(self) -> int:
        """One past the last offload-area index the placeholder claims."""
        return self.findex + self.fcount

    def describe(self) -> str:
        """The path in a `$.a[0].b` form."""
        text = "$"
        for step in self.path:
            text += f"[{step}]" if type(step) is int else f".{step}"
        return text


def find_placeholders(value: Any) -> list[PlaceholderSite]:
    """Every well-formed placeholder of a decoded payload, in pre-order traversal order."""
    found: list[PlaceholderSite] = []
    _walk(value, (), found)
    return found


def _walk(value: Any, path: tuple[Any, ...], found: list[PlaceholderSite]) -> None:
    if isinstance(value, Mapping):
        if any(type(k) is str and k in RESERVED_KEYS for k in value):
            found.append(
                PlaceholderSite(
                    path=path,
                    findex=value[KEY_FINDEX],
                    fcount=value[KEY_FCOUNT],
                    header=value[KEY_HEADER],
                )
            )
            return
        for key, item in value.items():
            _walk(item, (*path, key), found)
    elif isinstance(value, tuple | list):
        for i, item in enumerate(value):
            _walk(item, (*path, i), found)
