"""The sanitizer fuzz recipe (scripts/fuzz.sh) feeds the C extension's coverage to libFuzzer
(and, for the pure-Python dask-2023.11 target, atheris's coverage of the Python modules)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
RECIPE = ROOT / "scripts" / "fuzz.sh"
#: Targets whose checks reach the C extension, and the target of the pure-Python dask codec.
NATIVE_TARGETS = ("decode", "pack", "scan_build")
TARGETS = (*NATIVE_TARGETS, "dask")
SECONDS = 6

# Thresholds for a run of SECONDS from an empty corpus, with no seeds. Under the recipe each
# target covered 190 to 380 edges of _scan.c (of about 1,700 instrumented) and kept 90 to 350
# inputs in that time, on a 2-core machine with other work on it. A run whose coverage does not
# reach libFuzzer (gcc's libasan preloaded first, or an extension built without
# -fsanitize=fuzzer-no-link) covers no edge of _scan.c and keeps no input: libFuzzer holds one
# empty input in memory and writes nothing. A run's first two inputs (empty and one byte)
# cover 0 to 60 edges. The bounds sit well below the first and well above the rest, so
# neither a slower machine nor small changes to _scan.c trip them.
MIN_NATIVE_EDGES = 100
MIN_CORPUS = 30
# The dask target (dask-2023.11 has no C code) is fed by atheris's coverage of the Python
# modules alone: in SECONDS from an empty corpus it reached cov 270 and kept 45 inputs. Without
# that coverage (the modules imported before atheris instruments them) it covers a handful of
# the extension's edges (its module init) and keeps one or two inputs: its first two inputs
# (empty and one byte) return before the codec is called.
MIN_PYTHON_COV = 120
MIN_PYTHON_CORPUS = 20

_FUNC = re.compile(r"^(?:UN)?COVERED_FUNC: hits: \d+ edges: (\d+)/(\d+) \S+ (\S+):\d+$", re.M)
# Without coverage, libFuzzer leaves `cov:` and `ft:` out of its lines.
_DONE = re.compile(r"^#(\d+)\s+DONE\s+(?:cov: (\d+) ft: (\d+) )?corp: (\d+)/", re.M)

# The recipe fails loudly without clang or atheris: `scripts/setup.sh --all` installs both.
pytestmark = [pytest.mark.slow, pytest.mark.compiled]


def native_edges(log: str) -> tuple[int, int]:
    """Edges of _scan.c that the run covered, and all its instrumented edges (-print_coverage)."""
    covered = total = 0
    for hit, edges, path in _FUNC.findall(log):
        if path.endswith("/_scan.c"):
            covered += int(hit)
            total += int(edges)
    return covered, total


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", TARGETS)
def test_recipe_reports_real_coverage_of_the_extension(target: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    args = ["bash", str(RECIPE), target, f"-max_total_time={SECONDS}", "-seed=1"]
    args += ["-print_coverage=1", "-print_final_stats=1", str(corpus)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("COVERAGE_")}
    with subprocess.Popen(
        args,
        cwd=tmp_path,  # crash files, if any, land here
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
        start_new_session=True,
    ) as proc:
        try:
            log, _ = proc.communicate(timeout=100)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            log, _ = proc.communicate()
            pytest.fail(f"the {target} run did not stop:\n{log[-3000:]}")
    (tmp_path / "fuzz.log").write_text(log)
    assert proc.returncode == 0, f"the {target} run failed:\n{log[-4000:]}"
    covered, total = native_edges(log)
    done = _DONE.search(log)
    assert done is not None, log[-2000:]
    runs, cov, ft, corp = (int(n or 0) for n in done.groups())
    files = len(list(corpus.iterdir()))
    summary = f"{target}: {runs} runs, cov {cov}, ft {ft}, corpus {corp} ({files} files), "
    summary += f"_scan.c edges {covered}/{total}"
    print(summary)
    assert total > 1000, f"the extension is not instrumented for coverage ({summary})"
    if target in NATIVE_TARGETS:
        assert covered >= MIN_NATIVE_EDGES, summary
        assert files >= MIN_CORPUS, summary
    else:
        assert "INFO: Instrumenting daskwire.dask_2023_11.decoder" in log, summary
        assert cov >= MIN_PYTHON_COV, summary
        assert files >= MIN_PYTHON_CORPUS, summary
    assert "INFO: Using preloaded libfuzzer" in log
    assert "Coverage symbols are being provided by a library other than libFuzzer" not in log
