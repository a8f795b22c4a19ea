"""Mutant: an encoder that refuses the map key -2**63 (PL-4's lower bound taken as exclusive)."""

from __future__ import annotations

from typing import Any

from _base import ReferenceTestee, patched, pure_python, run_main
from daskwire.placeholder_v1 import encoder


def key_allowed(key: Any) -> bool:
    """`encoder._key_allowed` with `<=` turned into `<` at the lower bound (the fault)."""
    pending = [key]
    while pending:
        item = pending.pop()
        kind = type(item)
        if kind is tuple:
            pending.extend(item)
        elif kind is int:
            if not encoder._INT_MIN < item <= encoder._INT_MAX:
                return False
        elif kind not in encoder._KEY_TYPES:
            return False
    return True


class Mutant(ReferenceTestee):
    def encode(self, message: Any, **kwargs: Any) -> Any:
        with pure_python(), patched(encoder, "_key_allowed", key_allowed):
            return super().encode(message, **kwargs)


if __name__ == "__main__":
    run_main(Mutant())
