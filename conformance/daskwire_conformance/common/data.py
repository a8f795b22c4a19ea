"""Locates the spec and vectors folders: $DASKWIRE_DATA, the packaged copy, then the checkout."""

from __future__ import annotations

import os
from pathlib import Path

from daskwire import PROFILE

__all__ = ["data_root", "spec_dir", "vectors_dir", "vectors_root"]

_PACKAGED = Path(__file__).resolve().parents[1] / "_data"
_CHECKOUT = Path(__file__).resolve().parents[3]


def data_root() -> Path:
    """The folder that holds `spec/` and `vectors/`.

    `DASKWIRE_DATA` wins when set; then the copy a wheel install carries; then the source
    checkout an editable install runs from.
    """
    override = os.environ.get("DASKWIRE_DATA")
    if override:
        return Path(override)
    if (_PACKAGED / "vectors").is_dir():
        return _PACKAGED
    return _CHECKOUT


def spec_dir() -> Path:
    """The spec folder (Markdown pages and `schemas/`)."""
    return data_root() / "spec"


def vectors_root() -> Path:
    """The golden vectors folder: one suite folder per profile (`vectors/<profile>/`)."""
    return data_root() / "vectors"


def vectors_dir(profile: str = PROFILE) -> Path:
    """The suite folder of one profile's golden vectors; placeholder-v1's unless named."""
    return vectors_root() / profile
