"""Hand-written msgpack hex of dask-2023.11's recurring strings, and small frame builders.

Every constant here was written by hand from the msgpack spec (fixstr: 0xa0 + length, then
the UTF-8 bytes), never produced by the code under test.
"""

from __future__ import annotations

from typing import Any

from daskwire import DaskwireError
from daskwire.errors import error_class

# The shared helpers of tests/reference (hex by hand, settings, parse paths). tests/ is not a
# package, so they have no absolute name to import them by.
from ..strategies import fixed_settings, hexes, hx, parse_path  # noqa: TID252

__all__ = ["fixed_settings", "hexes", "hx", "parse_path"]  # and the names defined below

# -- marker keys (spec/dask-2023.11/message.md) ----------------------------------------------
K_SER = "ae 5f5f53657269616c697a65645f5f"  # "__Serialized__" (14 bytes)
K_PIC = "ab 5f5f5069636b6c65645f5f"  # "__Pickled__" (11 bytes)
K_SET = "a7 5f5f5365745f5f"  # "__Set__"
K_ENUM = "a8 5f5f456e756d5f5f"  # "__Enum__"
K_ASLIST = "a7 61732d6c697374"  # "as-list"
K_NAME = "a4 6e616d65"  # "name"
K_MODULE = "aa 5f5f6d6f64756c655f5f"  # "__module__"
K_CLASS = "a8 5f5f6e616d655f5f"  # "__name__"
K_DATA = "a4 64617461"  # "data"

# -- sub-header keys (spec/dask-2023.11/sub-header.md) ---------------------------------------
K_NSF = "ae 6e756d2d7375622d6672616d6573"  # "num-sub-frames" (14 bytes)
K_COMP = "ab 636f6d7072657373696f6e"  # "compression" (11 bytes)
K_SNSF = "b4 73706c69742d6e756d2d7375622d6672616d6573"  # "split-num-sub-frames" (20 bytes)
K_SOFF = "ad 73706c69742d6f666673657473"  # "split-offsets" (13 bytes)
K_POBJ = "ab 7069636b6c65642d6f626a"  # "pickled-obj" (11 bytes)
K_SERIALIZER = "aa 73657269616c697a6572"  # "serializer" (10 bytes)

V_LZ4 = "a3 6c7a34"  # "lz4"
V_ZLIB = "a4 7a6c6962"  # "zlib"
V_MSGPACK = "a7 6d73677061636b"  # "msgpack"
V_DASK = "a4 6461736b"  # "dask"

#: Fixed stand-in bytes for a pickle: compared as bytes, never loaded (DP-3).
DUMMY_PICKLE = b"PICKLE"
V_DUMMY_PICKLE = "c4 06 5049434b4c45"  # bin 8 of b"PICKLE"


def fixmap(*entries: str) -> str:
    """A fixmap from hex entries, each holding one key and its value."""
    assert len(entries) < 16
    return f"{0x80 + len(entries):02x} " + " ".join(entries)


def fixarray(*items: str) -> str:
    assert len(items) < 16
    return f"{0x90 + len(items):02x} " + " ".join(items)


def ser(index: int) -> str:
    """`{"__Serialized__": index}`, index a positive fixint."""
    assert 0 <= index < 128
    return f"81 {K_SER} {index:02x}"


def pic(index: int) -> str:
    """`{"__Pickled__": index}`."""
    assert 0 <= index < 128
    return f"81 {K_PIC} {index:02x}"


def nsf(count: int) -> str:
    """The entry `"num-sub-frames": count`."""
    assert 0 <= count < 128
    return f"{K_NSF} {count:02x}"


def sub(count: int, *entries: str) -> bytes:
    """A sub-header map: `entries`, then `"num-sub-frames": count` last (as dumps writes)."""
    return hx(fixmap(*entries, nsf(count)))


def pickled_sub(count: int = 0, *entries: str) -> bytes:
    """A `__Pickled__` sub-header: pickled-obj (dummy), `entries`, num-sub-frames."""
    return hx(fixmap(f"{K_POBJ} {V_DUMMY_PICKLE}", *entries, nsf(count)))


def v(value_hex: str) -> bytes:
    """Frame 0 `{"v": value}`."""
    return hx(f"81 a1 76 {value_hex}")


def category_of(error: DaskwireError) -> str:
    """The error's category, after checking that its class and str agree with it."""
    assert type(error) is error_class(error.category)
    assert str(error).startswith(error.category.value)
    return error.category.value


def ident(value: Any) -> str:
    """A short printable id for a parametrized value."""
    return repr(value)[:40]
