"""Reads the start request and never answers it."""

import sys
import time

sys.stdin.readline()
sys.stderr.write("warming up forever\n")
sys.stderr.flush()
time.sleep(3600)
