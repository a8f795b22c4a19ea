#!/usr/bin/env bash
# Sets up a fresh machine for the kit: .venv with the kit and its dev dependencies. With
# --all (what scripts/test.sh uses) it also installs Debian's chromium, for the spec site's
# browser test, and checks for a Rust toolchain, for the Rust example.
# Idempotent: a second run only checks. Fails loudly when something cannot be installed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

all=false
case "${1:-}" in
    "") ;;
    --all) all=true ;;
    *) echo "usage: bash scripts/setup.sh [--all]" >&2; exit 2 ;;
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
echo "==> installing the kit and its dev dependencies into .venv"
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
echo "setup done: $(.venv/bin/daskwire --version)"
