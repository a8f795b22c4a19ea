# Shortcuts for the kit's common jobs; each is one script or command of the README.
.PHONY: setup check test bench bench-quick

setup:
	bash scripts/setup.sh

check: setup
	.venv/bin/daskwire check

test:
	bash scripts/test.sh

# Real Dask traffic: installs the bench extra, records the corpus if it is not cached, prints
# the side-by-side tables and ratios, and rewrites the site's table (spec/performance.md).
bench:
	bash scripts/setup.sh --bench
	.venv/bin/python bench/bench_dask.py --markdown spec/bench/dask-latest.md

bench-quick:
	bash scripts/setup.sh --bench
	.venv/bin/python bench/bench_dask.py --quick
