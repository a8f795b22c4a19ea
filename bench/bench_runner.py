"""Suite speed side by side: vectors per second per target, and the runner's own overhead."""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

from daskwire_conformance.common.suite import load_vectors
from daskwire_conformance.runner.judge import Result
from daskwire_conformance.runner.run import run_vectors
from daskwire_conformance.runner.targets import (
    Target,
    command_target,
    python_target,
    reference_target,
)

#: The overhead the runner aims at per vector (printed, not asserted).
TARGET_OVERHEAD_US = 200


def measure(target: Target, vectors: list, jobs: int) -> tuple[float, list[Result]]:
    began = time.perf_counter()
    run = run_vectors(target, vectors, jobs=jobs)
    seconds = time.perf_counter() - began
    if not run.complete:
        raise SystemExit(f"{target.describe()}: incomplete run: {run.harness_error}")
    return seconds, list(run.results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--vectors", type=Path, help="vectors folder (default: the kit's)")
    parser.add_argument("--rounds", type=int, default=3, help="runs per target; the best counts")
    parser.add_argument(
        "--rust",
        type=Path,
        help="also time this testee binary, e.g. examples/rust/target/release/daskwire-rs",
    )
    parser.add_argument(
        "--quick", action="store_true", help="one round over the first 100 vectors (CI smoke)"
    )
    args = parser.parse_args()
    vectors = load_vectors(args.vectors)
    if args.quick:
        vectors, args.rounds = vectors[:100], 1
    print(f"{len(vectors)} vectors, best of {args.rounds} rounds")
    targets = [
        ("in-process reference", python_target("daskwire_conformance.testee:ReferenceTestee"), 1),
        ("stdio `daskwire serve`", reference_target(), 1),
        ("stdio `daskwire serve` -j 2", reference_target(), 2),
    ]
    if args.rust is not None:
        targets.append(("stdio Rust example", command_target([str(args.rust)]), 1))
    rates: dict[str, float] = {}
    for label, target, jobs in targets:
        best, results = min(
            (measure(target, vectors, jobs) for _ in range(args.rounds)), key=lambda m: m[0]
        )
        rate = len(vectors) / best
        rates[label] = rate
        ratio = rate / next(iter(rates.values()))
        print(
            f"{label:30} {rate:9.0f} vectors/s  {best * 1000:7.0f} ms suite wall time"
            f"  {ratio:5.2f}x the first row"
        )
        if target.kind == "python":
            overhead = [(r.seconds - r.testee_seconds) * 1e6 for r in results]
            testee = [r.testee_seconds * 1e6 for r in results]
            wall = (best * 1e6 - sum(testee)) / len(results)
            print(
                f"{'':30} runner overhead per vector: median {statistics.median(overhead):.0f} µs, "
                f"mean {statistics.fmean(overhead):.0f} µs (target < {TARGET_OVERHEAD_US} µs); "
                f"testee median {statistics.median(testee):.0f} µs; "
                f"whole run minus testee time: {wall:.0f} µs per vector"
            )


if __name__ == "__main__":
    main()
