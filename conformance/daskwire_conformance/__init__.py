"""daskwire_conformance: golden vectors tooling, the conformance runner and the `daskwire` CLI."""

from __future__ import annotations

__all__: list[str] = []
