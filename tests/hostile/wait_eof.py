"""Answers stop, then exits only at the end of its input, as many stream-driven testees do."""

import sys

from _common import main

main(lambda request: False)
sys.stdin.read()  # returns at end of input: the runner must close stdin after stop
