"""What the runner checks: the built-in reference, an external command, or a Python object."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from daskwire_conformance.runner.harness import (
    DEFAULT_MAX_REPLY_BYTES,
    DEFAULT_MAX_RESTARTS,
    DEFAULT_START_TIMEOUT,
    DEFAULT_TIMEOUT,
    Channel,
    InProcessChannel,
    ProcessChannel,
)
from daskwire_conformance.testee import Testee

__all__ = [
    "ChannelOptions",
    "Target",
    "TargetError",
    "command_target",
    "load_python_testee",
    "python_target",
    "reference_target",
]

#: The module the built-in reference testee runs as (`daskwire serve`).
SERVE_MODULE: Final = "daskwire_conformance.cli"


class TargetError(ValueError):
    """A target cannot be named or loaded (a usage error)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ChannelOptions:
    """Deadlines and budgets for channels to external testees."""

    timeout: float = DEFAULT_TIMEOUT
    start_timeout: float = DEFAULT_START_TIMEOUT
    max_restarts: int = DEFAULT_MAX_RESTARTS
    max_reply_bytes: int = DEFAULT_MAX_REPLY_BYTES


Validator = Callable[[str, Mapping[str, Any]], str | None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Target:
    """An implementation to check: `kind` is `reference`, `command` or `python`."""

    kind: str
    argv: tuple[str, ...] = ()
    spec: str = ""

    @property
    def external(self) -> bool:
        """True when the target runs as separate processes over stdio."""
        return self.kind in ("reference", "command")

    def describe(self) -> str:
        """A short human description."""
        if self.kind == "python":
            return f"python:{self.spec}"
        if self.kind == "reference":
            return "reference (daskwire serve over stdio)"
        return " ".join(self.argv)

    def open(self, options: ChannelOptions, validate: Validator | None = None) -> Channel:
        """A new, not yet started channel to this target."""
        if self.kind == "python":
            return InProcessChannel(load_python_testee(self.spec), validate=validate)
        return ProcessChannel(
            self.argv,
            timeout=options.timeout,
            start_timeout=options.start_timeout,
            max_restarts=options.max_restarts,
            max_reply_bytes=options.max_reply_bytes,
            validate=validate,
        )


def reference_target() -> Target:
    """`daskwire serve` run with this interpreter, so it works from any install."""
    return Target(kind="reference", argv=(sys.executable, "-m", SERVE_MODULE, "serve"))


def command_target(argv: list[str] | tuple[str, ...]) -> Target:
    """An external command speaking harness protocol v1 on stdin/stdout."""
    if not argv:
        msg = "an external target needs a command after `--`"
        raise TargetError(msg)
    return Target(kind="command", argv=tuple(argv))


def python_target(spec: str) -> Target:
    """A Python object named `MODULE:ATTR`; checked here so a typo is a usage error."""
    load_python_testee(spec)
    return Target(kind="python", spec=spec)


class _FunctionTestee:
    """Adapts a plain `handle(request) -> reply` function to the Testee protocol."""

    def __init__(self, func: Callable[[Mapping[str, Any]], Mapping[str, Any]]) -> None:
        self._func = func

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        return self._func(request)


def load_python_testee(spec: str) -> Testee:
    """Import `MODULE:ATTR` and make a Testee of it.

    ATTR (dotted attributes allowed) may be an object with a `handle` method, a class or
    factory with no arguments that returns one, or a plain `handle(request)` function.
    """
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        msg = f"expected MODULE:ATTR, got {spec!r}"
        raise TargetError(msg)
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        msg = f"cannot import {module_name!r}: {exc}"
        raise TargetError(msg) from exc
    except Exception as exc:  # the module's own code failed while it was imported
        msg = f"importing {module_name!r} raised {type(exc).__name__}: {exc}"
        raise TargetError(msg) from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError as exc:
            msg = f"{module_name!r} has no attribute {attr!r}"
            raise TargetError(msg) from exc
        except Exception as exc:
            msg = f"reading {attr!r} of {module_name!r} raised {type(exc).__name__}: {exc}"
            raise TargetError(msg) from exc
    try:
        if isinstance(obj, type):
            obj = obj()
        elif not hasattr(obj, "handle") and callable(obj):
            candidate = obj() if _takes_no_arguments(obj) else None
            obj = candidate if hasattr(candidate, "handle") else _FunctionTestee(obj)
    except Exception as exc:
        msg = f"cannot make a testee of {spec!r}: {type(exc).__name__}: {exc}"
        raise TargetError(msg) from exc
    if not callable(getattr(obj, "handle", None)):
        msg = f"{spec!r} is not a testee: it has no handle(request) method"
        raise TargetError(msg)
    testee: Testee = obj
    return testee


def _takes_no_arguments(func: Callable[..., Any]) -> bool:
    import inspect

    try:
        signature = inspect.signature(func)
    except (TypeError, ValueError):
        return False
    return all(
        p.default is not inspect.Parameter.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        for p in signature.parameters.values()
    )
