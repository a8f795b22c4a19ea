"""Packaging: the wheel carries the spec and vectors, installs into a clean venv and runs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = "daskwire_conformance/_data"
#: The C extension's file name for the interpreter that builds and installs the wheel.
EXTENSION = f"_scan{sysconfig.get_config_var('EXT_SUFFIX')}"

#: Paths every wheel holds: the two packages, their typing markers, and the packaged data.
WHEEL_MEMBERS = [
    "daskwire/__init__.py",
    "daskwire/py.typed",
    "daskwire_conformance/cli.py",
    "daskwire_conformance/py.typed",
    "daskwire_conformance/site/hooks.py",
    f"{DATA}/spec/index.md",
    f"{DATA}/spec/assets/daskwire.css",
]
#: Folders that must hold at least one file in the wheel.
WHEEL_FOLDERS = [f"{DATA}/spec/schemas/", f"{DATA}/vectors/"]
#: Paths the sdist must hold (under its top folder) so that the wheel built from it has the
#: C extension.
SDIST_MEMBERS = ["hatch_build.py", "reference/daskwire/placeholder_v1/_scan.c", "pyproject.toml"]


def _run(args: list[str | Path], cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run a command outside the checkout's environment settings; never raises on failure."""
    unset = ("DASKWIRE_DATA", "PYTHONPATH", "DASKWIRE_PURE_PYTHON")
    env = {k: v for k, v in os.environ.items() if k not in unset}
    return subprocess.run(
        [str(a) for a in args],
        env=env,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The dist folder, built the way a release is: sdist first, then the wheel from the sdist."""
    out = tmp_path_factory.mktemp("dist")
    done = _run([sys.executable, "-m", "build", "--outdir", out, ROOT])
    assert done.returncode == 0, done.stdout + done.stderr
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    """The wheel."""
    (found,) = dist.glob("daskwire-*.whl")
    return found


@pytest.fixture(scope="module")
def sdist_names(dist: Path) -> list[str]:
    """The sdist's member paths, without its top folder."""
    (found,) = dist.glob("daskwire-*.tar.gz")
    with tarfile.open(found) as archive:
        return [name.partition("/")[2] for name in archive.getnames()]


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory, wheel: Path) -> Path:
    """A fresh venv (no system site-packages) with the wheel and its docs extra installed."""
    root = tmp_path_factory.mktemp("venv")
    done = _run([sys.executable, "-m", "venv", root])
    assert done.returncode == 0, done.stderr
    bin_dir = root / "bin"
    done = _run([bin_dir / "python", "-m", "pip", "install", f"{wheel}[docs]"])
    assert done.returncode == 0, done.stdout + done.stderr
    return bin_dir


@pytest.mark.slow
@pytest.mark.parametrize("member", WHEEL_MEMBERS)
def test_wheel_holds(wheel: Path, member: str) -> None:
    assert member in zipfile.ZipFile(wheel).namelist()


@pytest.mark.slow
@pytest.mark.parametrize("folder", WHEEL_FOLDERS)
def test_wheel_folder_is_not_empty(wheel: Path, folder: str) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith(folder) and not n.endswith("/") for n in names)


@pytest.mark.slow
def test_wheel_holds_no_build_output(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert [n for n in names if n.startswith(f"{DATA}/spec/generated/")] == []


@pytest.mark.slow
def test_wheel_holds_the_extension(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    compiled = [n for n in names if n.endswith((".so", ".pyd"))]
    assert compiled == [f"daskwire/placeholder_v1/{EXTENSION}"]


@pytest.mark.slow
def test_wheel_is_platform_specific(wheel: Path) -> None:
    """A wheel with a compiled extension is tagged for its interpreter and platform."""
    tag = wheel.name.removesuffix(".whl").split("-", 2)[2]
    assert tag != "py3-none-any"
    assert tag.startswith(f"cp{sys.version_info.major}{sys.version_info.minor}-")
    wheel_file = zipfile.ZipFile(wheel).read("daskwire-0.1.0.dist-info/WHEEL").decode()
    assert "Root-Is-Purelib: false" in wheel_file


@pytest.mark.slow
@pytest.mark.parametrize("member", SDIST_MEMBERS)
def test_sdist_holds(sdist_names: list[str], member: str) -> None:
    assert member in sdist_names


@pytest.mark.slow
def test_sdist_holds_no_compiled_extension(sdist_names: list[str]) -> None:
    """The in-place build of an editable install stays out of the sdist."""
    assert [n for n in sdist_names if n.endswith((".so", ".pyd"))] == []


@pytest.mark.slow
def test_installed_extension_scans(venv: Path) -> None:
    """The wheel's `_scan` extension imports from site-packages and vouches as specified."""
    script = (
        "import sysconfig\n"
        "from daskwire.placeholder_v1 import _scan\n"
        "print(_scan.__file__); print(sysconfig.get_path('platlib'))\n"
        "print(_scan.scan(b'\\x80', 256, -1), _scan.scan(b'\\xc1', 256, -1))"
    )
    done = _run([venv / "python", "-c", script], cwd=venv)
    assert done.returncode == 0, done.stderr
    path, platlib, results = done.stdout.splitlines()
    assert Path(path) == Path(platlib) / "daskwire" / "placeholder_v1" / EXTENSION
    # An empty map is vouched for with no placeholders; the byte 0xc1 never is.
    assert results == "0 -1"


@pytest.mark.slow
def test_installed_command_runs(venv: Path) -> None:
    done = _run([venv / "daskwire", "--version"])
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("daskwire 0.1.0 ")


@pytest.mark.slow
def test_installed_packages_import(venv: Path) -> None:
    done = _run([venv / "python", "-c", "import daskwire, daskwire_conformance"])
    assert done.returncode == 0, done.stderr


@pytest.mark.slow
def test_installed_kit_finds_its_data(venv: Path) -> None:
    script = (
        "from daskwire_conformance.common.data import spec_dir, vectors_dir\n"
        "print(spec_dir()); print(vectors_dir())"
    )
    done = _run([venv / "python", "-c", script], cwd=venv)
    assert done.returncode == 0, done.stderr
    spec, vectors = (Path(line) for line in done.stdout.splitlines())
    site_packages = Path(
        _run(
            [venv / "python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]
        ).stdout.strip()
    )
    assert spec == site_packages / DATA / "spec"
    assert vectors == site_packages / DATA / "vectors" / "placeholder-v1"
    assert (spec / "index.md").is_file()
    assert (vectors / "manifest.json").is_file()


@pytest.mark.slow
def test_installed_kit_builds_the_spec_site(venv: Path, tmp_path: Path) -> None:
    """`daskwire spec build` works from a wheel: it needs mkdocs.yml in the packaged data."""
    done = _run([venv / "daskwire", "spec", "build", "--site-dir", tmp_path / "site"], cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert (tmp_path / "site" / "placeholder" / "index.html").is_file()


@pytest.mark.slow
def test_installed_kit_passes_its_own_suite(venv: Path, tmp_path: Path) -> None:
    """The README's main job works from a wheel: `daskwire check` against `daskwire serve`,
    every profile's suite, one report each."""
    report = tmp_path / "report-{profile}.json"
    done = _run([venv / "daskwire", "check", "--json-report", report], cwd=tmp_path)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "== profile placeholder-v1" in done.stdout
    assert "== profile dask-2023.11" in done.stdout
    for profile, least in (("placeholder-v1", 1000), ("dask-2023.11", 100)):
        doc = json.loads((tmp_path / f"report-{profile}.json").read_text())
        assert doc["suite"]["profile"] == profile
        summary = doc["summary"]
        assert summary["total"] > least
        assert summary["passed"] == summary["total"]


def test_editable_install_uses_the_checkout() -> None:
    """The dev install reads spec/ and vectors/ from the checkout, not from a packaged copy."""
    script = (
        "from daskwire_conformance.common.data import spec_dir, vectors_dir\n"
        "print(spec_dir()); print(vectors_dir())"
    )
    done = _run([sys.executable, "-c", script], cwd=Path(sysconfig.get_paths()["purelib"]))
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        str(ROOT / "spec"),
        str(ROOT / "vectors" / "placeholder-v1"),
    ]
