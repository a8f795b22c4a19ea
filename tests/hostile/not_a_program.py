"""Exits at once with an error, before reading anything: the testee could not start."""

import sys

sys.exit("testee: missing configuration file")
