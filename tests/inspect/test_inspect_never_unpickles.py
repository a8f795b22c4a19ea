"""Nothing in inspect or the traffic core loads a pickle or imports what a pickle names."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = [
    ROOT / "conformance" / "daskwire_conformance" / "inspect",
    ROOT / "conformance" / "daskwire_conformance" / "traffic",
]
#: Calls that would run a pickle, or rewrite one in ways that can blow up on bad input.
FORBIDDEN = re.compile(
    r"pickle\.loads?\b|Unpickler|pickletools\.optimize|\bimport pickle\b|from pickle\b|"
    r"\beval\(|\bexec\(|__import__"
)


def test_the_scan_sees_the_modules() -> None:
    names = {p.name for package in PACKAGES for p in package.glob("*.py")}
    assert {"pickles.py", "run.py", "stream.py", "summary.py", "command.py"} <= names


@pytest.mark.parametrize(
    "path",
    sorted(p for package in PACKAGES for p in package.glob("*.py")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_unpickling_calls(path: Path) -> None:
    assert FORBIDDEN.findall(path.read_text(encoding="utf-8")) == []


#: In a fresh interpreter: a __Pickled__ value whose pickle names modules with side effects
#: (`antigravity` opens a browser, `this` prints a poem) goes through `inspect --pickles`.
_PROBE = r"""
import contextlib, io, json, sys, tempfile
from pathlib import Path
from daskwire.dask_2023_11 import pack_bytes
from daskwire_conformance.cli import main
# PROTO 4, SHORT_BINUNICODE 'antigravity', SHORT_BINUNICODE 'fly', STACK_GLOBAL, GLOBAL
# 'this s', TUPLE2, STOP: names both modules.
pickle = b"\x80\x04\x8c\x0bantigravity\x8c\x03fly\x93cthis\ns\n\x86."
# {"op": "x", "f": {"__Pickled__": 1}}, then {"pickled-obj": <pickle>, "num-sub-frames": 0}
head = b"\x82\xa2op\xa1x\xa1f\x81\xab__Pickled__\x01"
sub = (b"\x82\xabpickled-obj\xc4" + bytes([len(pickle)]) + pickle
       + b"\xaenum-sub-frames\x00")
folder = Path(tempfile.mkdtemp())
(folder / "p.bin").write_bytes(pack_bytes([head, sub]))
out = io.StringIO()
with contextlib.redirect_stdout(out):
    code = main(["inspect", "--pickles", str(folder / "p.bin")])
print(json.dumps({"code": code, "out": out.getvalue(),
                  "named": sorted(m for m in ("antigravity", "this", "webbrowser")
                                  if m in sys.modules)}))
"""


@pytest.mark.timeout(60)
def test_a_pickle_naming_modules_imports_none_of_them() -> None:
    done = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.splitlines()[-1])
    assert result["named"] == []
    assert result["code"] == 0, result["out"]
    assert "globals antigravity.fly, this.s" in result["out"]
