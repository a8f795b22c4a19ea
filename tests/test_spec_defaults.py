"""The limit defaults stated in spec/limits.md agree with the reference's `Limits`."""

from __future__ import annotations

import re
from dataclasses import fields

import pytest
from daskwire.limits import DEFAULT_LIMITS
from daskwire_conformance.common.requirements import load_requirements

_POWER = re.compile(r"^2\*\*(\d+)$")


def _stated_default(text: str) -> int:
    match = re.search(r"The default is `?([0-9*]+)`?", text)
    assert match, f"no 'The default is ...' in: {text}"
    literal = match.group(1)
    power = _POWER.match(literal)
    return 2 ** int(power.group(1)) if power else int(literal)


LIMIT_STATEMENTS = {
    "max_frames": "LM-1",
    "max_frame_bytes": "LM-2",
    "max_message_bytes": "LM-3",
    "max_depth": "LM-4",
    "max_decompressed_bytes": "LM-5",
    "max_decompression_ratio": "LM-6",
}


def test_every_limit_has_a_statement() -> None:
    assert set(LIMIT_STATEMENTS) == {f.name for f in fields(DEFAULT_LIMITS)}


@pytest.mark.parametrize(("name", "requirement"), sorted(LIMIT_STATEMENTS.items()))
def test_stated_default_matches_code(name: str, requirement: str) -> None:
    statement = load_requirements()[requirement]
    assert f"`{name}`" in statement.text
    assert _stated_default(statement.text) == getattr(DEFAULT_LIMITS, name)
