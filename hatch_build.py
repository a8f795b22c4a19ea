"""Hatchling build hook: compiles the optional C extension (placeholder-v1's `_scan`) for wheels."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

#: The extension's C source, relative to the project root.
SOURCE = Path("reference/daskwire/placeholder_v1/_scan.c")
#: Compiler flags; the interpreter's include dir and the output file are added per build.
CFLAGS = ["-O2", "-fPIC", "-shared", "-std=c11", "-Wall", "-Wextra"]
#: Set to 1 at build time, a failed compile gives a pure-Python build instead of an error.
PURE_ENV = "DASKWIRE_PURE_PYTHON"


class ExtensionBuildError(RuntimeError):
    """The C compiler could not be run or failed; the message holds its output."""


def compile_extension(source: Path, target: Path) -> None:
    """Compile source into the shared library target (replaced atomically), or raise."""
    cc = shlex.split(os.environ.get("CC") or "cc")
    # macOS links extensions against no libpython: Python's symbols resolve at import.
    link = ["-undefined", "dynamic_lookup"] if sys.platform == "darwin" else []
    include = sysconfig.get_paths()["include"]
    # Write beside the target, then rename: a process that has the old one loaded keeps it.
    partial = target.with_name(f".tmp{os.getpid()}{target.name}")
    cmd = [*cc, *CFLAGS, *link, f"-I{include}", str(source), "-o", str(partial)]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise ExtensionBuildError(f"cannot run the C compiler {cc[0]!r}: {exc}") from exc
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        raise ExtensionBuildError(
            f"{shlex.join(cmd)} failed with exit {done.returncode}:\n{done.stdout}{done.stderr}"
        )
    if done.stdout or done.stderr:  # warnings: shown by `pip -v` and by hatch
        print(done.stdout + done.stderr, file=sys.stderr)
    os.replace(partial, target)


class CustomBuildHook(BuildHookInterface[BuilderConfig]):
    """Ships the `_scan` extension in wheels and compiles it in place for editable installs."""

    PLUGIN_NAME = "custom"
    _tmp: str | None = None

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Compile the extension for this build, or skip it when the build asks for pure Python."""
        source = Path(self.root) / SOURCE
        name = f"_scan{sysconfig.get_config_var('EXT_SUFFIX')}"
        if version == "editable":
            # The editable .pth puts reference/ on sys.path, so the module lives beside its source.
            target = source.with_name(name)
        else:
            self._tmp = tempfile.mkdtemp(prefix="daskwire-ext-")
            target = Path(self._tmp) / name
        try:
            compile_extension(source, target)
        except ExtensionBuildError as exc:
            self._remove_tmp()
            if os.environ.get(PURE_ENV) != "1":
                raise ExtensionBuildError(
                    f"daskwire: cannot build the C extension daskwire.placeholder_v1._scan; "
                    f"set {PURE_ENV}=1 "
                    f"to build without it.\n{exc}"
                ) from None
            print(
                f"daskwire: building without daskwire.placeholder_v1._scan ({PURE_ENV}=1): {exc}",
                file=sys.stderr,
            )
            if version == "editable":
                target.unlink(missing_ok=True)  # no stale build of an older _scan.c
            return
        if version != "editable":
            build_data["force_include"][str(target)] = f"daskwire/placeholder_v1/{name}"
            build_data["pure_python"] = False
            build_data["infer_tag"] = True  # cpXY-cpXY-platform instead of py3-none-any

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        """Remove the temporary build directory once the wheel is written."""
        self._remove_tmp()

    def _remove_tmp(self) -> None:
        """Remove the temporary build directory of a wheel build, if any."""
        if self._tmp is not None:
            shutil.rmtree(self._tmp, ignore_errors=True)
            self._tmp = None
