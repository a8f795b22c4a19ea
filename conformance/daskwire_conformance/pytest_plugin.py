"""The pytest plugin: `--daskwire-target=python:MODULE:ATTR` makes every vector a test item."""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

    from daskwire_conformance.common.suite import Vector
    from daskwire_conformance.runner.harness import Channel, Exchange
    from daskwire_conformance.runner.judge import Capabilities, Result
    from daskwire_conformance.runner.targets import Target

__all__ = ["pytest_addoption", "pytest_configure"]


def pytest_addoption(parser: pytest.Parser) -> None:
    """Add the --daskwire-* options; nothing else happens unless --daskwire-target is given."""
    group = parser.getgroup("daskwire", "daskwire conformance vectors")
    group.addoption(
        "--daskwire-target",
        metavar="TARGET",
        help="run the daskwire vectors against python:MODULE:ATTR (in process), "
        "cmd:COMMAND (a harness testee) or reference",
    )
    group.addoption("--daskwire-vectors", metavar="DIR", help="vectors folder (default: the kit's)")
    group.addoption(
        "--daskwire-run", metavar="GLOB", action="append", default=[], help="only matching ids"
    )
    group.addoption(
        "--daskwire-skip",
        metavar="GLOB",
        action="append",
        default=[],
        help="leave out matching ids",
    )
    group.addoption(
        "--daskwire-baseline", metavar="PATH", help="mark listed vectors xfail(strict=True)"
    )
    group.addoption(
        "--daskwire-timeout", metavar="SECONDS", type=float, default=10.0, help="per request"
    )


def pytest_configure(config: pytest.Config) -> None:
    """Register the vector collector only when a target is named."""
    if config.getoption("daskwire_target", None):
        config.pluginmanager.register(_Plugin(config), "daskwire-vectors")


def _parse_target(text: str) -> Target:
    from daskwire_conformance.runner.targets import command_target, python_target, reference_target

    if text == "reference":
        return reference_target()
    if text.startswith("python:"):
        return python_target(text.removeprefix("python:"))
    if text.startswith("cmd:"):
        return command_target(shlex.split(text.removeprefix("cmd:")))
    msg = f"--daskwire-target takes python:MODULE:ATTR, cmd:COMMAND or reference, not {text!r}"
    raise pytest.UsageError(msg)


class VectorFailure(Exception):
    """A vector did not pass; carries the verdict for the failure report."""

    def __init__(self, result: Result) -> None:
        super().__init__(result.reason)
        self.result = result


class _Session:
    """One channel to the target, opened at the first vector and closed at session end."""

    def __init__(self, target: Target, timeout: float, profile: str) -> None:
        self.target = target
        self.timeout = timeout
        self.profile = profile
        self.channel: Channel | None = None
        self.caps: Capabilities | None = None
        self.send: Callable[[Mapping[str, Any]], Exchange] | None = None
        self.broken: str | None = None

    def run(self, vector: Vector) -> Result:
        from daskwire_conformance.runner.harness import HarnessError, profile_session
        from daskwire_conformance.runner.judge import Capabilities, judge_vector
        from daskwire_conformance.runner.targets import ChannelOptions

        if self.broken is not None:
            raise HarnessError(self.broken)
        if self.channel is None or self.caps is None or self.send is None:
            channel = self.target.open(ChannelOptions(timeout=self.timeout))
            self.channel = channel
            try:
                declared, self.send = profile_session(channel, channel.start(), self.profile)
            except HarnessError as exc:
                # one testee, one verdict: every later vector fails with the same error
                self.broken = str(exc)
                self.close()
                raise
            self.caps = Capabilities.of(declared, self.profile)
        return judge_vector(vector, self.caps, self.send)

    def close(self) -> None:
        if self.channel is not None:
            self.channel.close()
            self.channel = None


class VectorItem(pytest.Item):
    """One golden vector as a test."""

    def __init__(self, *, vector: Vector, session_: _Session, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.vector = vector
        self.session_ = session_

    def runtest(self) -> None:
        """Run the vector; skip, pass or raise VectorFailure."""
        result = self.session_.run(self.vector)
        if result.outcome == "skipped":
            pytest.skip(result.reason)
        if result.outcome != "passed":
            raise VectorFailure(result)

    def repr_failure(self, excinfo: pytest.ExceptionInfo[BaseException], style: Any = None) -> Any:
        """A readable verdict: reason, requirement ids, diff and stderr."""
        if not isinstance(excinfo.value, VectorFailure):
            return super().repr_failure(excinfo, style=style)
        result = excinfo.value.result
        lines = [
            f"{result.outcome}: {result.id} [{result.level}; {', '.join(result.requirements)}]"
        ]
        for check in result.checks:
            if check.outcome == "passed":
                continue
            mode = f"({check.mode}) " if check.mode else ""
            lines.append(f"{mode}{check.failure or check.outcome}: {check.message}")
            if check.diff:
                lines.append(check.diff)
            if check.stderr:
                lines.append("stderr:\n" + check.stderr)
        return "\n".join(lines)

    def reportinfo(self) -> tuple[Path, int | None, str]:
        """Where the vector lives."""
        return self.path, None, f"daskwire vector {self.vector.id}"


class _Collector(pytest.Collector):
    """The parent node of every vector item."""

    def collect(self) -> list[pytest.Item | pytest.Collector]:
        """Items are added by the plugin, not collected from files."""
        return []


class _Plugin:
    """Adds one item per selected vector at the end of collection."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.session: _Session | None = None

    @pytest.hookimpl(tryfirst=True)
    def pytest_collection_modifyitems(
        self, session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        from daskwire_conformance.common.data import vectors_dir
        from daskwire_conformance.common.suite import VectorFileError, load_suite, suite_profile
        from daskwire_conformance.runner.baseline import BaselineError, load_baseline
        from daskwire_conformance.runner.run import select
        from daskwire_conformance.runner.targets import TargetError

        try:
            target = _parse_target(str(config.getoption("daskwire_target")))
        except TargetError as exc:
            raise pytest.UsageError(str(exc)) from exc
        option = config.getoption("daskwire_vectors")
        root = Path(option) if option else vectors_dir()
        baseline_path = config.getoption("daskwire_baseline")
        try:
            loaded = load_suite(root)
            profile = suite_profile(root)
            listed = load_baseline(Path(baseline_path)).entries if baseline_path else {}
        except (VectorFileError, BaselineError) as exc:
            raise pytest.UsageError(str(exc)) from exc
        run, skip = config.getoption("daskwire_run"), config.getoption("daskwire_skip")
        vectors = select(loaded, run, skip)
        self.session = _Session(target, float(config.getoption("daskwire_timeout")), profile)
        parent = _Collector.from_parent(session, name="daskwire", path=root, nodeid="daskwire")
        for vector in vectors:
            item = VectorItem.from_parent(
                parent,
                name=vector.id,
                vector=vector,
                session_=self.session,
                path=root / vector.file,
            )
            if vector.id in listed:
                reason = f"baseline: {listed[vector.id] or 'expected to fail'}"
                item.add_marker(pytest.mark.xfail(reason=reason, strict=True, raises=VectorFailure))
            items.append(item)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.session is not None:
            self.session.close()
