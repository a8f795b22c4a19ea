"""Mutant: when a message holds a float32, its bin values are written as str (PL-3): the
token-by-token packer is built without use_bin_type."""

from __future__ import annotations

from typing import Any

import msgpack
from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire import Float32
from daskwire.placeholder_v1 import encoder


def pack_with_float32(tree: Any) -> bytes:
    """`encoder._pack_with_float32` with `use_bin_type=False` (the fault)."""
    packer = msgpack.Packer(use_bin_type=False, autoreset=True)
    single = msgpack.Packer(use_bin_type=True, use_single_float=True, autoreset=True)
    out: list[bytes] = []
    stack: list[Any] = [tree]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is dict:
            out.append(packer.pack_map_header(len(item)))
            for key, value in reversed(list(item.items())):
                stack.append(value)
                stack.append(key)
        elif kind is list or kind is tuple:
            out.append(packer.pack_array_header(len(item)))
            stack.extend(reversed(item))
        elif kind is Float32:
            out.append(single.pack(float(item)))
        else:
            out.append(packer.pack(item))
    return b"".join(out)


class Mutant(ReferenceTestee):
    def encode(self, message: Any, **kwargs: Any) -> Any:
        with pure_python(), patched(encoder, "_pack_with_float32", pack_with_float32):
            return super().encode(message, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
