"""Reproducible performance scenarios: ``python -m benchmarks``."""

from pathlib import Path

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "feeds"


def corpus_bodies() -> dict[str, bytes]:
    """The captured real feeds, by name."""
    return {p.name: p.read_bytes() for p in sorted(CORPUS.iterdir()) if p.name != "LICENSE"}
