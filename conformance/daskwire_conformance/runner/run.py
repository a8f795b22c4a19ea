"""The conformance runner: selects vectors, drives channels (sharded over -j), tallies verdicts."""

from __future__ import annotations

import contextlib
import fnmatch
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import TYPE_CHECKING, Any, Final

from daskwire import PROFILE

from daskwire_conformance.runner.baseline import Baseline, BaselineVerdict, compare
from daskwire_conformance.runner.harness import Channel, HarnessError, profile_session
from daskwire_conformance.runner.judge import Capabilities, Check, Result, judge_vector
from daskwire_conformance.runner.targets import ChannelOptions, Target

if TYPE_CHECKING:
    from daskwire_conformance.common.suite import Vector

__all__ = [
    "EXIT_FAILED",
    "EXIT_HARNESS",
    "EXIT_INCOMPLETE",
    "EXIT_OK",
    "EXIT_USAGE",
    "Interrupted",
    "Run",
    "SignalGuard",
    "Summary",
    "run_vectors",
    "select",
    "summarize",
]

#: Every selected required vector passed or matched the baseline, which held exactly.
EXIT_OK: Final = 0
#: Some required vector failed, errored or was skipped, or the baseline did not hold.
EXIT_FAILED: Final = 1
#: Bad command line, target, vectors folder or baseline file; nothing selected.
EXIT_USAGE: Final = 2
#: The testee could not start, failed the start handshake, or exhausted its restart budget.
EXIT_HARNESS: Final = 3
#: The run ended before every selected vector had a verdict (e.g. interrupted).
EXIT_INCOMPLETE: Final = 4


#: Signals that end a run as an interruption (CI cancellations send SIGTERM).
INTERRUPT_SIGNALS: Final = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


class Interrupted(KeyboardInterrupt):
    """A signal asked the run to stop; it ends as incomplete, like Ctrl-C."""

    def __init__(self, signal_name: str) -> None:
        super().__init__(signal_name)
        self.signal_name = signal_name


class SignalGuard:
    """Turns SIGINT, SIGTERM and SIGHUP into `Interrupted` while a run goes.

    Only the first signal raises: later ones are noted and ignored, so that the cleanup that
    kills the testees and writes the reports is not itself cut short. After `calm()`, signals
    are only noted. A signal the process ignores (under `nohup`, say) stays ignored; outside
    the main thread, where Python cannot handle signals, the guard does nothing.
    """

    def __init__(self) -> None:
        self.received: list[str] = []
        self._raising = True

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        del frame
        name = signal.Signals(signum).name
        self.received.append(name)
        if self._raising and len(self.received) == 1:
            raise Interrupted(name)

    def calm(self) -> None:
        """From now on, only note signals (the run is over; reports are being written)."""
        self._raising = False

    @contextlib.contextmanager
    def installed(self) -> Iterator[SignalGuard]:
        """Handle the signals inside the block; restore the previous handlers after it."""
        if threading.current_thread() is not threading.main_thread():
            yield self
            return
        previous: dict[int, Any] = {}
        for sig in INTERRUPT_SIGNALS:
            if signal.getsignal(sig) is signal.SIG_IGN:
                continue  # ignored on purpose (nohup, a background job): left ignored
            with contextlib.suppress(OSError, ValueError):
                previous[sig] = signal.signal(sig, self._handle)
        try:
            yield self
        finally:
            for sig, handler in previous.items():
                with contextlib.suppress(OSError, ValueError, TypeError):
                    signal.signal(sig, handler)


def select(vectors: Sequence[Vector], run: Sequence[str], skip: Sequence[str]) -> list[Vector]:
    """Vectors whose id matches some `run` glob (all when none) and no `skip` glob."""
    chosen = []
    for vector in vectors:
        if run and not any(fnmatch.fnmatchcase(vector.id, g) for g in run):
            continue
        if any(fnmatch.fnmatchcase(vector.id, g) for g in skip):
            continue
        chosen.append(vector)
    return chosen


@dataclass(frozen=True, slots=True, kw_only=True)
class Run:
    """Everything one run observed, before any baseline is applied."""

    target: str
    results: tuple[Result, ...]
    selected: int
    start: Mapping[str, Any]
    complete: bool
    harness_error: str | None = None
    interrupted: bool = False
    notes: tuple[str, ...] = ()
    seconds: float = 0.0
    restarts: int = 0
    jobs: int = 1


@dataclass(slots=True)
class _Shared:
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)
    #: Set before the channels are aborted: what fails after it is the runner's doing.
    interrupted: threading.Event = field(default_factory=threading.Event)
    results: list[Result] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    start: dict[str, Any] = field(default_factory=dict)
    restarts: int = 0
    channels: list[Channel] = field(default_factory=list)


def _runner_error(vector: Vector) -> Result:
    return Result(
        id=vector.id,
        kind=vector.kind,
        level=vector.level,
        requirements=tuple(vector.requirements),
        outcome="errored",
        checks=(Check(outcome="errored", failure="runner-error", message=traceback.format_exc()),),
        reason="the runner failed on this vector (a bug in the kit or the vector)",
    )


def _work(  # noqa: PLR0917 - a thread target takes positional arguments
    target: Target,
    shard: Sequence[Vector],
    options: ChannelOptions,
    validate: Callable[[str, Mapping[str, Any]], str | None] | None,
    shared: _Shared,
    on_result: Callable[[Result], None] | None,
    profile: str,
) -> None:
    channel = target.open(options, validate)
    with shared.lock:
        shared.channels.append(channel)
    if shared.stop.is_set():
        return
    try:
        start = channel.start()
    except HarnessError as exc:
        with shared.lock:
            if not shared.interrupted.is_set():
                shared.errors.append(str(exc))
        shared.stop.set()
        return
    try:
        declared, send = profile_session(channel, start, profile)
    except HarnessError as exc:
        with shared.lock:
            shared.errors.append(str(exc))
        shared.stop.set()
        notes = channel.close()
        with shared.lock:
            shared.notes.extend(notes)
        return
    with shared.lock:
        if not shared.start:
            # the report shows the capabilities of the run's profile, whatever the protocol
            shared.start.update({**start, "capabilities": declared})
            shared.start.pop("profiles", None)
    caps = Capabilities.of(declared, profile)
    try:
        for vector in shard:
            if shared.stop.is_set():
                break
            try:
                result = judge_vector(vector, caps, send)
            except HarnessError as exc:
                with shared.lock:
                    if not shared.interrupted.is_set():
                        shared.errors.append(str(exc))
                shared.stop.set()
                break
            except Exception:
                result = _runner_error(vector)
            with shared.lock:
                if shared.interrupted.is_set():
                    break  # the runner killed the testee under this vector: no verdict
                shared.results.append(result)
                if on_result is not None:
                    on_result(result)
    except KeyboardInterrupt:
        channel.abort()  # interrupted: no polite stop for a testee that may be hanging
        raise
    finally:
        notes = channel.close()
        with shared.lock:
            shared.notes.extend(notes)
            shared.restarts += getattr(channel, "restarts", 0)


def run_vectors(
    target: Target,
    vectors: Sequence[Vector],
    *,
    options: ChannelOptions | None = None,
    jobs: int = 1,
    validate: Callable[[str, Mapping[str, Any]], str | None] | None = None,
    on_result: Callable[[Result], None] | None = None,
    profile: str = PROFILE,
) -> Run:
    """Run one profile's vectors against a target; external targets use `jobs` processes
    (vectors sharded). A testee that does not implement `profile` gives a harness error.

    Never raises for testee misbehaviour: a harness error or an interruption yields an
    incomplete Run.
    """
    options = options or ChannelOptions()
    shared = _Shared()
    if jobs > 1 and not target.external:
        shared.notes.append("-j applies to external targets; an in-process target runs alone")
    jobs = max(1, min(jobs, len(vectors))) if target.external else 1
    shards = [list(vectors[i::jobs]) for i in range(jobs)]
    began = time.perf_counter()
    interrupted = False
    threads = [
        threading.Thread(
            target=_work,
            args=(target, shard, options, validate, shared, on_result, profile),
            name=f"daskwire-worker-{n}",
            daemon=True,
        )
        for n, shard in enumerate(shards)
    ]
    try:
        if jobs == 1:
            _work(target, shards[0], options, validate, shared, on_result, profile)
        else:
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.2)
    except KeyboardInterrupt as exc:
        interrupted = True
        shared.interrupted.set()
        shared.stop.set()
        with shared.lock:
            channels = list(shared.channels)
        for channel in channels:
            channel.abort()
        for thread in threads:
            if thread.is_alive():
                thread.join(5.0)
        shared.notes.append(f"interrupted by {getattr(exc, 'signal_name', 'SIGINT')}")
    results = tuple(sorted(shared.results, key=lambda r: r.id))
    error = "; ".join(dict.fromkeys(shared.errors)) or None
    return Run(
        target=target.describe(),
        results=results,
        selected=len(vectors),
        start=dict(shared.start),
        complete=not interrupted and error is None and len(results) == len(vectors),
        harness_error=error,
        interrupted=interrupted,
        notes=tuple(shared.notes),
        seconds=time.perf_counter() - began,
        restarts=shared.restarts,
        jobs=jobs,
    )


@dataclass(frozen=True, slots=True, kw_only=True)
class Summary:
    """A run judged against the required level and an optional baseline."""

    run: Run
    results: tuple[Result, ...]  # outcomes after the baseline (xfailed, baseline failures)
    counts: Mapping[str, int]
    blocking: tuple[str, ...]  # ids that make the run fail
    baseline: BaselineVerdict | None
    exit_code: int

    @property
    def final_line(self) -> str:
        """The closing line CI parses: `N passed, N failed, N skipped`."""
        c = self.counts
        return f"{c['passed']} passed, {c['failed'] + c['errored']} failed, {c['skipped']} skipped"


def _baseline_result(result: Result, failure: str, message: str) -> Result:
    check = Check(outcome="failed", failure=failure, message=message)
    return replace(result, outcome="failed", reason=message, checks=(*result.checks, check))


def summarize(
    run: Run, *, baseline: Baseline | None = None, all_ids: Sequence[str] = ()
) -> Summary:
    """Apply the baseline and the level rules; compute counts, blocking ids and the exit code."""
    verdict = None
    if baseline is not None:
        signatures = {r.id: r.signature() for r in run.results}
        verdict = compare(baseline, signatures, all_ids or [r.id for r in run.results])
    changed = {i: (want, got) for i, want, got in (verdict.changed if verdict else ())}
    unexpected = set(verdict.unexpected_passes if verdict else ())
    results: list[Result] = []
    blocking: list[str] = []
    for original in run.results:
        result = original
        if verdict is not None and result.id in verdict.matched:
            results.append(replace(result, outcome="xfailed"))
            continue
        if result.id in unexpected:
            result = _baseline_result(
                result, "unexpected-pass", "passed, but the baseline lists it as failing"
            )
        elif result.id in changed:
            want, got = changed[result.id]
            result = _baseline_result(
                result, "baseline-changed", f"baseline expects {want}, got {got}"
            )
        results.append(result)
        baseline_broken = result.id in unexpected or result.id in changed
        counts_against = result.level == "required" and not result.optional_skip
        if baseline_broken or (result.outcome != "passed" and counts_against):
            blocking.append(result.id)
    counts = dict.fromkeys(("passed", "failed", "errored", "skipped", "xfailed"), 0)
    for result in results:
        counts[result.outcome] += 1
    counts["total"] = len(results)
    if not run.complete:
        code = EXIT_HARNESS if run.harness_error else EXIT_INCOMPLETE
    elif blocking or (verdict is not None and verdict.stale):
        code = EXIT_FAILED
    else:
        code = EXIT_OK
    return Summary(
        run=run,
        results=tuple(results),
        counts=counts,
        blocking=tuple(blocking),
        baseline=verdict,
        exit_code=code,
    )
