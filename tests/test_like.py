"""More like this (``monitor/match/like.py``): TF-IDF cosine over folded words, weighed
by the stored items. Held-in pairs written for this test: re-worded reports of one event
score above the default threshold, reports that only share the region's names below."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from monitor.config import ConfigError, parse_settings
from monitor.match import Document, WatchlistSet
from monitor.match.like import (
    DEFAULT_THRESHOLD,
    MIN_DOCUMENTS,
    LikeSet,
    LikeSpec,
    Sample,
    WordWeights,
    cosine,
    vector,
)
from monitor.models import Item
from monitor.parse import ParseError, read_feed, text_of
from monitor.text import words
from tests.support.values import CORPUS

ROOT = Path(__file__).resolve().parents[1]
SEED = json.loads((ROOT / "seeds" / "karabakh-ceasefire.json").read_text())["items"][0]
SEED_TEXT = f"{SEED['title']}\n{SEED['text']}"

# The seed's event, told again in other words (near), and other events that name the
# same places and people (far).
NEAR = [
    "Moscow talks end in truce: Armenia and Azerbaijan will hold fire from noon on Saturday"
    " so that prisoners and the bodies of the dead can be exchanged, Lavrov said after ten"
    " hours of negotiations with both foreign ministers.",
    "Lavrov: Armenia, Azerbaijan agree humanitarian ceasefire in Karabakh. The two sides"
    " will swap prisoners and bodies and begin talks on a settlement, the Russian foreign"
    " minister announced at 3 am after talks in Moscow lasting 10 hours.",
    "After overnight talks hosted by Russia, Armenian and Azerbaijani foreign ministers"
    " agreed a ceasefire from 12:00 on Saturday to exchange prisoners and the dead, and to"
    " start substantive negotiations on Nagorno Karabakh.",
]
FAR = [
    "Qarabağ beat Ferencváros 2-1 in Baku on Thursday to reach the group stage of the"
    " Europa League; the Azerbaijani champions scored twice in the second half.",
    "Armenia's parliament passed a budget that raises pensions and spends more on roads"
    " in the south, with the opposition walking out of the vote in Yerevan.",
    "Azerbaijan's state oil company signed a gas deal with Hungary, the energy ministry in"
    " Baku said, adding that supplies through the Southern Gas Corridor will rise next year.",
    "Pashinyan met Putin in Moscow to discuss trade, the Eurasian Economic Union and the"
    " price of Russian gas, a government statement said on Tuesday.",
]


def corpus_texts(corpus: Path) -> list[str]:
    """The titles and summaries of the real feeds' items: what a store holds."""
    texts = []
    for path in sorted(corpus.iterdir()):
        if path.name == "LICENSE":
            continue
        try:
            # Text alone: the items' identity keys are not needed to weigh their words.
            parsed = text_of(
                read_feed(path.read_bytes(), {}, f"https://corpus.example/{path.name}")
            )
        except ParseError:
            continue
        texts += [f"{item.title}\n{item.summary}" for item in parsed.items]
    return texts


@pytest.fixture(scope="module")
def weights() -> WordWeights:
    if not CORPUS.is_dir():
        pytest.skip("the shared feed corpus is not present")
    return WordWeights.learn(corpus_texts(CORPUS))


def score(text: str, sample: str, weights: WordWeights) -> float:
    return cosine(vector(words(text), weights), vector(words(sample), weights))


def test_reworded_reports_are_close_and_same_place_reports_are_not(
    weights: WordWeights,
) -> None:
    assert weights.documents > MIN_DOCUMENTS
    near = [score(text, SEED_TEXT, weights) for text in NEAR]
    far = [score(text, SEED_TEXT, weights) for text in FAR]
    # The default threshold separates them, with room on both sides.
    assert min(near) >= DEFAULT_THRESHOLD + 0.05, (near, far)
    assert max(far) <= DEFAULT_THRESHOLD - 0.1, (near, far)


def test_common_words_weigh_nothing_and_rare_ones_most(weights: WordWeights) -> None:
    assert weights.weight("the") == 0.0
    assert weights.weight("said") < weights.weight("lavrov")
    assert weights.weight("a-word-no-item-has") == max(
        weights.weight(word) for word in ("lavrov", "karabakh", "a-word-no-item-has")
    )


def test_without_enough_stored_items_long_words_weigh_the_same() -> None:
    few = WordWeights.learn(["the truce holds", "the talks end"])
    assert few.documents < MIN_DOCUMENTS
    assert (few.weight("truce"), few.weight("the"), few.weight("talks")) == (1.0, 0.0, 1.0)
    assert vector(["the", "a"], few) == {}  # nothing to compare: scores 0, never a match


def test_a_like_watchlist_matches_through_the_watchlist_set(weights: WordWeights) -> None:
    spec = LikeSpec("like-the-seed", (Sample("item seed", SEED_TEXT),), ("hook",))
    watchlists = WatchlistSet([], LikeSet([spec], weights))
    assert len(watchlists) == 1 and watchlists.names == ("like-the-seed",)
    near = Document.of(Item("n", None, "Truce agreed in Moscow", None, NEAR[1], ""))
    (match,) = watchlists.match(near)
    assert match.watchlist == "like-the-seed" and match.notifiers == ("hook",)
    (term,) = match.terms
    assert term.field == "like" and term.term.startswith("like item seed (0.")
    far = Document.of(Item("f", None, "Europa League", None, FAR[0], ""))
    assert watchlists.match(far) == []
    # The fields a watchlist names are the ones compared.
    titles_only = LikeSpec("titles", (Sample("s", SEED_TEXT),), fields=("title",))
    (likeness,) = LikeSet([titles_only], weights).scores(near)
    (whole,) = LikeSet([spec], weights).scores(near)
    assert likeness.score < whole.score


# -- the configuration ------------------------------------------------------------------

LONG_TEXT = "Armenia and Azerbaijan agreed a humanitarian ceasefire after ten hours of talks"


@pytest.mark.parametrize(
    ("watchlist", "problem"),
    [
        ("like: []", "like: needs at least one sample"),
        ("like: [{text: too short to compare}]", "a sample needs at least 10 words"),
        (f"like: [{{text: {LONG_TEXT}, item: '17'}}]", "a sample is one of"),
        ("like: [{}]", "a sample is one of"),
        (f"like: [{{text: {LONG_TEXT}}}]\n    any: [truce]", "use like: or terms"),
        ("any: [truce]\n    threshold: 0.5", "threshold: applies to like: samples"),
        (f"like: [{{text: {LONG_TEXT}}}]\n    threshold: 1.5", "threshold: Input should be"),
        ("like: [{file: missing.txt}]", "like[0].file: cannot read"),
    ],
)
def test_a_bad_like_is_named(watchlist: str, problem: str, tmp_path: Path) -> None:
    text = f"watchlists:\n  - name: w\n    {watchlist}\n"
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, str(tmp_path / "monitor.yaml"), {})
    assert any(problem in line for line in caught.value.problems), caught.value.problems


def test_a_sample_file_is_read_beside_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "samples").mkdir()
    (tmp_path / "samples" / "truce.txt").write_text(SEED_TEXT)
    text = "watchlists:\n  - name: w\n    like: [{file: samples/truce.txt}]\n"
    settings = parse_settings(text, str(tmp_path / "monitor.yaml"), {})
    (sample,) = settings.watchlists[0].like or []
    assert sample.text == SEED_TEXT and sample.label == "file samples/truce.txt"
