"""The tap benchmark's statistics: the confidence interval for a median, against published
tables of order-statistic ranks (run as a table)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_SPEC = importlib.util.spec_from_file_location("bench_tap", ROOT / "bench" / "bench_tap.py")
assert _SPEC is not None
assert _SPEC.loader is not None
bench_tap = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(bench_tap)  # bench/ is not a package and nothing imports it
median_interval = bench_tap.median_interval

#: n, then the 1-based ranks of the 95% interval's ends, as tables of the sign test's
#: critical values give them (the interval is [x(k), x(n + 1 - k)]).
RANKS = [
    (6, 1, 6),
    (9, 2, 8),
    (10, 2, 9),
    (15, 4, 12),
    (21, 6, 16),
    (30, 10, 21),
    (100, 40, 61),
]


@pytest.mark.parametrize(("n", "low", "high"), RANKS)
def test_the_median_interval_is_the_tabled_order_statistics(n: int, low: int, high: int) -> None:
    values = [float(rank) * 10 for rank in range(n, 0, -1)]  # out of order on purpose
    assert median_interval(values) == (low * 10.0, high * 10.0)


def test_too_few_values_give_the_whole_range() -> None:
    assert median_interval([3.0, 1.0, 2.0]) == (1.0, 3.0)
