"""Mutant: a bug in the reference's own codecs, shared by the judge when the kit checks its
reference in process: "lz4" frames that are zlib data behind a marker, which the patched
decoder reads back. Only an independent lz4 decompressor sees it (CP-1)."""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from typing import Any

import daskwire.placeholder_v1.decoder
import daskwire.placeholder_v1.encoder
from _base import ReferenceTestee, run_main

MARK = b"\xff\xff\xff\xffMUT!"
#: The reference's own functions, taken when this module is first imported.
ENCODER, DECODER = vars(daskwire.placeholder_v1.encoder), vars(daskwire.placeholder_v1.decoder)
ORIGINAL = (ENCODER["compress"], DECODER["decompress"])


class Mutant(ReferenceTestee):
    def __init__(self) -> None:
        compress, decompress = ORIGINAL

        def bad_compress(codec: str, data: Any) -> Any:
            if codec == "lz4":
                return MARK + zlib.compress(bytes(data))  # the fault: not an lz4 block
            return compress(codec, data)

        def bad_decompress(codec: str, data: Any, limits: Any) -> Any:
            if codec == "lz4" and bytes(data[: len(MARK)]) == MARK:
                return zlib.decompress(bytes(data[len(MARK) :]))
            return decompress(codec, data, limits)

        ENCODER["compress"], DECODER["decompress"] = bad_compress, bad_decompress

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request.get("cmd") == "stop":  # the module is shared with the process: undo
            ENCODER["compress"], DECODER["decompress"] = ORIGINAL
        return super().handle(request)


if __name__ == "__main__":
    run_main(Mutant())
