"""`daskwire inspect`: read captured Dask traffic message by message, in the spec's words."""
