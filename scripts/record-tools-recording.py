"""Record a small real cluster through `daskwire tap --record`, for the site's Tools pages.

Starts a LocalCluster of distributed on 127.0.0.1 (in-process workers, real TCP), a tap in front
of its scheduler (`python -m daskwire_conformance.cli tap`, stopped with SIGTERM), and a Client
through the tap that sums a dask.array of three chunks. The recording replaces
spec/tools/recordings/small-cluster/. The script then checks that the recording is small, that
the traffic core reads every stream without an error, and that it holds none of this machine's
names (host name, user, home folder, working folder); it fails otherwise.

    .venv/bin/python scripts/record-tools-recording.py

What the recording does hold, as any Dask traffic does: the client's and scheduler's ids (UUIDs),
package versions, the kernel release and LANG (`register-client`), the scheduler's memory
size (`identity`), 127.0.0.1 addresses and ports, and the pickled task graph.
"""

from __future__ import annotations

import getpass
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = ROOT / "spec" / "tools" / "recordings" / "small-cluster"
#: The recording stays small enough to commit and to show on a page.
MAX_BYTES = 200_000
TIMEOUT = 30.0


def _start_tap(upstream: str, record: Path, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    with log.open("wb") as sink:
        tap = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "daskwire_conformance.cli",
                "tap",
                "--upstream",
                upstream,
                "--record",
                str(record),
            ],
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline and tap.poll() is None:
        found = re.search(r"listening on (\S+:\d+)", log.read_text())
        if found:
            return tap, found[1]
        time.sleep(0.05)
    tap.kill()
    tap.wait()
    msg = f"the tap did not start:\n{log.read_text()}"
    raise SystemExit(msg)


def _record(record: Path, log: Path) -> None:
    import dask.array as da
    import distributed

    with distributed.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=False,
        protocol="tcp://",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        upstream = str(cluster.scheduler_address).removeprefix("tcp://")
        tap, address = _start_tap(upstream, record, log)
        try:
            with distributed.Client(f"tcp://{address}", timeout=TIMEOUT) as client:
                total = da.arange(30, chunks=10).sum().compute()
                assert int(total) == sum(range(30)), total
                del client  # nothing of this script is pickled: no function of ours runs
        finally:
            tap.send_signal(signal.SIGTERM)
            tap.wait(TIMEOUT)
    if tap.returncode != 0:
        msg = f"the tap exited with {tap.returncode}:\n{log.read_text()}"
        raise SystemExit(msg)


def _check(folder: Path) -> None:
    from daskwire_conformance.tap.log import replay_lines

    size = sum(p.stat().st_size for p in folder.iterdir())
    if size > MAX_BYTES:
        msg = f"the recording is {size:,} bytes, more than {MAX_BYTES:,}"
        raise SystemExit(msg)
    names = {socket.gethostname(), getpass.getuser(), str(Path.home()) + "/", os.getcwd()}
    names |= {str(ROOT)}
    names = {n for n in names if len(n) >= 5 and n not in {"localhost"}}
    for path in folder.iterdir():
        data = path.read_bytes()
        for name in names:
            if name.encode() in data:
                msg = f"{path.name} holds {name!r}: not recorded"
                raise SystemExit(msg)
    lines = replay_lines(folder)
    bad = [line for line in lines if " violation: " in line or "decoding stops" in line]
    if bad:
        raise SystemExit("\n".join(bad))
    print("\n".join(lines))
    print(f"{size:,} bytes in {len(list(folder.iterdir()))} files")


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        record = Path(tmp) / "small-cluster"
        _record(record, Path(tmp) / "tap.log")
        _check(record)
        if TARGET.exists():
            shutil.rmtree(TARGET)
        TARGET.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(record, TARGET)
    for path in TARGET.iterdir():
        path.chmod(0o644)  # what git keeps; the tap itself writes 0600
    TARGET.chmod(0o755)


if __name__ == "__main__":
    main()
