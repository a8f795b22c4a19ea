"""The Suite strength page: the latest mutation score of the vectors, from spec/mutation/."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Final

__all__ = ["MUTATION_PAGE", "MUTATION_SCORE", "mutation_page"]

#: The generated page, relative to the docs folder.
MUTATION_PAGE: Final = "generated/mutation.md"
#: The score `bash scripts/mutate.sh` writes, relative to the docs folder.
MUTATION_SCORE: Final = "mutation/score.json"

_INTRO: Final = """\
# Suite strength

Informative. A conformance suite is as good as the broken implementations it catches. The
kit measures that on its own reference: a mutation tool makes thousands of small changes
to the pure-Python codec (`DASKWIRE_PURE_PYTHON=1`), one at a time, and runs the golden
vectors alone against each changed copy, in process. A change that no vector notices is a
survivor. Every survivor is classified in `tests/mutation/survivors.toml`, either as
equivalent (it changes nothing the spec defines, with the reason) or as a gap in the
vectors (with the requirement it touches); a test fails on an unclassified one, and the
project's test command runs a dated sample of mutants on every run. The full run is
`bash scripts/mutate.sh` (`tests/mutation/README.md`).

"""


def mutation_page(score_file: Path) -> str:
    """The page's Markdown, from the recorded score; says so when none is recorded."""
    if not score_file.is_file():
        return _INTRO + "No mutation score is recorded in this copy of the spec.\n"
    score = json.loads(score_file.read_text(encoding="utf-8"))
    return _INTRO + str(score["markdown"]).rstrip() + "\n"
