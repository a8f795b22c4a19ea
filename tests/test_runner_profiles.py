"""Harness protocol 2: the profile is agreed in `start` and named in every request.

A version 1 testee (placeholder-v1 only) runs unchanged; the reference answers version 2
when the runner offers it. Each row runs in both directions: what the runner sends, and
what the reference testee answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest
from daskwire import PROFILES
from daskwire_conformance.runner.harness import (
    HarnessError,
    InProcessChannel,
    check_start_result,
    declared_profiles,
    profile_session,
)
from daskwire_conformance.runner.protocol import make_validator
from daskwire_conformance.testee import ReferenceTestee

VALIDATE = make_validator()
DECODE = {"cmd": "decode", "mode": "forwarding", "frames": ["", "80"]}


class Recording:
    """A testee that records every request, and can be made to speak protocol 1 only."""

    def __init__(self, *, v1_only: bool = False) -> None:
        self.inner = ReferenceTestee()
        self.v1_only = v1_only
        self.requests: list[dict[str, Any]] = []

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        self.requests.append(dict(request))
        if self.v1_only and request.get("cmd") == "start":
            # a testee written against protocol 1 knows nothing of `protocols`
            request = {k: v for k, v in request.items() if k != "protocols"}
        return self.inner.handle(request)


# testee, protocol agreed, profile field in requests
SESSIONS = [
    (False, 2, "placeholder-v1"),
    (True, 1, None),
]


@pytest.mark.parametrize(("v1_only", "protocol", "named"), SESSIONS)
def test_the_runner_offers_2_and_names_the_profile_only_when_agreed(
    v1_only: bool, protocol: int, named: str | None
) -> None:
    testee = Recording(v1_only=v1_only)
    channel = InProcessChannel(testee, validate=VALIDATE)
    start = channel.start()
    assert start["protocol"] == protocol
    caps, send = profile_session(channel, start, "placeholder-v1")
    assert caps == ReferenceTestee().capabilities()
    exchange = send(DECODE)
    assert exchange.failure is None, exchange.message
    assert exchange.reply == {"outcome": "ok", "result": {"message": {"map": []}}}
    first, second = testee.requests
    assert first == {"seq": 1, "cmd": "start", "protocol": 1, "protocols": [1, 2]}
    assert second.get("profile") == named
    assert channel.close() == []


@pytest.mark.parametrize(
    ("request_", "protocol", "declares"),
    [
        ({"cmd": "start", "protocol": 1}, 1, "capabilities"),
        ({"cmd": "start", "protocol": 1, "protocols": [1]}, 1, "capabilities"),
        ({"cmd": "start", "protocol": 1, "protocols": [1, 2]}, 2, "profiles"),
    ],
)
def test_the_reference_answers_the_newest_version_offered(
    request_: dict[str, Any], protocol: int, declares: str
) -> None:
    reply = ReferenceTestee().handle({"seq": 1, **request_})
    result = reply["result"]
    assert result["protocol"] == protocol
    assert {"capabilities", "profiles"} & set(result) == {declares}
    assert VALIDATE("reply:start", {"seq": 1, **reply}) is None
    assert list(declared_profiles(result)) == (
        list(PROFILES) if protocol == 2 else ["placeholder-v1"]
    )


def test_the_reference_refuses_a_profile_it_did_not_declare() -> None:
    testee = ReferenceTestee()
    testee.handle({"seq": 1, "cmd": "start", "protocol": 1, "protocols": [1, 2]})
    reply = testee.handle({"seq": 2, **DECODE, "profile": "dask-1999.1"})
    assert reply["outcome"] == "errored"
    assert "dask-1999.1" in reply["message"]
    ok = testee.handle({"seq": 3, **DECODE, "profile": "placeholder-v1"})
    assert ok == {"outcome": "ok", "result": {"message": {"map": []}}}


CAPS: dict[str, Any] = {
    "directions": ["wire"],
    "codecs": ["lz4"],
    "canonical": False,
    "limits": False,
}


@pytest.mark.parametrize(
    ("result", "problem"),
    [
        ({"protocol": 3, "capabilities": CAPS}, "this runner speaks 1 and 2"),
        ({"protocol": True, "capabilities": CAPS}, "this runner speaks 1 and 2"),
        ({"protocol": 1}, "no capabilities object"),
        ({"protocol": 2, "capabilities": CAPS}, "needs a profiles object"),
        ({"protocol": 2, "profiles": {"placeholder-v1": ["wire"]}}, "a capabilities object"),
        ({"protocol": 2, "profiles": {}}, "needs a profiles object"),
        ({"protocol": 2, "profiles": {"": CAPS}}, "needs a name"),
        ({"protocol": 1, "capabilities": {**CAPS, "directions": 5}}, "directions is not a list"),
        (
            {"protocol": 2, "profiles": {"placeholder-v1": {**CAPS, "codecs": [1]}}},
            "profile 'placeholder-v1': codecs is not a list of strings",
        ),
    ],
)
def test_a_start_result_the_runner_cannot_use_is_a_harness_error(
    result: dict[str, Any], problem: str
) -> None:
    with pytest.raises(HarnessError, match=problem):
        check_start_result({"outcome": "ok", "result": result})


def test_a_harness_error_shows_a_few_of_many_declared_profiles() -> None:
    start = {"protocol": 2, "profiles": {f"p{i}": CAPS for i in range(10_000)}}
    channel = InProcessChannel(ReferenceTestee())
    with pytest.raises(HarnessError) as caught:
        profile_session(channel, start, "placeholder-v1")
    assert str(caught.value).endswith("'p4' and 9995 more, not placeholder-v1")


def test_a_profile_the_testee_does_not_declare_is_a_harness_error() -> None:
    start = {"protocol": 2, "profiles": {"dask-1999.1": CAPS}}
    channel = InProcessChannel(ReferenceTestee())
    with pytest.raises(HarnessError, match=r"implements the profiles 'dask-1999\.1', not"):
        profile_session(channel, start, "placeholder-v1")


@pytest.mark.parametrize(
    ("request_", "valid"),
    [
        ({"seq": 2, **DECODE, "profile": "placeholder-v1"}, True),
        ({"seq": 2, **DECODE}, True),
        ({"seq": 2, **DECODE, "profile": ""}, False),
        ({"seq": 1, "cmd": "start", "protocol": 1, "protocols": [1, 2]}, True),
        ({"seq": 1, "cmd": "start", "protocol": 2}, False),
        ({"seq": 1, "cmd": "start", "protocol": 1, "profile": "placeholder-v1"}, False),
    ],
)
def test_the_request_schema_knows_version_2(request_: dict[str, Any], valid: bool) -> None:
    assert (VALIDATE("request", request_) is None) is valid


@pytest.mark.parametrize(
    ("result", "valid"),
    [
        ({"protocol": 2, "profiles": {"placeholder-v1": CAPS}}, True),
        ({"protocol": 2, "profiles": {"": CAPS}}, False),
        ({"protocol": 2, "profiles": {"placeholder-v1": CAPS}, "capabilities": CAPS}, False),
        ({"protocol": 1, "capabilities": CAPS}, True),
        ({"protocol": 1, "capabilities": CAPS, "profiles": {"placeholder-v1": CAPS}}, False),
    ],
)
def test_the_start_result_schema_knows_version_2(result: dict[str, Any], valid: bool) -> None:
    implementation = {"name": "x", "version": "1", "language": "go"}
    reply = {"seq": 1, "outcome": "ok", "result": {**result, "implementation": implementation}}
    assert (VALIDATE("reply:start", reply) is None) is valid


# --- dask-2023.11 encoders judged by meaning when they do not claim canonical output ---------


class _NotCanonical(ReferenceTestee):
    """The reference, declaring dask-2023.11 encoders that are not canonical, and whose frames
    a test may change after encoding."""

    def __init__(self, change: Any = None) -> None:
        super().__init__()
        self.change = change

    def capabilities(self) -> dict[str, Any]:
        return {**super().capabilities(), "canonical": False}

    def encode(self, message: Any, **kwargs: Any) -> Any:
        frames = [bytes(f) for f in super().encode(message, **kwargs)]
        return self.change(frames) if self.change is not None else frames


def _dask_encode_vectors() -> list[Any]:
    from daskwire_conformance.common.data import vectors_dir
    from daskwire_conformance.common.suite import load_suite

    chosen = [v for v in load_suite(vectors_dir("dask-2023.11")) if v.kind == "encode"]
    assert len(chosen) >= 10
    return chosen


def _swap_two_data_frames(frames: list[bytes]) -> list[bytes]:
    """A broken encoder: with two data frames or more, the last two change places."""
    if len(frames) >= 3 and frames[-1] != frames[-2]:
        frames[-1], frames[-2] = frames[-2], frames[-1]
    return frames


def _reorder_frame0_map(frames: list[bytes]) -> list[bytes]:
    """A legal, non-canonical encoder: frame 0 written with a non-minimal map header."""
    import msgpack

    value = msgpack.unpackb(frames[0], strict_map_key=False, use_list=False, raw=False)
    if isinstance(value, dict) and value and len(value) < 16 and b"\xca" not in frames[0]:
        frames[0] = b"\xde" + len(value).to_bytes(2, "big") + frames[0][1:]
    return frames


@pytest.mark.parametrize(
    ("change", "passes"),
    [(None, True), (_reorder_frame0_map, True), (_swap_two_data_frames, False)],
    ids=["as-is", "non-minimal-map-header", "two-data-frames-swapped"],
)
def test_dask_encoders_are_judged_by_the_profiles_reference(change: Any, passes: bool) -> None:
    """Without `canonical`, a dask-2023.11 encoder's frames are decoded by dask-2023.11's
    reference (not placeholder-v1's) as a consuming receiver and compared by meaning."""
    from daskwire_conformance.runner.judge import Capabilities, judge_vector

    channel = InProcessChannel(_NotCanonical(change))
    caps, send = profile_session(channel, channel.start(), "dask-2023.11")
    judged = Capabilities.of(caps, "dask-2023.11")
    assert judged.profile == "dask-2023.11"
    assert not judged.canonical
    outcomes = {v.id: judge_vector(v, judged, send).outcome for v in _dask_encode_vectors()}
    if passes:
        assert set(outcomes.values()) == {"passed"}, outcomes
    else:
        assert "failed" in set(outcomes.values())


def _append_unclaimed_frame(frames: list[bytes]) -> list[bytes]:
    """A broken encoder: one frame more than the markers claim (DM-10, DT-2)."""
    return [*frames, b"\xff"]


@pytest.mark.parametrize("change", [_append_unclaimed_frame], ids=["one-frame-too-many"])
def test_dask_encoders_write_no_frame_the_markers_do_not_claim(change: Any) -> None:
    """A decoder accepts unclaimed frames (DM-10), so the judge checks an encoder's frames
    against its markers itself: every vector fails."""
    from daskwire_conformance.runner.judge import Capabilities, judge_vector

    channel = InProcessChannel(_NotCanonical(change))
    caps, send = profile_session(channel, channel.start(), "dask-2023.11")
    judged = Capabilities.of(caps, "dask-2023.11")
    results = [judge_vector(v, judged, send) for v in _dask_encode_vectors()]
    assert {r.outcome for r in results} == {"failed"}
    assert all("DM-10" in r.reason for r in results)


def test_dask_marker_order_is_checked() -> None:
    """DM-11: frames assigned in pre-order; another order decodes to the same message, and
    still fails."""
    from daskwire_conformance.runner.profiles.dask_2023_11 import (
        marker_order_problem as _marker_order_problem,
    )

    first = b"\x82\xa1a\x81\xae__Serialized__\x01\xa1b\x81\xae__Serialized__\x03"
    swapped = b"\x82\xa1a\x81\xae__Serialized__\x03\xa1b\x81\xae__Serialized__\x01"
    sub = b"\x81\xaenum-sub-frames\x01"
    assert _marker_order_problem([first, sub, b"x", sub, b"y"]) is None
    assert "DM-11" in str(_marker_order_problem([swapped, sub, b"y", sub, b"x"]))
    assert "DM-10" in str(_marker_order_problem([first, sub, b"x", sub, b"y", b"z"]))
    assert "DT-2" in str(_marker_order_problem([b"\x80", b"z"]))
    assert _marker_order_problem([b"\x80"]) is None


class _ShortHint(ReferenceTestee):
    """A packer of dask-2023.11 that writes the shortest legal read hint: the prelude only."""

    def pack(self, frames: list[bytes]) -> bytes:
        import struct

        if self.profile != "dask-2023.11":
            return super().pack(frames)
        return struct.pack(
            f"<{len(frames) + 2}Q", 8 * (len(frames) + 1), len(frames), *map(len, frames)
        ) + b"".join(frames)


def test_a_packer_may_write_any_legal_read_hint() -> None:
    """DT-6 is a SHOULD: packed bytes with another legal hint pass (DT-3), a bad hint fails."""
    from daskwire_conformance.common.data import vectors_dir
    from daskwire_conformance.common.suite import load_suite
    from daskwire_conformance.runner.judge import Capabilities, judge_vector

    channel = InProcessChannel(_ShortHint())
    caps, send = profile_session(channel, channel.start(), "dask-2023.11")
    judged = Capabilities.of(caps, "dask-2023.11")
    assert judged.pack
    unpacks = [v for v in load_suite(vectors_dir("dask-2023.11")) if v.kind == "unpack"]
    assert {judge_vector(v, judged, send).outcome for v in unpacks} == {"passed"}

    class _BadHint(_ShortHint):
        def pack(self, frames: list[bytes]) -> bytes:
            return b"\x01" + super().pack(frames)[1:]  # a hint inside the prelude

    channel = InProcessChannel(_BadHint())
    caps, send = profile_session(channel, channel.start(), "dask-2023.11")
    outcomes = {judge_vector(v, judged, send).outcome for v in unpacks}
    assert outcomes == {"failed"}


def test_serve_of_a_profile_other_than_placeholder_v1_refuses_protocol_1() -> None:
    """Protocol 1 means placeholder-v1: a reference serving dask-2023.11 only cannot take it."""
    testee = ReferenceTestee()
    testee.only = ("dask-2023.11",)
    v1 = testee.handle({"seq": 1, "cmd": "start", "protocol": 1})
    assert v1["outcome"] == "errored"
    v2 = testee.handle({"seq": 1, "cmd": "start", "protocol": 1, "protocols": [1, 2]})
    assert list(v2["result"]["profiles"]) == ["dask-2023.11"]


# --- `daskwire check` over several profiles: {profile} paths, selections, exit codes ---------

CLI_CASES = [
    # a report path that, made concrete, is the baseline the run reads
    (
        [
            "--profile",
            "dask-2023.11",
            "--baseline",
            "b-{profile}.txt",
            "--json-report",
            "b-dask-2023.11.txt",
        ],
        2,
        "the same file as --baseline",
    ),
    # one baseline for two profiles
    (["--baseline", "b.txt"], 2, "put {profile} in the path of --baseline"),
    # two reports, one concrete path
    (["--json-report", "r-{profile}.json", "--junit-xml", "r-{profile}.json"], 2, "same file"),
    # a selection only one suite has: the other is not run, the run passes
    (["--run", "decode/batch/*"], 0, "no vectors of placeholder-v1 selected"),
    # a selection no suite has
    (["--run", "no/such/*"], 2, "no vectors selected in any profile's suite"),
]


@pytest.mark.parametrize(("argv", "code", "text"), CLI_CASES)
def test_check_over_several_profiles(
    argv: list[str], code: int, text: str, tmp_path: Any, monkeypatch: Any, capsys: Any
) -> None:
    from daskwire_conformance.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "b.txt").write_text("", encoding="utf-8")
    (tmp_path / "b-dask-2023.11.txt").write_text("", encoding="utf-8")
    assert main(["check", *argv]) == code
    out = capsys.readouterr()
    assert text in out.out + out.err
    # nothing overwrote a baseline
    assert (tmp_path / "b-dask-2023.11.txt").read_text(encoding="utf-8") == ""


# --- the comm handshake (DK-1 to DK-5): the judge's side ---------------------------------------

#: A real handshake frame 0 of distributed 2026.8.0 proposing lz4 and pickle protocol 5,
#: transcribed from spec/dask-2023.11/captures/handshake-lz4.c2s.bin.
_HS_LZ4 = bytes.fromhex(
    "83ab636f6d7072657373696f6ea36c7a34a6707974686f6e93030b07af7069636b6c652d70726f746f636f6c05"
)
_LZ4 = {"compression": "lz4", "pickle-protocol": 5}

#: A handshake a side must not write for the proposal lz4/5 (DK-2, DK-4), and why, each
#: written out by hand.
_BAD_OWN = [
    pytest.param([_HS_LZ4, b"\x80"], "one frame", id="two-frames"),
    pytest.param([b"\xc1"], "not one msgpack map", id="not-msgpack"),
    pytest.param([b"\x91\x80"], "not one msgpack map", id="array"),
    pytest.param(
        [
            bytes.fromhex(
                "83a6707974686f6e93030b07ab636f6d7072657373696f6ea36c7a34af7069636b6c652d70726f746f636f6c05"
            )
        ],
        "keys are",
        id="python-first",
    ),
    pytest.param(
        [bytes.fromhex("82ab636f6d7072657373696f6ea36c7a34af7069636b6c652d70726f746f636f6c05")],
        "keys are",
        id="no-python",
    ),
    pytest.param(
        [_HS_LZ4.replace(bytes.fromhex("a36c7a34"), bytes.fromhex("a47a6c6962"))],
        "compression",
        id="other-codec",
    ),
    pytest.param([_HS_LZ4[:-1] + b"\x04"], "pickle-protocol", id="other-protocol"),
    pytest.param([_HS_LZ4[:-1] + b"\xc3"], "pickle-protocol", id="protocol-true"),
    pytest.param(
        [_HS_LZ4.replace(bytes.fromhex("93030b07"), bytes.fromhex("92030b"))],
        "three non-negative",
        id="python-two-parts",
    ),
    pytest.param(
        [_HS_LZ4.replace(bytes.fromhex("93030b07"), bytes.fromhex("9303ff07"))],
        "three non-negative",
        id="python-negative",
    ),
]


def test_own_handshake_check_passes_the_real_one() -> None:
    from daskwire_conformance.runner.profiles.dask_2023_11 import own_handshake_problem

    assert own_handshake_problem([_HS_LZ4], _LZ4) is None


@pytest.mark.parametrize(("frames", "why"), _BAD_OWN)
def test_own_handshake_check_refuses(frames: list[bytes], why: str) -> None:
    from daskwire_conformance.runner.profiles.dask_2023_11 import own_handshake_problem

    problem = own_handshake_problem(frames, _LZ4)
    assert problem is not None
    assert why in problem


def _handshake_vectors() -> list[Any]:
    from daskwire_conformance.common.data import vectors_dir
    from daskwire_conformance.common.suite import load_suite

    vectors = load_suite(vectors_dir("dask-2023.11"))
    return [v for v in vectors if v.kind in ("handshake", "reject-handshake")]


class _Handshaker(ReferenceTestee):
    """The reference with its handshake reply replaced by `answer(request, reference reply)`."""

    def __init__(self, answer: Any) -> None:
        super().__init__()
        self.answer = answer

    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        return dict(self.answer(local, super().handshake(local, frames, limits=limits)))


def _judge_all(testee: ReferenceTestee) -> list[Any]:
    from daskwire_conformance.runner.judge import Capabilities, judge_vector

    channel = InProcessChannel(testee)
    caps, send = profile_session(channel, channel.start(), "dask-2023.11")
    judged = Capabilities.of(caps, "dask-2023.11")
    assert "handshake" in judged.optional
    return [judge_vector(v, judged, send) for v in _handshake_vectors()]


def test_reference_passes_the_handshake_vectors() -> None:
    results = _judge_all(ReferenceTestee())
    assert len(results) >= 30
    assert {r.outcome for r in results} == {"passed"}


@pytest.mark.parametrize(
    ("answer", "why"),
    [
        pytest.param(
            lambda local, reply: {**reply, "agreed": {**reply["agreed"], "pickle-protocol": 5}},
            "DK-5",
            id="max-protocol",
        ),
        pytest.param(
            lambda local, reply: {**reply, "agreed": {**reply["agreed"], "pickle-protocol": True}},
            "DK-5",
            id="protocol-as-bool",
        ),
        pytest.param(
            lambda local, reply: {**reply, "frames": [_HS_LZ4.hex()]},
            "its own handshake",
            id="always-lz4",
        ),
        pytest.param(lambda local, reply: {"agreed": reply["agreed"]}, "ok reply", id="no-frames"),
    ],
)
def test_wrong_handshake_replies_fail(answer: Any, why: str) -> None:
    """A side that agrees wrongly, or writes a handshake not for its own proposal, fails the
    positive vectors that can show it."""
    results = [r for r in _judge_all(_Handshaker(answer)) if r.kind == "handshake"]
    failing = [r for r in results if r.outcome != "passed"]
    assert failing, "no handshake vector caught it"
    assert all(why in r.reason for r in failing)


def test_handshake_vectors_need_the_capability() -> None:
    """Without `handshake` declared, the handshake vectors are skipped as optional."""
    from daskwire_conformance.runner.judge import Capabilities, judge_vector

    caps = Capabilities.of(
        {"directions": ["wire"], "codecs": ["lz4"], "canonical": False, "limits": True},
        "dask-2023.11",
    )
    results = [judge_vector(v, caps, _never_sent) for v in _handshake_vectors()]
    assert {(r.outcome, r.optional_skip) for r in results} == {("skipped", True)}


def _never_sent(body: Any) -> Any:
    raise AssertionError(f"sent {body}")


class _AlwaysLz4(ReferenceTestee):
    """A writer that compresses with lz4 whatever its connection agreed (breaks DK-6)."""

    def encode(self, message: Any, *, compression: str | None, **kwargs: Any) -> Any:
        return super().encode(message, compression="lz4", **kwargs)


class _TrustsTheAgreement(ReferenceTestee):
    """A reader that refuses data frames compressed with a codec the connection did not
    agree, here any codec at all after agreeing none (breaks DK-7)."""

    agreed: str | None = None

    def handshake(self, local: Any, frames: list[bytes], *, limits: Any) -> dict[str, Any]:
        result = super().handshake(local, frames, limits=limits)
        self.agreed = result["agreed"]["compression"]
        return result

    def decode(self, frames: list[bytes], *, mode: str, limits: Any) -> Any:
        from daskwire import UnknownCodec

        if self.agreed is None and any(b"\xa3lz4" in f or b"\xa4zlib" in f for f in frames):
            raise UnknownCodec("not the agreed codec")
        return super().decode(frames, mode=mode, limits=limits)


@pytest.mark.parametrize(
    ("testee", "caught", "why"),
    [
        pytest.param(
            _AlwaysLz4,
            {
                "handshake/next/nothing-agreed",
                "handshake/next/different-codecs",
                "handshake/next/zlib-agreed",
            },
            "DK-6",
            id="compresses-whatever-was-agreed",
        ),
        pytest.param(
            _TrustsTheAgreement,
            {"handshake/next/reads-forwarded-lz4"},
            "",
            id="refuses-codecs-not-agreed",
        ),
    ],
)
def test_next_message_rules_are_checked(testee: Any, caught: set[str], why: str) -> None:
    """DK-6 and DK-7: what a side writes and reads after the handshake."""
    results = {r.id: r for r in _judge_all(testee())}
    failing = {i for i, r in results.items() if r.outcome != "passed"}
    assert failing == caught
    assert all(why in results[i].reason for i in caught)


def test_handshake_vectors_need_what_their_next_message_needs() -> None:
    """The handshake capability runs every handshake vector; one that writes a message next
    needs the encode direction too, one that reads the peer's next message a consuming
    decoder (DK-6, DK-7). Neither missing direction is an optional skip."""
    from daskwire_conformance.runner.judge import Capabilities, unsupported

    caps = Capabilities.of(
        {
            "directions": [],
            "codecs": ["lz4", "zlib"],
            "canonical": False,
            "limits": True,
            "handshake": True,
        },
        "dask-2023.11",
    )
    why = {v.id: unsupported(v, caps) for v in _handshake_vectors()}
    writes = {i for i, v in zip(why, _handshake_vectors(), strict=True) if "message" in v.input}
    reads = {i for i, v in zip(why, _handshake_vectors(), strict=True) if "receive" in v.input}
    assert writes
    assert reads
    for vid, found in why.items():
        if vid in writes:
            assert found == (
                "direction 'encode' not declared (the message after the handshake)",
                False,
            )
        elif vid in reads:
            assert found == (
                "direction 'decode-consuming' not declared (the message after the handshake)",
                False,
            )
        else:
            assert found is None, (vid, found)
