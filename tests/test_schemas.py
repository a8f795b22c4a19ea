"""The spec's JSON Schemas: each is valid, and good and bad instances validate as they should."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.validators import validator_for
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

SCHEMAS = Path(__file__).resolve().parents[1] / "spec" / "schemas"
BASE = "https://daskwire.dev/schemas/placeholder-v1/"
DRAFT = "https://json-schema.org/draft/2020-12/schema"

#: The schemas this file tests, by short name.
NAMES = ("placeholder", "header", "small-header")


def _load(path: Path) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def _registry() -> Registry:
    """Every schema of spec/schemas, registered under its $id so that $ref resolves."""
    resources = []
    for path in sorted(SCHEMAS.glob("*.schema.json")):
        document = _load(path)
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        resources.append((document["$id"], resource))
    registry: Registry = Registry().with_resources(resources)
    return registry


REGISTRY = _registry()


def _validator(name: str) -> Draft202012Validator:
    schema = _load(SCHEMAS / f"{name}.schema.json")
    return Draft202012Validator(schema, registry=REGISTRY)


# --- hand-written instances -----------------------------------------------------------------
# G1 and G5 are the pull request's own examples (background notes, section 1.4), decoded from
# the hex listed there by hand: pass-through values with the header {"serializer": "pickle"}.

G1_PLACEHOLDER: dict[str, Any] = {
    "_$header": {"serializer": "pickle", "lengths": [5], "count": 1, "deserialize": False},
    "_$findex": 0,
    "_$fcount": 1,
}
G5_FIRST: dict[str, Any] = {
    "_$header": {"serializer": "pickle", "lengths": [1], "count": 1, "deserialize": False},
    "_$findex": 0,
    "_$fcount": 1,
}
G5_SECOND: dict[str, Any] = {
    "_$header": {"serializer": "pickle", "lengths": [1, 1], "count": 2, "deserialize": False},
    "_$findex": 1,
    "_$fcount": 2,
}
# A raw byte string of 70000 bytes as a canonical encoder writes it (HD-10, CE-5, CE-8).
RAW_BYTE_STRING: dict[str, Any] = {
    "_$header": {"lengths": [70000], "compression": [None], "count": 1, "deserialize": True},
    "_$findex": 0,
    "_$fcount": 1,
}
# A zero-frame value, shaped like the pull request's example G4 (its bin key left out).
ZERO_FRAMES: dict[str, Any] = {
    "_$header": {
        "type": "emptymod.Empty",
        "serializer": "dask",
        "lengths": [],
        "compression": [],
        "count": 0,
        "deserialize": False,
    },
    "_$findex": 0,
    "_$fcount": 0,
}
# Split and compressed: one 70 MB frame sent as two lz4 shards (background notes, G6 remark).
SPLIT: dict[str, Any] = {
    "_$header": {
        "serializer": "pickle",
        "lengths": [70000000],
        "compression": ["lz4", "lz4"],
        "count": 2,
        "deserialize": False,
    },
    "_$findex": 3,
    "_$fcount": 2,
}
# rsds writes the keys in another order; order does not matter (PH-4).
RSDS_ORDER: dict[str, Any] = {
    "_$findex": 0,
    "_$fcount": 1,
    "_$header": {
        "serializer": "pickle",
        "lengths": [96],
        "compression": [None],
        "count": 1,
        "deserialize": False,
    },
}


def _with_header(**changes: Any) -> dict[str, Any]:
    """G1's placeholder with its header changed; a value of None deletes the key."""
    header = dict(G1_PLACEHOLDER["_$header"])
    for key, value in changes.items():
        if value is None:
            header.pop(key, None)
        else:
            header[key] = value
    return {**G1_PLACEHOLDER, "_$header": header}


GOOD: list[tuple[str, Any]] = [
    ("placeholder", G1_PLACEHOLDER),
    ("placeholder", G5_FIRST),
    ("placeholder", G5_SECOND),
    ("placeholder", RAW_BYTE_STRING),
    ("placeholder", ZERO_FRAMES),
    ("placeholder", SPLIT),
    ("placeholder", RSDS_ORDER),
    ("placeholder", {**G1_PLACEHOLDER, "_$findex": 2**64 - 1}),
    ("header", G1_PLACEHOLDER["_$header"]),
    ("header", G5_SECOND["_$header"]),
    ("header", {"count": 0, "deserialize": False, "lengths": []}),
    ("header", {"count": 1, "deserialize": False, "lengths": [3], "compression": [None]}),
    ("header", {"count": 2, "deserialize": False, "lengths": [9], "compression": ["lz4", None]}),
    # Serializer keys are opaque: any key, any value, any order (HD-1, HD-7).
    (
        "header",
        {
            "dtype": "<f8",
            "shape": [10],
            "strides": [8],
            "lengths": [80],
            "type": "x",
            "serializer": "dask",
            "compression": [None],
            "count": 1,
            "deserialize": False,
        },
    ),
    (
        "header",
        {
            "serializer": "dask",
            "type-serialized": "list",
            "is-collection": True,
            "sub-headers": [{"serializer": "pickle"}],
            "frame-lengths": [1],
            "count": 1,
            "deserialize": False,
            "lengths": [4],
        },
    ),
    (
        "header",
        {
            "serializer": "x",
            "count": 1,
            "deserialize": False,
            "lengths": [1],
            "nested": {"a": [{"b": None}]},
        },
    ),
    ("small-header", {}),
    ("small-header", {"compression": "lz4"}),
    ("small-header", {"compression": None}),
    ("small-header", {"compression": "zlib", "unknown": [1, 2]}),
    ("small-header", {"other": "ignored"}),
    # Unknown codec names are a decoder's business (CP-2), not the schema's.
    ("small-header", {"compression": "blosc"}),
]

BAD: list[tuple[str, Any, str]] = [
    (
        "placeholder",
        {k: v for k, v in G1_PLACEHOLDER.items() if k != "_$fcount"},
        "the third key is missing",
    ),
    (
        "placeholder",
        {k: v for k, v in G1_PLACEHOLDER.items() if k != "_$header"},
        "the header is missing",
    ),
    ("placeholder", {"_$findex": 0, "_$fcount": 0, "_$headers": {}}, "a misspelt key"),
    ("placeholder", {**G1_PLACEHOLDER, "extra": 1}, "a fourth key"),
    ("placeholder", {**G1_PLACEHOLDER, "_$findex": -1}, "a negative frame index"),
    ("placeholder", {**G1_PLACEHOLDER, "_$findex": True}, "a bool frame index"),
    ("placeholder", {**G1_PLACEHOLDER, "_$findex": 0.5}, "a fractional frame index"),
    ("placeholder", {**G1_PLACEHOLDER, "_$findex": "0"}, "a string frame index"),
    ("placeholder", {**G1_PLACEHOLDER, "_$fcount": None}, "a null frame count"),
    ("placeholder", {**G1_PLACEHOLDER, "_$fcount": 2**64}, "a frame count beyond u64"),
    ("placeholder", {**G1_PLACEHOLDER, "_$header": None}, "a null header"),
    ("placeholder", {**G1_PLACEHOLDER, "_$header": "83a8..."}, "a header as a string"),
    ("placeholder", [G1_PLACEHOLDER], "an array"),
    ("placeholder", _with_header(count=None), "a header without count"),
    ("placeholder", _with_header(lengths=None), "a header without lengths"),
    ("placeholder", _with_header(deserialize=None), "a header without deserialize"),
    ("placeholder", _with_header(count=-1), "a negative count"),
    ("placeholder", _with_header(count=True), "a bool count"),
    ("placeholder", _with_header(deserialize=0), "deserialize as an integer"),
    ("placeholder", _with_header(lengths=5), "lengths as an integer"),
    ("placeholder", _with_header(lengths=[-1]), "a negative length"),
    ("placeholder", _with_header(lengths=[1.5]), "a fractional length"),
    ("placeholder", _with_header(compression="lz4"), "compression as a string"),
    ("placeholder", _with_header(compression=[1]), "a codec name as an integer"),
    ("placeholder", _with_header(extra=G1_PLACEHOLDER), "a placeholder inside a header"),
    ("placeholder", _with_header(extra=[{"_$findex": 0}]), "a reserved key deep in a header"),
    (
        "header",
        {"count": 1, "deserialize": False, "lengths": [1], "_$findex": 0},
        "a header that holds a reserved key",
    ),
    ("header", {"count": 1, "deserialize": False}, "lengths missing"),
    ("header", {"count": 1, "deserialize": "false", "lengths": [1]}, "deserialize as a string"),
    (
        "header",
        {"count": 1, "deserialize": False, "lengths": [1], "compression": None},
        "compression as null instead of an array",
    ),
    ("header", [], "not a map"),
    ("small-header", {"compression": 1}, "a codec as an integer"),
    ("small-header", {"compression": ["lz4"]}, "a codec as an array"),
    ("small-header", {"compression": True}, "a codec as a bool"),
    ("small-header", [], "an array"),
    ("small-header", "", "a string"),
]


@pytest.mark.parametrize("path", sorted(SCHEMAS.glob("*.schema.json")), ids=lambda p: p.name)
def test_schema_is_valid(path: Path) -> None:
    schema = _load(path)
    validator_for(schema, default=Draft202012Validator).check_schema(schema)
    assert schema["$id"].startswith("https://"), "every schema has an absolute $id"


@pytest.mark.parametrize("name", NAMES)
def test_schema_header_fields(name: str) -> None:
    schema = _load(SCHEMAS / f"{name}.schema.json")
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == DRAFT
    assert schema["$id"] == f"{BASE}{name}.schema.json"
    assert schema["title"]
    assert "-" in schema["description"], "the description cites requirement IDs"


@pytest.mark.parametrize(("name", "instance"), GOOD)
def test_good_instance_validates(name: str, instance: Any) -> None:
    errors = [e.message for e in _validator(name).iter_errors(instance)]
    assert errors == []


@pytest.mark.parametrize(("name", "instance", "why"), BAD, ids=[b[2] for b in BAD])
def test_bad_instance_fails(name: str, instance: Any, why: str) -> None:
    assert not _validator(name).is_valid(instance), why


def test_placeholder_refers_to_header_by_id() -> None:
    schema = _load(SCHEMAS / "placeholder.schema.json")
    assert schema["properties"]["_$header"]["$ref"] == f"{BASE}header.schema.json"
