"""Benchmarks for Resonanz (not part of the installed package). Run through ``scripts/bench``."""
