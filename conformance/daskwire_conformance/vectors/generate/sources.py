"""Reads the hand-written case sources (vectors/<profile>/cases/*.yaml): cases, macros, builders."""

from __future__ import annotations

import hashlib
import re
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import lz4.block
import yaml
from daskwire.notation import frame_from_notation, frame_to_notation, from_notation

from .mpk import pack

__all__ = [
    "CASE_KEYS",
    "Case",
    "CaseError",
    "DeriveRule",
    "Sources",
    "build_frame",
    "expand_notation",
    "load_sources",
    "notation_value",
]

#: Keys a case may have (vectors/placeholder-v1/README.md documents each).
CASE_KEYS: Final = frozenset(
    {
        "id",
        "description",
        "requirements",
        "kind",
        "message",
        "options",
        "frames",
        "local",
        "receive",
        "from",
        "wire",
        "mutate",
        "wire_mutate",
        "limits",
        "needs",
        "expect",
        "expect_frames",
        "expect_wire",
        "parts",
        "splits",
        "truncate",
        "note",
    }
)
_KINDS: Final = frozenset(
    {
        "encode",
        "decode",
        "unpack",
        "stream",
        "handshake",
        "reject-decode",
        "reject-unpack",
        "reject-encode",
        "reject-handshake",
    }
)


class CaseError(ValueError):
    """A case source is malformed; the message names the file and case."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One hand-written case: the source of one vector (or, for streams, of one per split)."""

    id: str
    description: str
    requirements: tuple[str, ...]
    kind: str
    source: str
    body: Mapping[str, Any] = field(default_factory=dict)

    def get(self, key: str, default: Any = None) -> Any:
        """A case field other than id, description, requirements and kind."""
        return self.body.get(key, default)


@dataclass(frozen=True, slots=True, kw_only=True)
class DeriveRule:
    """A derivation family applied to parent vectors (vectors/placeholder-v1/cases/derived.yaml)."""

    family: str
    parents: tuple[str, ...]
    source: str
    options: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Sources:
    """Everything the case folder holds."""

    #: The profile the cases test (suite.yaml `profile`).
    profile: str
    suite_version: str
    #: Suite versions already published: their changelog entries may not change.
    released: frozenset[str]
    cases: tuple[Case, ...]
    rules: tuple[DeriveRule, ...]


def load_sources(cases_dir: Path) -> Sources:
    """Read suite.yaml, every case file and derived.yaml from the cases folder."""
    suite = yaml.safe_load((cases_dir / "suite.yaml").read_text(encoding="utf-8"))
    profile = suite.get("profile") if isinstance(suite, dict) else None
    if not isinstance(profile, str) or not profile:
        msg = f"{cases_dir / 'suite.yaml'}: profile must name the profile the cases test"
        raise CaseError(msg)
    version = suite.get("suite_version") if isinstance(suite, dict) else None
    if not isinstance(version, str) or not re.fullmatch(r"\d+\.\d+\.\d+", version):
        msg = f"{cases_dir / 'suite.yaml'}: suite_version must be a semver string"
        raise CaseError(msg)
    released = suite.get("released") or []
    if not isinstance(released, list) or not all(isinstance(r, str) for r in released):
        msg = f"{cases_dir / 'suite.yaml'}: released must be a list of versions"
        raise CaseError(msg)
    cases: list[Case] = []
    rules: list[DeriveRule] = []
    for path in sorted(cases_dir.glob("*.yaml")):
        if path.name == "suite.yaml":
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        # Keys starting with "x-" hold YAML anchors for reuse and are otherwise ignored.
        keys = {k for k in doc if not str(k).startswith("x-")} if isinstance(doc, dict) else None
        if keys is None or not keys <= {"cases", "derive"}:
            msg = f"{path.name}: top level must be a map with 'cases' and/or 'derive'"
            raise CaseError(msg)
        for node in doc.get("cases") or []:
            cases.append(_case(node, path.name))
        for node in doc.get("derive") or []:
            rules.append(_rule(node, path.name))
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            msg = f"{case.source}: case id {case.id} appears twice"
            raise CaseError(msg)
        seen.add(case.id)
    return Sources(
        profile=profile,
        suite_version=version,
        released=frozenset(released),
        cases=tuple(cases),
        rules=tuple(rules),
    )


def _case(node: Any, source: str) -> Case:
    if not isinstance(node, dict):
        msg = f"{source}: a case must be a map, not {node!r:.60}"
        raise CaseError(msg)
    where = f"{source}: case {node.get('id', '?')}"
    unknown = set(node) - CASE_KEYS
    if unknown:
        msg = f"{where}: unknown keys {sorted(unknown)}"
        raise CaseError(msg)
    for key in ("id", "description", "requirements", "kind"):
        if key not in node:
            msg = f"{where}: missing {key!r}"
            raise CaseError(msg)
    if node["kind"] not in _KINDS:
        msg = f"{where}: unknown kind {node['kind']!r}"
        raise CaseError(msg)
    reqs = node["requirements"]
    if not isinstance(reqs, list) or not all(isinstance(r, str) for r in reqs) or not reqs:
        msg = f"{where}: requirements must be a non-empty list of IDs"
        raise CaseError(msg)
    body = {k: v for k, v in node.items() if k not in ("id", "description", "requirements", "kind")}
    return Case(
        id=str(node["id"]),
        description=str(node["description"]),
        requirements=tuple(reqs),
        kind=str(node["kind"]),
        source=source,
        body=body,
    )


def _rule(node: Any, source: str) -> DeriveRule:
    if not isinstance(node, dict) or "family" not in node or "parents" not in node:
        msg = f"{source}: a derive rule needs 'family' and 'parents'"
        raise CaseError(msg)
    options = {k: v for k, v in node.items() if k not in ("family", "parents")}
    return DeriveRule(
        family=str(node["family"]),
        parents=tuple(str(p) for p in node["parents"]),
        source=source,
        options=options,
    )


# --- macros and frame builders ---------------------------------------------------------------


def _random_bytes(seed: str, length: int) -> bytes:
    """Deterministic incompressible bytes: sha256 in counter mode over the seed."""
    out = bytearray()
    counter = 0
    while len(out) < length:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:length])


def _hex_text(text: str) -> bytes:
    """Hex with whitespace and `#` comments allowed (one comment per line)."""
    digits = "".join(re.sub(r"\s+", "", line.split("#", 1)[0]) for line in text.splitlines())
    try:
        return bytes.fromhex(digits)
    except ValueError as exc:
        msg = f"not hex: {text[:60]!r}"
        raise CaseError(msg) from exc


def build_frame(node: Any) -> bytes:
    """Build the bytes a case writes as a frame (or wire, or chunk).

    Forms: hex text (whitespace and `# comments` allowed); {"repeat": hex, "length": n};
    {"msgpack": value} (shortest msgpack of a typed-notation value); {"lz4": frame} (4-byte LE
    size + LZ4 block); {"zlib": frame}; {"concat": [frame, ...]}; {"random": {"seed": s,
    "length": n}}; {"utf8": text}; {"u64le": n}.
    """
    if isinstance(node, str):
        return _hex_text(node)
    if isinstance(node, int):
        msg = f"frame {node!r} is a YAML number; quote hex frames"
        raise CaseError(msg)
    if not isinstance(node, Mapping):
        msg = f"a frame is hex or a builder map, not {node!r:.60}"
        raise CaseError(msg)
    if set(node) == {"repeat", "length"}:
        return frame_from_notation(dict(node))
    if len(node) != 1:
        msg = f"unknown frame builder {node!r:.60}"
        raise CaseError(msg)
    ((tag, body),) = node.items()
    if tag == "msgpack":
        return pack(notation_value(body))
    if tag == "lz4":
        data: bytes = lz4.block.compress(build_frame(body), store_size=True)
        return data
    if tag == "zlib":
        return zlib.compress(build_frame(body))
    if tag == "concat":
        return b"".join(build_frame(part) for part in body)
    if tag == "random":
        return _random_bytes(str(body["seed"]), int(body["length"]))
    if tag == "utf8":
        return str(body).encode("utf-8")
    if tag == "u64le":
        return int(body).to_bytes(8, "little")
    msg = f"unknown frame builder {tag!r}"
    raise CaseError(msg)


_FRAME_BUILDERS: Final = frozenset({"msgpack", "lz4", "zlib", "concat", "random", "utf8", "u64le"})


def _frame_node(node: Any) -> Any:
    """A frame inside a notation value: builders become hex (or a repeat form)."""
    if isinstance(node, Mapping) and len(node) == 1 and next(iter(node)) in _FRAME_BUILDERS:
        return frame_to_notation(build_frame(node))
    if isinstance(node, str):
        return build_frame(node).hex()
    return node


def expand_notation(node: Any) -> Any:
    """Expand case-only macros inside a typed-notation value into plain notation.

    Macros: {"bin-repeat": {"repeat": hex, "length": n}}, {"bin-random": {"seed": s,
    "length": n}}, {"str-repeat": {"repeat": text, "length": n}}, {"array-repeat": {"item":
    value, "length": n}} (n copies of value), {"int-map": {"length": n}} (keys and values 0 to
    n - 1, in order), {"placeholder-run": {"header": h, "length": n}} (n one-frame placeholders
    with header h, `_$findex` 0 to n - 1), {"nested-array":
    {"depth": d, "leaf": value}} (d arrays around leaf), {"nested-map": {"depth": d, "key":
    k, "leaf": value}}; frames of offloaded/materialized values may use frame builders.
    """
    if isinstance(node, list):
        return [expand_notation(item) for item in node]
    if not isinstance(node, Mapping) or len(node) != 1:
        return node
    ((tag, body),) = node.items()
    if tag == "bin-repeat":
        return {"bin": build_frame(dict(body)).hex()}
    if tag == "bin-random":
        return {"bin": _random_bytes(str(body["seed"]), int(body["length"])).hex()}
    if tag == "str-repeat":
        text = str(body["repeat"])
        length = int(body["length"])
        return (text * (length // len(text) + 1))[:length]
    if tag == "array-repeat":
        return [expand_notation(body["item"])] * int(body["length"])
    if tag == "placeholder-run":
        header = expand_notation(body["header"])
        return [
            {"map": [["_$header", header], ["_$findex", i], ["_$fcount", 1]]}
            for i in range(int(body["length"]))
        ]
    if tag == "int-map":
        return {"map": [[i, i] for i in range(int(body["length"]))]}
    if tag == "nested-array":
        value = expand_notation(body["leaf"])
        for _ in range(int(body["depth"])):
            value = [value]
        return value
    if tag == "nested-map":
        value = expand_notation(body["leaf"])
        for _ in range(int(body["depth"])):
            value = {"map": [[body["key"], value]]}
        return value
    if tag == "map":
        return {"map": [[expand_notation(k), expand_notation(v)] for k, v in body]}
    if tag in ("offloaded", "materialized"):
        return {
            tag: {
                "header": expand_notation(body["header"]),
                "frames": [_frame_node(f) for f in body["frames"]],
            }
        }
    return node


def notation_value(node: Any) -> Any:
    """The Python message value of a (macro-using) notation node."""
    return from_notation(expand_notation(node))


def frames_of(nodes: Sequence[Any]) -> list[bytes]:
    """Build a list of frames; an item {"copies": n, "of": frame} stands for n equal frames."""
    frames: list[bytes] = []
    for node in nodes:
        if isinstance(node, Mapping) and set(node) == {"copies", "of"}:
            copies = node["copies"]
            if not isinstance(copies, int) or isinstance(copies, bool) or copies < 0:
                msg = f"copies must be a count, not {copies!r:.60}"
                raise CaseError(msg)
            frames.extend([build_frame(node["of"])] * copies)
        else:
            frames.append(build_frame(node))
    return frames
