"""Tests of the reference codec `daskwire`: golden bytes, properties, errors, limits and fuzzing."""
