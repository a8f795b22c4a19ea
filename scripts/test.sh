#!/usr/bin/env bash
# The project's test command (README): set up, then lint, types, vectors, every test with
# coverage (with the C extension on, then the codec's tests with it off), the C extension
# under sanitizers, the conformance suite against the reference (in process and over stdio)
# and the Rust example, whose results the spec site shows, the spec site, and benchmark
# smokes. Stops at the first failure.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh --all
PATH="$PWD/.venv/bin:$HOME/.cargo/bin:$PATH"
export PATH

site_dir=$(mktemp -d)
trap 'rm -rf "$site_dir"' EXIT
rm -rf reports
mkdir -p reports
RUST_BIN=examples/rust/target/release/daskwire-rs

now_ms() { date +%s%3N; }

# step NAME COMMAND...: run one step, print its elapsed time, stop the script if it fails.
step() {
    local name=$1
    shift
    echo "==> $name: $*"
    local start status=0
    start=$(now_ms)
    "$@" || status=$?
    local elapsed=$(($(now_ms) - start))
    printf '<== %s: exit %d in %d.%03ds\n' "$name" "$status" $((elapsed / 1000)) $((elapsed % 1000))
    if [ "$status" -ne 0 ]; then
        if [ "$name" = pytest ] && [ "$status" -eq 5 ]; then
            echo "FAILED: pytest collected no tests" >&2
        else
            echo "FAILED: $name" >&2
        fi
        exit "$status"
    fi
}

step lint ruff check .
step format ruff format --check .
step types mypy
step vectors daskwire vectors check
step rust-format cargo fmt --manifest-path examples/rust/Cargo.toml --check
step rust-lint cargo clippy --manifest-path examples/rust/Cargo.toml --locked --all-targets -- -D warnings
step rust-test cargo test --manifest-path examples/rust/Cargo.toml --locked
step rust-build cargo build --manifest-path examples/rust/Cargo.toml --locked --release
# The conformance suite: no baselines; every required vector must pass. The reference runs
# every profile, one report each ({profile}); so does the Rust example (harness protocol 2).
step check-stdio daskwire check --json-report 'reports/reference-stdio-{profile}.json'
step check-inprocess daskwire check --python daskwire_conformance.testee:ReferenceTestee \
    --json-report 'reports/reference-in-process-{profile}.json'
step check-rust daskwire check --json-report 'reports/rust-example-{profile}.json' -- "$RUST_BIN"
# The site's Implementations page shows the results kept in spec/implementations/, one file per
# implementation and profile. They are recorded from the checks above, and the step fails when
# they change: review, then commit.
step results daskwire spec results --fail-on-change \
    reports/reference-stdio-placeholder-v1.json reports/reference-stdio-dask-2023.11.json \
    reports/rust-example-placeholder-v1.json reports/rust-example-dask-2023.11.json
# pytest saves screenshots of key pages of the site to reports/screenshots/.
step pytest coverage run -m pytest
# The codec again with the C extension off: its exact, pure-Python paths alone (accel.py).
# The fuzzers already compare both paths above, so they run a quarter of their budget here;
# the tests of the C extension itself (marked `compiled`) are deselected.
step pytest-pure env DASKWIRE_PURE_PYTHON=1 DASKWIRE_FUZZ_SCALE=0.25 coverage run --append \
    -m pytest -q -m "not compiled" tests/reference tests/test_vectors_reference.py
# A seeded sample of the mutation run (tests/mutation/README.md): an unlisted survivor fails.
step mutation-sample bash scripts/mutate.sh --sample 150 --budget 75
# The C extension under AddressSanitizer and UndefinedBehaviorSanitizer.
step c-sanitizers bash scripts/sanitize.sh
# Branch coverage of the reference codec (coverage's source is reference/daskwire).
step coverage coverage report --fail-under=95
step spec daskwire spec build --site-dir "$site_dir"
step bench-smoke python bench/bench_reference.py --quick
step bench-dask-smoke python bench/bench_dask.py --quick
step bench-tap-smoke python bench/bench_tap.py --quick
step bench-typed-smoke python bench/bench_typed.py --quick
step bench-runner-smoke python bench/bench_runner.py --quick --rust "$RUST_BIN"
echo "All steps passed."
