"""The vector tooling: msgpack helpers, mutations, manifest changelog, drift, hex dumps, pages."""

from __future__ import annotations

import json
import shutil
import struct
from pathlib import Path
from typing import Any

import daskwire
import msgpack
import pytest
from daskwire import Float32
from daskwire_conformance import cli
from daskwire_conformance.common.hexdump import annotate, annotate_wire
from daskwire_conformance.common.suite import load_vectors
from daskwire_conformance.site.vectorpages import example_name, write_pages
from daskwire_conformance.vectors.generate import check, generate, write
from daskwire_conformance.vectors.generate.manifest import (
    build_manifest,
    changelog_problems,
    replay,
)
from daskwire_conformance.vectors.generate.mpk import DELETE, edit, pack, unpack_payload
from daskwire_conformance.vectors.generate.sources import build_frame, expand_notation
from daskwire_conformance.vectors.placeholder_v1.derive import unpack_model
from daskwire_conformance.vectors.placeholder_v1.mutations import (
    apply_frame_ops,
    apply_wire_ops,
    pack_wire,
)
from daskwire_conformance.vectors.placeholder_v1.sites import find_placeholders

ROOT = Path(__file__).resolve().parents[1]
G1_FRAMES = [
    b"",
    bytes.fromhex(
        "82a26f70a178a46461746183a85f2468656164657284aa73657269616c697a6572a67069636b6c65"
        "a76c656e677468739105a5636f756e7401ab646573657269616c697a65c2a85f2466696e64657800"
        "a85f2466636f756e7401"
    ),
    bytes.fromhex("80044b7b2e"),
]


# --- msgpack helpers -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        0,
        127,
        128,
        255,
        256,
        65535,
        65536,
        2**32 - 1,
        2**32,
        2**64 - 1,
        -1,
        -32,
        -33,
        -128,
        -129,
        -(2**15),
        -(2**15) - 1,
        -(2**31),
        -(2**31) - 1,
        -(2**63),
        "",
        "a" * 31,
        "a" * 32,
        "a" * 256,
        "é",
        b"",
        b"x" * 256,
        1.5,
        None,
        True,
        False,
        (),
        (1, 2),
        tuple(range(16)),
        {},
        {"a": 1},
        {i: i for i in range(16)},
    ],
)
def test_pack_matches_the_msgpack_library(value: Any) -> None:
    assert pack(value) == msgpack.packb(value, use_bin_type=True)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (Float32(1.5), "ca3fc00000"),
        (1.5, "cb3ff8000000000000"),
        ({"k": Float32(0.5)}, "81a16bca3f000000"),
    ],
)
def test_pack_keeps_float_width(value: Any, expected: str) -> None:
    assert pack(value).hex() == expected


@pytest.mark.parametrize("payload", ["cc01", "d90161", "ca3fc00000", "de0000"])
def test_unpack_payload_refuses_what_an_edit_would_change(payload: str) -> None:
    with pytest.raises(ValueError, match="round trip"):
        unpack_payload(bytes.fromhex(payload))


@pytest.mark.parametrize(
    ("path", "fn", "expected"),
    [
        (("a", 0), lambda _v: 9, {"a": (9, 2), "b": {"c": 3}}),
        (("b", "c"), lambda _v: DELETE, {"a": (1, 2), "b": {}}),
        (("a", 1), lambda _v: DELETE, {"a": (1,), "b": {"c": 3}}),
    ],
)
def test_edit_replaces_and_deletes(path: tuple[Any, ...], fn: Any, expected: Any) -> None:
    assert edit({"a": (1, 2), "b": {"c": 3}}, path, fn) == expected


def test_find_placeholders_walks_in_pre_order() -> None:
    payload = unpack_payload(
        pack(
            {
                "z": {"_$header": {}, "_$findex": 2, "_$fcount": 1},
                "a": [{"_$header": {}, "_$findex": 0, "_$fcount": 2}],
            }
        )
    )
    sites = find_placeholders(payload)
    assert [(s.describe(), s.findex, s.fcount) for s in sites] == [("$.z", 2, 1), ("$.a[0]", 0, 2)]


# --- frame builders and mutations ----------------------------------------------------------


@pytest.mark.parametrize(
    ("node", "expected"),
    [
        ("82 a2 6f70  # a comment\n a1 78", "82a26f70a178"),
        ({"repeat": "ab", "length": 3}, "ababab"),
        ({"msgpack": {"map": [["a", {"float32": "1.5"}]]}}, "81a161ca3fc00000"),
        ({"concat": ["01", {"u64le": 2}]}, "010200000000000000"),
        ({"utf8": "é"}, "c3a9"),
        ({"lz4": ""}, "0000000000"),
    ],
)
def test_build_frame(node: Any, expected: str) -> None:
    assert build_frame(node).hex() == expected


def test_expand_notation_macros() -> None:
    node = {
        "map": [
            ["s", {"str-repeat": {"repeat": "ab", "length": 3}}],
            ["d", {"nested-array": {"depth": 2, "leaf": 1}}],
        ]
    }
    assert expand_notation(node) == {"map": [["s", "aba"], ["d", [[1]]]]}


def test_pack_wire_matches_the_reference() -> None:
    assert pack_wire(G1_FRAMES) == bytes(daskwire.pack_bytes(G1_FRAMES))


@pytest.mark.parametrize(
    ("ops", "check_frames"),
    [
        (
            [{"set": ["data", "_$findex"], "value": 7}],
            lambda f: msgpack.unpackb(f[1])["data"]["_$findex"] == 7,
        ),
        (
            [{"delete": ["data", "_$fcount"]}],
            lambda f: "_$fcount" not in msgpack.unpackb(f[1])["data"],
        ),
        (
            [{"rename": ["data", "_$fcount"], "to": "x"}],
            lambda f: list(msgpack.unpackb(f[1])["data"])[2] == "x",
        ),
        ([{"append_frames": ["00"]}], lambda f: len(f) == 4),
        ([{"keep_frames": 1}], lambda f: f == [b""]),
        ([{"frame": 0, "to": "80"}], lambda f: f[0] == b"\x80"),
    ],
)
def test_frame_mutations(ops: list[dict[str, Any]], check_frames: Any) -> None:
    assert check_frames(apply_frame_ops(G1_FRAMES, ops))


def test_payload_edit_recompresses_an_lz4_payload() -> None:
    frames = [bytes(f) for f in daskwire.encode({"op": "c", "s": "y" * 20000}, compression="lz4")]
    out = apply_frame_ops(frames, [{"set": ["op"], "value": "d"}])
    assert daskwire.decode(out)["op"] == "d"


@pytest.mark.parametrize(
    ("ops", "expected_prefix"),
    [
        ([{"count": 5}], "0500000000000000"),
        ([{"length": [1, 1]}], "030000000000000000000000000000000100000000000000"),
        ([{"big_endian": True}], "0000000000000003"),
        ([{"keep": 3}], "030000"),
    ],
)
def test_wire_mutations(ops: list[dict[str, Any]], expected_prefix: str) -> None:
    assert apply_wire_ops(pack_wire(G1_FRAMES), ops).hex().startswith(expected_prefix)


@pytest.mark.parametrize(
    ("wire", "category"),
    [
        ("", "truncated-input"),
        ("0100000000000000", "too-few-frames"),
        ("ffffffffffffffff", "limit-exceeded"),
        ("0200000000000000 0000000000000000", "truncated-input"),
        ("0200000000000000 0000000000000000 0100008000000000", "limit-exceeded"),
        ("0200000000000000 0000000000000000 0100000000000000 80", None),
        ("0200000000000000 0000000000000000 0100000000000000 8000", "trailing-bytes"),
    ],
)
def test_unpack_model_agrees_with_the_reference(wire: str, category: str | None) -> None:
    data = bytes.fromhex(wire.replace(" ", ""))
    assert unpack_model(data)[0] == category
    try:
        daskwire.unpack(data)
        got = None
    except daskwire.DaskwireError as exc:
        got = exc.category
    assert got == category


# --- manifest and changelog ----------------------------------------------------------------


def _vectors(**fingerprints: str) -> dict[str, dict[str, Any]]:
    return {f"decode/x/{k}": {"id": f"decode/x/{k}", "v": v} for k, v in fingerprints.items()}


def test_changelog_records_added_changed_and_removed_per_version() -> None:
    first = build_manifest({}, _vectors(a="1", b="1"), "0.1.0", None, profile="placeholder-v1")
    assert sorted(first["changelog"][0]["added"]) == ["decode/x/a", "decode/x/b"]
    second = build_manifest({}, _vectors(a="2", c="1"), "0.2.0", first, profile="placeholder-v1")
    entry = second["changelog"][-1]
    assert (entry["version"], list(entry["added"]), list(entry["changed"]), entry["removed"]) == (
        "0.2.0",
        ["decode/x/c"],
        ["decode/x/a"],
        ["decode/x/b"],
    )
    assert replay(second["changelog"]) == second["vectors"]
    assert changelog_problems(second) == []
    # Regenerating under the same version rewrites that version's entry, not a new one.
    again = build_manifest({}, _vectors(a="3", c="1"), "0.2.0", second, profile="placeholder-v1")
    assert [e["version"] for e in again["changelog"]] == ["0.1.0", "0.2.0"]
    assert again["changelog"][-1]["changed"] == {"decode/x/a": again["vectors"]["decode/x/a"]}


def test_changelog_problems_catch_an_unrecorded_change() -> None:
    manifest = build_manifest({}, _vectors(a="1"), "0.1.0", None, profile="placeholder-v1")
    manifest["vectors"]["decode/x/a"] = "0" * 64
    assert any("changed without a changelog record" in p for p in changelog_problems(manifest))


def test_a_released_version_cannot_change() -> None:
    first = build_manifest(
        {}, _vectors(a="1"), "0.1.0", None, profile="placeholder-v1", released=frozenset({"0.1.0"})
    )
    again = build_manifest(
        {}, _vectors(a="1"), "0.1.0", first, profile="placeholder-v1", released=frozenset({"0.1.0"})
    )
    assert again == first
    with pytest.raises(ValueError, match="released"):
        build_manifest(
            {},
            _vectors(a="2"),
            "0.1.0",
            first,
            profile="placeholder-v1",
            released=frozenset({"0.1.0"}),
        )


def test_suite_version_cannot_go_backwards() -> None:
    newer = build_manifest({}, _vectors(a="1"), "0.2.0", None, profile="placeholder-v1")
    with pytest.raises(ValueError, match="older"):
        build_manifest({}, _vectors(a="1"), "0.1.0", newer, profile="placeholder-v1")


# --- generation, drift and the command line --------------------------------------------------


@pytest.fixture(scope="module")
def vectors_copy(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vectors") / "vectors"
    shutil.copytree(ROOT / "vectors" / "placeholder-v1", root)
    return root


def test_generation_is_byte_identical_to_the_committed_files(vectors_copy: Path) -> None:
    generated = generate(vectors_copy, spec_dir=ROOT / "spec")
    for rel, text in generated.files.items():
        assert (vectors_copy / rel).read_text(encoding="utf-8") == text, rel
    assert generate(vectors_copy, spec_dir=ROOT / "spec").files == generated.files


def test_check_names_the_vector_that_drifted(tmp_path: Path) -> None:
    root = tmp_path / "vectors"
    shutil.copytree(ROOT / "vectors" / "placeholder-v1", root)
    cases = root / "cases" / "payload.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(
        text.replace('expect_frames: ["", "90"]', 'expect_frames: ["", "90"]\n  note: x'), "utf-8"
    )
    assert check(root, spec_dir=ROOT / "spec") == []
    cases.write_text(
        text.replace("Encodes the empty array, a batch of no messages", "Encodes an empty array"),
        encoding="utf-8",
    )
    problems = "\n".join(check(root, spec_dir=ROOT / "spec"))
    assert "encode/payload.json: differs" in problems
    assert "changed: encode/payload/empty-array" in problems


def test_a_new_suite_version_records_what_changed(tmp_path: Path) -> None:
    root = tmp_path / "vectors"
    shutil.copytree(ROOT / "vectors" / "placeholder-v1", root)
    (root / "cases" / "suite.yaml").write_text(
        "profile: placeholder-v1\nsuite_version: 9.0.0\n", encoding="utf-8"
    )
    cases = root / "cases" / "payload.yaml"
    text = cases.read_text(encoding="utf-8")
    cases.write_text(
        text.replace("Encodes the empty array, a batch of no messages", "Encodes an empty array"),
        encoding="utf-8",
    )
    write(root, generate(root, spec_dir=ROOT / "spec"))
    manifest = json.loads((root / "manifest.json").read_text(encoding="utf-8"))
    entry = manifest["changelog"][-1]
    assert (entry["version"], list(entry["changed"]), entry["added"], entry["removed"]) == (
        "9.0.0",
        ["encode/payload/empty-array"],
        {},
        [],
    )
    assert check(root, spec_dir=ROOT / "spec") == []


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["encode/pr-examples/*"], "encode/pr-examples/g1"),
        (["--kind", "reject-encode"], "invalid/encoder/offloaded-top-level"),
        (
            ["--requirement", "PH-4", "--long"],
            "decode/placeholder/key-order-fcount-findex-header\tdecode",
        ),
        (["--summary"], "total"),
    ],
)
def test_vectors_list(args: list[str], expected: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        cli.main(["vectors", "list", "--root", str(ROOT / "vectors" / "placeholder-v1"), *args])
        == 0
    )
    assert expected in capsys.readouterr().out


def _bad_root(tmp_path: Path, what: str) -> Path:
    """A vectors folder that is broken in one way."""
    if what == "missing":
        return tmp_path / "nonexistent"
    if what == "file":
        (tmp_path / "file").write_text("x")
        return tmp_path / "file"
    if what == "empty":
        return tmp_path
    folder = tmp_path / "vectors" / "decode"
    folder.mkdir(parents=True)
    contents = {
        "not-utf8": b"\xff\xfe{}",
        "not-json": b"{",
        "not-vectors": b'{"vectors": [{"id": "decode/a/b"}]}',
        "not-an-object": b"[1, 2]",
        "deep": b"[" * 100_000,
    }[what]
    (folder / "area.json").write_bytes(contents)
    return tmp_path / "vectors"


# a --root or filter that names nothing, and what the error says
BAD_LIST_ARGS = [
    ("missing", [], "vectors folder {root} does not exist"),
    ("file", [], "vectors folder {root} is not a folder"),
    ("empty", [], "vectors folder {root} has no vector files"),
    ("not-utf8", [], "cannot load vectors from {root}: decode/area.json"),
    ("not-json", [], "cannot load vectors from {root}: decode/area.json"),
    ("not-vectors", [], "cannot load vectors from {root}: decode/area.json"),
    ("not-an-object", [], "cannot load vectors from {root}: decode/area.json"),
    ("deep", [], "cannot load vectors from {root}: decode/area.json"),
    (None, ["--kind", "nope"], "invalid choice: 'nope'"),
    (None, ["--requirement", "XX-99"], "no requirement XX-99 in the spec"),
]


@pytest.mark.parametrize(("root", "args", "message"), BAD_LIST_ARGS)
def test_vectors_list_says_what_names_nothing(
    tmp_path: Path,
    root: str | None,
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = ROOT / "vectors" / "placeholder-v1" if root is None else _bad_root(tmp_path, root)
    try:
        code = cli.main(["vectors", "list", "--root", str(folder), *args])
    except SystemExit as exc:  # argparse rejects the option itself
        code = int(str(exc.code))
    out, err = capsys.readouterr()
    assert (code, out) == (2, "")
    assert message.format(root=folder) in err
    assert "Traceback" not in err


def test_vectors_list_prints_nothing_for_a_filter_no_vector_matches(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        cli.main(
            ["vectors", "list", "--root", str(ROOT / "vectors" / "placeholder-v1"), "nothing/*"]
        )
        == 0
    )
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize("action", ["generate", "check"])
@pytest.mark.parametrize(
    ("root", "message"),
    [
        ("missing", "no vectors folder at {root}"),
        ("file", "no vectors folder at {root}"),
        ("empty", "no case sources in {root}/cases"),
    ],
)
def test_vectors_generate_and_check_need_a_folder_with_cases(
    tmp_path: Path, action: str, root: str, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = _bad_root(tmp_path, root)
    assert cli.main(["vectors", action, "--root", str(folder)]) == 2
    err = capsys.readouterr().err
    assert message.format(root=folder) in err
    assert not (tmp_path / "nonexistent").exists()


@pytest.mark.parametrize("action", ["generate", "check"])
@pytest.mark.parametrize(
    ("source", "message"),
    [
        (b"\xff\xfe", "are broken: cases/payload.yaml: not UTF-8"),
        (b"cases: [", "are broken: cases/payload.yaml: not YAML: "),
        (b"- id: 5\n", "are broken: payload.yaml: top level must be a map"),
    ],
)
def test_vectors_generate_and_check_report_broken_case_sources(
    tmp_path: Path, action: str, source: bytes, message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "vectors"
    shutil.copytree(ROOT / "vectors" / "placeholder-v1" / "cases", root / "cases")
    (root / "cases" / "payload.yaml").write_bytes(source)
    assert cli.main(["vectors", action, "--root", str(root)]) == 2
    err = capsys.readouterr().err
    assert f"daskwire vectors {action}: " in err
    assert message in err


# --- hex dumps and pages -------------------------------------------------------------------


def test_annotate_wire_names_every_field_of_g1() -> None:
    text = annotate_wire(pack_wire(G1_FRAMES))
    for expected in (
        "000000  03 00 00 00 00 00 00 00  frame count N = 3",
        "length of frame 1 = 90",
        "frame 0: small header, empty",
        "map, 3 entries: placeholder at $.data",
        'key: str, 10 bytes: "serializer" (serializer key)',
        '"lengths" (transport key)',
        "value: int 0 -> first frame is frame 2",
        "frame 2: offload area [0], 5 bytes: $.data, frame 1 of 1",
        "00007a  80 04 4b 7b 2e",
    ):
        assert expected in text


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (["", "81a161"], "! truncated: needs 1 more byte"),
        (["", "c1"], "! byte c1 is never used"),
        (["", "8000"], "! 1 byte after the value"),
        (["", "81a161d40100"], "! ext type 1"),
        (["", "81a161a1ff"], "! not UTF-8"),
        (["", "80", "00"], "! claimed by no placeholder"),
        (["81ab636f6d7072657373696f6ea36c7a34", "ffffffff00"], "lz4 size prefix: 4294967295"),
        (["", "cd0001"], "int 1 (uint 16)"),
        (["", "ca3fc00000"], "float32 1.5"),
    ],
)
def test_annotate_shows_what_is_wrong(frames: list[str], expected: str) -> None:
    assert expected in annotate([bytes.fromhex(f) for f in frames])


@pytest.mark.parametrize(
    ("wire", "expected"),
    [
        ("", "no bytes: the input ends before the frame count"),
        ("0300", "frame count: the input ends after 2 bytes of 8"),
        ("ffffffffffffffff", "frame count N = 18446744073709551615"),
        ("02000000000000000000000000000000050000000000000080", "frame 1: the input ends after 1"),
    ],
)
def test_annotate_wire_stops_where_the_bytes_end(wire: str, expected: str) -> None:
    assert expected in annotate_wire(bytes.fromhex(wire))


def test_annotate_wire_follows_a_stream_of_two_messages() -> None:
    text = annotate_wire(pack_wire(G1_FRAMES) * 2, stream=True)
    assert "message 2" in text
    assert text.count("frame count N = 3") == 2


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> Path:
    spec = tmp_path_factory.mktemp("site") / "spec"
    shutil.copytree(ROOT / "spec", spec, ignore=shutil.ignore_patterns("generated"))
    write_pages(spec / "generated", vectors_root=ROOT / "vectors" / "placeholder-v1")
    return spec


def test_pages_have_an_example_for_every_vector(pages: Path) -> None:
    names = {p.stem for p in (pages / "generated" / "examples").glob("*.md")}
    assert names == {example_name(v.id) for v in load_vectors(ROOT / "vectors" / "placeholder-v1")}


def test_pages_have_the_index_and_one_page_per_area(pages: Path) -> None:
    folder = pages / "generated" / "vectors"
    areas = {f"{v.group}-{v.area}.md" for v in load_vectors(ROOT / "vectors" / "placeholder-v1")}
    assert {p.name for p in folder.glob("*.md")} == {"index.md", *areas}
    index = (folder / "index.md").read_text(encoding="utf-8")
    assert "| [PH-6](../../placeholder.md#PH-6) | required |" in index


@pytest.mark.parametrize(
    ("page", "prefix"),
    [
        ("generated/examples/encode__pr-examples__g1.md", ""),
        ("generated/vectors/encode-pr-examples.md", "../../"),
    ],
)
def test_page_links_resolve_from_where_they_are_shown(pages: Path, page: str, prefix: str) -> None:
    text = (pages / page).read_text(encoding="utf-8")
    assert f"[CE-9]({prefix}canonical.md#CE-9)" in text
    assert "```text\n000000  03 00 00 00 00 00 00 00  frame count N = 3" in text
    # Examples are included into spec/*.md pages, so their links start from spec/.
    base = pages if not prefix else (pages / page).parent
    assert (base / f"{prefix}canonical.md").resolve().is_file()


def test_pages_are_rewritten_only_when_they_change(pages: Path) -> None:
    target = pages / "generated" / "vectors" / "index.md"
    before = target.stat().st_mtime_ns
    write_pages(pages / "generated", vectors_root=ROOT / "vectors" / "placeholder-v1")
    assert target.stat().st_mtime_ns == before


def test_wire_struct_layout_is_little_endian() -> None:
    assert struct.pack("<Q", 3) == pack_wire(G1_FRAMES)[:8]
