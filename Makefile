# Shortcuts for the kit's common jobs; each is one script or command of the README.
.PHONY: setup check test bench bench-quick

setup:
	bash scripts/setup.sh

check: setup
	.venv/bin/daskwire check

test:
	bash scripts/test.sh

# Real Dask traffic: installs the bench extra, records the corpora if they are not cached (the
# converted messages for placeholder-v1, the frames Dask wrote for dask-2023.11), prints both
# profiles' tables and ratios side by side, and rewrites the table that spec/performance.md
# includes (spec/bench/dask-latest.md).
bench:
	bash scripts/setup.sh --bench
	.venv/bin/python bench/bench_dask.py --markdown spec/bench/dask-latest.md

bench-quick:
	bash scripts/setup.sh --bench
	.venv/bin/python bench/bench_dask.py --quick
