#!/usr/bin/env bash
# The kit's own mutation run (tests/mutation/README.md): cosmic-ray mutates the pure-Python
# reference (DASKWIRE_PURE_PYTHON=1) and the in-process vectors alone try to kill each mutant.
#   bash scripts/mutate.sh                   full run of the nine codec modules: rewrites
#                                            tests/mutation/survivors.toml and spec/mutation/score.json
#   bash scripts/mutate.sh --module wire     only some modules (repeatable)
#   bash scripts/mutate.sh --sample 150 --budget 75   CI: a seeded sample, checked against the list
#   bash scripts/mutate.sh --resume          go on with an interrupted full run
#   bash scripts/mutate.sh --rescore         recount the score after classifying survivors
# Installs the `mutation` extra (cosmic-ray, pinned in pyproject.toml) into .venv when missing.
# Works on copies in .mutation/ (a sample: a temporary folder); the checkout is never mutated.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
PY=.venv/bin/python
[ -x "$PY" ] || { echo "FAILED: no .venv; run bash scripts/setup.sh first" >&2; exit 2; }

# The extra's requirements, read from pyproject.toml: installing them alone leaves the
# editable install (and its compiled extension) untouched.
mapfile -t wanted < <("$PY" -c '
import tomllib
extras = tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]
print("\n".join(extras["mutation"]))')
if ! "$PY" - "${wanted[@]}" <<'PYCHECK' 2>/dev/null; then
import sys
from importlib.metadata import PackageNotFoundError, version

for requirement in sys.argv[1:]:
    name, _, pinned = requirement.partition("==")
    try:
        if version(name) != pinned:
            sys.exit(1)
    except PackageNotFoundError:
        sys.exit(1)
PYCHECK
    echo "==> installing the mutation extra (${wanted[*]}) into .venv"
    "$PY" -m pip install --quiet "${wanted[@]}"
fi

exec "$PY" tests/mutation/mutate.py "$@"
