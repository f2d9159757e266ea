"""More like this: a watchlist that gives samples instead of terms (``like:``) matches an
item whose text is close enough to one of them.

Close is the cosine of TF-IDF vectors over folded words: each word counts by how often
the text says it (dampened: ``1 + log n``) and by how rare it is among the stored items
(``WordWeights``: the inverse of its document frequency). Words that many items say
("said", "the", a region's name in a regional feed list) weigh little or nothing, so a
re-worded report of the same event, which shares its rare words (names, numbers,
places, the act), scores high, and a report that merely names the region does not.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from monitor.match.document import Document
from monitor.text import words

# Below this many stored items, document frequencies say little: every word longer than
# three letters weighs the same, and shorter ones nothing.
MIN_DOCUMENTS = 200
# A word in more than this share of the stored items says nothing about a story.
COMMON_SHARE = 0.2
DEFAULT_THRESHOLD = 0.3


@dataclass(frozen=True, slots=True)
class WordWeights:
    """How much each folded word says: the log inverse of its document frequency among
    ``documents`` stored items (``learn``)."""

    frequencies: Mapping[str, int] = field(default_factory=dict)
    documents: int = 0
    # The weight of a word no stored item has: the most a word can weigh.
    unseen: float = field(init=False, default=0.0)
    _weights: dict[str, float] = field(init=False, default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        # Computed once: an item's vector then costs a dictionary lookup per word.
        documents = self.documents
        unseen = math.log(documents + 1)
        weights = {
            word: 0.0 if seen > COMMON_SHARE * documents else math.log((documents + 1) / (seen + 1))
            for word, seen in self.frequencies.items()
        }
        object.__setattr__(self, "unseen", unseen)
        object.__setattr__(self, "_weights", weights)

    @classmethod
    def learn(cls, texts: Iterable[str]) -> WordWeights:
        """The weights of the words of these texts (each counted once per text)."""
        frequencies: Counter[str] = Counter()
        documents = 0
        for text in texts:
            frequencies.update(set(words(text)))
            documents += 1
        return cls(dict(frequencies), documents)

    def weight(self, word: str) -> float:
        """The word's weight: 0 for a common word, more the rarer it is."""
        if self.documents < MIN_DOCUMENTS:
            return 1.0 if len(word) > 3 else 0.0
        return self._weights.get(word, self.unseen)


Vector = dict[str, float]


def vector(text_words: Iterable[str], weights: WordWeights) -> Vector:
    """A text's TF-IDF vector, of unit length (empty when no word weighs anything)."""
    counts = Counter(text_words)
    if weights.documents < MIN_DOCUMENTS:
        found = {word: _damped(count) for word, count in counts.items() if len(word) > 3}
    else:
        # The weights' table read directly: this runs for every item of every poll.
        known, unseen = weights._weights.get, weights.unseen
        found = {}
        for word, count in counts.items():
            weight = known(word, unseen)
            if weight > 0:
                found[word] = _damped(count) * weight
    norm = math.sqrt(sum(value * value for value in found.values()))
    return {word: value / norm for word, value in found.items()} if norm else {}


DAMPED = [0.0, *(1 + math.log(count) for count in range(1, 64))]


def _damped(count: int) -> float:
    """``1 + log count``: a word said twice counts a little more than once."""
    return DAMPED[count] if count < len(DAMPED) else 1 + math.log(count)


def cosine(first: Vector, second: Vector) -> float:
    """The cosine of two unit vectors."""
    if len(first) > len(second):
        first, second = second, first
    return sum(value * second.get(word, 0.0) for word, value in first.items())


@dataclass(frozen=True, slots=True)
class Sample:
    """One sample of a ``like:`` watchlist: what it is called (``text 1``, ``file
    truce.txt``, ``item seed:b33b2c1105469be7``) and its text."""

    label: str
    text: str


@dataclass(frozen=True, slots=True)
class LikeSpec:
    """A ``like:`` watchlist as matching needs it."""

    name: str
    samples: tuple[Sample, ...]
    notifiers: tuple[str, ...] = ()
    threshold: float = DEFAULT_THRESHOLD
    fields: tuple[str, ...] = ("title", "summary")


@dataclass(frozen=True, slots=True)
class Likeness:
    """An item's best score against one like watchlist, and the sample that gave it."""

    watchlist: str
    score: float
    sample: str
    threshold: float

    @property
    def close(self) -> bool:
        """The score reaches the watchlist's threshold."""
        return self.score >= self.threshold


class LikeSet:
    """Every ``like:`` watchlist of a configuration, its samples' vectors computed once
    with one set of word weights, as the columns of one matrix per set of fields
    compared: an item's score against every sample is one product of its words' rows,
    however many samples there are."""

    def __init__(self, specs: Sequence[LikeSpec], weights: WordWeights) -> None:
        self.specs = tuple(specs)
        self.weights = weights
        self._labels = [[sample.label for sample in spec.samples] for spec in self.specs]
        self._groups = [
            _SampleMatrix(
                [(i, spec) for i, spec in enumerate(self.specs) if spec.fields == fields],
                weights,
            )
            for fields in dict.fromkeys(spec.fields for spec in self.specs)
        ]

    def __len__(self) -> int:
        return len(self.specs)

    def scores(self, document: Document) -> list[Likeness]:
        """The document's best score against each watchlist, in configuration order."""
        best: dict[int, tuple[float, int]] = {}
        for group in self._groups:
            text_words = [word for field in group.fields for word in document.folded(field).words]
            best.update(group.best(vector(text_words, self.weights)))
        found = []
        for index, spec in enumerate(self.specs):
            score, position = best.get(index, (0.0, -1))
            label = self._labels[index][position] if position >= 0 else ""
            found.append(Likeness(spec.name, round(score, 4), label, spec.threshold))
        return found


class _SampleMatrix:
    """The samples of the watchlists that compare the same fields: a row per word any
    of them has, a column per sample, each column a sample's unit vector."""

    def __init__(self, specs: Sequence[tuple[int, LikeSpec]], weights: WordWeights) -> None:
        self.fields = specs[0][1].fields
        self.rows: dict[str, int] = {}
        self.spans: list[tuple[int, int, int]] = []  # (watchlist, first column, end)
        cells: list[tuple[int, int, float]] = []
        column = 0
        for index, spec in specs:
            first = column
            for sample in spec.samples:
                for word, value in vector(words(sample.text), weights).items():
                    cells.append((self.rows.setdefault(word, len(self.rows)), column, value))
                column += 1
            self.spans.append((index, first, column))
        self.matrix = np.zeros((len(self.rows), column), dtype=np.float32)
        for row, at, value in cells:
            self.matrix[row, at] = value

    def best(self, text: Vector) -> dict[int, tuple[float, int]]:
        """Each watchlist's best score and the position of its sample that gave it."""
        rows, values = [], []
        for word, value in text.items():
            row = self.rows.get(word)
            if row is not None:
                rows.append(row)
                values.append(value)
        if not rows:
            return {}
        # Multiplied and summed by numpy's own loops, not BLAS: a BLAS product starts
        # its threads in every worker process, which spin for longer than it takes.
        weighted = self.matrix[rows] * np.asarray(values, dtype=np.float32)[:, None]
        scores = weighted.sum(axis=0)
        found = {}
        for index, first, end in self.spans:
            position = int(np.argmax(scores[first:end]))
            score = float(scores[first + position])
            if score > 0:
                found[index] = (score, position)
        return found
