"""Loads the golden vectors and the manifest, and validates vector files against their schema."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import MappingProxyType
from typing import Any, Final

from daskwire import PROFILE
from daskwire.limits import DEFAULT_LIMITS, Limits

from daskwire_conformance.common.data import spec_dir, vectors_dir

__all__ = [
    "GROUPS",
    "KINDS",
    "MANIFEST_NAME",
    "NEGATIVE_KINDS",
    "SCHEMA_BASE",
    "Vector",
    "VectorFileError",
    "iter_vector_files",
    "load_manifest",
    "load_suite",
    "load_vectors",
    "schema_registry",
    "suite_profile",
    "validate_document",
]

#: The vector groups, one folder each under vectors/.
GROUPS: Final = ("encode", "decode", "invalid", "wire", "stream", "handshake")
#: Every vector kind (spec/vectors.md).
KINDS: Final = (
    "encode",
    "decode",
    "unpack",
    "stream",
    "reject-decode",
    "reject-unpack",
    "reject-encode",
    "handshake",
    "reject-handshake",
)
#: Kinds whose expected outcome is a rejection.
NEGATIVE_KINDS: Final = frozenset(
    {"reject-decode", "reject-unpack", "reject-encode", "reject-handshake"}
)
#: The manifest file at the root of the vectors folder.
MANIFEST_NAME: Final = "manifest.json"
#: The $id prefix of the spec's JSON Schemas.
SCHEMA_BASE: Final = "https://daskwire.dev/schemas/placeholder-v1/"
_VECTOR_SCHEMA: Final = "vector.schema.json"
#: Python recursion limit while validating: enough for values nested 256 deep.
_VALIDATION_RECURSION_LIMIT: Final = 20_000


class VectorFileError(ValueError):
    """A vector file is not valid JSON, or does not follow vector.schema.json."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Vector:
    """One golden vector as stored in vectors/<profile>/<group>/<area>.json (spec/vectors.md)."""

    id: str
    description: str
    requirements: tuple[str, ...]
    level: str
    needs: tuple[str, ...]
    kind: str
    input: Mapping[str, Any]
    expected: Mapping[str, Any]
    derived: Mapping[str, Any] | None
    #: The file the vector came from, relative to the vectors folder (e.g. "decode/payload.json").
    file: str

    @property
    def group(self) -> str:
        """The first id segment: encode, decode, invalid, wire, stream or handshake."""
        return self.id.split("/", 1)[0]

    @property
    def area(self) -> str:
        """The second id segment, which names the vector's file within its group."""
        return self.id.split("/", 2)[1]

    @property
    def limits(self) -> Limits:
        """The limits the vector is checked under: its own, or the spec's defaults."""
        given = self.input.get("limits")
        return Limits(**dict(given)) if given else DEFAULT_LIMITS

    @property
    def negative(self) -> bool:
        """True when the vector expects a rejection (a reject kind, or a stream error)."""
        return self.kind in NEGATIVE_KINDS or "category" in self.expected

    @classmethod
    def from_json(cls, node: Mapping[str, Any], file: str) -> Vector:
        """Build a vector from its JSON object."""
        derived = node.get("derived")
        return cls(
            id=node["id"],
            description=node["description"],
            requirements=tuple(node["requirements"]),
            level=node["level"],
            needs=tuple(node.get("needs", ())),
            kind=node["kind"],
            input=MappingProxyType(dict(node["input"])),
            expected=MappingProxyType(dict(node["expected"])),
            derived=None if derived is None else MappingProxyType(dict(derived)),
            file=file,
        )


def iter_vector_files(root: Path | None = None) -> Iterator[Path]:
    """Yield every <group>/<area>.json file of a suite folder, sorted by path."""
    base = vectors_dir() if root is None else root
    for group in GROUPS:
        folder = base / group
        if folder.is_dir():
            yield from sorted(folder.glob("*.json"))


@cache
def _schemas(schema_root: Path) -> tuple[Any, Any]:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    resources = []
    for path in sorted(schema_root.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resources.append((contents["$id"], Resource.from_contents(contents)))
    registry: Registry[Any] = Registry().with_resources(resources)
    schema = registry.contents(SCHEMA_BASE + _VECTOR_SCHEMA)
    validator = Draft202012Validator(schema, registry=registry)
    return registry, validator


def schema_registry(schemas: Path | None = None) -> Any:
    """A `referencing.Registry` holding every spec/schemas/*.schema.json by its $id."""
    root = (spec_dir() / "schemas") if schemas is None else schemas
    return _schemas(root.resolve())[0]


def validate_document(document: Any, *, schemas: Path | None = None) -> list[str]:
    """Validate one vector file's JSON against vector.schema.json; return the error texts.

    Vectors nest values as deep as the default depth limit (256), and the value schema is
    recursive, so validation runs with a raised Python recursion limit.
    """
    root = (spec_dir() / "schemas") if schemas is None else schemas
    validator = _schemas(root.resolve())[1]
    previous = sys.getrecursionlimit()
    sys.setrecursionlimit(max(previous, _VALIDATION_RECURSION_LIMIT))
    try:
        errors = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
        return [
            f"{'/'.join(str(p) for p in e.absolute_path) or '<root>'}: {e.message}" for e in errors
        ]
    finally:
        sys.setrecursionlimit(previous)


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        msg = f"{path}: {exc}"
        raise VectorFileError(msg) from exc


def load_vectors(root: Path | None = None, *, validate: bool = False) -> list[Vector]:
    """Load every vector under root (default: the kit's vectors folder), sorted by id.

    With validate=True each file is first checked against spec/schemas/vector.schema.json
    and a `VectorFileError` names the first problems found.
    """
    base = vectors_dir() if root is None else root
    out: list[Vector] = []
    for path in iter_vector_files(base):
        document = _read(path)
        rel = path.relative_to(base).as_posix()
        if validate:
            problems = validate_document(document)
            if problems:
                msg = f"{rel} does not follow vector.schema.json:\n  " + "\n  ".join(problems[:10])
                raise VectorFileError(msg)
        out.extend(Vector.from_json(node, rel) for node in document["vectors"])
    out.sort(key=lambda v: v.id)
    return out


def _vectors_of(path: Path, rel: str) -> list[Vector]:
    try:
        document: Any = json.loads(path.read_bytes().decode("utf-8"))
        return [Vector.from_json(node, rel) for node in document["vectors"]]
    except OSError as exc:
        problem = f"cannot read it: {exc.strerror or exc}"
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 (byte {exc.start}: {exc.reason})"
    except RecursionError:
        problem = "not JSON: nested too deeply to read"
    except ValueError as exc:
        problem = f"not JSON: {exc}"
    except (KeyError, TypeError, AttributeError) as exc:
        problem = f"not a vector file (vector.schema.json): {type(exc).__name__}: {exc}"
    msg = f"{rel}: {problem}"
    raise VectorFileError(msg)


def load_suite(root: Path) -> list[Vector]:
    """Every vector under a folder a user named, sorted by id, each problem one clear line.

    Unlike `load_vectors`, a missing folder, a folder without vector files and a file that
    is not a vector file are each a `VectorFileError` whose message a command prints as is.
    """
    if not root.exists():
        msg = f"vectors folder {root} does not exist"
        raise VectorFileError(msg)
    if not root.is_dir():
        msg = f"vectors folder {root} is not a folder"
        raise VectorFileError(msg)
    files = list(iter_vector_files(root))
    if not files:
        msg = f"vectors folder {root} has no vector files (*.json under {'/, '.join(GROUPS)}/)"
        suites = sorted(p.parent.name for p in root.glob(f"*/{MANIFEST_NAME}"))
        if suites:
            msg += f"; it holds the suite folders of {', '.join(suites)}: name one of those"
        raise VectorFileError(msg)
    vectors: list[Vector] = []
    for path in files:
        rel = path.relative_to(root).as_posix()
        try:
            vectors.extend(_vectors_of(path, rel))
        except VectorFileError as exc:
            msg = f"cannot load vectors from {root}: {exc}"
            raise VectorFileError(msg) from exc
    vectors.sort(key=lambda v: v.id)
    return vectors


def suite_profile(root: Path) -> str:
    """The profile a suite folder's manifest names; placeholder-v1 for a folder without one."""
    try:
        manifest = _read(root / MANIFEST_NAME)
    except VectorFileError:
        return PROFILE
    profile = manifest.get("profile") if isinstance(manifest, dict) else None
    return profile if isinstance(profile, str) else PROFILE


def load_manifest(root: Path | None = None) -> dict[str, Any]:
    """Read a suite folder's manifest.json (vectors/<profile>/manifest.json)."""
    base = vectors_dir() if root is None else root
    manifest: dict[str, Any] = _read(base / MANIFEST_NAME)
    return manifest
