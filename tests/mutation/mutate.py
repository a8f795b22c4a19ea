"""The kit's own mutation run: cosmic-ray mutates the pure-Python reference, the vectors kill."""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import json
import os
import py_compile
import random
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from importlib import metadata
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))
import survivors as sv  # this folder is not a package

ROOT: Final = sv.ROOT
REFERENCE: Final = ROOT / "reference" / "daskwire"
CONFORMANCE: Final = ROOT / "conformance" / "daskwire_conformance"
#: Every profile's suite: a mutant of a shared module may be seen by any of them.
VECTORS: Final = ROOT / "vectors"
KILLER: Final = Path(__file__).resolve().parent / "kill.py"
#: Where a full run keeps its snapshot and session (gitignored), so that --resume can go on.
DEFAULT_WORK: Final = ROOT / ".mutation" / "run"
TOOL: Final = "cosmic-ray"
#: The mutant timeout is this many times the unmutated run, and at least MIN_TIMEOUT seconds.
TIMEOUT_FACTOR: Final = 10.0
MIN_TIMEOUT: Final = 5.0
#: Seconds between progress lines of a long run.
PROGRESS_EVERY: Final = 60.0


def log(text: str) -> None:
    """One progress line on stderr."""
    print(f"mutate: {text}", file=sys.stderr, flush=True)


def snapshot(work: Path) -> None:
    """Copy the reference, the runner, the vectors and the killer into the work folder.

    The run mutates and judges this copy only: edits to the checkout during a long run change
    nothing, and the checkout's files are never written. Sources are compiled to hash-checked
    bytecode, so an unmutated module is not recompiled for every mutant while a mutated one
    always is.
    """
    for name in ("src", "orig", "vectors"):
        shutil.rmtree(work / name, ignore_errors=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.so", "*.pyc", "*.pyd", "_data")
    shutil.copytree(REFERENCE, work / "src" / "daskwire", ignore=ignore)
    shutil.copytree(REFERENCE, work / "orig" / "daskwire", ignore=ignore)
    shutil.copytree(CONFORMANCE, work / "src" / "daskwire_conformance", ignore=ignore)
    shutil.copytree(VECTORS, work / "vectors", ignore=ignore)
    shutil.copy2(KILLER, work / "kill.py")
    compileall.compile_dir(
        work / "src",
        quiet=1,
        invalidation_mode=py_compile.PycInvalidationMode.CHECKED_HASH,
    )


def killer_command(work: Path) -> list[str]:
    """The test command cosmic-ray runs for each mutant."""
    return [
        "env",
        f"PYTHONPATH={work / 'src'}",
        "DASKWIRE_PURE_PYTHON=1",
        "PYTHONDONTWRITEBYTECODE=1",
        sys.executable,
        str(work / "kill.py"),
        "--vectors",
        str(work / "vectors"),
        "--src",
        str(work / "src"),
    ]


def baseline(work: Path) -> float:
    """Run the killer on the unmutated copy: it must pass. Returns its best time of three."""
    best = float("inf")
    for _ in range(3):
        began = time.perf_counter()
        done = subprocess.run(killer_command(work), capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - began)
        if done.returncode != 0:
            log(f"the unmutated reference does not pass the vectors:\n{done.stdout}{done.stderr}")
            raise SystemExit(2)
    return best


def reached_lines(work: Path) -> dict[str, set[int]]:
    """The lines of each mutated module that run while the vectors run (coverage.py).

    A mutant counts as reached when a line from its statement's first to its own ran.
    """
    data_file = work / "coverage.dat"
    data_file.unlink(missing_ok=True)
    command = killer_command(work)
    python_at = command.index(sys.executable)
    command[python_at + 1 : python_at + 1] = [
        "-m",
        "coverage",
        "run",
        f"--data-file={data_file}",
        f"--include={work / 'src' / 'daskwire'}/*.py,{work / 'src' / 'daskwire'}/*/*.py",
    ]
    # run in the work folder: the checkout's coverage settings (source = daskwire) stay out
    subprocess.run(command, capture_output=True, check=True, cwd=work)
    from coverage import CoverageData

    data = CoverageData(basename=str(data_file))
    data.read()
    out: dict[str, set[int]] = {}
    for filename in data.measured_files():
        out[sv.module_name(filename)] = set(data.lines(filename) or ())
    return out


def write_config(work: Path, modules: Sequence[str], timeout: float) -> Path:
    """cosmic-ray's configuration for this run."""
    paths = [str(sv.module_file(work / "src" / "daskwire", m)) for m in modules]
    config = work / "cosmic-ray.toml"
    config.write_text(
        "[cosmic-ray]\n"
        f"module-path = {json.dumps(paths)}\n"
        f"timeout = {timeout:.1f}\n"
        "excluded-modules = []\n"
        f"test-command = {json.dumps(shlex.join(killer_command(work)))}\n"
        "\n[cosmic-ray.distributor]\n"
        'name = "local"\n',
        encoding="utf-8",
    )
    return config


def cosmic_ray(*args: str) -> list[str]:
    """A cosmic-ray command line, run by this interpreter."""
    return [sys.executable, "-m", "cosmic_ray.cli", *args]


def _job_key(item: Any) -> tuple[str, str, int]:
    mutation = item.mutations[0]
    module = sv.module_name(mutation.module_path)
    return (module, mutation.operator_name, mutation.occurrence)


def keep_sample(session: Path, size: int, seed: str) -> int:
    """Mark all but `size` seeded-random mutants as skipped; returns how many are left."""
    from cosmic_ray.work_db import WorkDB, use_db  # type: ignore[import-untyped]
    from cosmic_ray.work_item import WorkerOutcome, WorkResult  # type: ignore[import-untyped]

    with use_db(str(session), WorkDB.Mode.open) as db:
        items = sorted(db.pending_work_items, key=_job_key)
        chosen = {i.job_id for i in random.Random(seed).sample(items, min(size, len(items)))}
        skipped = [i.job_id for i in items if i.job_id not in chosen]
        db.set_multiple_results(skipped, WorkResult(worker_outcome=WorkerOutcome.SKIPPED))
        return len(chosen)


def counts(session: Path) -> tuple[int, int]:
    """(completed, total) work items of a session, skipped ones left out."""
    import sqlite3

    with sqlite3.connect(f"file:{session}?mode=ro", uri=True, timeout=30) as db:
        skipped, results = db.execute(
            "SELECT SUM(worker_outcome = 'SKIPPED'), COUNT(*) FROM work_results"
        ).fetchone()
        (items,) = db.execute("SELECT COUNT(*) FROM work_items").fetchone()
    skipped = skipped or 0
    return results - skipped, items - skipped


def _reap_killers(work: Path) -> None:
    """Kill the killer processes of this run that outlived cosmic-ray (each in its session)."""
    mark = str(work / "kill.py").encode()
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if mark in (entry / "cmdline").read_bytes().split(b"\0"):
                os.kill(int(entry.name), signal.SIGKILL)
        except (OSError, ValueError):
            continue


@contextmanager
def _process(
    command: list[str], env: dict[str, str], work: Path
) -> Iterator[subprocess.Popen[bytes]]:
    proc = subprocess.Popen(command, env=env, start_new_session=True, cwd=ROOT)
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            _reap_killers(work)


def execute(work: Path, session: Path, budget: float | None) -> bool:
    """`cosmic-ray exec`, with progress lines; False when the budget ran out first."""
    env = dict(os.environ, DASKWIRE_PURE_PYTHON="1", PYTHONDONTWRITEBYTECODE="1")
    began = time.monotonic()
    start_done, total = counts(session)
    config = work / "cosmic-ray.toml"
    with _process(cosmic_ray("exec", str(config), str(session)), env, work) as proc:
        while True:
            left = None if budget is None else budget - (time.monotonic() - began)
            wait = PROGRESS_EVERY if left is None else max(0.0, min(PROGRESS_EVERY, left))
            try:
                code = proc.wait(wait)
            except subprocess.TimeoutExpired:
                done, total = counts(session)
                rate = (done - start_done) / max(1e-9, time.monotonic() - began)
                eta = (total - done) / rate if rate else float("inf")
                log(f"{done}/{total} mutants, {rate:.2f}/s, about {eta / 60:.0f} min left")
                if left is not None and left <= wait:
                    log(f"time budget of {budget:.0f} s spent: stopping")
                    return False
                continue
            if code != 0:
                log(f"cosmic-ray exec exited with {code}")
                raise SystemExit(2)
            return True


#: Outcomes of mutants that ran against the vectors.
RAN: Final = frozenset({"killed", "timeout", "survived", "error"})


def _outcome(result: Any) -> tuple[str, str]:
    worker = str(result.worker_outcome.value)
    if worker == "no-test":
        return "no-test", ""
    if worker == "exception":
        # cosmic-ray raised while making the mutant (its ExceptionReplacer cannot rename a
        # dotted name such as msgpack.UnpackException): there is no mutant to run
        return "unmade", (result.output or "").strip().splitlines()[-1:][0]
    if worker != "normal":
        return "error", (result.output or "").strip()[-2000:]
    test = str(result.test_outcome.value)
    output = (result.output or "").strip()
    if test == "killed":
        return ("timeout", "timeout") if output == "timeout" else ("killed", output[-300:])
    if test == "survived":
        return "survived", ""
    return "error", output[-2000:]


def collect(work: Path, session: Path, reached: dict[str, set[int]]) -> list[sv.Mutant]:
    """Every mutant of the session that ran (or is pending), with its identity."""
    from cosmic_ray.mutating import mutate_code  # type: ignore[import-untyped]
    from cosmic_ray.plugins import get_operator  # type: ignore[import-untyped]
    from cosmic_ray.work_db import WorkDB, use_db

    sources = {
        m: sv.module_file(work / "orig" / "daskwire", m).read_text("utf-8") for m in sv.MODULES
    }
    maps = {m: sv.SourceMap.of(s) for m, s in sources.items()}
    with use_db(str(session), WorkDB.Mode.open) as db:
        results = dict(db.results)
        items = list(db.work_items)
    mutants: list[sv.Mutant] = []
    for item in items:
        result = results.get(item.job_id)
        if result is not None and result.worker_outcome.value == "skipped":
            continue
        mutation = item.mutations[0]
        module = sv.module_name(mutation.module_path)
        outcome, note = ("pending", "") if result is None else _outcome(result)
        diff = "" if result is None else (result.diff or "")
        if not diff and outcome not in {"no-test", "unmade"}:
            operator = get_operator(mutation.operator_name)(**(mutation.operator_args or {}))
            try:
                mutated = mutate_code(sources[module], operator, mutation.occurrence)
            except Exception:  # cosmic-ray cannot redo it (a dotted name in an except clause)
                mutated = None  # the mutant keeps its outcome, without a diff
            if mutated is not None:
                import difflib

                diff = "\n".join(
                    difflib.unified_diff(
                        sources[module].split("\n"), mutated.split("\n"), lineterm=""
                    )
                )
        removed, added = sv.parse_diff(diff)
        line, char = mutation.start_pos
        text = sources[module].splitlines()[line - 1] if line else ""
        column = len(text[:char].encode("utf-8"))
        where = maps[module]
        mutants.append(
            sv.Mutant(
                module=module,
                function=where.function(line, column),
                operator=mutation.operator_name.removeprefix("core/"),
                occurrence=mutation.occurrence,
                line=line,
                column=column,
                removed=removed,
                added=added,
                outcome=outcome,
                reached=not reached.get(module, set()).isdisjoint(
                    range(where.statement_line(line, column), line + 1)
                ),
                note=note,
            )
        )
    return sv.assign_ordinals(mutants)


def _git(*args: str) -> str:
    done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def commit_label() -> str:
    """The checkout's commit, marked when the reference or the vectors differ from it."""
    commit = _git("rev-parse", "--short", "HEAD") or "unknown"
    changed = _git("status", "--porcelain", "--", "reference/daskwire", "vectors")
    return f"{commit} (with uncommitted changes)" if changed else commit


def update_files(
    mutants: Sequence[sv.Mutant], modules: Sequence[str], work: Path, state: dict[str, Any]
) -> sv.Merge:
    """Merge the survivors into survivors.toml and write the score, for the modules run."""
    maps = {
        m: sv.SourceMap.of(sv.module_file(work / "orig" / "daskwire", m).read_text())
        for m in modules
    }
    alive = [m for m in mutants if m.outcome == "survived"]
    merged = sv.merge(sv.read_entries(), alive, modules, maps)
    sv.SURVIVORS_FILE.write_text(sv.render_entries(merged.entries), encoding="utf-8")
    score = sv.read_score()
    today = dt.datetime.now(dt.UTC).date().isoformat()
    per_module: dict[str, Any] = dict(score.get("modules", {}))
    for module in modules:
        counts_ = sv.module_score([m for m in mutants if m.module == module], merged.entries)
        per_module[module] = {"date": today, **counts_}
    per_module = {m: per_module[m] for m in sv.MODULES if m in per_module}
    score.update(
        {
            "date": today,
            "tool": TOOL,
            "version": metadata.version(TOOL),
            "commit": state["commit"],
            "command": "bash scripts/mutate.sh",
            "killer": f"the in-process vectors ({state['vectors']}), tests/mutation/kill.py",
            "modules": per_module,
            "total": sv.totals(per_module),
        }
    )
    score["markdown"] = sv.render_markdown(score)
    sv.write_score(score)
    return merged


def _show(mutant: sv.Mutant | sv.Entry) -> str:
    where = f"{mutant.module.replace('.', '/')}.py:{mutant.line} in {mutant.function}"
    return f"  {mutant.id}  ({where})\n" + "".join(f"      {d}\n" for d in mutant.diff)


def report_sample(mutants: Sequence[sv.Mutant]) -> int:
    """Judge a sample against the survivor list: 1 when a mutant no entry names survives."""
    known = {e.id: e for e in sv.read_entries()}
    ran = [m for m in mutants if m.outcome in RAN]
    alive = [m for m in ran if m.outcome == "survived"]
    new = [m for m in alive if m.id not in known]
    errors = [m for m in ran if m.outcome == "error"]
    stale = [m for m in ran if m.outcome != "survived" and m.id in known]
    killed = sum(1 for m in ran if m.outcome in {"killed", "timeout"})
    print(
        f"mutation sample: {len(ran)} mutants run, {killed} killed, "
        f"{len(alive) - len(new)} known survivors, {len(new)} new survivors, {len(errors)} errors"
    )
    for mutant in stale:
        entry = known[mutant.id]
        print(f"note: listed as {entry.cls} but now {mutant.outcome}: {mutant.id}")
    for mutant in errors:
        print(f"error: {mutant.id}\n{mutant.note}")
    if new:
        print(
            "FAILED: mutants no vector kills and tests/mutation/survivors.toml does not list;"
            " add a vector that kills each, or run `bash scripts/mutate.sh` and classify:"
        )
        print("".join(_show(m) for m in new), end="")
    return 1 if new or errors else 0


def report_full(mutants: Sequence[sv.Mutant], merged: sv.Merge) -> int:
    """Print what a complete run changed; 1 when a survivor is left unclassified."""
    score = sv.read_score()
    print(sv.render_markdown(score), end="")
    if merged.gone:
        print(f"\n{len(merged.gone)} listed survivors no longer survive (removed from the list):")
        print("".join(_show(e) for e in merged.gone), end="")
    if merged.new:
        print(f"\n{len(merged.new)} new survivors:")
        print("".join(f"[{e.cls}{'/' + e.kind if e.kind else ''}]{_show(e)}" for e in merged.new))
    errors = [m for m in mutants if m.outcome == "error"]
    for mutant in errors:
        print(f"error: {mutant.id}\n{mutant.note}")
    open_ = [e for e in merged.entries if e.cls == sv.UNCLASSIFIED]
    if open_:
        print(
            f"\n{len(open_)} survivors are unclassified: classify each in"
            " tests/mutation/survivors.toml (tests/test_mutation_survivors.py fails until then)"
        )
    return 1 if open_ or errors else 0


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (scripts/mutate.sh passes its arguments through)."""
    parser = argparse.ArgumentParser(
        prog="scripts/mutate.sh",
        description=(
            "Mutate the pure-Python reference with cosmic-ray and kill the mutants with the"
            " in-process vectors. A full run rewrites tests/mutation/survivors.toml and"
            " spec/mutation/score.json; a sample run checks a seeded sample against the list."
        ),
    )
    parser.add_argument(
        "--module",
        action="append",
        choices=sv.MODULES,
        help="mutate only this module of reference/daskwire (repeatable; default: all nine)",
    )
    parser.add_argument(
        "--sample", type=int, metavar="N", help="run N seeded-random mutants; write nothing"
    )
    parser.add_argument(
        "--seed", help="the sample's seed (default: today's UTC date, so the sample rotates)"
    )
    parser.add_argument(
        "--budget",
        type=float,
        metavar="SECONDS",
        help="stop starting mutants after this long (a sample's bound in CI)",
    )
    parser.add_argument(
        "--timeout",
        type=float,
        metavar="SECONDS",
        help=f"a mutant's deadline (default: {TIMEOUT_FACTOR:.0f}x the unmutated run,"
        f" at least {MIN_TIMEOUT:.0f} s); a mutant past it counts as killed",
    )
    parser.add_argument(
        "--work", type=Path, help=f"working folder (default: {DEFAULT_WORK.relative_to(ROOT)})"
    )
    parser.add_argument(
        "--resume", action="store_true", help="go on with the interrupted run in the work folder"
    )
    parser.add_argument(
        "--results", type=Path, help="also write every mutant's outcome to this JSON file"
    )
    parser.add_argument(
        "--rescore",
        action="store_true",
        help="run nothing: recount the score's classes from survivors.toml after classifying",
    )
    args = parser.parse_args(argv)
    if args.sample is not None and args.sample < 1:
        parser.error("--sample takes a positive number")
    if args.resume and args.sample is not None:
        parser.error("--resume continues a full run; a sample starts afresh")
    return args


def _restore(work: Path) -> None:
    """Put the unmutated sources back into the copy (a run stopped mid-mutant leaves one)."""
    for source in (work / "orig" / "daskwire").glob("*.py"):
        target = work / "src" / "daskwire" / source.name
        if target.read_bytes() != source.read_bytes():
            shutil.copy2(source, target)


def start(args: argparse.Namespace, work: Path, modules: list[str]) -> dict[str, Any]:
    """A fresh run: snapshot, baseline, coverage, configuration and cosmic-ray session."""
    work.mkdir(parents=True, exist_ok=True)
    snapshot(work)
    seconds = baseline(work)
    timeout = args.timeout or max(MIN_TIMEOUT, TIMEOUT_FACTOR * seconds)
    log(f"unmutated run: {seconds:.2f} s; mutant timeout {timeout:.1f} s")
    vectors = sum(
        len(json.loads(p.read_text())["vectors"]) for p in (work / "vectors").glob("*/*/*.json")
    )
    state = {
        "modules": modules,
        "commit": commit_label(),
        "vectors": vectors,
        "timeout": timeout,
        # a sample judges survivors by id only: it needs no coverage
        "reached": {}
        if args.sample is not None
        else {m: sorted(lines) for m, lines in reached_lines(work).items()},
    }
    config = write_config(work, modules, timeout)
    session = work / "session.sqlite"
    session.unlink(missing_ok=True)
    subprocess.run(cosmic_ray("init", str(config), str(session)), check=True, cwd=ROOT)
    (work / "state.json").write_text(json.dumps(state), encoding="utf-8")
    return state


def run(args: argparse.Namespace, work: Path) -> int:
    """Set up (or resume) the session, execute, collect, then judge or record."""
    modules: list[str] = [m for m in sv.MODULES if m in (args.module or sv.MODULES)]
    session = work / "session.sqlite"
    began = time.monotonic()
    if args.resume:
        # a resumed run goes on with the snapshot it started from, whatever changed since
        state_file = work / "state.json"
        if not state_file.exists() or not session.exists():
            log(f"nothing to resume in {work}")
            return 2
        state = json.loads(state_file.read_text(encoding="utf-8"))
        modules = list(state["modules"])
        _restore(work)
    else:
        state = start(args, work, modules)
    if args.sample is not None:
        seed = args.seed or dt.datetime.now(dt.UTC).date().isoformat()
        kept = keep_sample(session, args.sample, seed)
        log(f"sample of {kept} mutants, seed {seed!r} (--seed {shlex.quote(seed)} repeats it)")
    done, total = counts(session)
    log(f"{total - done} of {total} mutants to run in {', '.join(modules)}")
    complete = execute(work, session, args.budget)
    reached = {m: set(lines) for m, lines in state["reached"].items()}
    mutants = collect(work, session, reached)
    elapsed = time.monotonic() - began
    ran = sum(1 for m in mutants if m.outcome in RAN)
    log(f"{ran} mutants in {elapsed:.0f} s ({elapsed / max(ran, 1):.2f} s each, setup included)")
    if args.results is not None:
        rows = [{"id": m.id, **asdict(m)} for m in mutants]
        args.results.write_text(json.dumps(rows, indent=1) + "\n", encoding="utf-8")
    if args.sample is not None:
        return report_sample(mutants)
    if not complete or any(m.outcome == "pending" for m in mutants):
        log("the run is incomplete: nothing recorded (go on with --resume)")
        return 1
    merged = update_files(mutants, modules, work, state)
    return report_full(mutants, merged)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of scripts/mutate.sh."""
    args = parse_args(argv)
    if args.rescore:
        try:
            score = sv.rescore(sv.read_score(), sv.read_entries())
        except ValueError as exc:
            log(str(exc))
            return 2
        sv.write_score(score)
        print(score["markdown"], end="")
        return 1 if score["total"].get("unclassified") else 0
    if args.sample is not None and args.work is None:
        with tempfile.TemporaryDirectory(prefix="daskwire-mutation-") as tmp:
            return run(args, Path(tmp))
    return run(args, args.work or DEFAULT_WORK)


if __name__ == "__main__":
    sys.exit(main())
