"""Mutant: an encoder that sends an Offloaded whose `lengths` do not add up (CE-12)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire.placeholder_v1 import encoder
from daskwire.placeholder_v1.constants import HEADER_COUNT, HEADER_DESERIALIZE, HEADER_LENGTHS


def forwarded(self: Any, value: Any, path: Any) -> Any:
    """`_Encoding.forwarded` with the lengths sum check deleted."""
    frames = value.frames
    header = dict(value.header)
    sizes = encoder.frame_sizes(frames)
    count = header.get(HEADER_COUNT, len(frames))
    if type(count) is not int or count != len(frames):
        raise encoder._unencodable("count differs from its frames", "CE-12")
    codecs = header.get("compression")
    if codecs is not None and (
        type(codecs) not in (list, tuple)
        or len(codecs) != len(frames)
        or not encoder._STR_OR_NONE.issuperset(map(type, codecs))
    ):
        raise encoder._unencodable("bad compression", "CE-12")
    compressed = codecs is not None and codecs.count(None) != len(codecs)
    if HEADER_LENGTHS in header:
        lengths = header[HEADER_LENGTHS]
        if type(lengths) not in (list, tuple) or not encoder._all_counts(lengths):
            raise encoder._unencodable("lengths must be non-negative ints", "CE-12")
        # the fault: no check that `lengths` add up to the frames' total size
    elif compressed:
        raise encoder._unencodable("compressed frames need 'lengths'", "CE-12")
    else:
        header[HEADER_LENGTHS] = sizes
    header[HEADER_COUNT] = len(frames)
    deserialize = header.setdefault(HEADER_DESERIALIZE, False)
    if type(deserialize) is not bool:
        raise encoder._unencodable("deserialize must be a bool", "CE-12")
    return header, frames


class Mutant(ReferenceTestee):
    def encode(self, message: Any, **kwargs: Any) -> Any:
        with patched(encoder._Encoding, "forwarded", forwarded):
            return super().encode(message, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
