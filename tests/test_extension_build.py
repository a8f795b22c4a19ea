"""The C extension `_scan` of placeholder-v1: built in place for the checkout; the hook's rules."""

from __future__ import annotations

import importlib.util
import os
import shutil
import sysconfig
import tempfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "reference" / "daskwire" / "placeholder_v1" / "_scan.c"
EXTENSION = f"_scan{sysconfig.get_config_var('EXT_SUFFIX')}"


def test_checkout_extension_is_built_and_fresh() -> None:
    """The editable install (scripts/setup.sh) compiled _scan.c in place, after its last edit."""
    try:
        from daskwire.placeholder_v1 import _scan
    except ImportError:
        if os.environ.get("DASKWIRE_PURE_PYTHON") == "1":
            pytest.skip("installed without the C extension (DASKWIRE_PURE_PYTHON=1)")
        raise
    built = Path(_scan.__file__)
    assert built == SOURCE.with_name(EXTENSION)
    assert built.stat().st_mtime >= SOURCE.stat().st_mtime, (
        "daskwire.placeholder_v1._scan is older than _scan.c: "
        "re-run `bash scripts/setup.sh` to rebuild it"
    )


@pytest.fixture(scope="module")
def hook() -> ModuleType:
    """hatch_build.py, imported from the checkout (needs hatchling, a build-only dependency)."""
    pytest.importorskip("hatchling")
    spec = importlib.util.spec_from_file_location("hatch_build", ROOT / "hatch_build.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A scratch project root holding a copy of _scan.c, built with no build-time opt-out."""
    monkeypatch.delenv("DASKWIRE_PURE_PYTHON", raising=False)
    monkeypatch.delenv("CC", raising=False)
    (tmp_path / "tmp").mkdir()  # the hook's temporary build directories go here
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    (tmp_path / "reference" / "daskwire" / "placeholder_v1").mkdir(parents=True)
    shutil.copy(SOURCE, tmp_path / "reference" / "daskwire" / "placeholder_v1")
    return tmp_path


def _initialize(hook: ModuleType, root: Path, version: str) -> tuple[Any, dict[str, Any]]:
    """Run the hook's initialize for one build of root; return the hook and its build data."""
    build_data: dict[str, Any] = {"force_include": {}, "pure_python": True, "infer_tag": False}
    instance = hook.CustomBuildHook(str(root), {}, None, None, str(root / "dist"), "wheel")
    instance.initialize(version, build_data)
    return instance, build_data


def _break(root: Path) -> None:
    """Make the scratch _scan.c fail to compile with a recognizable message."""
    (root / "reference" / "daskwire" / "placeholder_v1" / "_scan.c").write_text(
        '#error "scan-source-broken"\n'
    )


def test_wheel_build_ships_the_extension(hook: ModuleType, project: Path) -> None:
    instance, build_data = _initialize(hook, project, "standard")
    ((built, shipped),) = build_data["force_include"].items()
    assert Path(built).is_file()
    assert shipped == f"daskwire/placeholder_v1/{EXTENSION}"
    assert build_data["pure_python"] is False
    assert build_data["infer_tag"] is True
    assert not (project / "reference" / "daskwire" / "placeholder_v1" / EXTENSION).exists()
    instance.finalize("standard", build_data, "unused.whl")
    assert list((project / "tmp").iterdir()) == []


def test_editable_build_compiles_in_place(hook: ModuleType, project: Path) -> None:
    _, build_data = _initialize(hook, project, "editable")
    assert (project / "reference" / "daskwire" / "placeholder_v1" / EXTENSION).is_file()
    assert build_data == {"force_include": {}, "pure_python": True, "infer_tag": False}
    assert list((project / "reference" / "daskwire" / "placeholder_v1").glob(".tmp*")) == []


def test_failed_compile_fails_the_build(hook: ModuleType, project: Path) -> None:
    _break(project)
    with pytest.raises(hook.ExtensionBuildError, match="scan-source-broken"):
        _initialize(hook, project, "standard")
    assert list((project / "tmp").iterdir()) == []


def test_missing_compiler_fails_the_build(
    hook: ModuleType, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CC", str(project / "no-such-cc"))
    with pytest.raises(hook.ExtensionBuildError, match="no-such-cc"):
        _initialize(hook, project, "standard")


@pytest.mark.parametrize("version", ["standard", "editable"])
def test_opt_out_builds_pure_python(
    hook: ModuleType,
    project: Path,
    version: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """With DASKWIRE_PURE_PYTHON=1 a failed compile gives a pure build and says why."""
    stale = project / "reference" / "daskwire" / "placeholder_v1" / EXTENSION
    stale.write_bytes(b"an older build")
    _break(project)
    monkeypatch.setenv("DASKWIRE_PURE_PYTHON", "1")
    _, build_data = _initialize(hook, project, version)
    assert build_data == {"force_include": {}, "pure_python": True, "infer_tag": False}
    assert "scan-source-broken" in capsys.readouterr().err
    assert list((project / "tmp").iterdir()) == []
    # An editable install drops the in-place build of an older _scan.c.
    assert stale.exists() is (version == "standard")
