"""dask-2023.11: frame 0 names, by its markers, the sub-headers the decoder needs whole."""

from __future__ import annotations

import msgpack
from daskwire.dask_2023_11.constants import INDEX_KEYS


def kept_frames(frame0: bytes) -> frozenset[int] | None:
    """The frame indices the `__Serialized__`/`__Pickled__` markers of frame 0 name (their
    sub-headers), or None when frame 0 does not parse (then every frame is kept)."""
    found: set[int] = set()

    def hook(pairs: list[tuple[object, object]]) -> object:
        if len(pairs) == 1 and pairs[0][0] in INDEX_KEYS and isinstance(pairs[0][1], int):
            found.add(pairs[0][1])
        return None

    try:
        msgpack.unpackb(frame0, object_pairs_hook=hook, strict_map_key=False, raw=False)
    except Exception:  # any parse failure: keep everything and let the decoder say why
        return None
    return frozenset(found)
