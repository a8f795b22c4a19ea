"""Tests of `daskwire tap` against real Dask peers and real sockets on loopback."""
