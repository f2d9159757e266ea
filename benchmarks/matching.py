"""Matching at scale: 1, 100 and 10,000 terms over 20,000 news-sized items, one core.

``python -m benchmarks.matching [--items N]`` prints, per term count: the build time of
the compiled ``WatchlistSet``, items/s for folding the text (HTML-free title and summary
into words), for matching the folded text, and for both; and, on a sample, the old way
of checking each watchlist on its own, as a ratio.

Items and terms are generated from one seeded vocabulary with news-like word
frequencies (Zipf), hyphenated compounds included, so that the terms are found at a
realistic rate (a few percent of items match) and the numbers do not depend on the
corpus being present.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from monitor.match import Document, WatchlistSet, WatchlistSpec, keyword_rule
from monitor.match.query import parse_query

SYLLABLES = [
    "ka", "ra", "bakh", "ar", "men", "ia", "tru", "ce", "fi", "re", "pol", "it", "ic",
    "sa", "mo", "lo", "ne", "gor", "no", "ba", "ku", "tal", "ks", "wa", "ter", "oil",
    "vo", "te", "min", "is", "try", "de", "fen", "se", "gas", "pi", "pe", "li", "un",
]  # fmt: skip
SAMPLE_OF_OLD_WAY = 200


def vocabulary(rng: random.Random, size: int = 100_000) -> list[str]:
    """Distinct made-up words, most frequent first."""
    words: dict[str, None] = {}
    while len(words) < size:
        words["".join(rng.choices(SYLLABLES, k=rng.randint(1, 4)))] = None
    return list(words)


@dataclass(frozen=True, slots=True)
class Corpus:
    """Generated items as (title, summary) and the vocabulary they were drawn from."""

    words: list[str]
    items: list[tuple[str, str]]


def generate(count: int, seed: int = 7) -> Corpus:
    """``count`` items of 8-14 title words and 40-90 summary words."""
    rng = random.Random(seed)
    words = vocabulary(rng)
    weights = [1 / (rank + 10) for rank in range(len(words))]

    def text(size: int) -> str:
        drawn = rng.choices(words, weights, k=size)
        pieces = []
        for word in drawn:
            pieces.append(word)
            pieces.append("-" if rng.random() < 0.03 else rng.choice([" "] * 12 + [", ", ". "]))
        return "".join(pieces[:-1]).capitalize()

    items = [(text(rng.randint(8, 14)), text(rng.randint(40, 90))) for _ in range(count)]
    return Corpus(words, items)


def stem(word: str) -> str:
    """A prefix as people write them: the word less its ending, at least 5 letters."""
    return word[: max(5, len(word) - 2)]


def watchlist_settings(corpus: Corpus, terms: int, seed: int = 11) -> list[dict[str, Any]]:
    """Watchlists as written in the YAML: 10 terms each (a single watchlist below 10
    terms), drawn from the vocabulary's rarer half, as names and places are; words,
    phrases, hyphenated compounds, prefixes, NEAR and exclusions."""
    rng = random.Random(seed)
    rare = corpus.words[len(corpus.words) // 2 :]
    if terms < 10:
        return [{"name": "w0", "any": rng.sample(rare, terms)}]
    found: list[dict[str, Any]] = []
    for index in range(terms // 10):
        pick = rng.sample(rare, 10)
        if index % 4 == 0:  # a query with every operator
            query = (
                f'({pick[0]} OR {pick[1]} OR "{pick[2]} {pick[3]}" OR {stem(pick[4])}*) '
                f"AND ({pick[5]} NEAR/3 {pick[6]} OR {pick[7]}) -{pick[8]} -title:{pick[9]}"
            )
            found.append({"name": f"w{index}", "query": query})
        elif index % 4 == 1:
            found.append({"name": f"w{index}", "any": pick[:8], "none": pick[8:]})
        else:
            phrase = f'"{pick[0]} {pick[1]}"'
            found.append({"name": f"w{index}", "any": [phrase, f"{pick[2]}-{pick[3]}", *pick[4:]]})
    return found


def specs(corpus: Corpus, terms: int) -> list[WatchlistSpec]:
    """The watchlists of ``watchlist_settings`` as the matcher takes them."""
    return [
        WatchlistSpec(
            settings["name"],
            parse_query(settings["query"])
            if "query" in settings
            else keyword_rule(settings.get("any", []), [], settings.get("none", [])),
        )
        for settings in watchlist_settings(corpus, terms)
    ]


def documents(items: Iterable[tuple[str, str]], language: str | None = None) -> Iterator[Document]:
    """Fresh, unfolded documents, made one at a time: a worker holds a batch of items,
    not 20,000 (held all at once, they make every full garbage collection of the pass
    walk them, which no worker pays)."""
    for title, summary in items:
        yield Document({"title": title, "summary": summary}, language)


@dataclass(frozen=True, slots=True)
class Timing:
    """Seconds spent folding and matching, and how many items matched."""

    fold: float
    match: float
    matched: int


def fold_then_match(watchlists: WatchlistSet, docs: Iterable[Document]) -> Timing:
    """Each item folded then matched at once, as a worker does, each stage timed apart
    (matching all items after folding all would measure cache misses, not matching)."""
    clock = time.perf_counter_ns
    fold = match = matched = 0
    for document in docs:
        started = clock()
        for field in watchlists.fields:
            document.folded(field)
        folded = clock()
        matched += bool(watchlists.match(document))
        fold += folded - started
        match += clock() - folded
    return Timing(fold / 1e9, match / 1e9, matched)


def report(count: int) -> None:
    """Print the table for ``count`` items."""
    corpus = generate(count)
    print(f"matching {count:,} generated items, one core (items/s)")
    print(
        f"  {'terms':>6}  {'watchlists':>10}  {'build':>8}  {'fold':>9}  {'match':>9}  "
        f"{'fold+match':>10}  {'matched':>7}  {'one by one':>10}"
    )
    for terms in (1, 100, 10_000):
        chosen = specs(corpus, terms)
        started = time.perf_counter()
        watchlists = WatchlistSet(chosen)
        build = time.perf_counter() - started
        timing = fold_then_match(watchlists, documents(corpus.items))
        # The old way: every watchlist checks its own terms, one after another.
        alone = [WatchlistSet([spec]) for spec in chosen]
        sample = list(documents(corpus.items[:SAMPLE_OF_OLD_WAY]))
        started = time.perf_counter()
        for document in sample:
            for one in alone:
                one.match(document)
        old_rate = len(sample) / (time.perf_counter() - started)
        print(
            f"  {terms:>6,}  {len(chosen):>10,}  {build * 1000:>6.0f}ms  "
            f"{count / timing.fold:>9,.0f}  {count / timing.match:>9,.0f}  "
            f"{count / (timing.fold + timing.match):>10,.0f}  {timing.matched / count:>6.1%}  "
            f"{old_rate:>10,.0f}"
        )
    print(
        "  fold: title and summary to folded words; match: the compiled set over them, "
        "explanations and spans included;\n  one by one: each watchlist compiled alone and "
        f"asked in turn ({SAMPLE_OF_OLD_WAY} items, fold+match)"
    )


def main() -> None:
    """``python -m benchmarks.matching [--items N]``."""
    options = argparse.ArgumentParser(description=__doc__)
    options.add_argument("--items", type=int, default=20_000)
    report(options.parse_args().items)


if __name__ == "__main__":
    main()
