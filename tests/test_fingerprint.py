"""Near-duplicate sketches on hand-written re-posts and look-alikes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.dedupe import anchors, similarity
from monitor.fingerprint import (
    sketch,
    sketches,
    strip_boilerplate,
    strip_headline_prefix,
    title_and_body_words,
)
from monitor.models import Sketch

ROOT = Path(__file__).resolve().parents[1]
SEED = json.loads((ROOT / "seeds" / "karabakh-ceasefire.json").read_text())["items"][0]
TITLE, TEXT = SEED["title"], SEED["text"]
PARAGRAPHS = TEXT.split("\n\n")


def print_of(title: str, text: str) -> Sketch:
    found = sketch(title, text)
    assert found is not None
    return found


def shares_an_anchor(first: Sketch, second: Sketch) -> bool:
    return bool(set(anchors(first)) & set(anchors(second)))


SWAPPED = (
    TEXT.replace("announced", "said")
    .replace("battles", "clashes")
    .replace("immediate", "urgent")
    .replace("renewed", "continued")
)
COPIES = {
    "boilerplate added": (TITLE, TEXT + "\n\nSource link\n\nLeave a Reply\n\nShare this:"),
    "blog tail": (TITLE, TEXT + " The post Karabakh conflict appeared first on Daily News."),
    "headline changed, words swapped": (
        "Moscow brokers truce between Armenia, Azerbaijan",
        SWAPPED,
    ),
    "BREAKING prefix": ("BREAKING: " + TITLE, TEXT),
    "first two paragraphs": (TITLE, "\n\n".join(PARAGRAPHS[:2])),
    "first paragraph, new headline": ("Russia: truce in Karabakh from noon", PARAGRAPHS[0]),
    "first three paragraphs": (TITLE, "\n\n".join(PARAGRAPHS[:3])),
    "paragraphs reordered": (TITLE, "\n\n".join(PARAGRAPHS[::-1])),
    "byline and share lines": (
        TITLE,
        "By Staff Reporter\n\n" + TEXT + "\n\nShare on Facebook\nRelated Posts",
    ),
}


@pytest.mark.parametrize("name", list(COPIES))
def test_copies_of_the_seed_are_candidates_and_similar(name: str) -> None:
    original = print_of(TITLE, TEXT)
    copy = print_of(*COPIES[name])
    assert shares_an_anchor(original, copy)
    assert similarity(original, copy) >= 0.5
    assert similarity(copy, original) == similarity(original, copy)


OTHER_CEASEFIRE = (
    "Armenia and Azerbaijan agree new humanitarian ceasefire from midnight",
    "Armenia and Azerbaijan agreed to a new humanitarian ceasefire starting at midnight on"
    " Sunday, a week after a Russian-brokered truce collapsed. The announcement came in a"
    " joint statement released by the foreign ministries of the two countries. Both sides"
    " accused each other of violating the earlier ceasefire in Nagorno-Karabakh, where"
    " fighting has killed hundreds of people since September 27. The United States, France"
    " and Russia, which co-chair the Minsk Group, welcomed the agreement.",
)
BRIEFING = "Morning briefing: what you need to know today"
LOOK_ALIKES = {
    "another ceasefire story": (OTHER_CEASEFIRE, (TITLE, TEXT)),
    "the same headline over a new text": (
        (
            TITLE,
            "Fighting resumed on Sunday near Stepanakert, local officials said, a day after"
            " both sides accused each other of shelling villages. Hospitals in the region"
            " asked for blood donations and the Red Cross said it was ready to help with"
            " the exchange of bodies once a pause in fighting allowed it.",
        ),
        (TITLE, TEXT),
    ),
    "a recurring briefing": (
        (
            BRIEFING,
            "Good morning. Markets in Asia opened higher after the central bank held rates;"
            " a storm is heading for the coast of Florida; and the finals of the football"
            " cup are tonight in Madrid, with tickets still on sale at the stadium.",
        ),
        (
            BRIEFING,
            "Good morning. Parliament votes on the budget today after a long night of"
            " talks; a heat wave is expected across southern Europe; and scientists report"
            " a new species of frog found in the forests of Ecuador.",
        ),
    ),
}


@pytest.mark.parametrize("name", list(LOOK_ALIKES))
def test_distinct_stories_that_share_words_stay_apart(name: str) -> None:
    first, second = (print_of(*entry) for entry in LOOK_ALIKES[name])
    assert similarity(first, second) < 0.3


def test_boilerplate_lines_and_tails_are_removed() -> None:
    text = (
        "The talks went on all night.\n"
        "Share this:\nClick to share on Twitter (Opens in new window)\n"
        "Related\nBy Jane Doe\nLeave a Reply\nCancel reply\n"
        "Talks resume Monday. The post Talks resume appeared first on Daily News."
    )
    assert strip_boilerplate(text) == "The talks went on all night.\nTalks resume Monday."
    # A line of the story that merely starts like boilerplate stays.
    story = "By noon the two delegations had agreed on a text that both could sign."
    assert strip_boilerplate(story) == story


def test_headline_prefixes_are_dropped() -> None:
    assert strip_headline_prefix("BREAKING: Truce agreed") == "Truce agreed"
    assert strip_headline_prefix("UPDATE 2 - Truce agreed") == "Truce agreed"
    assert strip_headline_prefix("Breaking the deadlock in talks") == (
        "Breaking the deadlock in talks"
    )


def test_no_words_no_sketch() -> None:
    assert sketch("", "") is None
    assert sketch("…", "<>") is None


def test_a_sketch_is_the_same_alone_and_in_a_batch() -> None:
    texts = [
        title_and_body_words("Short", ""),
        title_and_body_words(TITLE, TEXT),
        title_and_body_words("Two words", "and three more"),
    ]
    assert sketches(texts) == [
        sketch("Short", ""),
        print_of(TITLE, TEXT),
        sketch("Two words", "and three more"),
    ]
    whole = print_of(TITLE, TEXT)
    # The sample is the smallest hashes, sorted, and says how far it reaches.
    assert list(whole.sample) == sorted(whole.sample) and len(whole.sample) == 128
    assert whole.shingles > 128 and whole.threshold == whole.sample[-1]
    short = print_of("Two words", "and three more")
    assert short.threshold == 0xFFFF_FFFF and short.words == 3
