"""Languages: which one an item is written in (``detect``), and how its words and a
watchlist's terms are reduced for matching in it (``analyzers``)."""

from monitor.languages.analyzers import (
    STEMMED_LANGUAGES,
    View,
    ascii_key,
    lower_for,
    primary,
    stem_key,
)
from monitor.languages.detect import Detection, detect, item_language

__all__ = [
    "STEMMED_LANGUAGES",
    "Detection",
    "View",
    "ascii_key",
    "detect",
    "item_language",
    "lower_for",
    "primary",
    "stem_key",
]
