"""Languages: how often detection names the language a feed declares, what it costs per
item, and what stemming and transliteration cost the matcher.

``python -m benchmarks.languages [--items N]``

- Detection, on the corpus's items whose feeds declare a language: the detector's answer
  on the title alone and on title and summary (as the text stage reads it); then
  ``item_language`` with the declaration hidden: right, left unknown, or another
  language. Microseconds per item, the model's loading apart.
- Matching: the 10,000-term set of ``benchmarks.matching`` over its generated items,
  read with no language (words only: stemming off), in a stemmed language (German's
  stemmer reads the generated words as it would any Latin-script text), and with
  transliteration too. Items/s for folding plus matching, as a ratio to words only.
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace

from benchmarks import CORPUS, corpus_bodies
from benchmarks.matching import Timing, documents, fold_then_match, generate, specs
from monitor.languages import detect, item_language, primary
from monitor.languages.detect import SAMPLE_CHARS
from monitor.match import WatchlistSet
from monitor.sources import ReadError, Text
from monitor.sources.registry import read_feed
from monitor.text import html_to_text


@dataclass(frozen=True, slots=True)
class Labelled:
    """A corpus item whose feed declares its language."""

    declared: str
    title: str
    text: str


def labelled_items() -> list[Labelled]:
    """Every corpus entry with a declared language, as the feed declares it (the raw
    entries: the text stage would already have checked the tag against the text)."""
    found = []
    for name, body in corpus_bodies().items():
        try:
            raw = read_feed(body, {"content-type": "application/xml"}, f"https://bench/{name}")
        except ReadError:
            continue
        for entry in raw.entries:
            declared = primary(entry.language)
            if declared:
                summary = entry.summary or (entry.contents[0] if entry.contents else None)
                found.append(Labelled(declared, _plain(entry.title), _plain(summary)))
    return found


def _plain(text: Text | None) -> str:
    return html_to_text(text.value) if text is not None and text.value else ""


def detection_report(items: Sequence[Labelled]) -> None:
    """Print the detector's agreement with the declared languages, and its cost."""
    _identifier_loaded = detect("warm up")  # the model loads once per process
    assert _identifier_loaded is not None
    print(f"detection: {len(items):,} corpus items whose feeds declare a language")
    print(f"  {'read':<16}  {'agrees':>8}  {'µs/item':>8}")
    for label, text_of in (
        ("title alone", lambda item: item.title),
        ("title + summary", lambda item: f"{item.title}\n{item.text[:SAMPLE_CHARS]}"),
    ):
        agrees = 0
        started = time.perf_counter()
        for item in items:
            found = detect(text_of(item))
            agrees += found is not None and found.language == item.declared
        took = time.perf_counter() - started
        print(f"  {label:<16}  {agrees / len(items):>8.1%}  {took / len(items) * 1e6:>8.0f}")
    right = unknown = other = 0
    for item in items:
        guessed = item_language(None, item.title, item.text)
        if guessed is None:
            unknown += 1
        elif guessed == item.declared:
            right += 1
        else:
            other += 1
    print(
        f"  item_language with the tag hidden: {right:,} right, {unknown:,} unknown, "
        f"{other:,} another language"
    )


CASES = (
    ("words only (stemming off)", None, False),
    ("stemmed (de)", "de", False),
    ("stemmed + transliterate (de)", "de", True),
)


def two_passes(count: int, language: str | None, transliterate: bool) -> tuple[Timing, Timing]:
    """Fold and match the generated items twice in this process: the first pass meets
    every word for the first time (stems computed), the second finds them known."""
    corpus = generate(count)
    chosen = specs(corpus, 10_000)
    watchlists = WatchlistSet(replace(spec, transliterate=transliterate) for spec in chosen)
    passes = []
    for _ in range(2):
        passes.append(fold_then_match(watchlists, documents(corpus.items, language)))
    return passes[0], passes[1]


def matching_report(count: int) -> None:
    """Print fold+match rates over the 10,000-term set, stemming off and on, each case
    in a fresh process (so that no case inherits another's known words)."""
    rows = []
    context = multiprocessing.get_context("spawn")
    for label, language, transliterate in CASES:
        with ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
            rows.append((label, pool.submit(two_passes, count, language, transliterate).result()))
    print(f"matching: 10,000 terms over {count:,} generated items, one core (items/s)")
    columns = ("first pass", "ratio", "again", "ratio", "matched")
    print(f"  {'read':<30}" + "".join(f"  {column:>10}" for column in columns))
    base_first, base_again = (count / (t.fold + t.match) for t in rows[0][1])
    for label, (first, again) in rows:
        first_rate = count / (first.fold + first.match)
        again_rate = count / (again.fold + again.match)
        print(
            f"  {label:<30}  {first_rate:>10,.0f}  {first_rate / base_first:>10.2f}  "
            f"{again_rate:>10,.0f}  {again_rate / base_again:>10.2f}  "
            f"{first.matched / count:>10.1%}"
        )
    print(
        "  first pass: every word met for the first time in the process (stemmed then);"
        " again: the same items once more, as a long-running worker meets its vocabulary"
    )


def main() -> None:
    """Run both parts."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--items", type=int, default=20_000)
    args = options.parse_args()
    if CORPUS.is_dir():
        detection_report(labelled_items())
    else:
        print(f"detection: skipped, {CORPUS} is absent")
    print()
    matching_report(args.items)


if __name__ == "__main__":
    main()
