#!/usr/bin/env bash
# Sets up a fresh machine for the kit: .venv with the kit and its dev dependencies. With
# --all (what scripts/test.sh uses) it also installs Debian's chromium, for the spec site's
# browser test, and Debian's clang with its sanitizer runtimes, for the fuzz recipe
# (scripts/fuzz.sh), checks for a Rust toolchain, for the Rust example, and installs the bench
# extra (a pinned distributed), as --bench alone does (make bench), and the fuzz extra (atheris).
# Idempotent: a second run only checks. Fails loudly when something cannot be installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

all=false
extras=dev
case "${1:-}" in
    "") ;;
    --all) all=true; extras=dev,bench,fuzz,mutation ;;
    --bench) extras=dev,bench ;;
    *) echo "usage: bash scripts/setup.sh [--all | --bench]" >&2; exit 2 ;;
esac

if $all; then
    if ! command -v chromium >/dev/null 2>&1; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "==> installing Debian's chromium (the spec site's browser test needs it)"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update
            apt-get install -y --no-install-recommends chromium
        else
            echo "FAILED: chromium is missing; install Debian's chromium package (as root):" >&2
            echo "    apt-get update && apt-get install -y chromium" >&2
            exit 1
        fi
    fi
    command -v chromium >/dev/null || { echo "FAILED: chromium is not on PATH" >&2; exit 1; }

    # The fuzz recipe builds the C extension with clang's ASan, UBSan and libFuzzer's coverage.
    clang_ok() {
        command -v clang >/dev/null 2>&1 && echo 'int f(void) { return 0; }' |
            clang -x c -fsanitize=address,undefined,fuzzer-no-link -fPIC -shared - \
                -o /dev/null >/dev/null 2>&1
    }
    if ! clang_ok; then
        if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
            echo "==> installing Debian's clang and its sanitizer runtimes (scripts/fuzz.sh)"
            export DEBIAN_FRONTEND=noninteractive
            apt-get update
            apt-get install -y --no-install-recommends clang libclang-rt-dev
        fi
        clang_ok || {
            echo "FAILED: clang with -fsanitize=address,undefined,fuzzer-no-link does not build;" >&2
            echo "    apt-get update && apt-get install -y clang libclang-rt-dev" >&2
            exit 1
        }
    fi

    if ! command -v cargo >/dev/null 2>&1; then
        for dir in "$HOME/.cargo/bin" /root/.cargo/bin; do
            [ -x "$dir/cargo" ] && PATH="$dir:$PATH" && break
        done
    fi
    command -v cargo >/dev/null || {
        echo "FAILED: cargo is missing; the Rust example needs a stable Rust toolchain" >&2
        exit 1
    }
fi

if [ ! -x .venv/bin/python ]; then
    echo "==> creating .venv"
    python3 -m venv .venv
fi
echo "==> installing the kit and its extras ($extras) into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip
# The editable install runs hatch_build.py, which compiles the C extension daskwire.placeholder_v1._scan in
# place (reference/daskwire/) on every run, so a _scan.c edited since the last run is rebuilt.
.venv/bin/python -m pip install --quiet -e ".[$extras]"
if ! ext=$(.venv/bin/python -c 'import daskwire.placeholder_v1._scan as s; print(s.__file__)'); then
    if [ "${DASKWIRE_PURE_PYTHON:-}" = 1 ]; then
        echo "WARNING: installed without the C extension daskwire.placeholder_v1._scan (DASKWIRE_PURE_PYTHON=1)" >&2
    else
        echo "FAILED: the C extension daskwire.placeholder_v1._scan does not import after the install" >&2
        exit 1
    fi
else
    echo "C extension: $ext"
fi
echo "setup done: $(.venv/bin/daskwire --version)"
