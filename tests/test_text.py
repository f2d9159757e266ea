"""Text normalisation: HTML to text, folding, tokens with spans."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.parse import HTML_TYPES
from monitor.sources.registry import read_feed
from monitor.text import (
    INVISIBLE,
    _html_parser_text,
    fold,
    fold_all,
    html_to_text,
    tidy,
    tokenize,
    words,
    words_and_compound_spans,
)
from tests.support import reference_matcher


def test_html_to_text_drops_markup_scripts_and_decodes_entities() -> None:
    html = (
        "<p>Truce in <b>Karabakh</b>&nbsp;&amp; beyond</p><script>alert('ceasefire')</script>"
        "<style>.ceasefire{}</style><p>Second&#8217;s paragraph</p>"
    )
    assert html_to_text(html) == "Truce in Karabakh & beyond\nSecond’s paragraph"


def test_skipped_elements_are_dropped_however_their_tags_are_written() -> None:
    html = (
        "<P>Truce</P><SCRIPT>alert('ceasefire')</SCRIPT><Style>.x{}</Style>"
        "<sVg width=1><text>drawn</text></sVg><math><mi>x</mi></math><p>agreed</p>"
    )
    assert html_to_text(html) == "Truce\nagreed"
    # Only the tree is asked for them when the markup names one: a fragment without
    # any reads the same with or without the question.
    assert html_to_text("<p>A &lt;script&gt; tag, escaped</p>") == "A <script> tag, escaped"


def test_html_to_text_keeps_plain_text_and_attributes_out() -> None:
    assert html_to_text('<a href="https://x/ceasefire" title="ceasefire">link</a>') == "link"
    assert html_to_text("a  plain\n\n\n text") == "a plain\ntext"
    assert html_to_text("AT&amp;T") == "AT&T"


def test_inline_tags_never_split_words_and_block_tags_always_do() -> None:
    html = (
        "<div>Kara<b>bakh</b> cease<a href='x'>fire</a><span>s</span></div>"
        "<ul><li>one</li><li>two</li></ul>three<br>four<br/>five<hr>six"
        "<svg><text>drawn</text></svg><template>hidden</template><noscript>js</noscript>"
    )
    assert html_to_text(html) == "Karabakh ceasefires\none\ntwo\nthree\nfour\nfive\nsix"


def test_fragments_html5_reads_as_text_keep_the_old_reading() -> None:
    """An <iframe>'s fallback markup is text to HTML5 but markup to a feed reader."""
    html = '<p>Listen</p><iframe src="x">Song <a href="y">by Band</a></iframe>'
    assert html_to_text(html) == "Listen\nSong by Band"


def test_a_stray_head_tag_no_longer_hides_the_rest_of_a_post() -> None:
    html = "<p>Put respond.js in the <head>, then the rest.</p><p>Next paragraph.</p>"
    assert _html_parser_text(html) == "Put respond.js in the"  # what we used to keep
    assert html_to_text(html) == "Put respond.js in the , then the rest.\nNext paragraph."


@pytest.mark.slow
def test_every_corpus_fragment_reads_as_before_or_gains_text(corpus: Path) -> None:
    """The lexbor path against html.parser on every HTML text of the corpus: the same
    text, or (HTML5 closing a <p> before a block, text html.parser lost after a stray
    <head> or <noscript>) every old word kept, in order, and nothing glued together."""
    same = differ = 0
    for path in sorted(corpus.iterdir()):
        try:
            raw = read_feed(path.read_bytes(), {"content-type": "application/xml"}, "https://x/")
        except Exception:
            continue
        for entry in raw.entries:
            for text in (entry.title, entry.summary, *entry.contents):
                if text is None or text.type not in HTML_TYPES or "<" not in text.value:
                    continue
                old, new = _html_parser_text(text.value), html_to_text(text.value)
                if old == new:
                    same += 1
                    continue
                differ += 1
                old_words, new_words = old.split(), iter(new.split())
                assert all(word in new_words for word in old_words), path.name
    assert differ <= 0.005 * (same + differ), (same, differ)  # 11 of 4,700 today


@settings(max_examples=400)
@given(st.text(alphabet=st.sampled_from("ab \t\n\r\x0b\x0c\xa0\u2003\x1c\x85\u2028\u00ad")))
def test_tidy_is_the_old_pair_of_regexes(text: str) -> None:
    """The line-by-line tidy, which leaves single spaces alone, equals the pair of
    regexes it replaced, on every whitespace."""
    spaced = re.sub(r"[ \t\r\f\v\u00a0]+", " ", text.translate(INVISIBLE))
    assert tidy(text) == re.sub(r"\s*\n\s*", "\n", spaced).strip()


def test_fold_ignores_case_and_diacritics() -> None:
    assert fold("Qarabağ") == "qarabag"
    assert fold("ŞUŞA") == "susa"
    assert fold("Straße") == "strasse"
    assert fold("Gəncə") == "gence"
    assert fold("İstanbul") == fold("istanbul")
    assert fold("ﬁnal") == "final"


@settings(max_examples=300)
@given(st.lists(st.text(min_size=1).filter(lambda text: " " not in text), max_size=8))
def test_fold_all_folds_each_word_as_fold_does(found: list[str]) -> None:
    assert fold_all(found) == [fold(word) for word in found]


def test_fold_all_keeps_its_words_apart_when_a_letter_folds_to_a_space() -> None:
    # An Arabic presentation form is a letter whose compatibility form starts with a
    # space: folded together, the words would come apart at the wrong places.
    found = ["\ufe70\u0628", "ΟΔΟΣ", "Qarabağ", "İLHAM"]
    assert fold_all(found) == [fold(word) for word in found]
    assert len(fold_all(found)) == len(found)


def test_tokenize_splits_on_punctuation_and_keeps_spans() -> None:
    text = "Nagorno-Karabakh: Qarabağ’s truce"
    tokens = tokenize(text)
    assert [token.word for token in tokens] == ["nagorno", "karabakh", "qarabag", "s", "truce"]
    assert text[tokens[2].start : tokens[2].end] == "Qarabağ"


def test_soft_hyphens_and_zero_width_characters_do_not_split_words() -> None:
    assert words(html_to_text("Nagorno-Kara&shy;bakh and Qara\u200bbağ")) == [
        "nagorno",
        "karabakh",
        "and",
        "qarabag",
    ]


def test_decomposed_input_is_one_word() -> None:
    decomposed = "Qarabag\u0306"  # g + combining breve, as some feeds send it
    assert words(decomposed) == ["qarabag"]


@settings(max_examples=400, deadline=None)
@given(
    st.text(
        alphabet=st.sampled_from(
            [*"aZ9_ -\u2010\u2011\u2013.,\n", "ğ", "İ", "ß", "é", "\u0301", "ﬁ", "²", "½", "Ə"]
        ),
        max_size=40,
    )
)
def test_words_and_compounds_agree_with_the_tokenizer(text: str) -> None:
    """The fast fold (one regex pass, ASCII lower-cased at once) gives the tokenizer's
    words, and a compound for every hyphenated run of two words or more."""
    found, compounds = words_and_compound_spans(text)
    assert found == [token.word for token in tokenize(text)]
    expected: dict[str, list[tuple[int, int]]] = {}
    for first, last, joined in reference_matcher.runs(text):
        if last > first:
            expected.setdefault(joined, []).append((first, last))
    assert {key: sorted(value) for key, value in compounds.items()} == expected
