"""The golden vectors' tooling: generation from the case sources, drift checks, listing."""
