"""A progress bar on standard error, for reading a large file on a terminal (rich)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import IO, Final

__all__ = ["PROGRESS_BYTES", "progress_bar"]

#: Files at least this long get a progress bar, when standard error is a terminal.
PROGRESS_BYTES: Final = 64 << 20


@contextlib.contextmanager
def progress_bar(
    err: IO[str], label: str, size: int, *, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A callback that advances a progress bar on `err`: only on a terminal, for a file of
    `PROGRESS_BYTES` or more, and when `enabled`; else a callback that does nothing."""
    if not (enabled and size >= PROGRESS_BYTES and err.isatty()):
        yield lambda _n: None
        return
    from rich.console import Console
    from rich.progress import Progress

    with Progress(console=Console(file=err), transient=True) as bar:
        task = bar.add_task(f"reading {label}", total=size)
        yield lambda n: bar.advance(task, n)
