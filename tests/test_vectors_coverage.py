"""Coverage gates, per profile: every required requirement of the profile's spec pages has
positive and negative vectors in the profile's suite folder, and every error category the
profile uses has a vector there."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Final

import pytest
from daskwire.errors import Category
from daskwire_conformance.common.data import vectors_root
from daskwire_conformance.common.requirements import (
    Requirement,
    load_requirements,
    requirement_sort_key,
)
from daskwire_conformance.common.suite import Vector, load_vectors

REQUIREMENTS = load_requirements()

_CLAIMS = "a rule about conformance claims and levels, not about any input"
_ENCODER = "an encoder output rule: encode vectors check the output; no input breaks it"


@dataclass(frozen=True, kw_only=True)
class ProfileCoverage:
    """What one profile's suite must cover, and the reasons for its exceptions."""

    #: The suite folder under vectors/, which is also the profile's name.
    name: str
    #: True for a spec page (relative to spec/) whose requirements belong to this profile.
    owns_page: Callable[[str], bool]
    #: Required requirements that no input can break, so no negative vector can exist. An
    #: entry that gains a negative vector is stale and fails the gate.
    not_violable: dict[str, str]
    #: Required requirements that only rejections can exercise, so no positive vector exists.
    no_positive: dict[str, str]
    #: Error categories of the shared list that this profile never reports, with the reason.
    #: A category listed here must have no vector in the suite; every other one needs one.
    unused_categories: dict[str, str] = field(default_factory=dict)


#: Shared pages at the top of spec/ are placeholder-v1's; each later profile has a folder.
_PROFILE_FOLDERS: Final = ("dask-2023.11/",)

PLACEHOLDER_V1: Final = ProfileCoverage(
    name="placeholder-v1",
    owns_page=lambda page: "/" not in page,
    not_violable={
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
    },
    no_positive={
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
        "CE-14": "how an encoder refuses a codec it lacks; only reject-encode vectors exercise it",
    },
    unused_categories={
        "invalid-read-hint": "dask-2023.11 only (DE-1): placeholder-v1 has no read hint",
        "invalid-marker": "dask-2023.11 only (DE-1): placeholder-v1 has placeholders, not markers",
        "invalid-handshake": "dask-2023.11 only (DE-1): placeholder-v1 has no comm handshake",
    },
)

_DASK_OUTPUT = "a decoder output rule; checked by the values decode vectors expect"

DASK_2023_11: Final = ProfileCoverage(
    name="dask-2023.11",
    owns_page=lambda page: page.startswith("dask-2023.11/"),
    not_violable={
        "DB-1": "an acceptance rule: a top-level array is a batch, a map one message",
        "DC-1": _ENCODER,
        "DC-2": _ENCODER,
        "DK-1": "a session rule (write one's own handshake, then read the peer's, without "
        "waiting); handshake vectors check that a side writes its own",
        "DK-2": "defines what a side writes; a peer's message that is none is DK-3's to reject",
        "DK-4": "a rule on a side's own handshake; handshake vectors check the one it writes",
        "DK-5": "how valid handshakes combine; invalid ones are DK-3's to reject",
        "DK-6": "a rule on what a side writes next; handshake vectors with a message check it",
        "DK-7": "an acceptance rule: any supported codec is read whatever was agreed",
        "DM-3": "an acceptance rule: every top-level value is a message, a batch or a bare reply",
        "DM-9": "an acceptance rule: markers in any order of their indices are valid input",
        "DM-10": "an acceptance rule (unclaimed frames are valid input) and an encoder rule",
        "DM-11": "an encoder output rule (frame order of markers); checked by encode vectors",
        "DT-5": "an acceptance rule: every read hint on a frame boundary is valid input",
        "DP-1": "a property of implementations (nothing is unpickled or imported), not of input",
        "DP-2": _DASK_OUTPUT + " (pickled values in wire form)",
        "DP-3": "a rule about the golden vectors themselves, not about any input",
        "DR-1": _DASK_OUTPUT + " (forwarding: wire form)",
        "DR-2": _DASK_OUTPUT + " (pickled values in both modes)",
        "DS-5": _DASK_OUTPUT + " (serializer keys opaque and kept)",
        "DS-8": _DASK_OUTPUT + " (__Pickled__ sub-header keys kept)",
    },
    no_positive={
        "DB-3": "that one bad batch element rejects the batch; only rejections exercise it",
        "DE-1": "which categories report which faults; only rejections exercise it",
        "DE-2": "which category wins when several layers break; only rejections exercise it",
        "DT-8": "which stream check fails first; only rejections and stream errors exercise it",
    },
    unused_categories={
        "invalid-small-header": "dask-2023.11 has no small header (errors.md)",
        "invalid-placeholder": "placeholder-v1 only: dask-2023.11 has markers (errors.md)",
        "misplaced-placeholder": "placeholder-v1 only: dask-2023.11 has markers (errors.md)",
        "count-mismatch": "placeholder-v1 only: no _$fcount in dask-2023.11 (errors.md)",
        "length-mismatch": "sub-headers carry no original lengths (errors.md, DR-4)",
        "unclaimed-frame": "unclaimed frames are accepted in dask-2023.11 (DM-10)",
        "invalid-message": "every top-level value is a message or a bare reply (DM-3)",
    },
)

PROFILES: Final = (PLACEHOLDER_V1, DASK_2023_11)
_BY_NAME: Final = {p.name: p for p in PROFILES}


def _required(profile: ProfileCoverage) -> list[str]:
    return sorted(
        (
            rid
            for rid, req in REQUIREMENTS.items()
            if req.level == "required" and profile.owns_page(req.page)
        ),
        key=requirement_sort_key,
    )


def _owned(profile: ProfileCoverage) -> dict[str, Requirement]:
    return {rid: req for rid, req in REQUIREMENTS.items() if profile.owns_page(req.page)}


@cache
def _vectors(name: str) -> tuple[Vector, ...]:
    return tuple(load_vectors(vectors_root() / name))


@cache
def _by_requirement(name: str) -> tuple[dict[str, list[Vector]], dict[str, list[Vector]]]:
    positive: dict[str, list[Vector]] = defaultdict(list)
    negative: dict[str, list[Vector]] = defaultdict(list)
    for vector in _vectors(name):
        for rid in vector.requirements:
            (negative if vector.negative else positive)[rid].append(vector)
    return positive, negative


_REQUIRED_CASES = [(p.name, rid) for p in PROFILES for rid in _required(p)]
_CATEGORY_CASES = [(p.name, c.value) for p in PROFILES for c in Category]


def test_every_spec_page_belongs_to_one_profile() -> None:
    for req in REQUIREMENTS.values():
        owners = [p.name for p in PROFILES if p.owns_page(req.page)]
        assert len(owners) == 1, f"{req.id} ({req.page}) belongs to {owners or 'no profile'}"
    for folder in _PROFILE_FOLDERS:
        assert any(r.page.startswith(folder) for r in REQUIREMENTS.values()), folder


@pytest.mark.parametrize("profile", [p.name for p in PROFILES])
def test_profile_has_required_requirements_and_vectors(profile: str) -> None:
    assert _required(_BY_NAME[profile]), f"{profile}: no required requirement found"
    assert _vectors(profile), f"{profile}: no vectors in vectors/{profile}"


@pytest.mark.parametrize(("profile", "rid"), _REQUIRED_CASES)
def test_required_requirement_has_a_positive_vector(profile: str, rid: str) -> None:
    positive, _ = _by_requirement(profile)
    if rid in _BY_NAME[profile].no_positive:
        found = [v.id for v in positive.get(rid, [])]
        assert not found, (
            f"{profile}: {rid} is in no_positive but has positive vectors: {found[:3]}"
        )
        return
    assert positive.get(rid), f"gap: {profile}: required {rid} has no positive vector"


@pytest.mark.parametrize(("profile", "rid"), _REQUIRED_CASES)
def test_required_requirement_has_a_negative_vector(profile: str, rid: str) -> None:
    _, negative = _by_requirement(profile)
    if rid in _BY_NAME[profile].not_violable:
        found = [v.id for v in negative.get(rid, [])]
        assert not found, (
            f"{profile}: {rid} is in not_violable but has negative vectors: {found[:3]}"
        )
        return
    assert negative.get(rid), f"gap: {profile}: required {rid} has no negative vector"


@pytest.mark.parametrize("profile", [p.name for p in PROFILES])
@pytest.mark.parametrize("table", ["not_violable", "no_positive"])
def test_allow_lists_name_required_requirements_with_reasons(profile: str, table: str) -> None:
    coverage = _BY_NAME[profile]
    owned = _owned(coverage)
    for rid, reason in getattr(coverage, table).items():
        assert rid in owned, f"{profile}: {rid} is not a requirement of the profile's pages"
        assert owned[rid].level == "required", f"{profile}: {rid} is not required; drop it"
        assert len(reason) > 20, f"{profile}: {rid}: give a reason"


@pytest.mark.parametrize("profile", [p.name for p in PROFILES])
def test_vectors_cite_only_the_profiles_requirements(profile: str) -> None:
    owned = _owned(_BY_NAME[profile])
    cited = {r for v in _vectors(profile) for r in v.requirements}
    assert cited <= set(owned), sorted(cited - set(owned))


@pytest.mark.parametrize(("profile", "category"), _CATEGORY_CASES)
def test_every_error_category_has_a_vector(profile: str, category: str) -> None:
    coverage = _BY_NAME[profile]
    found = [
        v.id for v in _vectors(profile) if v.negative and v.expected.get("category") == category
    ]
    if category in coverage.unused_categories:
        assert not found, f"{profile}: {category} is listed as unused but has vectors: {found[:3]}"
        return
    assert found, f"gap: {profile}: no vector expects the category {category}"


@pytest.mark.parametrize("profile", [p.name for p in PROFILES])
def test_unused_categories_exist_and_have_reasons(profile: str) -> None:
    known = {c.value for c in Category}
    for category, reason in _BY_NAME[profile].unused_categories.items():
        assert category in known, f"{profile}: {category} is not a category"
        assert len(reason) > 20, f"{profile}: {category}: give a reason"


def test_every_category_is_used_by_some_profile() -> None:
    for category in Category:
        users = [p.name for p in PROFILES if category.value not in p.unused_categories]
        assert users, f"no profile reports {category.value}"


@pytest.mark.parametrize("profile", [p.name for p in PROFILES])
def test_every_category_a_vector_names_exists(profile: str) -> None:
    known = {c.value for c in Category}
    named: set[str] = set()
    for vector in _vectors(profile):
        if "category" in vector.expected:
            named.add(vector.expected["category"])
        named.update(vector.expected.get("also", ()))
    assert named <= known, sorted(named - known)


@pytest.mark.parametrize("profile", [p.name for p in PROFILES])
@pytest.mark.parametrize(
    "kind",
    ["encode", "decode", "unpack", "stream", "reject-decode", "reject-unpack", "reject-encode"],
)
def test_every_kind_has_vectors(profile: str, kind: str) -> None:
    assert any(v.kind == kind for v in _vectors(profile)), f"{profile}: no {kind} vector"
