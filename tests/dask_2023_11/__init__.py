"""Tests of the dask-2023.11 profile's reference codec, against distributed itself."""
