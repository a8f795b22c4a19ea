"""Sanity of the committed vectors: ids, descriptions, schema, manifest, size, no drift."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from daskwire.constants import SPEC_VERSION
from daskwire.errors import Category
from daskwire.notation import frame_from_notation
from daskwire_conformance import cli
from daskwire_conformance.common.requirements import LEVELS, load_requirements
from daskwire_conformance.common.suite import (
    KINDS,
    MANIFEST_NAME,
    Vector,
    iter_vector_files,
    load_manifest,
    load_vectors,
)
from daskwire_conformance.vectors.generate.manifest import (
    changelog_problems,
    dump_json,
    fingerprint,
)

ROOT = Path(__file__).resolve().parents[1]
VECTORS_DIR = ROOT / "vectors" / "placeholder-v1"
VECTORS = load_vectors(VECTORS_DIR)
REQUIREMENTS = load_requirements(ROOT / "spec")

#: Vectors the spec pages include as examples; they must exist under these ids.
EXAMPLE_IDS = (
    "encode/pr-examples/g1",
    "encode/pr-examples/g4-zero-frames",
    "encode/pr-examples/g5-batch",
    "encode/compression/payload-lz4",
    "decode/pr-examples/g3-pr-order",
    "encode/placeholder/two-offloads-nested",
)
#: The committed vectors folder must stay below this size.
MAX_BYTES = 10 * 2**20
# Modal or test-speak words that a description in the indicative mood does not use.
_NOT_INDICATIVE = re.compile(r"\b(should|must|shall|test that|tests that|ensure)\b", re.IGNORECASE)


def test_ids_are_unique() -> None:
    counts = Counter(v.id for v in VECTORS)
    assert [vid for vid, n in counts.items() if n > 1] == []


def test_each_vector_sits_in_the_file_of_its_group_and_area() -> None:
    wrong = [v.id for v in VECTORS if v.file != f"{v.group}/{v.area}.json"]
    assert wrong == []


@pytest.mark.parametrize("vector", VECTORS, ids=[v.id for v in VECTORS])
def test_description_is_short_and_indicative(vector: Vector) -> None:
    text = vector.description
    assert 0 < len(text) <= 70, f"{len(text)} characters"
    assert not _NOT_INDICATIVE.search(text), text
    assert not text.lower().startswith("test"), text
    first = text.split()[0].rstrip(",;:")
    assert first[0].isupper(), f"starts with {first!r}"
    assert first.endswith("s"), f"starts with {first!r}, not a verb in -s"
    assert not text.endswith("."), "no final period"


def test_every_cited_requirement_exists_in_the_spec() -> None:
    unknown = sorted({(v.id, r) for v in VECTORS for r in v.requirements if r not in REQUIREMENTS})
    assert unknown == []


def test_level_is_the_strongest_level_of_the_requirements() -> None:
    rank = {level: i for i, level in enumerate(LEVELS)}
    wrong = []
    for v in VECTORS:
        want = min((REQUIREMENTS[r].level for r in v.requirements), key=rank.__getitem__)
        if v.level != want:
            wrong.append((v.id, v.level, want))
    assert wrong == []


def test_every_file_validates_against_the_vector_schema() -> None:
    load_vectors(VECTORS_DIR, validate=True)


def test_files_use_the_one_stable_formatting() -> None:
    for path in iter_vector_files(VECTORS_DIR):
        text = path.read_text(encoding="utf-8")
        assert text == dump_json(json.loads(text)), path.name
        ids = [v["id"] for v in json.loads(text)["vectors"]]
        assert ids == sorted(ids), f"{path.name}: ids not sorted"


def test_manifest_hashes_match_the_files() -> None:
    manifest = load_manifest(VECTORS_DIR)
    on_disk = {p.relative_to(VECTORS_DIR).as_posix(): p for p in iter_vector_files(VECTORS_DIR)}
    assert set(manifest["files"]) == set(on_disk)
    for rel, entry in manifest["files"].items():
        assert hashlib.sha256(on_disk[rel].read_bytes()).hexdigest() == entry["sha256"], rel
    fingerprints = {}
    for path in on_disk.values():
        for node in json.loads(path.read_text(encoding="utf-8"))["vectors"]:
            fingerprints[node["id"]] = fingerprint(node)
    assert fingerprints == manifest["vectors"]
    assert changelog_problems(manifest) == []


def test_manifest_names_profile_and_versions() -> None:
    manifest = load_manifest(VECTORS_DIR)
    assert manifest["profile"] == "placeholder-v1"
    assert re.fullmatch(r"\d+\.\d+\.\d+", manifest["suite_version"])
    assert manifest["spec_version"] == SPEC_VERSION  # tests/test_spec_version.py pins the constant
    for path in iter_vector_files(VECTORS_DIR):
        doc = json.loads(path.read_text(encoding="utf-8"))
        assert doc["suite_version"] == manifest["suite_version"]
        assert doc["spec_version"] == manifest["spec_version"]


def test_vectors_check_passes(capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["vectors", "check", "--root", str(VECTORS_DIR)])
    out = capsys.readouterr().out
    assert code == 0, out[-3000:]


def test_vectors_folder_is_under_ten_megabytes() -> None:
    total = sum(p.stat().st_size for p in VECTORS_DIR.rglob("*") if p.is_file())
    assert total < MAX_BYTES, f"{total} bytes"


@pytest.mark.parametrize("vid", EXAMPLE_IDS)
def test_examples_the_spec_includes_exist(vid: str) -> None:
    assert vid in {v.id for v in VECTORS}


def test_schema_enums_match_the_code() -> None:
    schema = json.loads((ROOT / "spec" / "schemas" / "vector.schema.json").read_text("utf-8"))
    assert set(schema["$defs"]["category"]["enum"]) == {c.value for c in Category}
    kinds = schema["$defs"]["vector"]["properties"]["kind"]["enum"]
    assert set(kinds) == set(KINDS)


def test_derived_vectors_name_an_existing_valid_parent() -> None:
    by_id = {v.id: v for v in VECTORS}
    bad = []
    for v in VECTORS:
        if v.derived is None:
            continue
        parent = by_id.get(v.derived["parent"])
        if parent is None or parent.negative:
            bad.append(v.id)
    assert bad == []


def test_needs_are_known_capabilities() -> None:
    optional = {"limits", "encode-limits", "default-shard-size", "str-utf16"}
    for v in VECTORS:
        for need in v.needs:
            assert need in optional or need.startswith("codec:"), (v.id, need)
        encoder = v.kind in ("encode", "reject-encode")
        limits_need = "encode-limits" if encoder else "limits"
        assert (limits_need in v.needs) == ("limits" in v.input), v.id
        options = v.input.get("options")
        if options is not None:
            assert ("default-shard-size" in v.needs) == ("shard_size" not in options), v.id


def test_stream_splits_of_one_case_expect_the_same_outcome() -> None:
    outcomes: dict[str, set[str]] = defaultdict(set)
    for v in VECTORS:
        if v.kind == "stream":
            case = v.id.rsplit("/", 1)[0]
            outcomes[case].add(json.dumps(dict(v.expected), sort_keys=True))
            data = b"".join(frame_from_notation(c) for c in v.input["chunks"])
            outcomes[case + "#bytes"].add(hashlib.sha256(data).hexdigest())
    assert {case: n for case, n in outcomes.items() if len(n) != 1} == {}


def test_manifest_file_is_formatted_like_the_vectors() -> None:
    text = (VECTORS_DIR / MANIFEST_NAME).read_text(encoding="utf-8")
    assert text == dump_json(json.loads(text))
