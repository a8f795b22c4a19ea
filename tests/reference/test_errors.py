"""Every error category the reference raises, from hand-written frames, and the ER-3 layer order."""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import Any

import daskwire
import pytest
from daskwire import (
    CONSUMING,
    FORWARDING,
    Category,
    DaskwireError,
    Float32,
    Materialized,
    Offloaded,
    UnencodableValue,
)
from daskwire.errors import error_class
from daskwire.notation import difference

from .strategies import (
    K_COMPRESSION,
    K_COUNT,
    K_DESERIALIZE,
    K_FCOUNT,
    K_FINDEX,
    K_HEADER,
    K_LENGTHS,
    bare_header,
    hx,
    parse_path,
    placeholder,
)

BOTH = (FORWARDING, CONSUMING)
SMALL_LZ4 = "81 ab 636f6d7072657373696f6e a3 6c7a34"  # {"compression": "lz4"}
SMALL_ZLIB = "81 ab 636f6d7072657373696f6e a4 7a6c6962"  # {"compression": "zlib"}
H1 = bare_header("91 01", "91 c0", 1)  # one uncompressed frame of 1 byte
H0 = bare_header("90", "90", 0)  # zero frames
H1_LZ4 = bare_header("91 01", "91 a3 6c7a34", 1)  # one lz4 frame, 1 byte once decompressed
H1_RAW_LZ4 = bare_header("91 01", "91 a3 6c7a34", 1, raw=True)


def header(*entries: str) -> str:
    """A header map from hex entries (key and value each)."""
    return f"{0x80 + len(entries):02x} " + " ".join(entries)


COUNT1 = f"{K_COUNT} 01"
DESER = f"{K_DESERIALIZE} c2"
LENGTHS1 = f"{K_LENGTHS} 91 01"


def payload_v(value_hex: str) -> bytes:
    """{"v": value}."""
    return hx(f"81 a1 76 {value_hex}")


@dataclass(frozen=True, slots=True)
class Bad:
    """Frames that a decoder rejects with `category` in `modes`, and accepts in the others."""

    id: str
    frames: list[bytes]
    category: str
    modes: tuple[str, ...] = BOTH
    requirement: str | None = None
    #: The fast parse path does not count depth; limit cases skip it.
    fast_path: bool = True


def p1(frames_after: int = 1, value: str | None = None) -> list[bytes]:
    """Frames 0 and 1 with payload {"v": value}, then `frames_after` one-byte frames."""
    return [b"", payload_v(value or placeholder(H1, 0, 1)), *([b"A"] * frames_after)]


BAD_DECODES = [
    # -- layer 1: the frame list --
    Bad("no-frames", [], "too-few-frames", requirement="WF-2"),
    Bad("one-frame", [b""], "too-few-frames"),
    Bad("one-map-frame", [b"\x80"], "too-few-frames"),
    # -- layer 2: frame 0 (SH-1, SH-2) --
    *[
        Bad(f"small-header-{name}", [hx(frame0), b"\x80"], "invalid-small-header")
        for name, frame0 in [
            ("never-used-byte", "c1"),
            ("array", "90"),
            ("int", "01"),
            ("str", "a0"),
            ("nil", "c0"),
            ("int-key", "81 01 01"),
            ("bin-key", "81 c4 01 61 01"),
            ("nil-key", "81 c0 01"),
            ("array-key", "81 91 a1 61 01"),
            ("trailing-bytes", "80 00"),
            ("truncated", "81 ab 636f6d7072657373696f6e"),
            ("compression-int", "81 ab 636f6d7072657373696f6e 01"),
            ("compression-bool", "81 ab 636f6d7072657373696f6e c3"),
            ("compression-array", "81 ab 636f6d7072657373696f6e 91 a3 6c7a34"),
            ("compression-bin", "81 ab 636f6d7072657373696f6e c4 03 6c7a34"),
            ("compression-float32", "81 ab 636f6d7072657373696f6e ca 00000000"),
            ("duplicate-keys", "82 ab 636f6d7072657373696f6e c0 ab 636f6d7072657373696f6e c0"),
            ("ext-value", "81 a1 61 d4 01 00"),
            ("invalid-utf8-key", "81 a1 ff 01"),
            ("map-key", "81 80 01"),
        ]
    ],
    # -- layer 3: frame 1 decompression (CP-2, CP-4) --
    *[
        Bad(
            f"payload-codec-{name}",
            [hx(f"81 ab 636f6d7072657373696f6e {codec}"), b"\x80"],
            "unknown-codec",
            requirement="CP-2",
        )
        for name, codec in [
            ("snappy", "a6 736e61707079"),
            ("zstd", "a4 7a737464"),
            ("blosc", "a5 626c6f7363"),
            ("empty-name", "a0"),
            ("upper-case", "a3 4c5a34"),
        ]
    ],
    *[
        Bad(f"payload-lz4-{name}", [hx(SMALL_LZ4), hx(frame1)], "invalid-compressed-data")
        for name, frame1 in [
            ("empty", ""),
            ("prefix-only", "01000000"),
            ("short-prefix", "0100"),
            ("bad-token", "01000000 ff"),
            ("declares-more", "02000000 10 80"),  # the block holds 1 byte
            ("declares-less", "00000000 10 80"),
            ("literal-overrun", "01000000 f0"),
        ]
    ],
    *[
        Bad(f"payload-zlib-{name}", [hx(SMALL_ZLIB), frame1], "invalid-compressed-data")
        for name, frame1 in [
            ("garbage", b"\x00\x01\x02"),
            ("empty", b""),
            ("truncated", zlib.compress(b"\x80")[:-1]),
            ("trailing", zlib.compress(b"\x80") + b"\x00"),
            ("raw-deflate", zlib.compress(b"\x80")[2:-4]),
        ]
    ],
    # -- layer 4: frame 1 as msgpack (PL-1 .. PL-3) --
    *[
        Bad(f"msgpack-{name}", [b"", hx(frame1)], "invalid-msgpack", requirement="PL-1")
        for name, frame1 in [
            ("empty", ""),
            ("never-used-byte", "c1"),
            ("never-used-byte-inside", "81 a1 61 c1"),
            ("truncated-array", "92 01"),
            ("truncated-map", "82 a1 61 01"),
            ("truncated-str", "81 a1 61 a5 6162"),
            ("truncated-float32", "81 a1 61 ca 0000"),
            ("truncated-float32-value", "91 ca 00"),
            ("trailing-byte", "80 00"),
            ("two-values", "80 80"),
            ("huge-array-header", "dd ffffffff"),
            ("huge-map-header", "df ffffffff"),
            ("huge-bin-header", "81 a1 61 c6 ffffffff 00"),
            ("huge-str-header", "81 a1 61 db ffffffff 00"),
        ]
    ],
    *[
        Bad(f"utf8-{name}", [b"", hx(frame1)], "invalid-msgpack")
        for name, frame1 in [
            ("key", "81 a1 ff 01"),
            ("value", "81 a1 61 a1 ff"),
            ("surrogate", "81 a1 61 a3 eda080"),
            ("overlong", "81 a1 61 a2 c0af"),
            ("beside-float32", "82 a1 61 a1 ff a1 62 ca 00000000"),
        ]
    ],
    Bad("msgpack-in-lz4-payload", [hx(SMALL_LZ4), hx("01000000 10 c1")], "invalid-msgpack"),
    # -- layer 4: types of the profile (PL-2, PL-6, PL-7, PL-9) --
    *[
        # msgpack's C parser reads ext type -1 as a Timestamp without asking ext_hook: the fast
        # path never sees ext markers (they send a frame to the exact path), so skip it there.
        Bad(
            f"ext-{name}",
            [b"", hx(frame1)],
            "unsupported-type",
            requirement="PL-9",
            fast_path="timestamp" not in name,
        )
        for name, frame1 in [
            ("fixext1", "81 a1 61 d4 01 00"),
            ("fixext2", "81 a1 61 d5 01 0000"),
            ("fixext16", "81 a1 61 d8 01" + "00" * 16),
            ("timestamp32", "81 a1 61 d6 ff 00000000"),
            ("timestamp64", "81 a1 61 d7 ff 0000000000000000"),
            ("timestamp96", "81 a1 61 c7 0c ff 000000000000000000000000"),
            ("ext8", "81 a1 61 c7 01 05 00"),
            ("ext16", "81 a1 61 c8 0001 05 00"),
            ("ext32-top-level", "c9 00000001 05 00"),
            ("ext-key", "81 d4 01 00 01"),
            ("ext-in-header", placeholder(header(COUNT1, DESER, LENGTHS1, "a1 78 d4 01 00"), 0, 1)),
        ]
    ],
    *[
        Bad(f"message-{name}", [b"", hx(frame1)], "invalid-message", requirement="PL-2")
        for name, frame1 in [
            ("int", "01"),
            ("str", "a1 61"),
            ("nil", "c0"),
            ("bool", "c3"),
            ("bin", "c4 00"),
            ("float64", "cb 3ff0000000000000"),
            ("float32", "ca 3f800000"),
        ]
    ],
    *[
        Bad(f"map-key-{name}", [b"", hx(frame1)], "invalid-map-key")
        for name, frame1 in [
            ("float64", "81 cb 3ff0000000000000 01"),
            ("float32", "81 ca 3f800000 01"),
            ("true", "81 c3 01"),
            ("false", "81 c2 01"),
            ("map", "81 80 01"),
            ("map-in-array", "81 91 80 01"),
            ("bool-in-array", "81 92 01 c3 01"),
            ("float32-in-array", "81 91 ca 3f800000 01"),
            ("duplicate-str", "82 a1 61 01 a1 61 02"),
            ("duplicate-str-widths", "82 a1 61 01 d9 01 61 02"),
            ("duplicate-int-widths", "82 01 01 cc 01 02"),
            ("duplicate-array", "82 91 01 01 91 01 02"),
            ("true-and-one", "82 01 01 c3 02"),
            ("in-a-header", placeholder(header(COUNT1, DESER, LENGTHS1, "c3 01"), 0, 1)),
            ("nested-deep", "81 a1 61 91 91 81 cb 0000000000000000 01"),
        ]
    ],
    # -- layer 4: placeholders (PH-2, PH-3, PH-6 .. PH-8, PH-10) --
    *[
        Bad(f"placeholder-{name}", p1(value=value), "invalid-placeholder")
        for name, value in [
            ("missing-fcount", f"82 {K_HEADER} {H1} {K_FINDEX} 00"),
            ("missing-header", f"82 {K_FINDEX} 00 {K_FCOUNT} 01"),
            ("findex-only", f"81 {K_FINDEX} 00"),
            ("fcount-only", f"81 {K_FCOUNT} 01"),
            ("header-only", f"81 {K_HEADER} {H1}"),
            ("extra-key", f"84 {K_HEADER} {H1} {K_FINDEX} 00 {K_FCOUNT} 01 a1 78 01"),
            ("header-array", f"83 {K_HEADER} 90 {K_FINDEX} 00 {K_FCOUNT} 01"),
            ("header-nil", f"83 {K_HEADER} c0 {K_FINDEX} 00 {K_FCOUNT} 01"),
            ("header-bin", f"83 {K_HEADER} c4 00 {K_FINDEX} 00 {K_FCOUNT} 01"),
            ("findex-negative", f"83 {K_HEADER} {H1} {K_FINDEX} ff {K_FCOUNT} 01"),
            ("findex-true", f"83 {K_HEADER} {H1} {K_FINDEX} c3 {K_FCOUNT} 01"),
            ("findex-float", f"83 {K_HEADER} {H1} {K_FINDEX} cb 0000000000000000 {K_FCOUNT} 01"),
            ("findex-str", f"83 {K_HEADER} {H1} {K_FINDEX} a1 30 {K_FCOUNT} 01"),
            ("findex-nil", f"83 {K_HEADER} {H1} {K_FINDEX} c0 {K_FCOUNT} 01"),
            ("fcount-negative", f"83 {K_HEADER} {H1} {K_FINDEX} 00 {K_FCOUNT} ff"),
            ("fcount-false", f"83 {K_HEADER} {H1} {K_FINDEX} 00 {K_FCOUNT} c2"),
            ("fcount-float32", f"83 {K_HEADER} {H1} {K_FINDEX} 00 {K_FCOUNT} ca 3f800000"),
        ]
    ],
    Bad("placeholder-in-an-array", [b"", hx(f"91 81 {K_FINDEX} 00")], "invalid-placeholder"),
    *[
        Bad(
            f"misplaced-{name}",
            [b"", hx(frame1), *extra],
            "misplaced-placeholder",
            requirement="PH-7",
        )
        for name, frame1, extra in [
            ("top-level", placeholder(H0, 0, 0), []),
            ("top-level-with-frame", placeholder(H1, 0, 1), [b"A"]),
            ("map-key", f"81 {placeholder(H1, 0, 1)} 01", [b"A"]),
            ("zero-frame-map-key", f"81 {placeholder(H0, 0, 0)} 01", []),
            ("in-an-array-key", f"81 91 {placeholder(H1, 0, 1)} 01", [b"A"]),
            (
                "raw-map-key",
                f"81 {placeholder(bare_header('91 01', '91 c0', 1, raw=True), 0, 1)} 01",
                [b"A"],
            ),
            (
                "raw-in-an-array-key",
                f"81 92 01 {placeholder(bare_header('91 01', '91 c0', 1, raw=True), 0, 1)} 01",
                [b"A"],
            ),
            (
                "as-the-header",
                f"81 a1 76 83 {K_HEADER} {placeholder(H0, 0, 0)} {K_FINDEX} 00 {K_FCOUNT} 00",
                [],
            ),
            (
                "inside-a-header",
                "81 a1 76 "
                + placeholder(
                    header(
                        f"{K_COUNT} 00", DESER, f"{K_LENGTHS} 90", f"a1 78 {placeholder(H1, 0, 1)}"
                    ),
                    0,
                    0,
                ),
                [b"A"],
            ),
            (
                "in-an-array-in-a-header",
                "81 a1 76 "
                + placeholder(
                    header(
                        f"{K_COUNT} 00",
                        DESER,
                        f"{K_LENGTHS} 90",
                        f"a1 78 91 {placeholder(H0, 0, 0)}",
                    ),
                    0,
                    0,
                ),
                [],
            ),
            (
                "raw-inside-a-header",
                "81 a1 76 "
                + placeholder(
                    header(
                        f"{K_COUNT} 00",
                        DESER,
                        f"{K_LENGTHS} 90",
                        f"a1 78 {placeholder(bare_header('91 01', '91 c0', 1, raw=True), 0, 1)}",
                    ),
                    0,
                    0,
                ),
                [b"A"],
            ),
        ]
    ],
    *[
        Bad(
            f"range-{name}",
            [b"", payload_v(value), *frames],
            "frame-out-of-range",
            requirement="PH-6",
        )
        for name, value, frames in [
            ("past-the-end", placeholder(H1, 1, 1), [b"A"]),
            ("no-offload-area", placeholder(H1, 0, 1), []),
            ("zero-frames-past-the-end", placeholder(H0, 2, 0), [b"A"]),
            ("zero-frames-no-area", placeholder(H0, 1, 0), []),
            ("count-too-big", placeholder(bare_header("92 01 01", "92 c0 c0", 2), 0, 2), [b"A"]),
            (
                "huge-findex",
                f"83 {K_HEADER} {H1} {K_FINDEX} cf ffffffffffffffff {K_FCOUNT} 01",
                [b"A"],
            ),
            (
                "huge-fcount",
                (
                    f"83 {K_HEADER} "
                    f"{header(f'{K_COUNT} cf ffffffffffffffff', DESER, f'{K_LENGTHS} 90')}"
                    f" {K_FINDEX} 00 {K_FCOUNT} cf ffffffffffffffff"
                ),
                [b"A"],
            ),
        ]
    ],
    *[
        Bad(f"overlap-{name}", [b"", hx(frame1), *frames], "overlapping-frames", requirement="PH-8")
        for name, frame1, frames in [
            ("same-frame", f"92 {placeholder(H1, 0, 1)} {placeholder(H1, 0, 1)}", [b"A"]),
            (
                "partial",
                (
                    f"92 {placeholder(bare_header('92 01 01', '92 c0 c0', 2), 0, 2)} "
                    f"{placeholder(H1, 1, 1)}"
                ),
                [b"A", b"B"],
            ),
            ("nested-and-outer", f"92 {placeholder(H1, 0, 1)} 91 {placeholder(H1, 0, 1)}", [b"A"]),
        ]
    ],
    *[
        Bad(
            f"count-{name}", [b"", payload_v(value), *frames], "count-mismatch", requirement="PH-10"
        )
        for name, value, frames in [
            (
                "fcount-smaller",
                placeholder(bare_header("92 01 01", "92 c0 c0", 2), 0, 1),
                [b"A", b"B"],
            ),
            ("fcount-larger", placeholder(H1, 0, 2), [b"A", b"B"]),
            ("header-zero", placeholder(H0, 0, 1), [b"A"]),
        ]
    ],
    *[
        Bad(f"header-{name}", p1(value=placeholder(hdr, 0, 1)), "invalid-header")
        for name, hdr in [
            ("count-missing", header(DESER, LENGTHS1)),
            ("count-str", header(f"{K_COUNT} a1 31", DESER, LENGTHS1)),
            ("count-negative", header(f"{K_COUNT} ff", DESER, LENGTHS1)),
            ("count-true", header(f"{K_COUNT} c3", DESER, LENGTHS1)),
            ("count-float", header(f"{K_COUNT} cb 3ff0000000000000", DESER, LENGTHS1)),
            ("count-nil", header(f"{K_COUNT} c0", DESER, LENGTHS1)),
            ("deserialize-missing", header(COUNT1, LENGTHS1)),
            ("deserialize-int", header(COUNT1, f"{K_DESERIALIZE} 00", LENGTHS1)),
            ("deserialize-nil", header(COUNT1, f"{K_DESERIALIZE} c0", LENGTHS1)),
            ("deserialize-str", header(COUNT1, f"{K_DESERIALIZE} a4 74727565", LENGTHS1)),
            ("lengths-missing", header(COUNT1, DESER)),
            ("lengths-int", header(COUNT1, DESER, f"{K_LENGTHS} 01")),
            ("lengths-nil", header(COUNT1, DESER, f"{K_LENGTHS} c0")),
            ("lengths-map", header(COUNT1, DESER, f"{K_LENGTHS} 80")),
            ("lengths-negative", header(COUNT1, DESER, f"{K_LENGTHS} 91 ff")),
            ("lengths-float", header(COUNT1, DESER, f"{K_LENGTHS} 91 cb 3ff0000000000000")),
            ("lengths-bool", header(COUNT1, DESER, f"{K_LENGTHS} 91 c3")),
            ("lengths-str", header(COUNT1, DESER, f"{K_LENGTHS} 91 a1 31")),
            ("compression-str", header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} a3 6c7a34")),
            ("compression-nil", header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} c0")),
            ("compression-short", header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} 90")),
            ("compression-long", header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} 92 c0 c0")),
            ("compression-int-entry", header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} 91 01")),
            ("compression-bool-entry", header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} 91 c2")),
            (
                "compression-array-entry",
                header(COUNT1, DESER, LENGTHS1, f"{K_COMPRESSION} 91 91 a3 6c7a34"),
            ),
        ]
    ],
    Bad(
        "header-not-checked-by-order",
        p1(value=placeholder(header(COUNT1, LENGTHS1), 0, 1)),
        "invalid-header",
        requirement="HD-3",
    ),
    # -- layer 5: coverage of the offload area (PH-9) --
    *[
        Bad(f"unclaimed-{name}", [b"", hx(frame1), *frames], "unclaimed-frame", requirement="PH-9")
        for name, frame1, frames in [
            ("no-placeholders", "80", [b"A"]),
            ("empty-frame", "90", [b""]),
            ("after-a-value", f"81 a1 76 {placeholder(H1, 0, 1)}", [b"A", b"B"]),
            ("before-a-value", f"81 a1 76 {placeholder(H1, 1, 1)}", [b"A", b"B"]),
            ("beside-a-zero-frame-value", f"81 a1 76 {placeholder(H0, 0, 0)}", [b"A"]),
        ]
    ],
    # -- layer 6: offloaded values, decompressed and merged by consuming receivers only; --
    # -- `lengths` of uncompressed values are checked by every receiver (CP-11) ----------
    Bad(
        "offloaded-unknown-codec",
        p1(value=placeholder(bare_header("91 01", "91 a6 736e61707079", 1), 0, 1)),
        "unknown-codec",
        modes=(CONSUMING,),
    ),
    Bad(
        "offloaded-bad-lz4",
        p1(value=placeholder(H1_LZ4, 0, 1)),
        "invalid-compressed-data",
        modes=(CONSUMING,),
    ),
    Bad(
        "offloaded-bad-zlib",
        p1(value=placeholder(bare_header("91 01", "91 a4 7a6c6962", 1), 0, 1)),
        "invalid-compressed-data",
        modes=(CONSUMING,),
    ),
    Bad(
        "offloaded-lengths-too-long",
        p1(value=placeholder(bare_header("91 05", "91 c0", 1), 0, 1)),
        "length-mismatch",
    ),
    Bad(
        "offloaded-lengths-too-short",
        [b"", payload_v(placeholder(bare_header("91 01", "91 c0", 1), 0, 1)), b"AB"],
        "length-mismatch",
    ),
    Bad(
        "offloaded-lengths-split-wrong",
        [b"", payload_v(placeholder(bare_header("92 01 01", "91 c0", 1), 0, 1)), b"ABC"],
        "length-mismatch",
    ),
    Bad(
        "offloaded-no-frames-nonzero-lengths",
        [b"", payload_v(placeholder(bare_header("91 01", "90", 0), 0, 0))],
        "length-mismatch",
    ),
    Bad(
        "raw-unknown-codec",
        p1(value=placeholder(bare_header("91 01", "91 a4 7a737464", 1, raw=True), 0, 1)),
        "unknown-codec",
    ),
    Bad("raw-bad-lz4", p1(value=placeholder(H1_RAW_LZ4, 0, 1)), "invalid-compressed-data"),
    Bad(
        "raw-lengths",
        p1(value=placeholder(bare_header("91 07", "91 c0", 1, raw=True), 0, 1)),
        "length-mismatch",
    ),
]

# -- ER-3: with violations in several layers, the earliest layer is reported -----------------

LAYER_ORDER = [
    Bad("wire-before-small-header", [b"\xc1"], "too-few-frames"),
    Bad(
        "small-header-before-decompression",
        [hx("81 ab 636f6d7072657373696f6e 01"), b"\xff\xff"],
        "invalid-small-header",
    ),
    Bad("small-header-before-payload", [hx("c1"), hx("c1"), b"A"], "invalid-small-header"),
    Bad(
        "codec-before-payload",
        [hx("81 ab 636f6d7072657373696f6e a4 7a737464"), hx("c1")],
        "unknown-codec",
    ),
    Bad(
        "decompression-before-payload",
        [hx(SMALL_LZ4), hx("05000000 ff")],
        "invalid-compressed-data",
    ),
    Bad("payload-before-coverage", [b"", hx("c1"), b"A"], "invalid-msgpack"),
    Bad("message-before-coverage", [b"", hx("01"), b"A"], "invalid-message"),
    Bad(
        "placeholder-before-coverage",
        [b"", payload_v(f"81 {K_FINDEX} 00"), b"A"],
        "invalid-placeholder",
    ),
    Bad(
        "header-before-coverage",
        [b"", payload_v(placeholder(header(COUNT1, LENGTHS1), 0, 1)), b"A", b"B"],
        "invalid-header",
    ),
    Bad(
        "coverage-before-decompression",
        [b"", payload_v(placeholder(H1_LZ4, 0, 1)), b"\x00", b"B"],
        "unclaimed-frame",
    ),
    Bad(
        "coverage-before-raw-decompression",
        [b"", payload_v(placeholder(H1_RAW_LZ4, 0, 1)), b"\x00", b"B"],
        "unclaimed-frame",
    ),
    Bad(
        "range-after-a-bad-compressed-value",
        [b"", hx(f"92 {placeholder(H1_LZ4, 0, 1)} {placeholder(H1, 1, 1)}"), b"\x00"],
        "frame-out-of-range",
    ),
    Bad(
        "misplaced-before-decompression",
        [b"", hx(f"81 {placeholder(H1_RAW_LZ4, 0, 1)} 01"), b"\x00"],
        "misplaced-placeholder",
    ),
    Bad(
        "misplaced-deferred-value-as-key",
        [b"", hx(f"81 91 {placeholder(H1_LZ4, 0, 1)} 01"), b"\x00"],
        "misplaced-placeholder",
    ),
    Bad(
        "first-layer-six-error-wins",
        [
            b"",
            hx(
                f"92 {placeholder(H1_LZ4, 0, 1)} "
                f"{placeholder(bare_header('91 01', '91 a6 736e61707079', 1), 1, 1)}"
            ),
            b"\x00",
            b"\x00",
        ],
        "invalid-compressed-data",
        modes=(CONSUMING,),
    ),
]

PATHS = ["natural", "exact", "fast"]


def _decode(case: Bad, mode: str, path: str) -> Any:
    if path == "natural":
        return daskwire.decode(case.frames, mode=mode)  # type: ignore[arg-type]
    with parse_path(path):  # type: ignore[arg-type]
        return daskwire.decode(case.frames, mode=mode)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("case", "path"),
    [
        pytest.param(case, path, id=f"{case.id}-{path}")
        for case in BAD_DECODES + LAYER_ORDER
        for path in PATHS
        if path != "fast" or case.fast_path  # such frames never take the fast path
    ],
)
def test_decoders_reject_with_the_category(case: Bad, path: str) -> None:
    for mode in case.modes:
        with pytest.raises(DaskwireError) as info:
            _decode(case, mode, path)
        error = info.value
        assert error.category == case.category, str(error)
        assert type(error) is error_class(case.category)
        if case.requirement is not None:
            assert error.requirement == case.requirement, str(error)
        assert str(error).startswith(case.category)


@pytest.mark.parametrize(
    "case", [c for c in BAD_DECODES + LAYER_ORDER if c.modes != BOTH], ids=lambda c: c.id
)
def test_forwarding_receivers_accept_what_only_consuming_ones_reject(case: Bad) -> None:
    """RX-3: decompression and merge of offloaded values belong to consuming receivers."""
    decoded = daskwire.decode(case.frames, mode=FORWARDING)
    assert isinstance(decoded, dict | tuple)


#: The categories only dask-2023.11 raises (spec/dask-2023.11/errors.md, DE-1); their cases
#: are in tests/reference/dask_2023_11/.
DASK_ONLY = {Category.INVALID_READ_HINT, Category.INVALID_MARKER, Category.INVALID_HANDSHAKE}


def test_every_decode_category_has_a_case() -> None:
    """This table covers every category placeholder-v1's decoder raises: all but the wire-level
    ones (test_wire, test_reader, test_limits), the encoder's, and DE-1's three."""
    decode_categories = (
        set(Category)
        - DASK_ONLY
        - {
            Category.TRUNCATED_INPUT,  # wire level: test_wire, test_reader
            Category.TRAILING_BYTES,
            Category.LIMIT_EXCEEDED,  # test_limits
            Category.UNENCODABLE_VALUE,  # below
        }
    )
    assert {Category(c.category) for c in BAD_DECODES} == decode_categories


def test_every_category_has_a_case_in_some_profile() -> None:
    """Each category of errors.md has a case in placeholder-v1's tables or dask-2023.11's,
    and the three categories only dask-2023.11 raises have theirs in its own tables."""
    from .dask_2023_11 import test_errors as dask
    from .dask_2023_11.test_framing import DT8_ORDER
    from .dask_2023_11.test_handshake import REJECTED

    placeholder_v1 = {Category(c.category) for c in BAD_DECODES + LAYER_ORDER}
    dask_2023_11 = {Category(c.category) for c in dask.BAD_DECODES + dask.LAYER_ORDER}
    dask_2023_11 |= {Category(c.category) for c in DT8_ORDER if c.category}
    dask_2023_11 |= {Category(c.category) for c in REJECTED}
    encoders = {Category.UNENCODABLE_VALUE} if BAD_ENCODES and dask.BAD_ENCODES else set()
    assert dask_2023_11 >= DASK_ONLY
    assert not DASK_ONLY & placeholder_v1
    assert placeholder_v1 | dask_2023_11 | encoders == set(Category)


# -- frames a strict decoder accepts, though no canonical encoder writes them ----------------


@pytest.mark.parametrize(
    ("frames", "message"),
    [
        pytest.param(["80", "80"], {}, id="small-header-empty-map"),
        pytest.param(["81 ab 636f6d7072657373696f6e c0", "80"], {}, id="small-header-nil-codec"),
        pytest.param(["81 a1 78 01", "81 a1 61 01"], {"a": 1}, id="small-header-unknown-key"),
        pytest.param(
            ["82 a1 78 c4 00 ab 636f6d7072657373696f6e a3 6c7a34", "01000000 10 90"],
            (),
            id="small-header-unknown-key-beside-codec",
        ),
        pytest.param([SMALL_LZ4, "01000000 10 80"], {}, id="lz4-payload-by-hand"),
        pytest.param(["", "81 d9 01 61 01"], {"a": 1}, id="str8-key"),
        pytest.param(["", "81 da 0001 61 01"], {"a": 1}, id="str16-key"),
        pytest.param(["", "81 db 00000001 61 01"], {"a": 1}, id="str32-key"),
        pytest.param(["", "de 0001 a1 61 01"], {"a": 1}, id="map16"),
        pytest.param(["", "df 00000001 a1 61 01"], {"a": 1}, id="map32"),
        pytest.param(["", "dc 0001 01"], (1,), id="array16"),
        pytest.param(["", "dd 00000001 01"], (1,), id="array32"),
        pytest.param(["", "81 a1 61 c5 0001 78"], {"a": b"x"}, id="bin16"),
        pytest.param(["", "81 a1 61 c6 00000001 78"], {"a": b"x"}, id="bin32"),
        pytest.param(["", "81 a1 61 cc 05"], {"a": 5}, id="uint8-small"),
        pytest.param(["", "81 a1 61 cd 0005"], {"a": 5}, id="uint16-small"),
        pytest.param(["", "81 a1 61 ce 00000005"], {"a": 5}, id="uint32-small"),
        pytest.param(["", "81 a1 61 cf 0000000000000005"], {"a": 5}, id="uint64-small"),
        pytest.param(["", "81 a1 61 d0 05"], {"a": 5}, id="int8-positive"),
        pytest.param(["", "81 a1 61 d1 0005"], {"a": 5}, id="int16-positive"),
        pytest.param(["", "81 a1 61 d2 00000005"], {"a": 5}, id="int32-positive"),
        pytest.param(["", "81 a1 61 d3 0000000000000005"], {"a": 5}, id="int64-positive"),
        pytest.param(["", "81 a1 61 d3 ffffffffffffffff"], {"a": -1}, id="int64-minus-one"),
        pytest.param(["", "81 cd 0001 01"], {1: 1}, id="int-key-wide"),
        pytest.param(
            ["", "81 c4 08 5f24686561646572 01"],
            {b"_$header": 1},
            id="bin-reserved-name-is-a-plain-key",
        ),
        pytest.param(
            ["", "81 91 a8 5f24686561646572 01"],
            {("_$header",): 1},
            id="reserved-name-in-an-array-key",
        ),
        pytest.param(
            ["", "81 a1 61 a8 5f24686561646572"], {"a": "_$header"}, id="reserved-name-as-a-value"
        ),
    ],
)
def test_decoders_accept_non_canonical_forms(frames: list[str], message: Any) -> None:
    """PL-12, SH-3, SH-5: other valid encodings decode to the same message."""
    for path in PATHS:
        for mode in BOTH:
            case = Bad("ok", [hx(f) for f in frames], "")
            found = difference(message, _decode(case, mode, path))
            assert found is None, found


def _p(h: str, i: int, c: int) -> str:
    return placeholder(h, i, c)


@pytest.mark.parametrize(
    ("frame1", "frames", "forwarding", "consuming"),
    [
        pytest.param(
            f"81 a1 76 83 {K_FCOUNT} 01 {K_FINDEX} 00 {K_HEADER} {H1}",  # rsds's key order
            [b"A"],
            {
                "v": Offloaded(
                    {"lengths": (1,), "compression": (None,), "count": 1, "deserialize": False},
                    [b"A"],
                )
            },
            {"v": Materialized({}, [b"A"])},
            id="placeholder-keys-in-any-order",
        ),
        pytest.param(
            f"82 a1 61 {_p(H1, 1, 1)} a1 62 {_p(H1, 0, 1)}",
            [b"B", b"A"],
            None,
            {"a": Materialized({}, [b"A"]), "b": Materialized({}, [b"B"])},
            id="findex-not-monotone",
        ),
        pytest.param(
            f"92 {_p(H0, 0, 0)} {_p(H1, 0, 1)}",
            [b"A"],
            None,
            (Materialized({}, []), Materialized({}, [b"A"])),
            id="zero-frame-value-shares-its-findex",
        ),
        pytest.param(
            f"92 {_p(H1, 0, 1)} {_p(H0, 1, 0)}",
            [b"A"],
            None,
            (Materialized({}, [b"A"]), Materialized({}, [])),
            id="zero-frame-value-at-n-minus-2",
        ),
        pytest.param(
            f"81 a1 76 {_p(header(DESER, LENGTHS1, COUNT1, 'a1 73 a1 73'), 0, 1)}",
            [b"A"],
            {"v": Offloaded({"deserialize": False, "lengths": (1,), "count": 1, "s": "s"}, [b"A"])},
            {"v": Materialized({"s": "s"}, [b"A"])},
            id="header-keys-in-any-order-no-compression-key",
        ),
        pytest.param(
            f"81 a1 76 {_p(bare_header('91 03', '92 c0 c0', 2, raw=True), 0, 2)}",
            [b"ab", b"c"],
            {"v": b"abc"},
            {"v": b"abc"},
            id="raw-bytestring-merged-in-both-modes",
        ),
        pytest.param(
            f"81 a1 76 {_p(header('a1 73 a1 73', COUNT1, f'{K_DESERIALIZE} c3', LENGTHS1), 0, 1)}",
            [b"A"],
            {"v": b"A"},
            {"v": b"A"},
            id="raw-bytestring-serializer-keys-ignored",
        ),
        pytest.param(
            f"81 a1 76 {_p(bare_header('92 01 02', '92 c0 c0', 2), 0, 2)}",
            [b"ab", b"c"],
            None,
            {"v": Materialized({}, [b"a", b"bc"])},
            id="merge-cuts-at-lengths",
        ),
        pytest.param(
            f"81 a1 76 {_p(bare_header('91 03', '91 a3 6c7a34', 1), 0, 1)}",
            [hx("03000000 30 616263")],
            None,
            {"v": Materialized({}, [b"abc"])},
            id="lz4-frame-by-hand",
        ),
        pytest.param(
            f"81 a1 76 {_p(bare_header('91 03', '91 a4 7a6c6962', 1), 0, 1)}",
            [zlib.compress(b"abc")],
            None,
            {"v": Materialized({}, [b"abc"])},
            id="zlib-frame",
        ),
        pytest.param(
            f"81 a1 76 {_p(bare_header('92 02 01', '92 a3 6c7a34 c0', 2), 0, 2)}",
            [hx("03000000 30 616263"), b""],
            None,
            {"v": Materialized({}, [b"ab", b"c"])},
            id="mixed-codecs-then-merge",
        ),
        pytest.param(
            f"92 81 a1 64 {_p(H1, 0, 1)} 81 a1 64 {_p(H1, 1, 1)}",
            [b"A", b"B"],
            None,
            ({"d": Materialized({}, [b"A"])}, {"d": Materialized({}, [b"B"])}),
            id="batch-shares-one-frame-namespace",
        ),
        pytest.param(
            f"81 a1 76 {_p(bare_header('91 00', '90', 0), 0, 0)}",
            [],
            None,
            {"v": Materialized({}, [b""])},
            id="zero-wire-frames-one-empty-original",
        ),
    ],
)
def test_decoders_accept_valid_placeholders(
    frame1: str, frames: list[bytes], forwarding: Any, consuming: Any
) -> None:
    """PH-4, PH-12, PH-13, HD-9, CP-6: placeholders in forms the canonical encoder avoids."""
    all_frames = [b"", hx(frame1), *frames]
    for path in PATHS:
        case = Bad("ok", all_frames, "")
        got = _decode(case, CONSUMING, path)
        assert difference(consuming, got) is None, difference(consuming, got)
        if forwarding is not None:
            got = _decode(case, FORWARDING, path)
            assert difference(forwarding, got) is None, difference(forwarding, got)
        else:
            _decode(case, FORWARDING, path)


# -- the encoder refuses what the profile cannot carry ---------------------------------------


class Weird(int):
    """An int subclass: not a msgpack type of the profile."""


BAD_ENCODES: list[tuple[str, Any, str]] = [
    ("reserved-key-header", {"v": {"_$header": 1}}, "PH-11"),
    ("reserved-key-findex", {"_$findex": 0}, "PH-11"),
    ("reserved-key-fcount-in-a-list", [{"x": [{"_$fcount": 1}]}], "PH-11"),
    ("reserved-key-in-materialized-header", {"v": Materialized({"_$header": {}}, [])}, "PH-11"),
    ("reserved-key-in-offloaded-header", {"v": Offloaded({"_$findex": 1}, [])}, "PH-11"),
    ("reserved-key-deep-in-a-header", {"v": Materialized({"x": [{"_$header": 1}]}, [])}, "PH-11"),
    ("int-too-big", {"a": 2**64}, "CE-11"),
    ("int-too-small", {"a": -(2**63) - 1}, "CE-11"),
    ("int-key-too-big", {2**64: 1}, "CE-11"),
    ("int-too-big-in-a-key", {(2**64,): 1}, "CE-11"),
    ("float-key", {1.5: 1}, "CE-11"),
    ("bool-key", {True: 1}, "CE-11"),
    ("frozenset-key", {frozenset(): 1}, "CE-11"),
    ("float-in-a-key", {("a", 1.5): 1}, "CE-11"),
    ("set-value", {"a": {1}}, "CE-11"),
    ("object-value", {"a": object()}, "CE-11"),
    ("complex-value", {"a": 1j}, "CE-11"),
    ("int-subclass", {"a": Weird(1)}, "CE-11"),
    ("surrogate-str", {"a": "\ud800"}, "CE-11"),
    ("surrogate-key", {"\udfff": 1}, "CE-11"),
    ("top-level-int", 1, "CE-11"),
    ("top-level-str", "op", "CE-11"),
    ("top-level-bytes", b"\x80", "CE-11"),
    ("top-level-none", None, "CE-11"),
    ("top-level-offloaded", Offloaded({}, []), "CE-11"),
    ("top-level-materialized", Materialized({}, []), "CE-11"),
    ("transport-key-count", {"v": Materialized({"count": 1}, [b"A"])}, "CE-13"),
    ("transport-key-lengths", {"v": Materialized({"lengths": [1]}, [b"A"])}, "CE-13"),
    ("transport-key-compression", {"v": Materialized({"compression": None}, [])}, "CE-13"),
    ("transport-key-deserialize", {"v": Materialized({"deserialize": False}, [])}, "CE-13"),
    ("offloaded-count-differs", {"v": Offloaded({"count": 2}, [b"A"])}, "CE-12"),
    ("offloaded-count-str", {"v": Offloaded({"count": "1"}, [b"A"])}, "CE-12"),
    ("offloaded-count-bool", {"v": Offloaded({"count": True}, [b"A"])}, "CE-12"),
    ("offloaded-compression-str", {"v": Offloaded({"compression": "lz4"}, [b"A"])}, "CE-12"),
    ("offloaded-compression-short", {"v": Offloaded({"compression": []}, [b"A"])}, "CE-12"),
    ("offloaded-compression-int", {"v": Offloaded({"compression": [1]}, [b"A"])}, "CE-12"),
    (
        "offloaded-compressed-no-lengths",
        {"v": Offloaded({"compression": ["lz4"]}, [b"\x01\x00\x00\x00\x10A"])},
        "CE-12",
    ),
    ("offloaded-lengths-int", {"v": Offloaded({"lengths": 1}, [b"A"])}, "CE-12"),
    ("offloaded-lengths-negative", {"v": Offloaded({"lengths": [-1]}, [b"A"])}, "CE-12"),
    ("offloaded-lengths-bool", {"v": Offloaded({"lengths": [True]}, [b"A"])}, "CE-12"),
    ("offloaded-lengths-sum", {"v": Offloaded({"lengths": [2]}, [b"A"])}, "CE-12"),
    ("offloaded-deserialize-int", {"v": Offloaded({"deserialize": 0}, [b"A"])}, "CE-12"),
    ("offloaded-in-a-header", {"v": Materialized({"x": Offloaded({}, [])}, [])}, "CE-11"),
    (
        "materialized-in-an-offloaded-header",
        {"v": Offloaded({"x": [Materialized({}, [])]}, [])},
        "CE-11",
    ),
]


@pytest.mark.parametrize(
    ("message", "requirement"), [pytest.param(m, r, id=i) for i, m, r in BAD_ENCODES]
)
def test_encoder_refuses_values_outside_the_profile(message: Any, requirement: str) -> None:
    with pytest.raises(UnencodableValue) as info:
        daskwire.encode(message)
    assert info.value.category == "unencodable-value"
    assert info.value.requirement == requirement, str(info.value)
    with pytest.raises(UnencodableValue):
        daskwire.encode(message, compression="lz4", shard_size=1)


def test_float32_out_of_range_is_refused_on_construction() -> None:
    with pytest.raises(OverflowError):
        Float32(1e300)


def test_encoder_refuses_unencodable_values_inside_float32_messages() -> None:
    """The float32 packer path reports the same category as the plain one."""
    with pytest.raises(UnencodableValue):
        daskwire.encode({"f": Float32(1.0), "s": "\ud800"})


#: msgpack's own errors, as a decoder's message says them: each named, with its text, or
#: what it means where msgpack gives none (its FormatError, for the byte 0xc1).
MSGPACK_WHY = [
    ("c1", "FormatError: a byte that starts no msgpack value (0xc1 is never used)"),
    ("91c1", "FormatError: a byte that starts no msgpack value (0xc1 is never used)"),
    ("d902fffe", "UnicodeDecodeError: 'utf-8' codec can't decode byte 0xff in position 0"),
]


@pytest.mark.parametrize("exact", [False, True], ids=["fast-path", "exact-path"])
@pytest.mark.parametrize(("payload", "why"), MSGPACK_WHY)
def test_a_msgpack_error_is_named_and_said(payload: str, why: str, exact: bool) -> None:
    frame = bytes.fromhex(payload)
    if exact:  # a float32 first: the decoder walks the tokens itself (payload.parse)
        frame = bytes.fromhex("92ca00000000") + frame
    with pytest.raises(daskwire.DaskwireError) as caught:
        daskwire.get_profile("dask-2023.11").decode([frame])
    assert f"not one well-formed msgpack value: {why}" in str(caught.value)
