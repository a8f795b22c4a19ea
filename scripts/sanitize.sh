#!/usr/bin/env bash
# Runs the C extension's tests under AddressSanitizer and UndefinedBehaviorSanitizer: builds
# daskwire._scan with both (and -Werror) into a scratch copy of the package, puts that copy
# first on PYTHONPATH, and runs the scanner tables, the fuzz suite and every golden vector.
# Any memory error or undefined behaviour aborts the run. Uses .venv (scripts/setup.sh).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
python=.venv/bin/python
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT

cp -r reference/daskwire "$scratch/daskwire"
rm -f "$scratch"/daskwire/*.so
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
cc=${CC:-cc}
"$cc" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
    -fno-sanitize-recover=undefined -fPIC -shared -std=c11 -Wall -Wextra -Werror \
    -I"$include" reference/daskwire/_scan.c -o "$scratch/daskwire/_scan$suffix"

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
import daskwire._scan as s, sys
sys.exit(0 if s.__file__.startswith('$scratch') else 'sanitizer run would use ' + s.__file__)
"
sanitized -m pytest -q -p no:cacheprovider \
    tests/reference/test_fast_paths.py tests/reference/test_fuzz.py \
    tests/test_vectors_reference.py
