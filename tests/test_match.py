"""Watchlists: any/all/none, whole words, phrases, spellings, fields."""

from __future__ import annotations

from monitor.match import Document, WatchlistSet, WatchlistSpec, keyword_rule, match_items
from monitor.models import Item, MatchedTerm
from tests.support.matching import OneWatchlist


def item(title: str, summary: str = "", content: str = "") -> Item:
    return Item(
        entry_key=title, guid=None, title=title, link=None, summary=summary, content=content
    )


def watchlist(**rules: object) -> OneWatchlist:
    return OneWatchlist(**rules)


KARABAKH = ["Karabakh", "Nagorno-Karabakh", "Qarabağ", "Karabagh", "Artsakh"]


def test_every_spelling_matches_whole_words_only() -> None:
    matcher = watchlist(any=KARABAKH)
    for title in (
        "Fighting in KARABAKH",
        "Qarabag region",
        "Qarabağ FK fans",
        "Nagorno Karabakh talks",
        "Artsakh’s parliament",
        "karabagh: the view",
    ):
        assert matcher.match(Document.of(item(title))) is not None, title
    for title in ("Karabakhs", "Artsakhian", "Qarabagli", "kara bakh"):
        assert matcher.match(Document.of(item(title))) is None, title


def test_a_word_that_folds_to_several_keeps_every_position() -> None:
    # ﷺ is one word of the text, but folds to four words' letters with spaces between:
    # the words after it are still where they are, and it can be a term itself.
    watchlists = WatchlistSet(
        [WatchlistSpec("w", keyword_rule(["beta", "\ufdfa", '"alpha \ufdfa"'], [], []))]
    )
    (match,) = watchlists.match(Document({"title": "alpha \ufdfa beta", "summary": ""}))
    found = {term.term: term.spans for term in match.terms}
    assert found == {"beta": ((8, 12),), "\ufdfa": ((6, 7),), "alpha \ufdfa": ((0, 7),)}


def test_hyphenated_and_closed_spellings_find_each_other() -> None:
    closed = watchlist(any=["ceasefire"])
    for title in ("A cease-fire holds", "CEASE\u2011FIRE talks", "ceasefire"):
        assert closed.match(Document.of(item(title))) is not None, title
    assert closed.match(Document.of(item("cease fire"))) is None
    assert closed.match(Document.of(item("cease-firework"))) is None
    hyphenated = watchlist(any=["cease-fire"])
    for title in ("A ceasefire holds", "cease fire", "Cease-fire"):
        assert hyphenated.match(Document.of(item(title))) is not None, title


def test_phrase_terms_need_adjacent_words() -> None:
    matcher = watchlist(any=['"cessation of hostilities"'])
    assert matcher.match(Document.of(item("A cessation of hostilities was agreed"))) == (
        MatchedTerm("cessation of hostilities", "title"),
    )
    assert matcher.match(Document.of(item("cessation, then more hostilities"))) is None


def test_all_and_none() -> None:
    matcher = watchlist(any=["Karabakh"], all=["ceasefire"], none=["football"])
    assert matcher.match(Document.of(item("Karabakh ceasefire holds"))) == (
        MatchedTerm("Karabakh", "title"),
        MatchedTerm("ceasefire", "title"),
    )
    assert matcher.match(Document.of(item("Karabakh talks"))) is None
    assert matcher.match(Document.of(item("Karabakh ceasefire", "football match delayed"))) is None


def test_summary_field_includes_content_and_records_where_terms_were() -> None:
    matcher = watchlist(any=["Karabakh"], all=["ceasefire"])
    found = matcher.match(Document.of(item("Talks in Moscow", "Karabakh", "<ignored> ceasefire")))
    assert found == (MatchedTerm("Karabakh", "summary"), MatchedTerm("ceasefire", "summary"))


def test_fields_limit_where_terms_are_looked_for() -> None:
    matcher = watchlist(any=["ceasefire"], fields=["title"])
    assert matcher.match(Document.of(item("Talks", "a ceasefire"))) is None


def test_match_items_returns_matches_per_item() -> None:
    results = match_items([item("A truce"), item("Nothing")], watchlist(any=["truce"]).watchlists)
    assert [len(result.matches) for result in results] == [1, 0]
    assert results[0].matches[0].notifiers == ("console",)


def spans_of(title: str, term: str) -> list[str]:
    found = watchlist(any=[term]).match(Document.of(item(title)))
    assert found is not None
    return [title[start:end] for matched in found for start, end in matched.spans]


def test_spans_for_highlighting() -> None:
    assert spans_of("Talks on Qarabağ and QARABAG", "qarabag") == ["Qarabağ", "QARABAG"]


def test_spans_of_compounds() -> None:
    title = "A cease-fire, then a ceasefire in Nagorno-Karabakh"
    assert spans_of(title, "ceasefire") == ["cease-fire", "ceasefire"]
    assert spans_of(title, "Nagorno-Karabakh") == ["Nagorno-Karabakh"]
