"""What many stories share: shingles learned from the stream to carry no weight.

Automated sports, market and weather items, court listings, wire templates and a site's
standard paragraphs share whole sentences across stories that are not one story. A
shingle that appears in the sketches of ``common_at`` or more of the last few thousand
*new* stories (copies joined to a story count once, with it) is template, not identity:
``monitor.dedupe`` leaves it out of similarity and never uses it as an anchor.

Counts live in a count-min sketch of two generations, so memory is fixed (a few MB
whatever the stream) and old stories age out without being remembered one by one: a
generation holds ``generation_size`` new stories; when the current one is full, the
older is dropped. A count-min sketch only over-counts, and with hash-mixed buckets the
chance that a distinctive shingle is taken for common is about (occupancy × share of
common shingles)², which is negligible at these sizes.

The store feeds it every new story's sketch (its own, and those other instances log),
so every instance learns the same table from the same stream.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt

COMMON_AT = 5  # new stories, within the last one or two generations
GENERATION_SIZE = 5_000  # new stories per generation
WIDTH_BITS = 21  # 2 million counters per row (two rows, two generations: 16 MB)
_ROW_MIX = np.array([0x9E3779B97F4A7C15, 0xD6E8FEB86659FD93], dtype=np.uint64)

Counts = npt.NDArray[np.uint16]


class CommonShingles:
    """The learned table: ``value in table`` says whether a shingle hash is common."""

    def __init__(
        self,
        common_at: int = COMMON_AT,
        generation_size: int = GENERATION_SIZE,
        width_bits: int = WIDTH_BITS,
    ) -> None:
        self.common_at = common_at
        self.generation_size = generation_size
        self._shift = np.uint64(64 - width_bits)
        self._width = 1 << width_bits
        self._current = self._empty()
        self._previous = self._empty()
        self._in_current = 0  # new stories counted into the current generation
        self._common: set[int] = set()
        # Shingles found common by their keys' fan-out (``mark_busy``) since the last
        # rotation, and in the one before: kept common for two generations at least.
        self._busy: set[int] = set()
        self._busy_before: set[int] = set()
        self.stories = 0  # counted since start (for tests and metrics)

    def _empty(self) -> Counts:
        return np.zeros((len(_ROW_MIX), self._width), dtype=np.uint16)

    def __contains__(self, value: object) -> bool:
        return value in self._common

    def __len__(self) -> int:
        return len(self._common)

    @property
    def values(self) -> set[int]:
        """The common hashes: a live set, which counting keeps up to date."""
        return self._common

    def _buckets(self, values: npt.NDArray[np.uint64]) -> npt.NDArray[np.intp]:
        mixed = values[None, :] * _ROW_MIX[:, None]
        return (mixed >> self._shift).astype(np.intp)

    def _estimates(self, values: npt.NDArray[np.uint64]) -> npt.NDArray[np.int64]:
        rows = np.arange(len(_ROW_MIX))[:, None]
        buckets = self._buckets(values)
        total = self._current[rows, buckets].astype(np.int64)
        total += self._previous[rows, buckets]
        estimates: npt.NDArray[np.int64] = total.min(axis=0)
        return estimates

    def count(self, stories: Iterable[Sequence[int]]) -> None:
        """Count new stories, each given by its sketch's sample (distinct hashes)."""
        batch: list[Sequence[int]] = []
        for sample in stories:
            if self._in_current + len(batch) >= self.generation_size:
                self._count_batch(batch)
                batch = []
                self._rotate()
            batch.append(sample)
        self._count_batch(batch)

    def _count_batch(self, stories: Sequence[Sequence[int]]) -> None:
        if not stories:
            return
        values = np.fromiter((value for sample in stories for value in sample), dtype=np.uint64)
        self._in_current += len(stories)
        self.stories += len(stories)
        if not values.size:
            return
        buckets = self._buckets(values)
        flat = (buckets + (np.arange(len(_ROW_MIX)) * self._width)[:, None]).ravel()
        distinct_buckets, times = _runs(flat.astype(np.uint64))
        where = distinct_buckets.astype(np.intp)
        counts = self._current.reshape(-1)
        counts[where] = np.minimum(counts[where].astype(np.int64) + times, 0xFFFF)
        distinct = _runs(values)[0]
        crossed = distinct[self._estimates(distinct) >= self.common_at]
        self._common.update(crossed.tolist())

    def mark_busy(self, values: Iterable[int]) -> None:
        """Shingles whose keys lead to many different stories: common from now on."""
        for value in values:
            self._busy.add(value)
            self._common.add(value)

    def _rotate(self) -> None:
        """The older generation ages out: what is no longer common leaves the table."""
        self._previous, self._current = self._current, self._previous
        self._current.fill(0)
        self._in_current = 0
        self._busy_before, self._busy = self._busy, set()
        if self._common:
            values = np.fromiter(self._common, dtype=np.uint64, count=len(self._common))
            still = values[self._estimates(values) >= self.common_at]
            # The common set is the same object throughout (callers hold it live).
            kept = set(still.tolist()) | self._busy_before
            self._common.intersection_update(kept)

    def snapshot(self) -> frozenset[int]:
        """The common hashes now (a value that does not change under the holder)."""
        return frozenset(self._common)


def _runs(
    values: npt.NDArray[np.uint64],
) -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.int64]]:
    """The distinct values, sorted, and how often each occurs (np.unique hashes first,
    which is several times slower at these sizes)."""
    ordered = np.sort(values)
    starts = np.flatnonzero(np.r_[True, ordered[1:] != ordered[:-1]])
    times: npt.NDArray[np.int64] = np.diff(np.r_[starts, ordered.size])
    return ordered[starts], times
