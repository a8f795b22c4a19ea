"""Which distributed releases write the same wire format: frames and TCP bytes, by experiment.

For each pinned release this script creates a virtual environment (in a temporary folder, or
in --cache to keep it), pip-installs `distributed==VERSION` with numpy and lz4, and runs
scripts/dask_probe.py inside it. The probe prints, as JSON, what `distributed.protocol.dumps`
returns for a fixed table of messages and the exact bytes that a real `distributed.comm` TCP
connection carries for the same messages, handshake included (see the probe's docstring).

Every release is then compared with the reference release (the newest by default), message by
message: the TCP framing (what the first u64, the no-split hint, covers), frame 0, the
sub-headers' keys and their order, their other values, the pickles inside them (compared as
bytes, reported with their pickle protocol; never loaded) and the data frames. The result is a
table on standard output and, with --markdown, a page for the spec.

    nice -n 10 python scripts/dask_release_range.py --cache ~/.cache/daskwire-release-range \\
        --markdown spec/dask-2023.11/release-range.md

A release can carry extra pins after a "+": `2023.11.0+msgpack==1.0.7`. Needs the network
(PyPI) for the first install of each release; pip's own cache keeps the wheels. Standard
library only; runs with Python 3.11 or newer, and the environments use the same interpreter
unless --python names another.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import pickletools
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROBE = Path(__file__).resolve().parent / "dask_probe.py"
#: 2023.10.1 is the control just before the no-split hint (2023.11.0); 2023.12.1 and 2024.1.0
#: bracket the pickle fallback of `dumps`; then about one release a half-year, and 2023.11.0 once
#: more with the msgpack of its day.
DEFAULT_RELEASES = (
    "2023.10.1",
    "2023.11.0",
    "2023.11.0+msgpack==1.0.7",
    "2023.12.1",
    "2024.1.0",
    "2024.6.2",
    "2024.12.1",
    "2025.5.1",
    "2025.12.0",
    "2026.8.0",
)
BASE_REQUIREMENTS = ("numpy", "lz4")
#: Packages whose versions head the versions table, in this order.
KEY_PACKAGES = ("distributed", "dask", "msgpack", "numpy", "lz4", "tornado", "cloudpickle")
INSTALL_TIMEOUT = 1800  # seconds for one pip install
PROBE_TIMEOUT = 600  # seconds for one probe run
RELEASE_RE = re.compile(r"^\d{4}\.\d{1,2}\.\d+(\.\d+)?$")
PIN_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*==[A-Za-z0-9.+!_-]+$")

#: Difference categories, in the order a table cell lists them.
CATEGORIES = (
    "error",
    "framing",
    "frame count",
    "frame 0",
    "sub-header keys/order",
    "sub-header values",
    "pickles",
    "data frames",
)


class Failure(Exception):
    """A step of the experiment failed; the message says which and why."""


@dataclass(frozen=True)
class Release:
    """One environment to probe: a distributed version plus optional extra pins."""

    spec: str  # as given: "2023.11.0" or "2023.11.0+msgpack==1.0.7"
    version: str
    pins: tuple[str, ...]

    @property
    def requirements(self) -> list[str]:
        pinned = {p.split("==", 1)[0].lower() for p in self.pins}
        base = [r for r in BASE_REQUIREMENTS if r.lower() not in pinned]
        return [f"distributed=={self.version}", *base, *self.pins]

    @property
    def slug(self) -> str:
        return re.sub(r"[^A-Za-z0-9.]+", "_", self.spec)


def parse_release(text: str) -> Release:
    version, *pins = text.strip().split("+")
    if not RELEASE_RE.match(version):
        raise Failure(f"not a distributed release: {version!r} (expected e.g. 2026.8.0)")
    for pin in pins:
        if not PIN_RE.match(pin):
            raise Failure(f"not a pin: {pin!r} (expected NAME==VERSION, e.g. msgpack==1.0.7)")
    return Release(text.strip(), version, tuple(pins))


# -- running the probe in one environment --------------------------------------------------------


def log(message: str) -> None:
    print(f"[release-range] {message}", file=sys.stderr, flush=True)


def child_env() -> dict[str, str]:
    """The environment without settings that would change what the probe sees."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASK_", "PYTHON", "PIP_REQUIRE"))
        and k not in ("VIRTUAL_ENV", "CONDA_PREFIX")
    }
    env["PYTHONHASHSEED"] = "0"
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def run(cmd: Sequence[str], what: str, timeout: float) -> subprocess.CompletedProcess[str]:
    try:
        done = subprocess.run(
            list(cmd),
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=child_env(),
        )
    except subprocess.TimeoutExpired as exc:
        raise Failure(f"{what}: no result after {timeout:.0f} s: {' '.join(cmd)}") from exc
    except OSError as exc:
        raise Failure(f"{what}: cannot run {cmd[0]}: {exc}") from exc
    if done.returncode != 0:
        lines = (done.stderr or done.stdout).strip().splitlines()[-25:]
        tail = "\n".join(line if len(line) <= 300 else line[:299] + "…" for line in lines)
        raise Failure(f"{what} failed (exit {done.returncode}): {' '.join(cmd)}\n{tail}")
    return done


def venv_python(venv: Path) -> Path:
    return venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def prepare(release: Release, root: Path, python: str) -> tuple[Path, bool]:
    """The interpreter of a virtual environment with the release installed, and whether it was
    reused from the cache."""
    venv = root / f"distributed-{release.slug}"
    marker = venv / "daskwire-requirements.json"
    wanted = {"python": python, "requirements": release.requirements}
    if marker.is_file() and venv_python(venv).is_file():
        try:
            if json.loads(marker.read_text()) == wanted:
                log(f"{release.spec}: reusing {venv}")
                return venv_python(venv), True
        except ValueError:
            pass
    if venv.exists():
        shutil.rmtree(venv)
    log(f"{release.spec}: creating {venv}")
    run([python, "-m", "venv", str(venv)], f"{release.spec}: venv", INSTALL_TIMEOUT)
    log(f"{release.spec}: pip install {' '.join(release.requirements)}")
    run(
        [
            str(venv_python(venv)),
            *("-m", "pip", "install", "--disable-pip-version-check", "-q"),
            *release.requirements,
        ],
        f"{release.spec}: pip install",
        INSTALL_TIMEOUT,
    )
    marker.write_text(json.dumps(wanted))
    return venv_python(venv), False


def probe(release: Release, python: Path) -> dict[str, Any]:
    log(f"{release.spec}: probing")
    done = run([str(python), "-s", str(PROBE)], f"{release.spec}: probe", PROBE_TIMEOUT)
    try:
        result: dict[str, Any] = json.loads(done.stdout)
    except ValueError as exc:
        raise Failure(f"{release.spec}: the probe printed no JSON: {done.stdout[:200]!r}") from exc
    if result.get("distributed") != release.version:
        raise Failure(
            f"{release.spec}: the environment runs distributed {result.get('distributed')}, "
            f"not {release.version}"
        )
    for pin in release.pins:
        name, version = pin.split("==", 1)
        found = result["packages"].get(name.lower().replace("_", "-"))
        if found != version:
            raise Failure(f"{release.spec}: {name} {found} installed, not {version}")
    return result


# -- comparing two probe results -----------------------------------------------------------------


Item = tuple[str, str]  # (section, message name); section "dumps" or "tcp/<session>"


def items(result: dict[str, Any]) -> dict[Item, dict[str, Any]]:
    """Every observation of one probe run, by (section, message)."""
    out: dict[Item, dict[str, Any]] = {}
    for record in result["dumps"]:
        obs = {"error": record["error"]} if "error" in record else {"messages": [record]}
        out["dumps", record["name"]] = {"what": record["what"], **obs}
    for session, data in result["tcp"].items():
        for step in data["steps"]:
            obs = {"what": step["what"], "sent": step["sent"], "received": step["received"]}
            if "error" in step:
                obs["error"] = step["error"]
            out[f"tcp/{session}", step["name"]] = obs
    return out


def hint_meaning(message: dict[str, Any]) -> str:
    """What the first u64 of a TCP message covers, in words."""
    lengths: list[int] = message["lengths"]
    prelude = 8 + 8 * len(lengths)
    if message["hint"] == prelude + sum(lengths):
        return f"all {len(lengths)} frames"
    for k in range(len(lengths)):
        if message["hint"] == prelude + sum(lengths[:k]):
            return f"first {k} of {len(lengths)} frames"
    return f"no frame boundary ({message['hint']})"


def short(value: Any, limit: int = 70) -> str:
    text = json.dumps(value, separators=(",", ":"))
    return text if len(text) <= limit else text[: limit - 1] + "…"


def first_difference(a: Any, b: Any, path: str = "") -> str | None:
    """Where two notation values first differ, and how; None when they are equal."""
    if a == b:
        return None
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() == {"map"}:
        keys_a = [short(k) for k, _ in a["map"]]
        keys_b = [short(k) for k, _ in b["map"]]
        if keys_a != keys_b:
            return f"{path or 'top'}: keys {', '.join(keys_a)} → {', '.join(keys_b)}"
        for (key, va), (_, vb) in zip(a["map"], b["map"], strict=True):
            found = first_difference(va, vb, f"{path}[{short(key)}]")
            if found:
                return found
    if isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() == {"array"}:
        if len(a["array"]) != len(b["array"]):
            return f"{path or 'top'}: {len(a['array'])} → {len(b['array'])} items"
        for i, (va, vb) in enumerate(zip(a["array"], b["array"], strict=True)):
            found = first_difference(va, vb, f"{path}[{i}]")
            if found:
                return found
    return f"{path or 'top'}: {short(a)} → {short(b)}"


def pickle_protocol(hex_text: str) -> str:
    data = bytes.fromhex(hex_text)
    for opcode, arg, _pos in pickletools.genops(data):
        return f"protocol {arg}" if opcode.name == "PROTO" else "protocol 0-1"
    return "empty"


def mask_pickles(value: Any) -> Any:
    if isinstance(value, dict):
        if "pickle" in value:
            return {"pickle": "…"}
        return {k: mask_pickles(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_pickles(v) for v in value]
    return value


def compare_sub_headers(i: int, a: dict[str, Any], b: dict[str, Any]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if "value" not in a or "value" not in b:
        return [("sub-header values", f"frame {i}: not msgpack")]
    pairs_a = {short(k): v for k, v in a["value"]["map"]}
    pairs_b = {short(k): v for k, v in b["value"]["map"]}
    if list(pairs_a) != list(pairs_b):
        added = [k for k in pairs_b if k not in pairs_a]
        removed = [k for k in pairs_a if k not in pairs_b]
        change = (
            f"+{', +'.join(added)} " * bool(added) + f"-{', -'.join(removed)} " * bool(removed)
            or "same keys, other order "
        )
        out.append(
            (
                "sub-header keys/order",
                f"frame {i}: {change}(reference: {', '.join(pairs_a)}; here: {', '.join(pairs_b)})",
            )
        )
    for key in pairs_a.keys() & pairs_b.keys():
        va, vb = pairs_a[key], pairs_b[key]
        if va == vb:
            continue
        if mask_pickles(va) == mask_pickles(vb):
            old = [pickle_protocol(p) for p in _pickles(va)]
            new = [pickle_protocol(p) for p in _pickles(vb)]
            out.append(
                (
                    "pickles",
                    (
                        f"frame {i} {key}: pickle bytes differ "
                        f"(reference {', '.join(old)}; here {', '.join(new)})"
                    ),
                )
            )
        else:
            out.append(("sub-header values", f"frame {i} {key}: {first_difference(va, vb, key)}"))
    return out


def _pickles(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if "pickle" in value:
            yield value["pickle"]
            return
        for v in value.values():
            yield from _pickles(v)
    elif isinstance(value, list):
        for v in value:
            yield from _pickles(v)


def compare_frames(ref: list[dict[str, Any]], got: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """(category, detail) of each difference between two frame lists."""
    roles_ref = [f["role"] for f in ref]
    roles_got = [f["role"] for f in got]
    if roles_ref != roles_got:
        return [("frame count", f"frames {', '.join(roles_ref)} → {', '.join(roles_got)}")]
    out: list[tuple[str, str]] = []
    for i, (a, b) in enumerate(zip(ref, got, strict=True)):
        if a["sha256"] == b["sha256"]:
            continue
        if a["role"] == "frame0":
            if a.get("value") == b.get("value"):
                out.append(("frame 0", "same value, other bytes"))
            else:
                out.append(("frame 0", str(first_difference(a.get("value"), b.get("value")))))
        elif a["role"] == "sub-header":
            out.extend(compare_sub_headers(i, a, b))
            if not out:
                out.append(("sub-header values", f"frame {i}: same value, other bytes"))
        else:
            out.append(("data frames", f"frame {i} ({a['role']}): {a['len']} → {b['len']} bytes"))
    return out


def compare_messages(
    ref: list[dict[str, Any]], got: list[dict[str, Any]], label: str, tcp: bool
) -> list[tuple[str, str]]:
    if len(ref) != len(got):
        return [("framing", f"{label}: {len(ref)} → {len(got)} messages")]
    out: list[tuple[str, str]] = []
    for a, b in zip(ref, got, strict=True):
        if "error" in a or "error" in b:
            if a.get("error") != b.get("error"):
                out.append(("framing", f"{label}: {a.get('error')} → {b.get('error')}"))
            continue
        if tcp and hint_meaning(a) != hint_meaning(b):
            out.append(
                (
                    "framing",
                    (
                        f"{label}: first u64 = {b['hint']} covers {hint_meaning(b)} "
                        f"(reference: {a['hint']}, {hint_meaning(a)})"
                    ),
                )
            )
        out.extend(
            (cat, f"{label}: {text}") for cat, text in compare_frames(a["frames"], b["frames"])
        )
    return out


def compare(ref: dict[str, Any], got: dict[str, Any]) -> list[tuple[str, str]]:
    """(category, detail) of each difference of one observation from the reference's."""
    ref_error, got_error = ref.get("error"), got.get("error")
    if ref_error != got_error:
        return [("error", f"reference: {ref_error or 'no error'}; here: {got_error or 'no error'}")]
    out: list[tuple[str, str]] = []
    if "messages" in ref:
        out += compare_messages(ref["messages"], got.get("messages", []), "dumps", False)
    elif "sent" in ref:
        out += compare_messages(ref["sent"], got["sent"], "client → server", True)
        out += compare_messages(ref["received"], got["received"], "server → client", True)
    return out


def cell(differences: list[tuple[str, str]]) -> str:
    if not differences:
        return "identical"
    found = {cat for cat, _ in differences}
    return "differs: " + ", ".join(c for c in CATEGORIES if c in found)


# -- output --------------------------------------------------------------------------------------


@dataclass
class Outcome:
    releases: list[Release]
    reference: Release
    results: dict[str, dict[str, Any]]  # by release spec
    diffs: dict[str, dict[Item, list[tuple[str, str]]]]  # by release spec, then item
    repeat_diffs: list[Item]  # items that differed between two runs of the reference
    seconds: float
    reused: int  # environments taken from --cache


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return lines


def sections(outcome: Outcome) -> list[str]:
    ref_items = items(outcome.results[outcome.reference.spec])
    return list(dict.fromkeys(section for section, _ in ref_items))


def comparison_tables(outcome: Outcome) -> list[str]:
    others = [r for r in outcome.releases if r != outcome.reference]
    ref_items = items(outcome.results[outcome.reference.spec])
    lines: list[str] = []
    for section in sections(outcome):
        title = (
            "`distributed.protocol.dumps`"
            if section == "dumps"
            else (f"TCP bytes, `distributed.comm.compression` = {section.split('/', 1)[1]}")
        )
        lines += ["", f"### {title}", ""]
        rows = []
        for sec, name in ref_items:
            if sec != section:
                continue
            row = [f"`{name}`"]
            row += [cell(outcome.diffs[r.spec].get((sec, name), [])) for r in others]
            rows.append(row)
        lines += table(["message", *(r.spec for r in others)], rows)
    return lines


def prelude_table(outcome: Outcome) -> list[str]:
    """The no-split hint of each client message, per release (compression none)."""
    rows = []
    per_release = {r.spec: items(outcome.results[r.spec]) for r in outcome.releases}
    ref_items = per_release[outcome.reference.spec]
    for (section, name), _obs in ref_items.items():
        if section != "tcp/none":
            continue
        row = [f"`{name}`"]
        for release in outcome.releases:
            obs = per_release[release.spec].get((section, name), {})
            sent = obs.get("sent", [])
            if obs.get("error") or not sent or "hint" not in sent[0]:
                row.append(obs.get("error", "—").split(":")[0])
            else:
                msg = sent[0]
                total = 8 + 8 * len(msg["lengths"]) + sum(msg["lengths"])
                row.append(f"{msg['hint']} / {total}")
        rows.append(row)
    return table(["message", *(r.spec for r in outcome.releases)], rows)


def versions_table(outcome: Outcome) -> list[str]:
    packages: dict[str, None] = dict.fromkeys(KEY_PACKAGES)
    for release in outcome.releases:
        packages.update(dict.fromkeys(outcome.results[release.spec]["packages"]))
    rows = [["Python", *(outcome.results[r.spec]["python"] for r in outcome.releases)]]
    for name in packages:
        if name in ("pip", "setuptools", "wheel"):
            continue
        rows.append(
            [name, *(outcome.results[r.spec]["packages"].get(name, "—") for r in outcome.releases)]
        )
    return table(["package", *(r.spec for r in outcome.releases)], rows)


def summary(outcome: Outcome) -> list[str]:
    lines = []
    for release in outcome.releases:
        if release == outcome.reference:
            continue
        differing = {item: d for item, d in outcome.diffs[release.spec].items() if d}
        if not differing:
            lines.append(
                f"- **{release.spec}**: identical to {outcome.reference.spec} on every message."
            )
            continue
        cats = {cat for diffs in differing.values() for cat, _ in diffs}
        names = sorted({f"`{name}`" for _, name in differing})
        total = len(outcome.diffs[release.spec])
        lines.append(
            f"- **{release.spec}**: differs on {len(differing)} of {total} "
            f"observations ({', '.join(c for c in CATEGORIES if c in cats)}), "
            f"messages {', '.join(names)}."
        )
    return lines


def details(outcome: Outcome) -> list[str]:
    lines: list[str] = []
    for release in outcome.releases:
        if release == outcome.reference:
            continue
        differing = {item: d for item, d in outcome.diffs[release.spec].items() if d}
        if not differing:
            continue
        lines += ["", f"### {release.spec}", ""]
        for (section, name), diffs in differing.items():
            lines.append(f"- {section} `{name}`:")
            lines += [f"    - {cat}: {text}" for cat, text in diffs]
    return lines or ["", "None."]


def messages_table(outcome: Outcome) -> list[str]:
    ref = outcome.results[outcome.reference.spec]
    seen: dict[str, str] = {}
    for record in ref["dumps"]:
        seen.setdefault(record["name"].split("/")[0], record["what"])
    return table(["message", "what"], [[f"`{k}`", v] for k, v in seen.items()])


def markdown(outcome: Outcome, command: str) -> str:
    ref = outcome.results[outcome.reference.spec]
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    repeat = (
        "The reference was probed twice; both runs gave identical output, so every difference "
        "below comes from the release, not from the probe."
        if not outcome.repeat_diffs
        else "**The reference was probed twice and these observations differed between the two "
        "runs, so differences on them are not evidence:** "
        + ", ".join(f"{s} `{n}`" for s, n in outcome.repeat_diffs)
        + "."
    )
    lines = [
        "# Dask's wire format across distributed releases",
        "",
        (
            f"Measured {today} by `{command}`, in {outcome.seconds:.0f} s "
            f"({outcome.reused} of {len(outcome.releases)} environments from the cache), on "
            f"{platform.system()} {platform.machine()} with Python {ref['python']} "
            f"({ref['byteorder']}-endian). Every release is compared with "
            f"**{outcome.reference.spec}**."
        ),
        "",
        "## Result",
        "",
        *summary(outcome),
        "",
        repeat,
        "",
        "## Method",
        "",
        (
            "For each release, a fresh virtual environment gets `pip install distributed==VERSION "
            "numpy lz4` (exact versions below); `scripts/dask_probe.py` runs inside it with "
            f"`distributed.comm.shard` = {ref['shard']} (so that 150 kB values are split into "
            "shards cheaply) and `PYTHONHASHSEED=0`, and records for each message of the table:"
        ),
        "",
        (
            "- **dumps**: the frames that `distributed.protocol.dumps(msg, context={'compression': "
            "codec})` returns, with no codec and, for the compressible messages, with `lz4` and "
            "`zlib`;"
        ),
        (
            "- **TCP**: the exact bytes on a real connection. A `distributed.comm.listen` listener "
            "on 127.0.0.3 answers each message with `{'op': 'ack'}`; a `distributed.comm.connect` "
            "client reaches it through a byte-copying proxy on 127.0.0.2 that records both "
            "directions, the comm handshake included. Distinct loopback addresses keep the peers "
            "from treating each other as the same host (then distributed never compresses). One "
            "connection per value of `distributed.comm.compression`: false, `lz4`, `zlib`."
        ),
        "",
        (
            "The probe cuts each direction's bytes into messages (u64, u64 frame count, u64 "
            "lengths, frames), finds frame 0's `{'__Serialized__': i}` / `{'__Pickled__': i}` "
            "markers, decodes frame 0 and each marker's sub-header with msgpack and tags every "
            "pickle (bytes that `pickletools` reads to a final STOP). Nothing is unpickled."
        ),
        "",
        (
            "Comparison, per observation: **identical** means every byte is the same. Otherwise "
            "the cell names what differs: *framing* (what the first u64 of a TCP message covers: "
            "the whole message, or the prelude and the first k frames), *frame count* (the frames' "
            "roles), *frame 0* (value or encoding), *sub-header keys/order*, *sub-header values* "
            "(other than pickles), *pickles* (pickle bytes inside a sub-header; a decoder treats "
            "them as opaque, so they are compared as bytes and reported with their protocol), "
            "*data frames* (data frames and pickle buffers), *error* (the release failed where the "
            "reference did not, or the other way round)."
        ),
        "",
        "### Messages",
        "",
        *messages_table(outcome),
        "",
        "## Comparison with " + outcome.reference.spec,
        *comparison_tables(outcome),
        "",
        "## The first u64 of each client message (compression false)",
        "",
        (
            "The first u64 / the bytes that follow it (prelude and frames). Equal numbers: the "
            "u64 covers the whole message."
        ),
        "",
        *prelude_table(outcome),
        "",
        "## Differences in detail",
        *details(outcome),
        "",
        "## Installed versions",
        "",
        "Every package in each environment (`importlib.metadata`), pip and setuptools left out.",
        "",
        *versions_table(outcome),
        "",
    ]
    return "\n".join(lines)


def print_table(outcome: Outcome) -> None:
    others = [r for r in outcome.releases if r != outcome.reference]
    ref_items = items(outcome.results[outcome.reference.spec])
    width = max(len(f"{s} {n}") for s, n in ref_items)
    print(f"Compared with {outcome.reference.spec}:")
    print(f"{'':<{width}}  " + "  ".join(f"{r.spec:<22}" for r in others))
    for section, name in ref_items:
        cells = [cell(outcome.diffs[r.spec].get((section, name), [])) for r in others]
        print(f"{section + ' ' + name:<{width}}  " + "  ".join(f"{c:<22}" for c in cells))
    print()
    print("\n".join(summary(outcome)))
    if outcome.repeat_diffs:
        print("WARNING: the reference's own runs differed on", outcome.repeat_diffs)


# -- main ----------------------------------------------------------------------------------------


def experiment(releases: list[Release], reference: Release, root: Path, python: str) -> Outcome:
    start = time.monotonic()
    results: dict[str, dict[str, Any]] = {}
    repeat_diffs: list[Item] = []
    reused = 0
    for release in releases:
        interpreter, cached = prepare(release, root, python)
        reused += cached
        results[release.spec] = probe(release, interpreter)
        if release == reference:
            again = items(probe(release, interpreter))
            first = items(results[release.spec])
            repeat_diffs = [k for k in first if compare(first[k], again.get(k, {}))]
    ref_items = items(results[reference.spec])
    diffs: dict[str, dict[Item, list[tuple[str, str]]]] = {}
    for release in releases:
        got = items(results[release.spec])
        missing = [k for k in ref_items if k not in got]
        if missing:
            raise Failure(f"{release.spec}: the probe recorded no {missing[0]}")
        diffs[release.spec] = {k: compare(ref_items[k], got[k]) for k in ref_items}
    seconds = time.monotonic() - start
    return Outcome(releases, reference, results, diffs, repeat_diffs, seconds, reused)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0] if __doc__ else None,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--releases",
        default=",".join(DEFAULT_RELEASES),
        help="comma-separated distributed releases, each optionally with +NAME==VERSION pins "
        "(default: %(default)s)",
    )
    parser.add_argument(
        "--reference", help="the release everything is compared with (default: the last one)"
    )
    parser.add_argument(
        "--cache", type=Path, help="keep the environments in this folder and reuse them"
    )
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for the environments (default: this one)",
    )
    parser.add_argument("--markdown", type=Path, help="write the result as a Markdown page here")
    parser.add_argument("--json", type=Path, help="write every probe's raw JSON output here")
    args = parser.parse_args(argv)

    try:
        releases = [parse_release(t) for t in args.releases.split(",") if t.strip()]
        if not releases:
            raise Failure("--releases names no release")
        if len({r.spec for r in releases}) != len(releases):
            raise Failure("--releases names a release twice")
        reference = releases[-1] if args.reference is None else parse_release(args.reference)
        if reference not in releases:
            releases.append(reference)
        if not PROBE.is_file():
            raise Failure(f"the probe is missing: {PROBE}")
        if args.cache is not None:
            args.cache.mkdir(parents=True, exist_ok=True)
            outcome = experiment(releases, reference, args.cache.resolve(), args.python)
        else:
            with tempfile.TemporaryDirectory(prefix="dask-release-range-") as tmp:
                outcome = experiment(releases, reference, Path(tmp), args.python)
    except Failure as exc:
        print(f"dask_release_range: error: {exc}", file=sys.stderr)
        return 1

    print_table(outcome)
    command = "python scripts/dask_release_range.py --releases " + ",".join(
        r.spec for r in releases
    )
    if args.reference is not None:
        command += f" --reference {reference.spec}"
    if args.markdown is not None and not args.markdown.is_absolute():
        command += f" --markdown {args.markdown.as_posix()}"
    if args.json is not None:
        args.json.write_text(json.dumps(outcome.results))
        log(f"wrote {args.json}")
    if args.markdown is not None:
        args.markdown.parent.mkdir(parents=True, exist_ok=True)
        args.markdown.write_text(markdown(outcome, command))
        log(f"wrote {args.markdown}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
