"""The `daskwire spec` command: build (strict by default) or serve the spec site with mkdocs."""

from __future__ import annotations

import argparse
import logging
import shutil
import sys
import tempfile
import traceback
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from daskwire_conformance.common.data import spec_dir

__all__ = [
    "CONFIG_NAME",
    "HOOKS_FILE",
    "SITE_MARKER",
    "SiteSource",
    "build_site",
    "register",
    "serve_site",
    "unsafe_site_dir",
]

EXIT_OK: Final = 0
EXIT_FAILED: Final = 1
EXIT_USAGE: Final = 2

#: The site configuration, found next to the spec folder (checkout root, or the packaged data).
CONFIG_NAME: Final = "mkdocs.yml"
#: The file that marks a folder as a site this command built; only such a folder is rebuilt.
SITE_MARKER: Final = ".daskwire-site"
_MARKER_TEXT: Final = (
    "This folder holds a site built by `daskwire spec build`. Each build deletes what the\n"
    "folder holds (but hidden files) and writes the site anew.\n"
)
#: The hook file of the installed kit; builds use it whatever path the configuration names.
HOOKS_FILE: Final = Path(__file__).resolve().parent / "hooks.py"
_PACKAGE_DIR: Final = Path(__file__).resolve().parents[1]
_NO_MKDOCS: Final = (
    "mkdocs is not installed; install the `docs` extra: pip install 'daskwire[docs]'"
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SiteSource:
    """Where a build reads from: the configuration and the spec folder it renders."""

    config_file: Path
    spec_dir: Path
    #: True when the spec is the copy inside an installed wheel, which a build must not modify.
    packaged: bool


def find_source() -> SiteSource | None:
    """The configuration next to the spec folder, or None when there is none."""
    spec = spec_dir()
    config_file = spec.parent / CONFIG_NAME
    if not config_file.is_file():
        return None
    return SiteSource(
        config_file=config_file,
        spec_dir=spec,
        packaged=spec.resolve().is_relative_to(_PACKAGE_DIR),
    )


def _dev_addr(text: str) -> str:
    """Check a HOST:PORT argument."""
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        msg = f"expected HOST:PORT, got {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return text


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `daskwire spec build`, `daskwire spec results` and `daskwire spec serve`."""
    parser = subparsers.add_parser(
        "spec",
        help="build or serve the spec site, record results for it",
        description="Build or serve the spec site (mkdocs; needs the `docs` extra), or record "
        "conformance results for its Implementations page.",
    )
    actions = parser.add_subparsers(dest="spec_action", metavar="ACTION")
    actions.required = True
    build = actions.add_parser(
        "build",
        help="build the site; warnings (broken links, anchors, includes) fail it",
        description="Regenerate spec/generated/ and build the site. The output folder must be "
        f"new, empty, or a site built before (marked by a {SITE_MARKER} file): a build "
        "replaces what it holds. Exit 0: built; 1: failed; 2: usage error.",
    )
    build.add_argument(
        "--site-dir",
        type=Path,
        default=None,
        help="output folder (default: site/ next to mkdocs.yml, or ./site for an installed kit)",
    )
    build.add_argument(
        "--no-strict",
        dest="strict",
        action="store_false",
        help="do not fail on warnings",
    )
    build.set_defaults(func=_run_build)
    results = actions.add_parser(
        "results",
        help="record `daskwire check --json-report` files for the Implementations page",
        description="Record the results of `daskwire check --json-report` runs in "
        "spec/implementations/<implementation>.<profile>.json, which the Implementations page "
        "shows. Reports of any profile are taken; each is recorded under the profile its suite "
        "names, and the implementation is the report's file name less that profile (a report "
        "written to reports/impl-{profile}.json is implementation `impl`). A file is rewritten "
        "only when its results change, and then carries the date of the run and the commit it "
        "ran on; one of the layout before profiles (<implementation>.json) is replaced. Exit 0: "
        "recorded; 1: a report is unusable, two reports are of one implementation and profile, "
        "or with --fail-on-change, a file changed; 2: usage error.",
    )
    results.add_argument(
        "reports",
        nargs="+",
        type=Path,
        metavar="REPORT",
        help="a JSON report, of any profile",
    )
    results.add_argument(
        "--into",
        type=Path,
        default=None,
        metavar="DIR",
        help="the folder to write to (default: spec/implementations/ of the source checkout)",
    )
    results.add_argument(
        "--fail-on-change",
        action="store_true",
        help="exit 1 when a file changed, so that new results get reviewed and committed",
    )
    results.set_defaults(func=_run_results)
    serve = actions.add_parser(
        "serve",
        help="serve the site with live reload (warnings do not stop it)",
        description="Serve the site, rebuilding it when a page changes. Unlike `build`, "
        "warnings are printed but do not stop the server.",
    )
    serve.add_argument(
        "--dev-addr",
        type=_dev_addr,
        default="127.0.0.1:8000",
        metavar="HOST:PORT",
        help="address to serve on (default: %(default)s)",
    )
    serve.set_defaults(func=_run_serve)


def _run_build(args: argparse.Namespace) -> int:
    site_dir: Path | None = args.site_dir
    strict: bool = args.strict
    return build_site(site_dir=site_dir, strict=strict)


def _run_results(args: argparse.Namespace) -> int:
    from daskwire_conformance.site.implementations import RESULTS_DIR, record_results

    reports: list[Path] = args.reports
    into: Path | None = args.into
    if into is None:
        source = find_source()
        if source is None or source.packaged:
            return _fail(
                "the spec of an installed kit is read-only; name the folder with --into",
                EXIT_USAGE,
            )
        into = source.spec_dir / RESULTS_DIR
    missing = [str(p) for p in reports if not p.is_file()]
    if missing:
        return _fail(f"no such report: {', '.join(missing)}", EXIT_USAGE)
    try:
        written = record_results(reports, into)
    except ValueError as exc:  # also json.JSONDecodeError
        return _fail(str(exc))
    for path, changed in written:
        state = "updated: review and commit it" if changed else "unchanged"
        print(f"daskwire spec: {path}: {state}", file=sys.stderr)
    fail_on_change: bool = args.fail_on_change
    if fail_on_change and any(changed for _, changed in written):
        return _fail("recorded results changed (--fail-on-change)")
    return EXIT_OK


def _run_serve(args: argparse.Namespace) -> int:
    dev_addr: str = args.dev_addr
    return serve_site(dev_addr=dev_addr)


def _user_errors() -> tuple[type[Exception], ...]:
    """Errors that say what is wrong with the site source; they need no traceback."""
    from mkdocs.exceptions import Abort, ConfigurationError

    from daskwire_conformance.common.requirements import SpecError

    known: list[type[Exception]] = [Abort, ConfigurationError, SpecError]
    try:
        from pymdownx.snippets import SnippetMissingError  # type: ignore[import-untyped]
    except ModuleNotFoundError:  # pragma: no cover - pymdown-extensions comes with the docs extra
        pass
    else:
        known.append(SnippetMissingError)
    return tuple(known)


def _fail(message: str, code: int = EXIT_FAILED) -> int:
    print(f"daskwire spec: {message}", file=sys.stderr)
    return code


def unsafe_site_dir(site_dir: Path) -> str | None:
    """Why a build must not write into `site_dir`, or None when it may.

    A build first deletes everything in its output folder but hidden files, so it writes only
    into a folder that is missing, holds nothing but hidden files, or holds a site this command
    built (marked by `SITE_MARKER`).
    """
    if not site_dir.exists():
        return None
    if not site_dir.is_dir():
        return f"{site_dir} is not a folder"
    if (site_dir / SITE_MARKER).is_file():
        return None
    visible = sorted(p.name for p in site_dir.iterdir() if not p.name.startswith("."))
    if not visible:
        return None
    shown = ", ".join(visible[:3]) + (f" and {len(visible) - 3} more" if len(visible) > 3 else "")
    return (
        f"{site_dir} is not empty ({shown}) and is not a site built by `daskwire spec build` "
        f"(it has no {SITE_MARKER} file); a build deletes what the folder holds, so choose a "
        "new or empty folder with --site-dir"
    )


@contextmanager
def _mkdocs_logging() -> Iterator[None]:
    """Print mkdocs' messages as its own command does, for the length of a build."""
    logger = logging.getLogger("mkdocs")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)-7s -  %(message)s"))
    saved = (logger.level, logger.propagate)
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(saved[0])
        logger.propagate = saved[1]


def _prepare(source: SiteSource, stack: ExitStack) -> dict[str, Any]:
    """The configuration overrides of a build; an installed spec is copied to a scratch folder."""
    docs_dir = source.spec_dir
    if source.packaged:
        scratch = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="daskwire-spec-")))
        docs_dir = scratch / "spec"
        shutil.copytree(source.spec_dir, docs_dir, ignore=shutil.ignore_patterns("generated"))
    return {"docs_dir": str(docs_dir), "hooks": [str(HOOKS_FILE)]}


def build_site(*, site_dir: Path | None = None, strict: bool = True) -> int:
    """Build the site; returns the exit code (0 built, 1 failed, 2 refused output folder)."""
    try:
        from mkdocs.commands.build import build
        from mkdocs.config import load_config
    except ModuleNotFoundError:
        return _fail(_NO_MKDOCS)
    known = _user_errors()

    source = find_source()
    if source is None:
        return _fail(
            f"no {CONFIG_NAME} next to {spec_dir()}; build from a source checkout, or set "
            f"DASKWIRE_DATA to a folder holding {CONFIG_NAME} and spec/"
        )
    chosen = site_dir.resolve() if site_dir else Path.cwd() / "site" if source.packaged else None
    # Checked before mkdocs reads the configuration, which has its own, later, objections.
    refusal = unsafe_site_dir(chosen) if chosen else None
    if refusal is not None:
        return _fail(f"refusing to build: {refusal}", EXIT_USAGE)
    with ExitStack() as stack:
        overrides = _prepare(source, stack)
        overrides["strict"] = strict
        if chosen is not None:
            overrides["site_dir"] = str(chosen)
        with _mkdocs_logging():
            try:
                config = load_config(config_file=str(source.config_file), **overrides)
            except known as exc:
                return _fail(f"build failed: {exc}")
            target = Path(config.site_dir)
            refusal = unsafe_site_dir(target)  # the configuration's own site_dir
            if refusal is not None:
                return _fail(f"refusing to build: {refusal}", EXIT_USAGE)
            target.mkdir(parents=True, exist_ok=True)
            # Marked before the build, so that a build that fails halfway can be redone.
            (target / SITE_MARKER).write_text(_MARKER_TEXT, encoding="utf-8")
            try:
                build(config)
            except known as exc:
                return _fail(f"build failed: {exc}")
            except Exception as exc:  # a Markdown extension or a page generator gave up
                traceback.print_exc()
                return _fail(f"build failed: {type(exc).__name__}: {exc}")
        print(f"daskwire spec: site built in {config.site_dir}", file=sys.stderr)
    return EXIT_OK


def serve_site(*, dev_addr: str = "127.0.0.1:8000") -> int:
    """Serve the site with live reload until interrupted; returns the exit code."""
    try:
        from mkdocs.commands.serve import serve
    except ModuleNotFoundError:
        return _fail(_NO_MKDOCS)
    known = _user_errors()

    source = find_source()
    if source is None:
        return _fail(f"no {CONFIG_NAME} next to {spec_dir()}; serve from a source checkout")
    with ExitStack() as stack, _mkdocs_logging():
        overrides = _prepare(source, stack)
        overrides["strict"] = False  # an author sees the pages while fixing what they warn about
        try:
            serve(config_file=str(source.config_file), dev_addr=dev_addr, **overrides)
        except known as exc:
            return _fail(f"serve failed: {exc}")
        except Exception as exc:  # a Markdown extension or a page generator gave up
            traceback.print_exc()
            return _fail(f"serve failed: {type(exc).__name__}: {exc}")
    return EXIT_OK
