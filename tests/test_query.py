"""The query language: one table of (query, text, verdict), then errors with columns."""

from __future__ import annotations

import pytest

from monitor.match import Document, WatchlistSet, WatchlistSpec
from monitor.match.query import QueryError, parse_query
from monitor.models import MatchedTerm

ALIASES = {"karabakh": ["Karabakh", "Nagorno-Karabakh", "Qarabağ", "Artsakh"]}
TITLE = "Armenia and Azerbaijan agree to a cease-fire in Nagorno-Karabakh"
SUMMARY = (
    "Officials said troops would withdraw heavy weapons from the line. "
    "The football match in Baku went ahead."
)


def explain(query: str, document: Document) -> tuple[MatchedTerm, ...] | None:
    """The query's explanation through the compiled matcher, or None: no match."""
    watchlists = WatchlistSet([WatchlistSpec("q", parse_query(query, ALIASES))])
    found = watchlists.match(document)
    return found[0].terms if found else None


def verdict(query: str, title: str = TITLE, summary: str = SUMMARY, **extra: str) -> bool:
    return explain(query, Document({"title": title, "summary": summary, **extra})) is not None


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("Karabakh", True),
        ("karabakh", True),  # case
        ("QARABAG OR Karabakh", True),
        ("Qarabağ", False),  # diacritics fold, but the word is not there
        ("@karabakh", True),  # an alias: any of its terms
        ("ceasefire", True),  # closed form finds the hyphenated one
        ('"cease fire"', True),
        ("cease-fire", True),
        ('"heavy weapons"', True),
        ('"weapons heavy"', False),  # a phrase keeps its order
        ("Armenia Azerbaijan", True),  # implicit AND
        ("Armenia AND Georgia", False),
        ("Armenia OR Georgia", True),
        ("Karabakh -football", False),
        ("Karabakh NOT football", False),
        ("Karabakh -cricket", True),
        ("(Georgia OR Armenia) AND (truce OR cease-fire)", True),
        ("(Georgia OR Turkey) AND cease-fire", False),
        ("withdr*", True),  # a prefix
        ("ceasefir*", True),  # a prefix finds a hyphenated compound
        ("withdraw NEAR/3 weapons", True),  # "withdraw heavy weapons": 1 word between
        ("weapons NEAR/3 withdraw", True),  # either order
        ("withdraw NEAR/0 weapons", False),
        ("troops NEAR/1 weapons", False),  # 3 words apart
        ('"heavy weapons" NEAR/2 withdraw', True),
        ("@karabakh NEAR/5 agree", True),
        ("title:Karabakh", True),
        ("title:football", False),
        ("summary:football", True),
        ("title:(Armenia football)", False),
        ("title:Armenia summary:football", True),
        ("and", True),  # lower-case operators are words: "and" is in the title
        ("NOT Georgia", True),
        ("Karabakh -(football OR cricket)", False),
        ('Karabakh -"football match"', False),
        ('Karabakh -"match football"', True),
    ],
)
def test_queries(query: str, expected: bool) -> None:
    assert verdict(query) is expected


def test_other_fields() -> None:
    extra = {
        "author": "Ani Petrosyan",
        "url": "https://news.example/caucasus/truce",
        "lang": "en-GB",
    }
    assert verdict("author:Petrosyan", **extra)
    assert verdict("url:caucasus", **extra)
    assert verdict("lang:en", **extra)
    assert not verdict("lang:fr", **extra)


def test_the_explanation_names_what_was_found_and_where() -> None:
    document = Document({"title": TITLE, "summary": SUMMARY})
    found = explain("@karabakh (truce OR cease-fire) -cricket", document)
    assert found is not None
    assert [(term.term, term.field) for term in found] == [
        ("Karabakh", "title"),
        ("Nagorno-Karabakh", "title"),
        ("cease-fire", "title"),
    ]


NEAR_ADVICE = (
    "NEAR needs a distance in words, as in NEAR/3 (0 to 999);"
    ' to search the word, write it in lower case or in quotes: "near"'
)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("(Karabakh OR truce", "1:19: expected ')'"),
        ("Karabakh)", "1:9: unmatched ')'"),
        ("Karabakh OR", "1:12: the query ends where a term was expected"),
        ('"cease fire', "1:1: unclosed quote"),
        ("@nowhere", "1:1: unknown alias @nowhere; defined: @karabakh"),
        (
            "body:truce",
            "1:1: unknown field 'body'; fields: title, summary, fulltext, author, url, lang,"
            " feed, tag",
        ),
        ("ce*", "1:1: a prefix needs at least 3 letters or digits before '*'"),
        ("(a OR b) NEAR/2 c", "1:10: NEAR joins two terms, phrases, prefixes or aliases"),
        ("()", "1:2: empty parentheses"),
        ("", "1:1: the query is empty"),
        ("truce AND", "1:10: the query ends where a term was expected"),
        ("'''", "1:1: \"'''\" has no letters or digits to match"),
        ("withdraw NEAR weapons", f"1:10: {NEAR_ADVICE}"),
        ("withdraw NEAR/x weapons", f"1:10: {NEAR_ADVICE}"),
        ("withdraw NEAR/1000 weapons", f"1:10: {NEAR_ADVICE}"),
    ],
)
def test_errors_have_a_column(query: str, message: str) -> None:
    with pytest.raises(QueryError) as caught:
        parse_query(query, ALIASES)
    assert str(caught.value) == message


def test_deep_nesting_is_refused() -> None:
    with pytest.raises(QueryError, match="nested parentheses"):
        parse_query("(" * 60 + "a" + ")" * 60)
