"""Mutant (dask-2023.11): the decoder handles `__Pickled__` as it handles `__Serialized__`
(one code path for both index markers): a forwarding receiver yields it as an offloaded
value, a consuming one decompresses it and drops its transport keys (DR-2, DP-2)."""

from __future__ import annotations

import importlib
from typing import Any

from _base import ReferenceTestee, patched, run_main
from daskwire import Materialized, Offloaded

DECODER = importlib.import_module("daskwire.dask_2023_11.decoder")
VALUE = DECODER._value


def value(key: str, sub: Any, data: Any, mode: str, limits: Any) -> Any:
    return VALUE(DECODER.KEY_SERIALIZED, sub, data, mode, limits)  # the fault: key ignored


#: The fast path's value types, `__Pickled__` as `__Serialized__` (the same fault).
VALUE_TYPES = {
    (key, mode): Offloaded if mode == DECODER.FORWARDING else Materialized
    for key in DECODER.INDEX_KEYS
    for mode in (DECODER.FORWARDING, DECODER.CONSUMING)
}


class Mutant(ReferenceTestee):
    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        with patched(DECODER, "_value", value), patched(DECODER, "_VALUE_TYPES", VALUE_TYPES):
            return super().decode(frames, mode=mode, limits=limits)


if __name__ == "__main__":
    run_main(Mutant())
