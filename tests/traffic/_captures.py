"""The committed captures of real dask-2023.11 traffic, as the traffic tests read them."""

from __future__ import annotations

from pathlib import Path

CAPTURES = Path(__file__).resolve().parents[2] / "spec" / "dask-2023.11" / "captures"


def capture(name: str) -> bytes:
    """The bytes of one capture file (`compute-task` for compute-task.bin)."""
    return (CAPTURES / f"{name}.bin").read_bytes()
