"""Benchmarks: scripts a user runs from the README (`make bench`), never timed tests."""
