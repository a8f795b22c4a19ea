"""Nothing in the kit unpickles, evaluates or imports a module that its input names."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCES = sorted(
    [
        *(ROOT / "reference" / "daskwire").rglob("*.py"),
        *(ROOT / "conformance" / "daskwire_conformance").rglob("*.py"),
    ]
)
#: Modules that turn bytes into code or objects.
FORBIDDEN_MODULES = {"pickle", "_pickle", "cPickle", "marshal", "shelve", "dill", "cloudpickle"}
FORBIDDEN_CALLS = {"eval", "exec", "__import__"}
#: Non-literal imports that are intended, with the reason: (file, enclosing function).
ALLOWED_DYNAMIC_IMPORTS = {
    # `daskwire check --impl python:MODULE:ATTR` imports the implementation its user names on
    # the command line, as pytest does with plugins; never a name read from frames or vectors.
    ("conformance/daskwire_conformance/runner/targets.py", "load_python_testee"),
    # `daskwire vectors generate` imports the vector builder of a profile in the reference's
    # registry (daskwire.PROFILES), by the profile's registered name.
    ("conformance/daskwire_conformance/vectors/generate/__init__.py", "_builder"),
    # The judge finds a profile's output checks by the profile's registered name; a name
    # outside daskwire.PROFILES gets no checks and imports nothing.
    ("conformance/daskwire_conformance/runner/profiles/__init__.py", "checks_for"),
    # The tap finds which frames a profile's decoder needs whole by the profile's registered
    # name, in the same way.
    ("conformance/daskwire_conformance/tap/profiles/__init__.py", "kept_frames_of"),
}


def _module_constants(tree: ast.Module) -> dict[str, ast.expr]:
    out: dict[str, ast.expr] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target = node.targets[0]
            if isinstance(target, ast.Name):
                out[target.id] = node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value:
            out[node.target.id] = node.value
    return out


def _is_str_literal(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_literal_str_sequence(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Tuple | ast.List) and all(_is_str_literal(e) for e in node.elts)


class _Scan(ast.NodeVisitor):
    def __init__(self, path: Path, tree: ast.Module) -> None:
        self.rel = path.relative_to(ROOT).as_posix()
        self.constants = _module_constants(tree)
        self.functions: list[str] = []
        self.loops: dict[str, ast.expr] = {}  # loop variable -> iterable
        self.problems: list[str] = []

    def where(self, node: ast.AST) -> str:
        return f"{self.rel}:{getattr(node, 'lineno', '?')}"

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        self.functions.append(node.name)
        self.generic_visit(node)
        self.functions.pop()

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_For(self, node: ast.For) -> None:
        if isinstance(node.target, ast.Name):
            self.loops[node.target.id] = node.iter
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if alias.name.split(".")[0] in FORBIDDEN_MODULES:
                self.problems.append(f"{self.where(node)}: import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        if (node.module or "").split(".")[0] in FORBIDDEN_MODULES:
            self.problems.append(f"{self.where(node)}: from {node.module} import")
        for alias in node.names:
            if alias.name == "__import__":
                self.problems.append(f"{self.where(node)}: imports __import__")

    def _literal_name(self, arg: ast.expr) -> bool:
        """A str literal, a module constant bound to one, or a loop over a literal tuple."""
        if _is_str_literal(arg):
            return True
        if isinstance(arg, ast.Name):
            if _is_str_literal(self.constants.get(arg.id)):
                return True
            source = self.loops.get(arg.id)
            if isinstance(source, ast.Name):
                return _is_literal_str_sequence(self.constants.get(source.id))
            return _is_literal_str_sequence(source)
        return False

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = (
            func.id
            if isinstance(func, ast.Name)
            else (func.attr if isinstance(func, ast.Attribute) else "")
        )
        if name in FORBIDDEN_CALLS:
            self.problems.append(f"{self.where(node)}: calls {name}")
        if name == "import_module":
            arg = node.args[0] if node.args else None
            allowed = (self.rel, self.functions[-1] if self.functions else "")
            if not (arg is not None and self._literal_name(arg)) and (
                allowed not in ALLOWED_DYNAMIC_IMPORTS
            ):
                self.problems.append(f"{self.where(node)}: import_module of a computed name")
        self.generic_visit(node)


def test_the_scan_sees_the_packages() -> None:
    names = {p.relative_to(ROOT).as_posix() for p in SOURCES}
    assert "reference/daskwire/placeholder_v1/decoder.py" in names
    assert "conformance/daskwire_conformance/cli.py" in names


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_pickle_eval_or_computed_imports(path: Path) -> None:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    scan = _Scan(path, tree)
    scan.visit(tree)
    assert scan.problems == []


def test_cli_subcommand_modules_are_a_literal_tuple() -> None:
    path = ROOT / "conformance" / "daskwire_conformance" / "cli.py"
    constants = _module_constants(ast.parse(path.read_text(encoding="utf-8")))
    value = constants["SUBCOMMAND_MODULES"]
    assert isinstance(value, ast.Tuple)
    assert _is_literal_str_sequence(value)
    names = [e.value for e in value.elts if isinstance(e, ast.Constant)]
    assert all(
        n.startswith("daskwire_conformance.") and n.endswith((".command", "_command"))
        for n in names
    )


def test_the_scan_catches_what_it_looks_for() -> None:
    bad = ROOT / "reference" / "daskwire" / "_scan_probe.py"  # never written: parsed in memory
    source = (
        "import pickle\nfrom marshal import loads\nimport importlib\n"
        "def f(name):\n    importlib.import_module(name)\n    eval('1')\n    __import__('os')\n"
    )
    tree = ast.parse(source)
    scan = _Scan(bad, tree)
    scan.visit(tree)
    assert len(scan.problems) == 5, scan.problems


#: Decoded in a fresh, isolated interpreter; headers and frames name modules and hold pickles.
_PROBE = r"""
import json, sys
import daskwire
from daskwire import Materialized, Offloaded
before = set(sys.modules)
pickled = (b"\x80\x05\x95\x1c\x00\x00\x00\x00\x00\x00\x00\x8c\x02os\x94\x8c\x06system"
           b"\x94\x93\x94\x8c\x04true\x94\x85\x94R\x94.")
message = {
    "op": "compute-task",
    "function": Offloaded({"serializer": "pickle", "type": "os.system"}, [pickled]),
    "args": Materialized({"serializer": "dask", "type": "antigravity.Fly",
                          "type-serialized": pickled, "module": "this"}, [pickled]),
    "kwargs": Offloaded({"serializer": "pickle", "deserialize": True}, [pickled]),
    "nested": [{"x": Materialized({"serializer": "cloudpickle", "sub-headers": [{"serializer":
               "pickle", "type": "webbrowser.open"}]}, [pickled, b""])}],
    "raw": pickled * 3000,
}
for compression in (None, "lz4", "zlib"):
    frames = daskwire.encode(message, compression=compression)
    for mode in ("forwarding", "consuming"):
        daskwire.decode(frames, mode=mode)
        daskwire.decode(daskwire.unpack(daskwire.pack_bytes(frames)), mode=mode)
print(json.dumps(sorted(set(sys.modules) - before)))
print(json.dumps(sorted(m for m in sys.modules if m in
      ("pickle", "_pickle", "antigravity", "this", "webbrowser", "cloudpickle", "dill"))))
"""


def test_decoding_imports_nothing_and_never_unpickles() -> None:
    done = subprocess.run(
        [sys.executable, "-I", "-c", _PROBE],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    new_modules, named = (json.loads(line) for line in done.stdout.splitlines())
    assert new_modules == []
    assert named == []
