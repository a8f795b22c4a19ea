"""The Tools pages' snippets: real inspect output from captures, and from a recording folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from daskwire_conformance.site import toolpages
from daskwire_conformance.traffic.recording import Recorder
from inspect_helpers import CAPTURES, capture

pytestmark = pytest.mark.timeout(60)


def _spec(tmp_path: Path) -> Path:
    spec = tmp_path / "spec"
    shutil.copytree(CAPTURES, spec / "dask-2023.11" / "captures")
    return spec


def test_snippets_from_the_captures(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    snippets = {p.relative_to(spec).as_posix(): t for p, t in toolpages.tool_snippets(spec).items()}
    assert set(snippets) == {
        "generated/tools/inspect-exit-codes.md",
        "generated/tools/inspect-help.md",
        "generated/tools/recordings.md",
        *(
            f"generated/tools/inspect/{name}.md"
            for name in (
                "handshake",
                "compute-task",
                "batch",
                "compressed-array",
                "json",
                "stats",
                "payload-error",
                "framing-error",
            )
        ),
    }
    assert "| 3 | a stream's framing broke" in snippets["generated/tools/inspect-exit-codes.md"]
    assert "usage: daskwire inspect" in snippets["generated/tools/inspect-help.md"]
    task = snippets["generated/tools/inspect/compute-task.md"]
    assert "$ daskwire inspect --pickles compute-task.bin" in task
    assert "(../dask-2023.11/captures/compute-task.bin)" in task
    assert "error invalid-msgpack [DM-1]" in snippets["generated/tools/inspect/payload-error.md"]
    framing = snippets["generated/tools/inspect/framing-error.md"]
    assert "framing error truncated-input [WF-6] at byte 269" in framing  # 69 + 200 bytes
    assert framing.rstrip().endswith("$ echo $?\n3\n```")
    assert "No recording of a real cluster" in snippets["generated/tools/recordings.md"]


def test_a_recording_folder_is_rendered(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    recorder = Recorder(spec / toolpages.RECORDINGS_DIR / "demo")
    recorder.open(1, client="127.0.0.1:1", upstream="127.0.0.1:8786", opened="t1")
    recorder.write(1, "c2s", capture("handshake-lz4.c2s"))
    recorder.write(1, "s2c", capture("handshake-lz4.s2c") + capture("compute-task"))
    recorder.close_all()
    text = toolpages.tool_snippets(spec)[spec / toolpages.RECORDINGS_SNIPPET]
    assert "### Recording `demo`" in text
    assert "$ daskwire inspect demo" in text
    assert "== connection 1 s2c (530 bytes)" in text
    assert "connection 1: agreed (DK-5): compression lz4, pickle protocol 5" in text
    assert "$ daskwire inspect --stats demo" in text
    tap = toolpages._tap_log()
    assert ("What the tap printed" in text) == (getattr(tap, "replay_lines", None) is not None)


def test_stale_snippets_are_removed(tmp_path: Path) -> None:
    spec = _spec(tmp_path)
    stale = spec / toolpages.TOOLS_DIR / "inspect" / "gone.md"
    stale.parent.mkdir(parents=True)
    stale.write_text("old")
    written: dict[Path, str] = {}
    toolpages.write_tool_snippets(spec, written.__setitem__)
    assert not stale.exists()
    assert spec / toolpages.RECORDINGS_SNIPPET in written


def test_the_page_states_the_constants() -> None:
    """The numbers spec/tools/inspect.md gives are the code's."""
    from daskwire_conformance.inspect import context, progress, sources, stats, tree
    from daskwire_conformance.traffic import pickles, stream

    page = (CAPTURES.parents[1] / "tools" / "inspect.md").read_text(encoding="utf-8")
    stated = [
        f"pieces of {stream.READ_CHUNK >> 20} MiB",
        f"files of {progress.PROGRESS_BYTES >> 20} MiB or more",
        f"Strings over {tree.STR_CHARS} characters",
        f"bins over {tree.BIN_BYTES} bytes",
        f"containers after {tree.ITEMS} items",
        f"the first {pickles.MAX_SHOWN} opcodes",
        f"read up to {sources.MAX_JSON_BYTES >> 20} MiB and {sources.MAX_FILE_FRAMES} frames",
        f"A hex dump shows at most the first {context.DUMP_BYTES >> 20} MiB of a message",
        f"(the first {stats.LISTED} of each)",
    ]
    flat = " ".join(page.split())
    for fact in stated:
        assert fact in flat, fact
