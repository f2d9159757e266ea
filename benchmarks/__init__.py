"""Reproducible performance scenarios: ``python -m benchmarks``."""
