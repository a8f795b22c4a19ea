"""daskwire_conformance: the `daskwire` CLI over its products: runner, vector tooling, spec site."""

from __future__ import annotations

__all__: list[str] = []
