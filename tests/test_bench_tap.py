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
#: critical values give them (the interval is [x(k), x(n + 1 - k)]), and its coverage,
#: 1 - 2 P(X < k) for X ~ Binomial(n, 1/2), worked out by hand.
RANKS = [
    (6, 1, 6, 1 - 2 / 64),
    (9, 2, 8, 1 - 2 * (1 + 9) / 512),
    (10, 2, 9, 1 - 2 * (1 + 10) / 1024),
    (15, 4, 12, 1 - 2 * (1 + 15 + 105 + 455) / 32768),
    (21, 6, 16, 1 - 2 * (1 + 21 + 210 + 1330 + 5985 + 20349) / 2**21),
    (30, 10, 21, None),
    (100, 40, 61, None),
]


@pytest.mark.parametrize(("n", "low", "high", "coverage"), RANKS)
def test_the_median_interval_is_the_tabled_order_statistics(
    n: int, low: int, high: int, coverage: float | None
) -> None:
    values = [float(rank) * 10 for rank in range(n, 0, -1)]  # out of order on purpose
    got_low, got_high, got_coverage = median_interval(values)
    assert (got_low, got_high) == (low * 10.0, high * 10.0)
    assert got_coverage >= 0.95
    if coverage is not None:
        assert got_coverage == pytest.approx(coverage)


@pytest.mark.parametrize(("n", "coverage"), [(3, 0.75), (4, 0.875), (5, 0.9375)])
def test_too_few_values_give_the_whole_range_and_say_it_covers_less(
    n: int, coverage: float
) -> None:
    values = [float(v) for v in range(n)]
    assert median_interval(values) == (0.0, float(n - 1), pytest.approx(coverage))
