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
