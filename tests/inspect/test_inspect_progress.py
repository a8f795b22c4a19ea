"""The progress bar: on a terminal, for a large file only; never on a pipe."""

from __future__ import annotations

import io

import pytest
from daskwire_conformance.inspect.progress import PROGRESS_BYTES, progress_bar

pytestmark = pytest.mark.timeout(30)


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(
    ("err", "size", "enabled", "drawn"),
    [
        (_Terminal(), PROGRESS_BYTES, True, True),
        (_Terminal(), PROGRESS_BYTES - 1, True, False),
        (_Terminal(), PROGRESS_BYTES, False, False),
        (io.StringIO(), PROGRESS_BYTES, True, False),
    ],
    ids=["large-on-terminal", "small", "disabled", "pipe"],
)
def test_progress_bar(err: io.StringIO, size: int, enabled: bool, drawn: bool) -> None:
    with progress_bar(err, "big.bin", size, enabled=enabled) as advance:
        advance(size // 2)
        advance(size - size // 2)
    assert ("reading big.bin" in err.getvalue()) == drawn
