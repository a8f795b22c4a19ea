#!/usr/bin/env bash
# Runs the C extension's tests under AddressSanitizer and UndefinedBehaviorSanitizer: builds
# daskwire.placeholder_v1._scan with both (and -Werror) into a scratch copy of the package,
# puts that copy first on PYTHONPATH, and runs the scanner tables, the hardening tests, the fuzz suite and
# every golden vector. Then each fuzz target of fuzz/ runs for a few seconds from its seeds
# under the fuzz recipe (scripts/fuzz.sh: clang's sanitizers with coverage fed to libFuzzer).
# Any memory error or undefined behaviour aborts the run. Uses .venv (scripts/setup.sh --all).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=.venv/bin/python
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cp -r reference/daskwire "$scratch/daskwire"
rm -f "$scratch"/daskwire/*.so "$scratch"/daskwire/placeholder_v1/*.so
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
cc=${CC:-cc}
"$cc" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=undefined -fPIC -shared -std=c11 -Wall -Wextra -Werror \
    -I"$include" reference/daskwire/placeholder_v1/_scan.c \
    -o "$scratch/daskwire/placeholder_v1/_scan$suffix"

# The Python binary is not instrumented, so the sanitizer runtimes are preloaded; CPython's
# own allocations would report as leaks at exit, so leak checking is off.
preload="$("$cc" -print-file-name=libasan.so) $("$cc" -print-file-name=libubsan.so)"
sanitized() {
    env LD_PRELOAD="$preload" \
        ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
        UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        PYTHONPATH="$scratch" \
        "$python" "$@"
}
# The run must use the instrumented build, not the checkout's.
sanitized -c "
import daskwire.placeholder_v1._scan as s, sys
sys.exit(0 if s.__file__.startswith('$scratch') else 'sanitizer run would use ' + s.__file__)
"
sanitized -m pytest -q -p no:cacheprovider \
    tests/reference/test_fast_paths.py tests/reference/test_scan_hardening.py \
    tests/reference/test_fuzz.py tests/test_vectors_reference.py

# The fuzz smoke: each target from its seed corpus, a few seconds each. A crash or a failed
# check stops the run; its input is written to the scratch directory and printed. The dask
# target's seeds are the 400-odd dask-2023.11 vectors, which take 5 to 8 s under the
# sanitizers (more on a busy machine) before fuzzing starts: it gets 3 s more.
for target in decode pack scan_build dask; do
    seconds=${FUZZ_SMOKE_SECONDS:-4}
    if [ "$target" = dask ]; then
        seconds=$((seconds + 3))
    fi
    mkdir -p "$scratch/fuzz-$target/corpus"
    "$python" "fuzz/fuzz_$target.py" --write-seeds "$scratch/fuzz-$target/seeds"
    echo "fuzz smoke: $target"
    bash scripts/fuzz.sh "$target" -max_total_time="$seconds" -timeout=20 \
        -artifact_prefix="$scratch/fuzz-$target/" -print_final_stats=1 \
        "$scratch/fuzz-$target/corpus" "$scratch/fuzz-$target/seeds" 2>&1 |
        grep -v '^INFO: Instrumenting '
done
