"""The profile seam: the registry, the reference's subpackages and the vector folders agree.

Adding a profile adds a subpackage of reference/daskwire with a `PROFILE` entry, a folder of
vectors/, and one line in daskwire/registry.py (CONTRIBUTING.md, "Adding a profile"). These
tests list each side against the registry, so that none of the three is forgotten.
"""

from __future__ import annotations

import ast
from pathlib import Path

import daskwire
import pytest
from daskwire import registry
from daskwire.profile import Profile, package_name
from daskwire_conformance.common.data import vectors_dir, vectors_root
from daskwire_conformance.common.suite import load_manifest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "reference" / "daskwire"
#: The shared modules of the reference: a profile never edits these (CONTRIBUTING.md).
SHARED = sorted(p.name for p in PACKAGE.glob("*.py"))


def _subpackages() -> list[str]:
    return sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py"))


def test_every_subpackage_is_a_registered_profile() -> None:
    modules = {package_name(entry.name) for entry in registry.PROFILES.values()}
    assert set(_subpackages()) == modules


@pytest.mark.parametrize("name", list(registry.PROFILES))
def test_a_profile_entry_is_its_subpackage_s(name: str) -> None:
    entry = daskwire.get_profile(name)
    assert isinstance(entry, Profile)
    assert entry.name == name
    module = __import__(f"daskwire.{package_name(name)}", fromlist=["PROFILE"])
    assert module.PROFILE is entry
    for function in (entry.encode, entry.decode, entry.unpack):
        assert function.__module__.startswith(f"daskwire.{package_name(name)}.")


def test_every_vector_folder_is_a_registered_profile() -> None:
    folders = sorted(p.name for p in vectors_root().iterdir() if p.is_dir())
    assert folders == sorted(registry.PROFILES)


@pytest.mark.parametrize("name", list(registry.PROFILES))
def test_a_profile_s_vectors_name_it(name: str) -> None:
    manifest = load_manifest(vectors_dir(name))
    assert manifest["profile"] == name


def test_the_registry_is_the_one_shared_module_that_names_a_profile() -> None:
    """Shared modules import no profile subpackage; only registry.py and __init__.py do."""
    profiles = set(_subpackages())
    naming = []
    for filename in SHARED:
        tree = ast.parse((PACKAGE / filename).read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names = {node.module or "", *(a.name for a in node.names)}
            elif isinstance(node, ast.Import):
                names = {a.name for a in node.names}
            else:
                continue
            parts = {part for name in names for part in name.split(".")}
            if parts & profiles:
                naming.append(filename)
    assert sorted(set(naming)) == ["__init__.py", "registry.py"]


def test_an_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(daskwire.UnknownProfileError, match="placeholder-v1"):
        daskwire.get_profile("dask-1999.1")


def test_the_generator_refuses_a_suite_of_another_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Cases of a profile the registry lacks are a usage error, and nothing is written."""
    from daskwire_conformance.cli import main

    suite = tmp_path / "dask-1999.1"
    (suite / "cases").mkdir(parents=True)
    (suite / "cases" / "suite.yaml").write_text(
        "profile: dask-1999.1\nsuite_version: 0.1.0\n", encoding="utf-8"
    )
    for action in ("generate", "check"):
        assert main(["vectors", action, "--root", str(suite)]) == 2
        assert "test profile dask-1999.1, which the registry lacks" in capsys.readouterr().err
    assert sorted(p.name for p in suite.iterdir()) == ["cases"]


def test_a_registered_profile_needs_its_vector_builder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Generation finds a profile's builder by its registered name, and says when it is
    missing: `daskwire_conformance.vectors.<profile>` with `build(sources, levels)`."""
    from daskwire_conformance.vectors.generate import CaseError, generate

    monkeypatch.setattr(daskwire, "PROFILES", {**registry.PROFILES, "dask-1999.1": None})
    (tmp_path / "cases").mkdir()
    (tmp_path / "cases" / "suite.yaml").write_text(
        "profile: dask-1999.1\nsuite_version: 0.1.0\n", encoding="utf-8"
    )
    with pytest.raises(CaseError, match=r"no vector builder for profile dask-1999\.1"):
        generate(tmp_path)


def test_every_profile_has_its_vector_builder() -> None:
    for name in registry.PROFILES:
        module = __import__(
            f"daskwire_conformance.vectors.{package_name(name)}", fromlist=["build"]
        )
        assert name == module.PROFILE
        assert callable(module.build)
