"""Validation of harness messages against the spec's JSON Schemas (`--validate-protocol`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Final

__all__ = ["SCHEMA_BASE", "load_registry", "make_validator", "schema_uri"]

#: Every schema of the profile has an `$id` under this base.
SCHEMA_BASE: Final = "https://daskwire.dev/schemas/placeholder-v1/"
#: The result definition in harness-reply.schema.json for each command.
_RESULT_DEFS: Final = {
    "start": "start-result",
    "encode": "frames-result",
    "decode": "decode-result",
    "unpack": "frames-result",
    "pack": "wire-result",
    "stream": "stream-result",
    "handshake": "handshake-result",
    "stop": "stop-result",
}


def schema_uri(name: str) -> str:
    """The `$id` of a schema file name such as `harness-request.schema.json`."""
    return SCHEMA_BASE + name


def load_registry(schemas_dir: Path) -> Any:
    """A `referencing.Registry` holding every `*.schema.json` of a folder, by `$id`."""
    from referencing import Registry, Resource
    from referencing.jsonschema import DRAFT202012

    resources = []
    for path in sorted(schemas_dir.glob("*.schema.json")):
        contents = json.loads(path.read_text(encoding="utf-8"))
        resource = Resource.from_contents(contents, default_specification=DRAFT202012)
        uri = contents.get("$id") if isinstance(contents, dict) else None
        resources.append((uri or path.resolve().as_uri(), resource))
    return Registry().with_resources(resources)


def make_validator(spec_dir: Path | None = None) -> Callable[[str, Mapping[str, Any]], str | None]:
    """Build the checker the channels call with ("request" | "reply:<cmd>", message).

    It returns None for a valid message, else the first schema error as one line.
    """
    from jsonschema import Draft202012Validator

    from daskwire_conformance.common.data import spec_dir as default_spec_dir

    registry = load_registry((spec_dir or default_spec_dir()) / "schemas")

    def validator_for(ref: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": ref}, registry=registry)

    request = validator_for(schema_uri("harness-request.schema.json"))
    reply = validator_for(schema_uri("harness-reply.schema.json"))
    results = {
        cmd: validator_for(f"{schema_uri('harness-reply.schema.json')}#/$defs/{name}")
        for cmd, name in _RESULT_DEFS.items()
    }

    def first_error(validator: Draft202012Validator, instance: Any, what: str) -> str | None:
        try:
            error = next(iter(validator.iter_errors(instance)), None)
        except RecursionError:
            return None  # nested deeper than the validator can follow; the judge still checks it
        if error is None:
            return None
        return f"{what} violates its schema at {error.json_path}: {error.message[:300]}"

    def validate(direction: str, message: Mapping[str, Any]) -> str | None:
        if direction == "request":
            return first_error(request, message, "request")
        problem = first_error(reply, message, "reply")
        if problem is not None:
            return problem
        cmd = direction.partition(":")[2]
        if message.get("outcome") == "ok" and cmd in results:
            return first_error(results[cmd], message.get("result"), f"{cmd} result")
        return None

    return validate
