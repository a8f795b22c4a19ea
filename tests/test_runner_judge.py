"""Verdicts of the judge on hand-made replies, and how levels and skips decide the exit code."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import daskwire
import pytest
from daskwire_conformance.common.suite import Vector
from daskwire_conformance.runner.harness import InProcessChannel
from daskwire_conformance.runner.judge import Capabilities, Result, judge_vector
from daskwire_conformance.runner.run import EXIT_FAILED, EXIT_OK, Run, summarize
from daskwire_conformance.testee import ReferenceTestee

MSG = {"map": [["op", "ping"], ["n", 1]]}
FRAMES = [bytes(f).hex() for f in daskwire.encode({"op": "ping", "n": 1})]
WIRE = daskwire.pack_bytes([bytes.fromhex(f) for f in FRAMES]).hex()
OPTIONS = {"compression": None, "shard_size": 65536}
ALL = Capabilities(
    directions=frozenset({"encode", "decode-forwarding", "decode-consuming", "wire"}),
    codecs=frozenset({"lz4", "zlib"}),
    canonical=True,
    limits=True,
)


def vector(kind: str, inp: dict[str, Any], exp: dict[str, Any], **extra: Any) -> Vector:
    group = {"encode": "encode", "decode": "decode", "unpack": "wire", "stream": "stream"}
    node = {
        "id": f"{group.get(kind, 'invalid')}/test/{kind}",
        "description": "hand-made",
        "requirements": ["PL-1"],
        "level": "required",
        "kind": kind,
        "input": inp,
        "expected": exp,
        **extra,
    }
    return Vector.from_json(node, "test.json")


DECODE = vector("decode", {"frames": FRAMES}, {"forwarding": MSG, "consuming": MSG})
REJECT = vector(
    "reject-decode",
    {"frames": ["", "c1"]},
    {"category": "invalid-msgpack", "modes": ["forwarding", "consuming"]},
)
ENCODE = vector(
    "encode",
    {"message": MSG, "options": OPTIONS},
    {"frames": FRAMES, "wire": WIRE, "consumed": MSG, "canonical": True},
)
#: An encode vector that asks for lz4: its output is judged by the independent decompression.
ENCODE_LZ4 = vector(
    "encode",
    {"message": MSG, "options": {**OPTIONS, "compression": "lz4"}},
    {"frames": FRAMES, "wire": WIRE, "consumed": MSG, "canonical": False},
)
#: Frame 0 of a message whose payload is lz4-compressed: {"compression": "lz4"}.
LZ4_SMALL_HEADER = bytes(daskwire.encode({"x": "y" * 20000}, compression="lz4")[0]).hex()
REJECT_ENCODE = vector(
    "reject-encode",
    {"message": {"map": [["_$findex", 1]]}, "options": OPTIONS},
    {"category": "unencodable-value"},
)
UNPACK = vector("unpack", {"wire": WIRE}, {"frames": FRAMES})
STREAM_ERR = vector(
    "stream", {"chunks": [WIRE[:20]]}, {"messages": [], "category": "truncated-input"}
)


def ok(result: dict[str, Any]) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    return lambda request: {"outcome": "ok", "result": result}


def rejected(category: str) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    return lambda request: {"outcome": "rejected", "category": category, "message": "no"}


def boom(request: Mapping[str, Any]) -> Mapping[str, Any]:
    raise RuntimeError("testee bug")


class Fake:
    """A testee answering every request but start with `reply`."""

    def __init__(self, reply: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> None:
        self.reply = reply
        self.requests: list[Mapping[str, Any]] = []

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        self.requests.append(request)
        if request["cmd"] in ("start", "stop"):
            return ReferenceTestee().handle(request)
        return self.reply(request)


def judge(vec: Vector, reply: Any, caps: Capabilities = ALL) -> tuple[Result, Fake]:
    fake = Fake(reply)
    channel = InProcessChannel(fake)
    channel.start()
    return judge_vector(vec, caps, channel.request), fake


def caps(**change: Any) -> Capabilities:
    fields = {"directions": ALL.directions, "codecs": ALL.codecs, "canonical": True, "limits": True}
    return Capabilities(**{**fields, **change})


# vector, reply, capabilities, outcome, signature
CASES = [
    (REJECT, ok({"message": MSG}), ALL, "failed", "forwarding:accepted-invalid"),
    (REJECT, rejected("invalid-header"), ALL, "failed", "forwarding:wrong-category:invalid-header"),
    (REJECT, rejected("invalid-msgpack"), ALL, "passed", "passed"),
    (
        DECODE,
        rejected("invalid-msgpack"),
        ALL,
        "failed",
        "forwarding:rejected-valid:invalid-msgpack",
    ),
    (DECODE, ok({"message": MSG}), ALL, "passed", "passed"),
    (
        DECODE,
        ok({"message": {"map": [["n", 1], ["op", "ping"]]}}),
        ALL,
        "failed",
        "forwarding:mismatch",
    ),
    (
        DECODE,
        ok({"message": {"map": [["op", {"bin": "70696e67"}], ["n", 1]]}}),
        ALL,
        "failed",
        "forwarding:mismatch",
    ),
    (DECODE, ok({"message": {"float": 1}}), ALL, "errored", "forwarding:protocol"),
    (
        DECODE,
        ok({"message": MSG}),
        caps(directions=frozenset({"decode-consuming"})),
        "passed",
        "passed",
    ),
    (DECODE, ok({"message": MSG}), caps(directions=frozenset({"encode"})), "skipped", "skipped"),
    (
        DECODE,
        lambda r: {"outcome": "skipped", "reason": "not yet"},
        ALL,
        "skipped",
        "forwarding:skipped",
    ),
    (
        DECODE,
        lambda r: {"outcome": "errored", "message": "oops"},
        ALL,
        "errored",
        "forwarding:testee-errored",
    ),
    (DECODE, boom, ALL, "errored", "forwarding:testee-errored"),
    (DECODE, lambda r: {"outcome": "maybe"}, ALL, "errored", "forwarding:protocol"),
    (ENCODE, ok({"frames": FRAMES}), ALL, "passed", "passed"),
    (ENCODE, ok({"frames": ["", "81a16ed10001a26f70a470696e67"]}), ALL, "failed", "mismatch"),
    (
        ENCODE,
        ok({"frames": ["", "82a26f70a470696e67a16ed10001"]}),
        caps(canonical=False),
        "passed",
        "passed",
    ),
    (ENCODE, ok({"frames": ["", "c1"]}), caps(canonical=False), "failed", "invalid-output"),
    (ENCODE, ok({"frames": ["zz"]}), ALL, "errored", "protocol"),
    (ENCODE_LZ4, ok({"frames": FRAMES}), caps(canonical=False), "passed", "passed"),
    (
        ENCODE_LZ4,
        ok({"frames": [LZ4_SMALL_HEADER, "00"]}),
        caps(canonical=False),
        "failed",
        "invalid-output",
    ),
    (
        ENCODE_LZ4,
        ok({"frames": [LZ4_SMALL_HEADER, "0100000010c1"]}),
        caps(canonical=False),
        "failed",
        "invalid-output",
    ),
    (ENCODE, rejected("unencodable-value"), ALL, "failed", "rejected-valid:unencodable-value"),
    (REJECT_ENCODE, ok({"frames": FRAMES}), ALL, "failed", "accepted-invalid"),
    (REJECT_ENCODE, rejected("unencodable-value"), ALL, "passed", "passed"),
    (UNPACK, ok({"frames": FRAMES}), ALL, "passed", "passed"),
    (UNPACK, ok({"frames": FRAMES[:1]}), ALL, "failed", "mismatch"),
    (UNPACK, ok({"frames": FRAMES}), caps(directions=frozenset({"encode"})), "skipped", "skipped"),
    (STREAM_ERR, rejected("truncated-input"), ALL, "passed", "passed"),
    (STREAM_ERR, ok({"messages": []}), ALL, "failed", "accepted-invalid"),
    (STREAM_ERR, rejected("trailing-bytes"), ALL, "failed", "wrong-category:trailing-bytes"),
]


@pytest.mark.parametrize(("vec", "reply", "capabilities", "outcome", "signature"), CASES)
def test_verdicts(
    vec: Vector, reply: Any, capabilities: Capabilities, outcome: str, signature: str
) -> None:
    result, _ = judge(vec, reply, capabilities)
    assert (result.outcome, result.signature()) == (outcome, signature)
    if outcome != "passed":
        assert result.reason


def test_decode_vectors_check_each_declared_mode() -> None:
    result, fake = judge(DECODE, ok({"message": MSG}))
    assert [c.mode for c in result.checks] == ["forwarding", "consuming"]
    assert [r["mode"] for r in fake.requests if r["cmd"] == "decode"] == ["forwarding", "consuming"]


def test_reject_decode_only_checks_the_modes_the_vector_lists() -> None:
    consuming_only = vector(
        "reject-decode",
        {"frames": ["", "c1"]},
        {"category": "invalid-msgpack", "modes": ["consuming"]},
    )
    result, _ = judge(consuming_only, rejected("invalid-msgpack"))
    assert [c.mode for c in result.checks] == ["consuming"]
    skipped, _ = judge(
        consuming_only,
        rejected("invalid-msgpack"),
        caps(directions=frozenset({"decode-forwarding"})),
    )
    assert skipped.outcome == "skipped"
    assert not skipped.optional_skip


def by_mode(
    answers: Mapping[str, Callable[[Mapping[str, Any]], Mapping[str, Any]]],
) -> Callable[[Mapping[str, Any]], Mapping[str, Any]]:
    return lambda request: answers[request["mode"]](request)


ACCEPTED = vector(
    "reject-decode",
    {"frames": FRAMES},
    {"category": "unknown-codec", "modes": ["consuming"], "accepted": {"forwarding": MSG}},
)


@pytest.mark.parametrize(
    ("forwarding", "outcome", "signature"),
    [
        (ok({"message": MSG}), "passed", "passed"),
        (rejected("unknown-codec"), "failed", "forwarding:rejected-valid:unknown-codec"),
        (ok({"message": {"map": []}}), "failed", "forwarding:mismatch"),
    ],
)
def test_an_unlisted_mode_must_accept_with_the_recorded_message(
    forwarding: Any, outcome: str, signature: str
) -> None:
    answers = {"forwarding": forwarding, "consuming": rejected("unknown-codec")}
    result, fake = judge(ACCEPTED, by_mode(answers))
    assert [r["mode"] for r in fake.requests if r["cmd"] == "decode"] == [
        "forwarding",
        "consuming",
    ]
    assert (result.outcome, result.signature()) == (outcome, signature)
    # a forwarding-only testee is not skipped: its mode must accept
    alone, _ = judge(ACCEPTED, by_mode(answers), caps(directions=frozenset({"decode-forwarding"})))
    assert [c.mode for c in alone.checks] == ["forwarding"]


PACKING = caps(optional=frozenset({"pack"}))


@pytest.mark.parametrize(
    ("wire", "outcome", "signature"),
    [(WIRE, "passed", "passed"), (WIRE[:-2] + "00", "failed", "pack:mismatch")],
)
def test_unpack_vectors_also_pack_with_the_pack_capability(
    wire: str, outcome: str, signature: str
) -> None:
    def reply(request: Mapping[str, Any]) -> Mapping[str, Any]:
        if request["cmd"] == "pack":
            assert request["frames"] == FRAMES
            return {"outcome": "ok", "result": {"wire": wire}}
        return {"outcome": "ok", "result": {"frames": FRAMES}}

    result, fake = judge(UNPACK, reply, PACKING)
    assert [r["cmd"] for r in fake.requests[1:]] == ["unpack", "pack"]
    assert (result.outcome, result.signature()) == (outcome, signature)
    # without the capability, no pack request
    _, fake = judge(UNPACK, reply)
    assert [r["cmd"] for r in fake.requests[1:]] == ["unpack"]


STREAM_AFTER_ONE = vector(
    "stream",
    {"chunks": [WIRE + "02"]},
    {"messages": [FRAMES], "category": "truncated-input"},
)


@pytest.mark.parametrize(
    ("extra", "outcome"),
    [({}, "passed"), ({"messages": [FRAMES]}, "passed"), ({"messages": []}, "failed")],
)
def test_messages_sent_with_a_stream_error_are_judged(extra: dict[str, Any], outcome: str) -> None:
    def reply(request: Mapping[str, Any]) -> Mapping[str, Any]:
        return {"outcome": "rejected", "category": "truncated-input", **extra}

    result, _ = judge(STREAM_AFTER_ONE, reply)
    assert result.outcome == outcome


@pytest.mark.parametrize(
    ("vec", "need"),
    [
        (
            vector(
                "reject-encode",
                {"message": MSG, "options": OPTIONS, "limits": {"max_depth": 1}},
                {"category": "limit-exceeded"},
            ),
            "encode-limits",
        ),
        (
            vector(
                "encode",
                {"message": MSG, "options": {"compression": None}},
                {"frames": FRAMES, "wire": WIRE, "consumed": MSG, "canonical": True},
                needs=["default-shard-size"],
            ),
            "default-shard-size",
        ),
    ],
)
def test_new_capabilities_are_optional_skips_naming_them(vec: Vector, need: str) -> None:
    result, fake = judge(vec, ok({"frames": FRAMES}))
    assert (result.outcome, result.optional_skip) == ("skipped", True)
    assert need in result.reason
    assert [r["cmd"] for r in fake.requests] == ["start"]
    declared, _ = judge(vec, rejected("limit-exceeded"), caps(optional=frozenset({need})))
    assert declared.outcome != "skipped"


def test_a_frame_mismatch_shows_a_hexdump_diff_naming_where_it_differs() -> None:
    result, _ = judge(ENCODE, ok({"frames": ["", "82a26f70a470696e67a16e02"]}))
    (check,) = result.checks
    assert check.failure == "mismatch"
    assert check.message.startswith("first difference: frame 1")
    assert "--- expected" in check.diff
    assert "+++ actual" in check.diff


@pytest.mark.parametrize(
    ("needs", "capabilities", "optional"),
    [
        (["codec:zlib"], caps(codecs=frozenset({"lz4"})), True),
        (["limits"], caps(limits=False), True),
        (["codec:lz4"], caps(codecs=frozenset()), False),
    ],
)
def test_missing_capabilities_skip_and_only_optional_ones_are_excused(
    needs: list[str], capabilities: Capabilities, optional: bool
) -> None:
    vec = vector("decode", {"frames": FRAMES}, {"forwarding": MSG, "consuming": MSG}, needs=needs)
    result, fake = judge(vec, ok({"message": MSG}), capabilities)
    assert result.outcome == "skipped"
    assert result.optional_skip is optional
    assert not [r for r in fake.requests if r["cmd"] == "decode"]


def test_limits_travel_with_the_request() -> None:
    vec = vector(
        "reject-decode",
        {"frames": ["", "c1"], "limits": {"max_depth": 3}},
        {"category": "invalid-msgpack", "modes": ["forwarding"]},
    )
    _, fake = judge(vec, rejected("invalid-msgpack"))
    assert [r.get("limits") for r in fake.requests if r["cmd"] == "decode"] == [{"max_depth": 3}]


def _result(outcome: str, level: str = "required", *, optional_skip: bool = False) -> Result:
    return Result(
        id=f"decode/x/{outcome}-{level}",
        kind="decode",
        level=level,
        requirements=("PL-1",),
        outcome=outcome,
        optional_skip=optional_skip,
    )


# results, exit code
LEVELS = [
    ([_result("passed")], EXIT_OK),
    ([_result("failed")], EXIT_FAILED),
    ([_result("errored")], EXIT_FAILED),
    ([_result("skipped")], EXIT_FAILED),
    ([_result("skipped", optional_skip=True)], EXIT_OK),
    ([_result("failed", "recommended")], EXIT_OK),
    ([_result("errored", "optional")], EXIT_OK),
]


@pytest.mark.parametrize(("results", "code"), LEVELS)
def test_only_required_non_passes_fail_the_run(results: list[Result], code: int) -> None:
    run = Run(target="t", results=tuple(results), selected=len(results), start={}, complete=True)
    assert summarize(run).exit_code == code


def test_an_incomplete_run_is_never_green() -> None:
    results = (_result("passed"),)
    run = Run(target="t", results=results, selected=2, start={}, complete=False)
    assert summarize(run).exit_code == 4
    run = Run(target="t", results=results, selected=2, start={}, complete=False, harness_error="x")
    assert summarize(run).exit_code == 3


@pytest.mark.parametrize(
    ("frame1", "reason"),
    [
        ("00", "the frames produced do not decompress"),  # no lz4 block at all
        ("0100000010c1", "the reference cannot decode the frames produced: invalid-msgpack"),
    ],
)
def test_compressed_output_is_read_independently_and_says_why_it_fails(
    frame1: str, reason: str
) -> None:
    result, _ = judge(ENCODE_LZ4, ok({"frames": [LZ4_SMALL_HEADER, frame1]}), caps(canonical=False))
    assert reason in result.reason
