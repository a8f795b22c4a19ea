"""`daskwire tap`: a TCP proxy that forwards Dask traffic unchanged and logs every message."""
