"""Benchmarks: ``python3 dev.py bench [names]`` (``python -m tests.perf``); one module each."""
