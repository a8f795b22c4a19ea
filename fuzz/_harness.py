"""What the fuzz targets share: atheris or a replay without it, seeds, and a byte reader."""

from __future__ import annotations

import argparse
import contextlib
import struct
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

try:
    import atheris  # type: ignore[import-untyped]
except ImportError:  # atheris has no wheel for some Pythons: replay mode still works
    atheris = None


def instrumented() -> contextlib.AbstractContextManager[Any]:
    """Python coverage for the `daskwire` modules first imported in the block (with atheris).

    Writing seeds and replaying need none, so they skip it; so does a target imported as a
    module rather than run as a script (a test that calls its checks).
    """
    caller = sys._getframe(1).f_globals.get("__name__")
    if atheris is None or caller != "__main__" or {"--write-seeds", "--replay"} & set(sys.argv):
        return contextlib.nullcontext()
    cm: contextlib.AbstractContextManager[Any] = atheris.instrument_imports(include=["daskwire"])
    return cm


def main(
    argv: list[str],
    description: str | None,
    test_one_input: Callable[[bytes], None],
    seeds: Callable[[], dict[str, bytes]],
) -> int:
    """A target's command line: fuzz (libFuzzer options pass through), replay or write seeds."""
    parser = argparse.ArgumentParser(
        description=description,
        epilog="Other arguments go to libFuzzer (atheris), e.g. -runs=100000 -max_len=4096 DIR.",
    )
    parser.add_argument("--write-seeds", metavar="DIR", type=Path, help="write the seed corpus")
    parser.add_argument(
        "--replay", action="store_true", help="run the given files once, no atheris"
    )
    args, rest = parser.parse_known_args(argv[1:])
    if args.write_seeds:
        args.write_seeds.mkdir(parents=True, exist_ok=True)
        for name, data in seeds().items():
            (args.write_seeds / name).write_bytes(data)
        return 0
    if args.replay or atheris is None:
        paths = [Path(p) for p in rest if not p.startswith("-")]
        files = [f for p in paths for f in (sorted(p.iterdir()) if p.is_dir() else [p])]
        inputs = [f.read_bytes() for f in files] or list(seeds().values())
        for data in inputs:
            test_one_input(data)
        print(f"replayed {len(inputs)} inputs" + ("" if atheris else " (atheris not installed)"))
        return 0
    atheris.Setup([argv[0], *rest], test_one_input)
    atheris.Fuzz()
    return 0


class pure_python:
    """The codec's exact, pure-Python paths alone for the block (the C extension set aside).

    `threshold` replaces the encoder's raw byte string threshold (HD-10) for the block, so
    that a direct call of the compiled packer with another one has a pure counterpart.
    """

    FUNCTIONS = ("scan", "frames_ok", "build", "decode", "pack")

    def __init__(self, threshold: int | None = None) -> None:
        self.threshold = threshold
        self.saved: dict[str, Any] = {}

    def __enter__(self) -> None:
        from daskwire.placeholder_v1 import accel, encoder  # imported by now, under instrumented()

        self.saved = {name: getattr(accel, name) for name in self.FUNCTIONS}
        for name in self.FUNCTIONS:
            setattr(accel, name, None)
        self.saved["BYTESTRING_THRESHOLD"] = vars(encoder)["BYTESTRING_THRESHOLD"]
        if self.threshold is not None:
            vars(encoder)["BYTESTRING_THRESHOLD"] = self.threshold  # read by the walk per value

    def __exit__(self, *exc: object) -> None:
        from daskwire.placeholder_v1 import accel, encoder

        vars(encoder)["BYTESTRING_THRESHOLD"] = self.saved.pop("BYTESTRING_THRESHOLD")
        for name, fn in self.saved.items():
            setattr(accel, name, fn)


class Source:
    """Reads a fuzz input as a stream of choices; past its end every read is zero."""

    __slots__ = ("data", "pos")

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def byte(self) -> int:
        if self.pos >= len(self.data):
            return 0
        self.pos += 1
        return self.data[self.pos - 1]

    def take(self, n: int) -> bytes:
        out = self.data[self.pos : self.pos + n]
        self.pos += len(out)
        return out.ljust(n, b"\0")

    def below(self, n: int) -> int:
        """A choice in range(n), from one byte (two when n > 256)."""
        value = self.byte() if n <= 256 else self.byte() << 8 | self.byte()
        return value % n

    def pick(self, options: tuple[Any, ...] | list[Any]) -> Any:
        return options[self.below(len(options))]

    def double(self) -> float:
        value: float = struct.unpack("<d", self.take(8))[0]
        return value

    def rest(self) -> bytes:
        out = self.data[self.pos :]
        self.pos = len(self.data)
        return out
