"""The spec site's build step: the mkdocs hook and the pages it generates into spec/generated/."""

from __future__ import annotations
