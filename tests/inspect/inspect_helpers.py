"""Running `daskwire inspect` in process, and the inputs the tests build from real captures."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from daskwire.dask_2023_11 import pack_bytes
from daskwire_conformance.cli import main

CAPTURES = Path(__file__).resolve().parents[2] / "spec" / "dask-2023.11" / "captures"


def capture(name: str) -> bytes:
    """The bytes of one committed capture (`compute-task` for compute-task.bin)."""
    return (CAPTURES / f"{name}.bin").read_bytes()


def inspect(capsys: Any, *args: str | Path) -> tuple[int, str, str]:
    """Run `daskwire inspect ARGS`; the exit code, standard output and standard error."""
    code = main(["inspect", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def bad_msgpack() -> bytes:
    """A dask-2023.11 message whose frame 0, {"op": <c1>}, is not msgpack (0xc1 never is)."""
    return pack_bytes([b"\x81\xa2op\xc1"])
