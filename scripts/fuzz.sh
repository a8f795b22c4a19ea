#!/usr/bin/env bash
# Runs one fuzz target of fuzz/ under libFuzzer (atheris) with AddressSanitizer and
# UndefinedBehaviorSanitizer, with coverage of the C extension feeding the fuzzer:
#
#   bash scripts/fuzz.sh TARGET [libFuzzer options and corpus directories...]
#
# TARGET is decode, pack, scan_build or dask (fuzz/fuzz_TARGET.py), or a path to a target.
# (dask drives the dask-2023.11 codec, which has no C code: its coverage is atheris's
# instrumentation of the Python modules, and the sanitizers watch the interpreter.) The
# script compiles daskwire.placeholder_v1._scan with clang and
# -fsanitize=address,undefined,fuzzer-no-link
# (and -Werror) into a scratch copy of the package, puts that copy first on PYTHONPATH, checks
# that it is the build imported, and runs the target with atheris's asan_with_fuzzer.so
# preloaded: clang's ASan and UBSan runtimes with libFuzzer linked in, so the extension's
# coverage callbacks reach libFuzzer. (gcc's libasan, preloaded first, would answer them with
# its own empty stubs, and libFuzzer would see no coverage at all.) Needs clang with its
# sanitizer runtimes and the fuzz extra (atheris), which `scripts/setup.sh --all` installs;
# FUZZ_CC names another clang.
# Paths in the arguments are taken from the current directory, where crashes are written too.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python=$root/.venv/bin/python

if [ $# -lt 1 ]; then
    echo "usage: bash scripts/fuzz.sh TARGET [libFuzzer options] [CORPUS_DIR...]" >&2
    echo "targets: decode, pack, scan_build, dask (fuzz/fuzz_TARGET.py) or a path" >&2
    exit 2
fi
target=$1
shift
if [ ! -f "$target" ]; then
    target=$root/fuzz/fuzz_$target.py
fi
[ -f "$target" ] || { echo "FAILED: no fuzz target $target" >&2; exit 2; }

cc=${FUZZ_CC:-clang}
command -v "$cc" >/dev/null || {
    echo "FAILED: $cc is missing; run scripts/setup.sh --all (it installs Debian's clang)" >&2
    exit 1
}
runtime=$("$python" -c 'import atheris, os; print(os.path.join(atheris.path(), "asan_with_fuzzer.so"))' 2>/dev/null) || {
    echo "FAILED: atheris is missing; run scripts/setup.sh --all (the fuzz extra)" >&2
    exit 1
}
[ -f "$runtime" ] || { echo "FAILED: atheris ships no $runtime" >&2; exit 1; }

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
cp -r "$root/reference/daskwire" "$scratch/daskwire"
rm -f "$scratch"/daskwire/*.so "$scratch"/daskwire/placeholder_v1/*.so
include=$("$python" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')
suffix=$("$python" -c 'import sysconfig; print(sysconfig.get_config_var("EXT_SUFFIX"))')
"$cc" -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined,fuzzer-no-link \
    -fno-sanitize-recover=undefined -fPIC -shared -std=c11 -Wall -Wextra -Werror \
    -I"$include" "$root/reference/daskwire/placeholder_v1/_scan.c" \
    -o "$scratch/daskwire/placeholder_v1/_scan$suffix"

# CPython's own allocations would report as leaks at exit, so leak checking is off.
# PYTHONMALLOC=malloc hands every Python object to ASan's allocator, so that a reference
# the extension uses after the object is freed is caught, not served from pymalloc's pools.
fuzzed() {
    env LD_PRELOAD="$runtime" \
        ASAN_OPTIONS="detect_leaks=0:${ASAN_OPTIONS:-}" \
        UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:${UBSAN_OPTIONS:-}" \
        PYTHONMALLOC=malloc \
        PYTHONPATH="$scratch" \
        "$python" "$@"
}
# The run must use the instrumented build, not the checkout's.
fuzzed -c "
import daskwire.placeholder_v1._scan as s, sys
sys.exit(0 if s.__file__.startswith('$scratch') else 'the fuzz run would use ' + s.__file__)
"
fuzzed "$target" "$@"
