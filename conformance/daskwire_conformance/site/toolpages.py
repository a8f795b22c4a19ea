"""Snippets of the Tools pages, made at site build: real `inspect` output, exit codes, tap logs."""

from __future__ import annotations

import argparse
import importlib
import io
import logging
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any, Final

from daskwire_conformance.common.hexdump import fit_width
from daskwire_conformance.common.requirements import GENERATED_DIR
from daskwire_conformance.common.words import counted

__all__ = [
    "CAPTURES",
    "RECORDINGS_DIR",
    "RECORDINGS_SNIPPET",
    "TOOLS_DIR",
    "tool_snippets",
    "write_tool_snippets",
]

log = logging.getLogger("mkdocs.plugins.daskwire")

#: Where the snippets go, relative to the spec folder; pages include them with `--8<--`.
TOOLS_DIR: Final = f"{GENERATED_DIR}/tools"
#: The captures of real traffic that the inspect page shows, relative to the spec folder.
CAPTURES: Final = "dask-2023.11/captures"
#: Recording folders of a real cluster (`daskwire tap --record`), one per subfolder.
RECORDINGS_DIR: Final = "tools/recordings"
#: The snippet that shows every recording: inspect's output, its statistics, the tap's log.
RECORDINGS_SNIPPET: Final = f"{TOOLS_DIR}/recordings.md"
#: The modules whose output the snippets show; the site builds without them.
INSPECT_MODULE: Final = "daskwire_conformance.inspect.run"
INSPECT_COMMAND: Final = "daskwire_conformance.inspect.command"
TAP_LOG_MODULE: Final = "daskwire_conformance.tap.log"
#: Columns of the help text, so that it fits beside a page's table of contents.
HELP_WIDTH: Final = 78
#: Lines of one tool's output shown at most, so that a long recording keeps the page short.
MAX_LINES: Final = 400

_NOTICE: Final = "<!-- Generated at site build time by daskwire_conformance.site; do not edit. -->"


def _absent(exc: ModuleNotFoundError, name: str) -> ModuleType | None:
    """None when `exc` says that module `name` itself (or a package above it) is missing;
    otherwise `exc` again: a module that is there but fails to import is a bug to see."""
    if exc.name is None or not name.startswith(exc.name):
        raise exc
    found: ModuleType | None = None
    return found


def _inspect_run() -> ModuleType | None:
    try:
        return importlib.import_module(INSPECT_MODULE)
    except ModuleNotFoundError as exc:
        return _absent(exc, INSPECT_MODULE)


def _inspect_command() -> ModuleType | None:
    try:
        return importlib.import_module(INSPECT_COMMAND)
    except ModuleNotFoundError as exc:
        return _absent(exc, INSPECT_COMMAND)


def _tap_log() -> ModuleType | None:
    try:
        return importlib.import_module(TAP_LOG_MODULE)
    except ModuleNotFoundError as exc:
        return _absent(exc, TAP_LOG_MODULE)


def _fence(text: str) -> str:
    """A fenced text block holding `text`, its lines wrapped to fit the page
    (`HELP_WIDTH`), with a fence longer than any run of backticks."""
    text = fit_width(text, HELP_WIDTH)
    longest = max((len(m.group(0)) for m in re.finditer(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text.rstrip(chr(10))}\n{fence}"


def _cut(text: str) -> str:
    lines = text.rstrip("\n").splitlines()
    if len(lines) <= MAX_LINES:
        return "\n".join(lines)
    rest = counted(len(lines) - MAX_LINES, "more line")
    return "\n".join([*lines[:MAX_LINES], f"... ({rest} on the site's build machine)"])


def _run_inspect(module: ModuleType, paths: list[Path], **options: Any) -> tuple[int, str]:
    out = io.StringIO()
    err = io.StringIO()
    code: int = module.inspect_paths(paths, module.Options(progress=False, **options), out, err)
    return code, out.getvalue()


def _example(command: str, code: int, output: str, intro: str, notice: bool = True) -> str:
    """A snippet: `intro`, then the command line, its output and its exit code."""
    return "\n".join(
        [
            *([_NOTICE, ""] if notice else []),
            intro,
            "",
            _fence(f"$ {command}\n{_cut(output)}\n$ echo $?\n{code}"),
            "",
        ]
    )


def _help_text() -> str:
    command = _inspect_command()
    if command is None:
        return ""
    parser = argparse.ArgumentParser(prog="daskwire")
    sub = parser.add_subparsers()
    command.register(sub)
    inspect_parser: argparse.ArgumentParser = sub.choices["inspect"]

    def formatter(prog: str) -> argparse.HelpFormatter:
        return argparse.RawDescriptionHelpFormatter(prog, width=HELP_WIDTH)

    inspect_parser.formatter_class = formatter
    return inspect_parser.format_help()


def _exit_codes(module: ModuleType) -> str:
    lines = [_NOTICE, "", "| Exit code | Meaning |", "| --- | --- |"]
    lines += [f"| {code} | {meaning} |" for code, meaning in module.EXIT_CODES]
    return "\n".join(lines) + "\n"


def _capture_snippets(spec_dir: Path, module: ModuleType) -> dict[str, str]:
    """The inspect page's examples, from the committed captures of real traffic."""
    folder = spec_dir / CAPTURES
    link = f"../{CAPTURES}"
    out: dict[str, str] = {}
    shows: list[tuple[str, str, dict[str, Any], str]] = [
        ("handshake", "handshake-lz4.c2s.bin", {}, "A comm handshake, a connection's first"),
        (
            "compute-task",
            "compute-task.bin",
            {"pickles": True},
            "A `compute-task` the scheduler sent a worker, its `run_spec` pickle disassembled",
        ),
        ("batch", "batch.bin", {}, "A batch of three messages"),
        (
            "compressed-array",
            "compressed-array.bin",
            {},
            "A reply holding a numpy array whose frame is lz4-compressed",
        ),
        ("json", "compressed-array.bin", {"as_json": True}, "The same reply as JSON lines"),
    ]
    for name, file, options, what in shows:
        path = folder / file
        if not path.is_file():
            continue
        code, output = _run_inspect(module, [path], **options)
        flags = "".join(
            f" --{'json' if key == 'as_json' else key}" for key, on in options.items() if on
        )
        intro = f"{what} ([`{file}`]({link}/{file})):"
        out[f"{name}.md"] = _example(f"daskwire inspect{flags} {file}", code, output, intro)
    every = sorted(folder.glob("*.bin"))
    if every:
        code, output = _run_inspect(module, every, stats=True)
        names = " ".join(p.name for p in every)
        intro = f"Statistics over every [capture]({link}/../examples.md) in `spec/{CAPTURES}`:"
        out["stats.md"] = _example(f"daskwire inspect --stats {names}", code, output, intro)
    out.update(_error_snippets(folder, module, link))
    return out


def _error_snippets(folder: Path, module: ModuleType, link: str) -> dict[str, str]:
    """Two errors made from real captures: a payload error, then a stream cut short."""
    shake, task, batch = (
        folder / n for n in ("handshake-lz4.c2s.bin", "compute-task.bin", "batch.bin")
    )
    if not (shake.is_file() and task.is_file() and batch.is_file()):
        return {}
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = bytearray(task.read_bytes())
        # The first byte of frame 0 (after the hint, the count and two lengths) becomes 0xc1,
        # a byte msgpack never uses: the framing holds, the message does not decode.
        data[32] = 0xC1
        broken = Path(tmp) / "one-byte-changed.bin"
        broken.write_bytes(shake.read_bytes() + bytes(data) + batch.read_bytes())
        code, output = _run_inspect(module, [broken])
        intro = (
            f"A payload error: [`handshake-lz4.c2s.bin`]({link}/handshake-lz4.c2s.bin), "
            f"then [`compute-task.bin`]({link}/compute-task.bin) with the first byte of its "
            f"frame 0 changed to `c1`, then [`batch.bin`]({link}/batch.bin). The broken "
            "message is reported and the next one is read:"
        )
        out["payload-error.md"] = _example(f"daskwire inspect {broken.name}", code, output, intro)
        cut = Path(tmp) / "cut-short.bin"
        cut.write_bytes(shake.read_bytes() + task.read_bytes()[:200])
        code, output = _run_inspect(module, [cut])
        intro = (
            f"A framing error: the handshake, then the first 200 of the 461 bytes of "
            f"[`compute-task.bin`]({link}/compute-task.bin), as a capture that stopped "
            "mid-message looks. Reading stops there:"
        )
        out["framing-error.md"] = _example(f"daskwire inspect {cut.name}", code, output, intro)
    return out


def _recordings(spec_dir: Path, module: ModuleType | None) -> str:
    """Every recording of a real cluster: inspect's output, its statistics, the tap's log."""
    folders = sorted(
        p for p in (spec_dir / RECORDINGS_DIR).glob("*") if (p / "index.jsonl").is_file()
    )
    lines = [_NOTICE, ""]
    if not folders or module is None:
        lines.append("No recording of a real cluster is part of the site yet.")
        return "\n".join(lines) + "\n"
    tap = _tap_log()
    replay: Callable[[Path], list[str]] | None = getattr(tap, "replay_lines", None)
    for folder in folders:
        where = f"{RECORDINGS_DIR}/{folder.name}"
        lines += [f"### Recording `{folder.name}`", "", f"Folder: `spec/{where}`.", ""]
        if replay is not None:
            shown = _cut("\n".join(replay(folder)))
            lines += ["What the tap printed, replayed from the recording:", "", _fence(shown), ""]
        code, output = _run_inspect(module, [folder])
        lines += [_example(f"daskwire inspect {folder.name}", code, output, "Each message:", False)]
        code, output = _run_inspect(module, [folder], stats=True)
        lines += [
            _example(f"daskwire inspect --stats {folder.name}", code, output, "Statistics:", False)
        ]
    return "\n".join(lines) + "\n"


def tool_snippets(spec_dir: Path) -> dict[Path, str]:
    """Every snippet of the Tools pages, by the path it is written to under `spec_dir`."""
    module = _inspect_run()
    out: dict[Path, str] = {}
    base = spec_dir / TOOLS_DIR
    if module is not None:
        out[base / "inspect-exit-codes.md"] = _exit_codes(module)
        out[base / "inspect-help.md"] = "\n".join([_NOTICE, "", _fence(_help_text()), ""])
        for name, text in _capture_snippets(spec_dir, module).items():
            out[base / "inspect" / name] = text
    else:
        log.info("%s is not installed; the inspect page has no examples", INSPECT_MODULE)
    out[spec_dir / RECORDINGS_SNIPPET] = _recordings(spec_dir, module)
    return out


def write_tool_snippets(spec_dir: Path, write: Callable[[Path, str], None]) -> None:
    """Write the snippets with `write` (which skips unchanged files); remove stale ones."""
    snippets = tool_snippets(spec_dir)
    for path, text in snippets.items():
        write(path, text)
    for stale in (spec_dir / TOOLS_DIR).rglob("*.md"):
        if stale not in snippets:
            stale.unlink()
