"""The spec site: the `daskwire spec` command, the mkdocs hook and the pages it generates."""

from __future__ import annotations
