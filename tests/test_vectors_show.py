"""`daskwire vectors show`: one vector's notation, hex dumps and the runner's exact requests."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path
from typing import Any

import pytest
from daskwire_conformance import cli
from daskwire_conformance.common.suite import Vector, load_vectors
from daskwire_conformance.runner.protocol import load_registry, schema_uri
from daskwire_conformance.vectors.show import close_matches, render_text, show_document
from jsonschema import Draft202012Validator

ROOT = Path(__file__).resolve().parents[1]
VECTORS = ROOT / "vectors" / "placeholder-v1"

#: A testee that records every request it gets and declares everything, so that the runner
#: sends every request of every vector; it answers `errored` to keep the run short. It speaks
#: harness protocol 1, as `vectors show` writes the requests, unless V2 is set.
RECORDER = textwrap.dedent(
    """
    from daskwire_conformance.testee import ReferenceTestee

    SEEN = []
    V2 = False
    CODECS = ["lz4", "zlib", "snappy", "zstd"]

    class Recorder:
        def handle(self, request):
            SEEN.append(dict(request))
            if request["cmd"] == "start":
                if not V2:
                    request = {k: v for k, v in request.items() if k != "protocols"}
                reply = dict(ReferenceTestee().handle(request))
                result = reply["result"]
                for caps in result.get("profiles", {"-": result.get("capabilities")}).values():
                    caps["codecs"] = CODECS
                return reply
            if request["cmd"] == "stop":
                return {"outcome": "ok", "result": {}}
            return {"outcome": "errored", "message": "recording only"}
    """
)


def _recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, *, v2: bool) -> str:
    module = f"recorder_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{module}.py").write_text(RECORDER.replace("V2 = False", f"V2 = {v2}"))
    monkeypatch.syspath_prepend(str(tmp_path))
    return module


@pytest.fixture
def recorder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _recorder(tmp_path, monkeypatch, v2=False)


@pytest.fixture
def recorder_v2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Any:
    return _recorder(tmp_path, monkeypatch, v2=True)


def recorded(recorder: str, *args: str) -> list[dict[str, Any]]:
    import importlib

    code = cli.main(["check", "--vectors", str(VECTORS), "--python", f"{recorder}:Recorder", *args])
    assert code == 1  # every vector errored: the recorder only records
    seen: list[dict[str, Any]] = importlib.import_module(recorder).SEEN
    assert (seen[0]["cmd"], seen[-1]["cmd"]) == ("start", "stop")
    return seen[1:-1]


@pytest.fixture(scope="module")
def vectors() -> list[Vector]:
    return load_vectors(VECTORS)


def test_show_gives_every_request_the_runner_sends(
    recorder: str, vectors: list[Vector], capsys: pytest.CaptureFixture[str]
) -> None:
    sent = [{k: v for k, v in r.items() if k != "seq"} for r in recorded(recorder)]
    capsys.readouterr()
    shown = [
        {k: v for k, v in r["request"].items() if k != "seq"}
        for vector in vectors
        for r in show_document(vector)["requests"]
    ]
    assert len(sent) == len(shown)
    assert sent == shown


# one vector of each shape: kinds, one mode only, limits, repeat forms, options
EXACT = [
    "encode/pr-examples/g1",
    "decode/pr-examples/g1",
    "invalid/limits/max-depth-payload",
    "stream/chunking/g1/byte-by-byte",
    "stream/chunking/large-frame/frame-boundaries",
    "invalid/encoder/offloaded-top-level",
]


@pytest.mark.parametrize("vector_id", EXACT)
def test_show_gives_the_exact_requests_of_a_run_of_one_vector(
    recorder: str, vector_id: str, vectors: list[Vector]
) -> None:
    vector = next(v for v in vectors if v.id == vector_id)
    shown = [r["request"] for r in show_document(vector)["requests"]]
    assert recorded(recorder, "--run", vector_id) == shown


@pytest.mark.parametrize("vector_id", EXACT[:2])
def test_under_protocol_2_the_same_requests_name_their_profile(
    recorder_v2: str, vector_id: str, vectors: list[Vector]
) -> None:
    vector = next(v for v in vectors if v.id == vector_id)
    shown = [r["request"] for r in show_document(vector)["requests"]]
    assert recorded(recorder_v2, "--run", vector_id) == [
        {**r, "profile": "placeholder-v1"} for r in shown
    ]


def test_show_covers_a_reject_decode_vector_of_one_mode(vectors: list[Vector]) -> None:
    one_mode = [v for v in vectors if v.kind == "reject-decode" and len(v.expected["modes"]) == 1]
    assert one_mode
    for vector in one_mode:
        directions = [r["direction"] for r in show_document(vector)["requests"]]
        # RX-3: the other mode is sent too, and must accept with the `accepted` message
        assert set(vector.expected["accepted"]) | set(vector.expected["modes"]) == {
            "forwarding",
            "consuming",
        }
        assert directions == ["decode-forwarding", "decode-consuming"]


# vector id, lines the text view shows
TEXT = [
    (
        "encode/pr-examples/g1",
        [
            "encode/pr-examples/g1",
            "  Encodes PR example G1 to the PR's exact frames and wire bytes",
            "requirements CE-4, CE-5, CE-6, CE-8, CE-9, PH-5, RX-4, SH-4, WF-1",
            '  options: {"compression":null,"shard_size":67108864}',
            "expected output, as wire bytes (annotated hex dump):",
            "  000000  03 00 00 00 00 00 00 00  frame count N = 3",
            '  encode             {"seq":2,"cmd":"encode","message":{"map":[["op","x"],',
        ],
    ),
    (
        "invalid/limits/max-depth-payload",
        [
            "kind         reject-decode",
            '  category: "limit-exceeded"',
            "input frames (annotated hex dump):",
            '  decode-forwarding  {"seq":2,"cmd":"decode","mode":"forwarding","frames":',
            '  decode-consuming   {"seq":3,"cmd":"decode","mode":"consuming","frames":',
            '"limits":{"max_depth":3}}',
        ],
    ),
    (
        "stream/chunking/g1/byte-by-byte",
        [
            "input stream, in 127 chunks of " + "1, " * 16 + "... bytes",
            '  wire               {"seq":2,"cmd":"stream",',
        ],
    ),
    (
        "invalid/encoder/offloaded-top-level",
        ["kind         reject-encode", "  category: ", '  encode             {"seq":2,'],
    ),
    (
        "invalid/payload/depth-257-maps",
        ["... (1538 characters in all)", "(strings over 200 characters are cut; --json shows all)"],
    ),
]


@pytest.mark.parametrize(("vector_id", "lines"), TEXT)
def test_the_text_view(
    vector_id: str, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["vectors", "show", vector_id]) == 0
    out = capsys.readouterr().out
    for line in lines:
        assert line in out, line


def test_the_text_view_has_no_dump_for_a_message_without_bytes(vectors: list[Vector]) -> None:
    vector = next(v for v in vectors if v.kind == "reject-encode")
    assert "annotated hex dump" not in render_text(show_document(vector))


def test_the_json_view_is_complete_and_its_requests_follow_the_schema(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (
        cli.main(["vectors", "show", "--json", "stream/chunking/large-frame/frame-boundaries"]) == 0
    )
    doc = json.loads(capsys.readouterr().out)
    assert list(doc) == [
        "id",
        "description",
        "kind",
        "level",
        "requirements",
        "needs",
        "derived",
        "file",
        "input",
        "expected",
        "dumps",
        "requests",
    ]
    assert doc["input"] == next(v for v in load_vectors() if v.id == doc["id"]).input
    [request] = doc["requests"]
    assert max(len(c) for c in request["request"]["chunks"]) == 131074  # in full, never cut
    validator = Draft202012Validator(
        {"$ref": schema_uri("harness-request.schema.json")},
        registry=load_registry(ROOT / "spec" / "schemas"),
    )
    assert list(validator.iter_errors(request["request"])) == []


def test_every_vector_can_be_shown(vectors: list[Vector]) -> None:
    for vector in vectors:
        doc = show_document(vector)
        assert render_text(doc).startswith(vector.id + "\n")
        json.dumps(doc)


# what was asked, what the error says
UNKNOWN = [
    (
        ["decode/pr-exampls/g1"],
        "no vector 'decode/pr-exampls/g1' in {root}; close matches: decode/pr-examples/g1, ",
    ),
    (
        ["decode/pr-examples"],
        "; close matches: decode/pr-examples/g1, decode/pr-examples/g3-pr-order, ",
    ),
    (["zzzzzzzz"], "no vector 'zzzzzzzz' in {root}\n"),
    (
        ["--root", "/nonexistent", "encode/pr-examples/g1"],
        "vectors folder /nonexistent does not exist",
    ),
]


@pytest.mark.parametrize(("args", "message"), UNKNOWN)
def test_an_unknown_id_is_a_usage_error_with_close_matches(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["vectors", "show", *args]) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("daskwire vectors show: ")
    assert message.format(root=VECTORS) in err


def test_close_matches_prefer_the_area_an_id_names() -> None:
    ids = ["decode/a/x", "decode/a/y", "decode/ab/x", "encode/a/x"]
    assert close_matches("decode/a", ids)[:2] == ["decode/a/x", "decode/a/y"]
    assert close_matches("decode/a/z", ids)[0] in {"decode/a/x", "decode/a/y"}
    assert close_matches("nothing-like-it", ids) == []


#: Rejections checked under limits of their own: their dump must state their category.
LIMITED_REJECTIONS = [
    v
    for v in load_vectors(VECTORS)
    if v.input.get("limits")
    and v.kind in ("reject-decode", "reject-unpack", "stream")
    and "category" in v.expected
]


@pytest.mark.parametrize("vector", LIMITED_REJECTIONS, ids=[v.id for v in LIMITED_REJECTIONS])
def test_a_dump_states_the_error_under_the_vectors_own_limits(vector: Vector) -> None:
    dumps = show_document(vector)["dumps"]
    errors = [line for d in dumps for line in d["text"].splitlines() if "!!" in line]
    accepted = {vector.expected["category"], *vector.expected.get("also", ())}
    assert errors, "the dump states no error"
    assert any(any(c in line for c in accepted) for line in errors), errors
