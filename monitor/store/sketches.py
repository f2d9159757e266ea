"""How identity values are stored: an item's sketch as a blob, and the learning log's
rows (new stories' samples). Only the store reads and writes these."""

from __future__ import annotations

import functools
import itertools
import struct
from collections.abc import Sequence

import numpy as np

from monitor.models import Sketch

# shingles, words; sample, lead, heading and title lengths (the numbers come last)
SKETCH_HEADER = struct.Struct("<IIIIII")


def sketch_blob(print_: Sketch | None) -> bytes | None:
    """A sketch as stored: a header, then its sample, lead, heading and title hashes as
    uint32."""
    if print_ is None:
        return None
    header = SKETCH_HEADER.pack(
        print_.shingles,
        print_.words,
        len(print_.sample),
        len(print_.lead),
        len(print_.heading),
        len(print_.title),
    )
    values = print_.sample + print_.lead + print_.heading + print_.title + print_.numbers
    return header + _uint32s(len(values)).pack(*values)


def sketch_from_blob(blob: bytes | None) -> Sketch | None:
    """Inverse of ``sketch_blob``."""
    if not blob:
        return None
    shingles, word_count, *lengths = SKETCH_HEADER.unpack_from(blob)
    count = (len(blob) - SKETCH_HEADER.size) // 4
    values = _uint32s(count).unpack_from(blob, SKETCH_HEADER.size)
    ends = list(itertools.accumulate(lengths))
    return Sketch(
        sample=values[: ends[0]],
        lead=values[ends[0] : ends[1]],
        shingles=shingles,
        words=word_count,
        heading=values[ends[1] : ends[2]],
        title=values[ends[2] : ends[3]],
        numbers=values[ends[3] :],
    )


@functools.lru_cache(maxsize=1024)
def _uint32s(count: int) -> struct.Struct:
    return struct.Struct(f"<{count}I")


def words_of_blob(blob: bytes | None) -> int:
    """How many words of text a stored sketch's item has (0 without one), from the
    sketch or from its header's second field alone (``substr(sketch, 5, 4)``)."""
    if not blob:
        return 0
    return int.from_bytes(blob[4:8] if len(blob) > 4 else blob, "little")


def log_blob(samples: Sequence[Sequence[int]]) -> bytes:
    """New stories' samples as one log row holds them: their lengths, then their values."""
    lengths = np.array([len(sample) for sample in samples], dtype="<u4")
    values = np.array([value for sample in samples for value in sample], dtype="<u4")
    return lengths.tobytes() + values.tobytes()


def samples_of(blob: bytes, stories: int) -> list[list[int]]:
    """Inverse of ``log_blob`` for a row of ``stories`` samples."""
    lengths = np.frombuffer(blob, dtype="<u4", count=stories).tolist()
    values = np.frombuffer(blob, dtype="<u4", offset=4 * stories).tolist()
    found, start = [], 0
    for length in lengths:
        found.append(values[start : start + length])
        start += length
    return found
