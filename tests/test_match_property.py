"""Property: the compiled matcher agrees with the plain reference evaluator on random
queries (every operator, printed and parsed back) over random texts."""

from __future__ import annotations

import unicodedata

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from monitor.languages import STEMMED_LANGUAGES
from monitor.match import Document, WatchlistSet, WatchlistSpec
from monitor.match.query import parse_query
from monitor.match.watchlist import DEFAULT_STEMMED
from monitor.text import WORD
from tests.support import reference_matcher

# A small vocabulary, so that random queries and texts meet often: spellings that fold
# together, hyphenated compounds and their parts, prefixes of each other.
WORDS = [
    "cease",
    "fire",
    "ceasefire",
    "Cease",
    "truce",
    "trucebreaker",
    "Qarabağ",
    "qarabag",
    "Karabakh",
    "Nagorno",
    "weapons",
    "withdraw",
    "the",
    "and",
    "football",
    "fireworks",
    "İstanbul",
    "istanbul",
]
# Hyphenated runs in texts, whose closed forms are words above (or prefixes of them).
COMPOUNDS = ["cease-fire", "Cease\u2011Fire", "Nagorno-Karabakh", "truce-breaker", "fire-works"]
SEPARATORS = [" ", " ", " ", "-", "\u2011", ", ", " – ", "--", ". ", "\n"]
ALIASES = {
    "karabakh": ["Karabakh", "Nagorno-Karabakh", "Qarabağ"],
    "truce": ["truce", "cease-fire"],
}
FIELDS = ("title", "summary")


@st.composite
def texts_of(draw: st.DrawFn, vocabulary: list[str], size: int) -> str:
    """Up to ``size`` words of the vocabulary, joined by drawn separators."""
    words = draw(st.lists(st.sampled_from(vocabulary), max_size=size))
    pieces = []
    for word in words:
        pieces += [word, draw(st.sampled_from(SEPARATORS))]
    return "".join(pieces[:-1])


# A word whose folded form holds spaces (the ligature ﷺ folds to four words' letters):
# the terms after it must still be found where they are.
LIGATURE = "\ufdfa"


def texts() -> st.SearchStrategy[str]:
    return texts_of([*WORDS, *COMPOUNDS, LIGATURE], 12)


leaf_texts = st.one_of(
    st.sampled_from(WORDS),
    st.builds(lambda a, b: f'"{a} {b}"', st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(lambda a, b: f"{a}-{b}", st.sampled_from(WORDS), st.sampled_from(WORDS)),
    st.builds(
        lambda a, b, c: f'"{a} {b} {c}"',
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
        st.sampled_from(WORDS),
    ),
    st.sampled_from(COMPOUNDS),
    st.builds(lambda word, size: f"{word[:size]}*", st.sampled_from(WORDS), st.integers(3, 6)),
    st.sampled_from([f"@{name}" for name in ALIASES]),
)
# Queries are printed fully parenthesised, so the tree parsed back is the one drawn.
operands = st.one_of(
    leaf_texts,
    st.builds(lambda a, n, b: f"({a} NEAR/{n} {b})", leaf_texts, st.integers(0, 3), leaf_texts),
)
queries = st.recursive(
    operands,
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} AND {b})", inner, inner),
        st.builds(lambda a, b: f"({a} {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a: f"NOT {a}", inner),
        st.builds(lambda a: f"-({a})", inner),
        st.builds(lambda field, a: f"{field}:({a})", st.sampled_from(FIELDS), inner),
    ),
    max_leaves=8,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(queries=st.lists(queries, min_size=1, max_size=4), title=texts(), summary=texts())
def test_compiled_matcher_agrees_with_the_reference(
    queries: list[str], title: str, summary: str
) -> None:
    # Several watchlists in one set, as in production: their terms share one index.
    trees = [parse_query(query, ALIASES) for query in queries]
    watchlists = WatchlistSet(
        WatchlistSpec(f"w{index}", tree, FIELDS) for index, tree in enumerate(trees)
    )
    fields = {"title": title, "summary": summary}
    found = {match.watchlist: match for match in watchlists.match(Document(fields))}
    for index, tree in enumerate(trees):
        expected = reference_matcher.evaluate(tree, fields, FIELDS)
        match = found.get(f"w{index}")
        explained = None if match is None else [(term.term, term.field) for term in match.terms]
        assert explained == expected, queries[index]
        for term in match.terms if match else ():
            assert term.spans  # something found is somewhere
            for start, end in term.spans:
                assert 0 <= start < end <= len(fields[term.field])


@settings(max_examples=600, deadline=None)
@given(
    left=leaf_texts, right=leaf_texts, distance=st.integers(0, 4), title=texts(), summary=texts()
)
def test_near_agrees_with_the_reference(
    left: str, right: str, distance: int, title: str, summary: str
) -> None:
    tree = parse_query(f"{left} NEAR/{distance} {right}", ALIASES)
    watchlists = WatchlistSet([WatchlistSpec("near", tree, FIELDS)])
    fields = {"title": title, "summary": summary}
    found = watchlists.match(Document(fields))
    explained = [(term.term, term.field) for term in found[0].terms] if found else None
    assert explained == reference_matcher.evaluate(tree, fields, FIELDS)


# Russian and Turkish words with their declined forms, names in two scripts, short words
# whose stems are shorter than the threshold, and a word with a hyphen.
STEMMED_WORDS = [
    "Карабах",
    "Карабаха",
    "Карабахе",
    "карабахский",
    "перемирие",
    "перемирия",
    "режим",
    "Алиев",
    "Алиевым",
    "Али",
    "Иран",
    "Ира",
    "Karabakh",
    "Aliev",
    "ateşkes",
    "ateşkesin",
    "Karabağ",
    "Karabağda",
    "İLHAM",
    "ılham",
]
STEMMED_COMPOUNDS = [
    "Нагорно-Карабахская",
    "режим-перемирия",
    "Karabağ-Karabakh",
    "Karabağ-ateşkes",
    "Karabağ-ateşkesin",
]


def stemmed_texts() -> st.SearchStrategy[str]:
    return texts_of(STEMMED_WORDS + STEMMED_COMPOUNDS, 10)


stemmed_leaves = st.one_of(
    st.sampled_from(STEMMED_WORDS),
    st.builds(lambda word: f"={word}", st.sampled_from(STEMMED_WORDS)),
    st.builds(
        lambda a, b: f'"{a} {b}"', st.sampled_from(STEMMED_WORDS), st.sampled_from(STEMMED_WORDS)
    ),
    st.sampled_from(STEMMED_COMPOUNDS),
    st.builds(
        lambda word, size: f"{word[:size]}*", st.sampled_from(STEMMED_WORDS), st.integers(3, 5)
    ),
)
stemmed_queries = st.recursive(
    st.one_of(
        stemmed_leaves,
        st.builds(
            lambda a, n, b: f"({a} NEAR/{n} {b})", stemmed_leaves, st.integers(0, 2), stemmed_leaves
        ),
    ),
    lambda inner: st.one_of(
        st.builds(lambda a, b: f"({a} AND {b})", inner, inner),
        st.builds(lambda a, b: f"({a} OR {b})", inner, inner),
        st.builds(lambda a: f"NOT {a}", inner),
    ),
    max_leaves=6,
)


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    queries=st.lists(stemmed_queries, min_size=1, max_size=3),
    language=st.sampled_from(["ru", "tr", "az", "en", None]),
    stem=st.sampled_from([DEFAULT_STEMMED, DEFAULT_STEMMED, frozenset({"ru"}), STEMMED_LANGUAGES]),
    transliterate=st.booleans(),
    title=stemmed_texts(),
    summary=stemmed_texts(),
)
# A form the stemmer cuts shorter than the term ("ateşkesin" → ateşke) and a phrase.
@example(["ateşkes"], "tr", DEFAULT_STEMMED, False, "Gazze ateşkesin", "")
@example(['"режим перемирие"'], "ru", DEFAULT_STEMMED, True, "режим перемирия", "")
# A run closed up stands for its forms as a word does: "karabagateskesin" stems short.
@example(["Karabağ-ateşkes"], "tr", DEFAULT_STEMMED, False, "Karabağ-ateşkesin", "")
def test_stemmed_and_transliterated_terms_agree_with_the_reference(
    queries: list[str],
    language: str | None,
    stem: frozenset[str],
    transliterate: bool,
    title: str,
    summary: str,
) -> None:
    trees = [parse_query(query) for query in queries]
    specs = [
        WatchlistSpec(f"w{index}", tree, FIELDS, stem=stem, transliterate=transliterate)
        for index, tree in enumerate(trees)
    ]
    # A watchlist as written, beside them, keeps its own reading.
    plain = WatchlistSpec("plain", trees[0], FIELDS, stem=frozenset())
    watchlists = WatchlistSet([*specs, plain])
    fields = {"title": title, "summary": summary}
    found = {match.watchlist: match for match in watchlists.match(Document(fields, language))}
    reading = reference_matcher.Reading(language, stem, transliterate)
    expected_by_name = {
        f"w{index}": reference_matcher.evaluate(tree, fields, FIELDS, reading)
        for index, tree in enumerate(trees)
    }
    expected_by_name["plain"] = reference_matcher.evaluate(
        trees[0], fields, FIELDS, reference_matcher.Reading(language)
    )
    for name, expected in expected_by_name.items():
        match = found.get(name)
        explained = None if match is None else [(term.term, term.field) for term in match.terms]
        assert explained == expected, (name, queries)


@settings(max_examples=500, deadline=None)
@given(
    text=st.one_of(
        texts(),
        st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",))),
        st.text(alphabet=st.sampled_from("ab-\u2010 _1\u0301\u0640\u055e\u00ad\ufb01İß")),
    )
)
def test_char_spans_are_where_the_word_regex_finds_each_word(text: str) -> None:
    # Spans are found by looking for each word as written after the last: the same
    # spans as reading the text with the word regex again.
    expected = [found.span() for found in WORD.finditer(unicodedata.normalize("NFC", text))]
    document = Document({"title": text})
    positions = [(at, at) for at in range(len(document.folded("title").words))]
    assert document.char_spans("title", positions) == sorted(set(expected))
    # Asked a word at a time, further each time, the spans go on from the last ask.
    stepwise = Document({"title": text})
    for at, position in enumerate(positions):
        assert stepwise.char_spans("title", [position]) == [expected[at]]
