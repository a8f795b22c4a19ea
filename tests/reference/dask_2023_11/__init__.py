"""Unit tests of the dask-2023.11 reference codec (daskwire.dask_2023_11)."""
