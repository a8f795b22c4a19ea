"""The mutation run's killer: the in-process vectors against the reference, stopping at a miss."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: Exit status when the run is set up wrongly (the baseline run then fails, not a mutant).
SETUP_ERROR = 3


def _setup_problem(src: Path | None) -> str | None:
    """Why this process would not test the mutated pure-Python copy, or None."""
    import daskwire
    from daskwire.placeholder_v1 import accel

    if accel.scan is not None or accel.decode is not None:
        return "the C extension is on: set DASKWIRE_PURE_PYTHON=1"
    if src is not None:
        where = Path(daskwire.__file__).resolve()
        if not where.is_relative_to(src.resolve()):
            return f"daskwire was imported from {where}, not from the mutated copy in {src}"
    return None


class FreshRequests:
    """The reference testee, handed each request as fresh objects, as a stdio testee gets it.

    In process, the runner's own str objects would reach the codec: a mutant that compares
    strings by identity (`mode is FORWARDING`) would pass here and fail over stdio.
    """

    def __init__(self) -> None:
        from daskwire_conformance.testee import ReferenceTestee

        self._testee = ReferenceTestee()

    def handle(self, request: Mapping[str, Any]) -> Mapping[str, Any]:
        """Answer one request, after a JSON round trip."""
        return self._testee.handle(json.loads(json.dumps(request)))


def run(vectors: Path, src: Path | None) -> int:
    """0 when every vector passes; 1 at the first that does not (the mutant is killed)."""
    problem = _setup_problem(src)
    if problem is not None:
        print(f"kill.py: {problem}", file=sys.stderr)
        return SETUP_ERROR
    from daskwire_conformance.common.suite import MANIFEST_NAME, load_suite, suite_profile
    from daskwire_conformance.runner.harness import InProcessChannel, profile_session
    from daskwire_conformance.runner.judge import Capabilities, judge_vector

    # One suite folder, or a folder of them (one per profile): every profile's vectors run.
    if (vectors / MANIFEST_NAME).is_file():
        roots = [vectors]
    else:
        roots = sorted(p for p in vectors.iterdir() if (p / MANIFEST_NAME).is_file())
    channel = InProcessChannel(FreshRequests())
    start = channel.start()
    count = 0
    for root in roots:
        profile = suite_profile(root)
        suite = load_suite(root)
        declared, send = profile_session(channel, start, profile)
        caps = Capabilities.of(declared, profile)
        for vector in suite:
            result = judge_vector(vector, caps, send)
            if result.outcome != "passed":
                print(f"killed by {vector.id}: {result.outcome}: {result.reason}")
                return 1
        count += len(suite)
    notes = channel.close()
    if notes:
        print(f"killed at stop: {'; '.join(notes)}")
        return 1
    print(f"survived all {count} vectors")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command line: kill.py --vectors DIR [--src DIR]."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--vectors",
        type=Path,
        required=True,
        help="a suite folder, or a folder of every profile's suites",
    )
    parser.add_argument(
        "--src", type=Path, help="the folder daskwire must be imported from (the mutated copy)"
    )
    args = parser.parse_args(argv)
    return run(args.vectors, args.src)


if __name__ == "__main__":
    sys.exit(main())
