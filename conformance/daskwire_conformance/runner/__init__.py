"""The conformance runner: targets, the harness protocol, judging, baselines and reports."""
