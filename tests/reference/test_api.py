"""The public API of `daskwire`: names, error classes, Limits and the value types."""

from __future__ import annotations
import __future__

import dataclasses
import inspect
import math
import struct
import types

import daskwire
import pytest
from daskwire import (
    Category,
    DaskwireError,
    Float32,
    LimitExceeded,
    Limits,
    Materialized,
    Offloaded,
    codecs,
)
from daskwire.constants import SPEC_VERSION
from daskwire.errors import error_class

#: The names the team contract promises (a subset of __all__).
CONTRACT_NAMES = {
    "encode",
    "decode",
    "pack",
    "pack_bytes",
    "unpack",
    "FrameReader",
    "SUPPORTED_CODECS",
    "PROFILE",
    "SPEC_VERSION",
    "Limits",
    "DEFAULT_LIMITS",
    "Offloaded",
    "Materialized",
    "Float32",
    "DaskwireError",
    "Category",
    "LimitExceeded",
    "__version__",
}
CATEGORY_NAMES = [
    "truncated-input",
    "trailing-bytes",
    "too-few-frames",
    "invalid-small-header",
    "unknown-codec",
    "invalid-compressed-data",
    "invalid-msgpack",
    "unsupported-type",
    "invalid-message",
    "invalid-map-key",
    "invalid-placeholder",
    "misplaced-placeholder",
    "frame-out-of-range",
    "overlapping-frames",
    "unclaimed-frame",
    "count-mismatch",
    "invalid-header",
    "length-mismatch",
    "limit-exceeded",
    "unencodable-value",
    "invalid-read-hint",
    "invalid-marker",
    "invalid-handshake",
]


def _subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_subclasses(sub)}
    return out


def test_all_lists_exactly_the_public_names() -> None:
    public = {
        name
        for name, value in vars(daskwire).items()
        if not name.startswith("_")
        and not isinstance(value, types.ModuleType | __future__._Feature)
    }
    assert set(daskwire.__all__) == public | {"__version__"}
    assert len(daskwire.__all__) == len(set(daskwire.__all__))
    assert set(daskwire.__all__) >= CONTRACT_NAMES
    for name in daskwire.__all__:
        assert hasattr(daskwire, name)


def test_every_error_class_is_exported() -> None:
    exported = {id(getattr(daskwire, n)) for n in daskwire.__all__}
    assert {id(cls) for cls in _subclasses(DaskwireError)} <= exported


def test_versions_and_profile() -> None:
    assert daskwire.PROFILE == "placeholder-v1"
    assert list(daskwire.PROFILES) == ["placeholder-v1", "dask-2023.11"]
    entry = daskwire.get_profile("placeholder-v1")
    assert (entry.encode, entry.decode, entry.unpack) == (
        daskwire.encode,
        daskwire.decode,
        daskwire.unpack,
    )
    assert type(entry.stream_reader()) is daskwire.FrameReader
    with pytest.raises(daskwire.UnknownProfileError, match="the profiles are: placeholder-v1"):
        daskwire.get_profile("placeholder-v2")
    assert daskwire.SPEC_VERSION == SPEC_VERSION  # tests/test_spec_version.py pins the constant
    assert daskwire.__version__ == "0.1.0"
    assert daskwire.SUPPORTED_CODECS == ("lz4", "zlib")
    assert (daskwire.FORWARDING, daskwire.CONSUMING) == ("forwarding", "consuming")


def test_categories_are_the_closed_list() -> None:
    assert [c.value for c in Category] == CATEGORY_NAMES
    assert all(isinstance(c, str) for c in Category)


def test_categories_and_classes_are_one_to_one() -> None:
    classes = _subclasses(DaskwireError)
    assert all(isinstance(cls.category, Category) for cls in classes)
    assert len({cls.category for cls in classes}) == len(classes) == len(Category)
    for category in Category:
        cls = error_class(category)
        assert cls.category is category
        assert error_class(category.value) is cls
        assert issubclass(cls, DaskwireError)
        assert cls.__doc__


def test_error_class_rejects_unknown_names() -> None:
    with pytest.raises(ValueError, match="not-a-category"):
        error_class("not-a-category")


def test_errors_are_value_errors_with_category_and_requirement() -> None:
    error = daskwire.TruncatedInput("cut", requirement="WF-4")
    assert isinstance(error, ValueError)
    assert error.category == "truncated-input"
    assert error.requirement == "WF-4"
    assert str(error) == "truncated-input [WF-4]: cut"
    assert str(daskwire.TrailingBytes("x")) == "trailing-bytes: x"
    assert daskwire.TrailingBytes("x").requirement is None
    limit = LimitExceeded("deep", limit="max_depth", requirement="PL-11")
    assert (limit.limit, limit.requirement, limit.category) == (
        "max_depth",
        "PL-11",
        Category.LIMIT_EXCEEDED,
    )


# -- Limits ----------------------------------------------------------------------------------


def test_limits_fields_and_defaults() -> None:
    defaults = {f.name: f.default for f in dataclasses.fields(Limits)}
    assert defaults == {
        "max_frames": 2**20,
        "max_frame_bytes": 2**31,
        "max_message_bytes": 2**32,
        "max_depth": 256,
        "max_decompressed_bytes": 2**31,
        "max_decompression_ratio": 2048,
    }
    assert Limits() == daskwire.DEFAULT_LIMITS


def test_limits_are_frozen_slotted_and_keyword_only() -> None:
    limits = Limits(max_depth=10)
    with pytest.raises(dataclasses.FrozenInstanceError):
        limits.max_depth = 11  # type: ignore[misc]
    assert not hasattr(limits, "__dict__")
    with pytest.raises(TypeError):
        Limits(10)  # type: ignore[call-arg]
    assert dataclasses.replace(limits, max_frames=3).max_frames == 3
    assert hash(limits) == hash(Limits(max_depth=10))


@pytest.mark.parametrize("field", [f.name for f in dataclasses.fields(Limits)])
@pytest.mark.parametrize("value", [-1, 1.0, True, "1", None])
def test_limits_validate_every_field(field: str, value: object) -> None:
    with pytest.raises((TypeError, ValueError)):
        Limits(**{field: value})  # type: ignore[arg-type]


def test_limits_accept_zero_and_the_msgpack_depth_bound() -> None:
    assert Limits(max_frames=0, max_depth=0).max_frames == 0
    Limits(max_depth=1024)
    with pytest.raises(ValueError, match="max_depth"):
        Limits(max_depth=1025)


# -- the value types -------------------------------------------------------------------------


@pytest.mark.parametrize("cls", [Offloaded, Materialized])
def test_offloaded_values_are_frozen_and_checked(cls: type) -> None:
    value = cls({"serializer": "s"}, [b"a", bytearray(b"b"), memoryview(b"c")])
    assert isinstance(value.frames, tuple)
    assert value.header == {"serializer": "s"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        value.header = {}
    assert not hasattr(value, "__dict__")
    assert value == cls({"serializer": "s"}, (b"a", b"b", b"c"))
    assert value != cls({"serializer": "s"}, [b"a"])
    assert cls.__name__ in repr(value)
    with pytest.raises(TypeError, match="mapping"):
        cls([("serializer", "s")], [])
    with pytest.raises(TypeError, match="str"):
        cls({}, ["not bytes"])
    frames = iter([b"x"])
    assert cls({}, list(frames)).frames == (b"x",)


def test_offloaded_and_materialized_differ() -> None:
    assert Offloaded({}, []) != Materialized({}, [])


def test_float32_rounds_on_construction() -> None:
    value = Float32(0.1)
    assert isinstance(value, float)
    assert value == struct.unpack("<f", struct.pack("<f", 0.1))[0]
    assert value != 0.1
    assert Float32(value) == value
    assert Float32("1.5") == 1.5
    assert Float32() == 0.0
    assert math.isnan(Float32(float("nan")))
    assert Float32(float("-inf")) == float("-inf")
    assert math.copysign(1, Float32(-0.0)) == -1
    assert repr(Float32(1.5)) == "Float32(1.5)"
    assert Float32.__slots__ == ()
    with pytest.raises(OverflowError):
        Float32(1e39)


def test_float32_arithmetic_gives_plain_floats() -> None:
    assert type(Float32(1.5) + 1) is float


# -- API misuse raises TypeError or ValueError, never a DaskwireError ------------------------


@pytest.mark.parametrize(
    "call",
    [
        lambda: daskwire.encode({}, shard_size=0),
        lambda: daskwire.encode({}, shard_size=-1),
        lambda: daskwire.encode({}, shard_size=1.5),
        lambda: daskwire.encode({}, shard_size=True),
        lambda: daskwire.decode([b"", b"\x80"], mode="consume"),
    ],
    ids=["shard-0", "shard-negative", "shard-float", "shard-bool", "mode"],
)
def test_bad_options_are_value_errors(call: object) -> None:
    with pytest.raises(ValueError, match="must be") as info:
        call()  # type: ignore[operator]
    assert not isinstance(info.value, DaskwireError)


@pytest.mark.parametrize("codec", ["snappy", "LZ4", "blosc", ""])
def test_a_codec_the_encoder_lacks_is_unknown_codec(codec: str) -> None:
    # CE-14: refused like a codec a decoder lacks, with no frames
    with pytest.raises(daskwire.UnknownCodec) as info:
        daskwire.encode({"a": 1}, compression=codec)
    assert info.value.requirement == "CE-14"


def test_non_bytes_frames_are_type_errors() -> None:
    with pytest.raises(TypeError):
        daskwire.decode(["", "80"])  # type: ignore[list-item]
    with pytest.raises(TypeError):
        daskwire.decode([b"", memoryview(b"\x91\x00\x80")[::2]])


def test_keyword_only_options() -> None:
    for func, names in [
        (daskwire.encode, ("compression", "shard_size", "limits")),
        (daskwire.decode, ("mode", "limits")),
        (daskwire.unpack, ("limits",)),
    ]:
        params = inspect.signature(func).parameters
        for name in names:
            assert params[name].kind is inspect.Parameter.KEYWORD_ONLY
    assert inspect.signature(daskwire.decode).parameters["mode"].default == "forwarding"


def test_codec_functions_refuse_unknown_codecs() -> None:
    """The codec layer names the category itself; encode() checks its option first."""
    with pytest.raises(daskwire.UnknownCodec):
        codecs.compress("snappy", b"x")
    with pytest.raises(daskwire.UnknownCodec):
        codecs.decompress("snappy", b"x", daskwire.DEFAULT_LIMITS)
    for codec in daskwire.SUPPORTED_CODECS:
        packed = codecs.compress(codec, b"abc" * 100)
        assert codecs.decompress(codec, packed, daskwire.DEFAULT_LIMITS) == b"abc" * 100
