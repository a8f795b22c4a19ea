"""Coverage gates: every MUST has positive and negative vectors, every category a vector."""

from __future__ import annotations

from collections import defaultdict

import pytest
from daskwire.errors import Category
from daskwire_conformance.common.requirements import load_requirements, requirement_sort_key
from daskwire_conformance.common.suite import Vector, load_vectors

VECTORS = load_vectors()
REQUIREMENTS = load_requirements()
REQUIRED = sorted(
    (rid for rid, req in REQUIREMENTS.items() if req.level == "required"), key=requirement_sort_key
)

_CLAIMS = "a rule about conformance claims and levels, not about any input"
_ENCODER = "an encoder output rule: encode vectors check the output; no input breaks it"

#: Required requirements that no input can break, so no negative vector can exist. Each
#: entry says why. An entry that gains a negative vector is stale and fails the gate.
NOT_VIOLABLE: dict[str, str] = {
    "CC-1": _CLAIMS,
    "CC-2": _CLAIMS,
    "CC-3": _CLAIMS,
    "CC-4": _CLAIMS,
    "CE-1": _ENCODER,
    "CE-2": _ENCODER,
    "CE-3": _ENCODER,
    "CE-4": _ENCODER,
    "CE-5": _ENCODER,
    "CE-6": _ENCODER,
    "CE-7": _ENCODER,
    "CE-8": _ENCODER,
    "CE-9": _ENCODER,
    "CE-10": "what an encoder's output must decode to; checked on every encode vector",
    "CP-3": "defines what nil and a missing compression key mean; every input follows it",
    "CP-8": "what a forwarding receiver must not do; checked by forwarding outputs",
    "HD-8": "a property of the spec and of implementations (no serializer is run)",
    "HD-10": "a canonical encoder rule, and decoders accepting raw byte strings of any size",
    "PH-4": "an acceptance rule: every key order is valid input",
    "PH-5": "says where a decoder takes a value's frames from; checked by decode outputs",
    "PH-12": "an acceptance rule: any order of ranges is valid input",
    "PL-5": "a decoder output rule (float widths kept); checked by decode outputs",
    "PL-8": "a decoder output rule (map order kept); checked by decode outputs",
    "PL-10": "a decoder output rule (one array type); no wire form tells lists from tuples",
    "RX-1": "a forwarding receiver output rule; checked by decode outputs",
    "RX-2": "a consuming receiver output rule; checked by decode outputs",
    "RX-4": "an encoder output rule for forwarded values; checked by encode vectors",
    "SH-3": "an acceptance rule: unknown frame 0 keys are ignored",
    "SH-4": _ENCODER,
    "SH-5": "an acceptance rule: the forms of an uncompressed frame 0",
}

#: Required requirements that only rejections can exercise, so no positive vector can exist.
NO_POSITIVE: dict[str, str] = {
    "CC-1": _CLAIMS,
    "CC-2": _CLAIMS,
    "CC-3": _CLAIMS,
    "CC-4": _CLAIMS,
    "ER-1": "how a decoder reports a rejection; only reject vectors exercise it",
    "ER-2": "that categories come from the closed list; only reject vectors exercise it",
    "ER-3": "which category wins when several layers break; only reject vectors exercise it",
    "ER-4": "how an encoder refuses a message; only reject-encode vectors exercise it",
    "WF-9": "which layer-1 check fails first; only rejections and stream errors exercise it",
    "CP-14": "that a size over a limit wins over a bad block; only rejections exercise it",
    "CE-14": "how an encoder refuses a codec it lacks; only a reject-encode vector exercises it",
}

_positive: dict[str, list[Vector]] = defaultdict(list)
_negative: dict[str, list[Vector]] = defaultdict(list)
for _v in VECTORS:
    for _rid in _v.requirements:
        (_negative if _v.negative else _positive)[_rid].append(_v)


@pytest.mark.parametrize("rid", REQUIRED)
def test_required_requirement_has_a_positive_vector(rid: str) -> None:
    if rid in NO_POSITIVE:
        assert not _positive.get(rid), f"{rid} is in NO_POSITIVE but has positive vectors"
        return
    assert _positive.get(rid), f"gap: required {rid} has no positive vector"


@pytest.mark.parametrize("rid", REQUIRED)
def test_required_requirement_has_a_negative_vector(rid: str) -> None:
    if rid in NOT_VIOLABLE:
        found = [v.id for v in _negative.get(rid, [])]
        assert not found, f"{rid} is in NOT_VIOLABLE but has negative vectors: {found[:3]}"
        return
    assert _negative.get(rid), f"gap: required {rid} has no negative vector"


@pytest.mark.parametrize("table", [NOT_VIOLABLE, NO_POSITIVE], ids=["not-violable", "no-positive"])
def test_allow_lists_name_required_requirements_with_reasons(table: dict[str, str]) -> None:
    for rid, reason in table.items():
        assert rid in REQUIREMENTS, f"{rid} is not a requirement of the spec"
        assert REQUIREMENTS[rid].level == "required", f"{rid} is not required; drop it"
        assert len(reason) > 20, f"{rid}: give a reason"


@pytest.mark.parametrize("category", [c.value for c in Category])
def test_every_error_category_has_a_vector(category: str) -> None:
    found = [v.id for v in VECTORS if v.negative and v.expected.get("category") == category]
    assert found, f"gap: no vector expects the category {category}"


def test_every_category_a_vector_names_exists() -> None:
    known = {c.value for c in Category}
    named = {v.expected["category"] for v in VECTORS if "category" in v.expected}
    assert named <= known, sorted(named - known)


@pytest.mark.parametrize(
    "kind",
    ["encode", "decode", "unpack", "stream", "reject-decode", "reject-unpack", "reject-encode"],
)
def test_every_kind_has_vectors(kind: str) -> None:
    assert any(v.kind == kind for v in VECTORS), f"no {kind} vector"
