"""Watchlists: keyword lists or a query, over some fields, scoped to some feeds, with
their timing (quiet hours, digests) and who hears."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from monitor.config.units import Duration, Strict, positive
from monitor.languages import STEMMED_LANGUAGES
from monitor.match.watchlist import DEFAULT_STEMMED
from monitor.notify.rules import DigestSchedule, QuietHours, parse_timezone
from monitor.text import tokenize

SearchField = Literal["title", "summary", "fulltext"]


def check_terms(values: list[str]) -> list[str]:
    """Each term (not an @alias) has letters or digits to match."""
    for term in values:
        if term.strip().startswith("@"):
            continue  # an alias: checked against aliases: once the whole file is read
        if not tokenize(term.strip().strip('"')):
            raise ValueError(f"term {term!r} has no letters or digits to match")
    return values


class SpreadSettings(Strict):
    """``spread:``: alert a story once when this many sources carried it within the
    time (see docs/watchlists.md: Spreading stories)."""

    sources: int = Field(ge=2, le=1000)
    within: Duration

    _check_within = field_validator("within")(positive)


MIN_SAMPLE_WORDS = 10  # fewer words than this say too little to compare a story with


class LikeSample(Strict):
    """One sample of ``like:``: ``{text: …}``, ``{file: PATH}`` (read with the
    configuration, relative to its file) or ``{item: ID}`` (a stored item, by the id
    ``stories --json`` and webhooks show, such as the stored sample's ``seed:…``)."""

    text: str | None = None
    file: str | None = None
    item: str | None = None

    @model_validator(mode="after")
    def _check_one(self) -> Any:
        given = [key for key in ("file", "item") if getattr(self, key) is not None]
        if self.text is not None and self.file is None:
            given.append("text")
        if len(given) != 1:
            raise ValueError("a sample is one of {text: …}, {file: PATH} or {item: ID}")
        if self.text is not None:
            found = len(tokenize(self.text))
            if found < MIN_SAMPLE_WORDS:
                raise ValueError(
                    f"a sample needs at least {MIN_SAMPLE_WORDS} words to compare; it has {found}"
                )
        return self

    @property
    def label(self) -> str:
        """What alerts call the sample: ``item ID``, ``file PATH`` or ``text "…"``."""
        if self.item is not None:
            return f"item {self.item}"
        if self.file is not None:
            return f"file {self.file}"
        shown = " ".join((self.text or "").split()[:6])
        return f'text "{shown}…"'


class WatchlistSettings(Strict):
    """Keyword rules: any of, all of, none of, over some fields."""

    name: str
    any: list[str] = []
    all: list[str] = []
    none: list[str] = []
    # Instead of any/all/none: one boolean query (see docs/queries.md).
    query: str | None = None
    fields: list[SearchField] = ["title", "summary"]
    # Watch only these feeds (URLs or names) and feeds with these tags; default: all.
    feeds: list[str] | None = None
    tags: list[str] | None = None
    # Ignore items published longer ago than this.
    max_age: Duration | None = None
    notify: list[str] | None = None
    # "message": one short "also reported by …" note when another source carries an
    # alerted story, at most once per story and notifier per hour. "off": silent.
    follow_ups: Literal["off", "message"] = "off"
    # Collect matches into one message on a cron schedule, in ``timezone``.
    digest: str | None = None
    # Hold messages during a daily window, such as "22:00-07:00", in ``timezone``.
    quiet: str | None = None
    timezone: str = "UTC"
    # Match the terms by their stems in an item's language: "auto" in every language
    # with a Snowball stemmer but English, true in English too, false never, or a list
    # of language codes. A term written "=Karabakh" is never stemmed.
    stem: bool | Literal["auto"] | list[str] = "auto"
    # Also match the terms in other scripts, by their ASCII letters (Карабах ↔ Karabakh).
    transliterate: bool = False
    # Alert a story when this many sources carried it within the time; the terms or
    # query, when given, choose which stories count.
    spread: SpreadSettings | None = None
    # Instead of terms: alert items close to one of these samples (docs/stories.md).
    like: list[LikeSample] | None = None
    # How close (0–1, the cosine of the texts' TF-IDF vectors); default 0.3.
    threshold: float | None = Field(default=None, gt=0, le=1)

    _check_terms = field_validator("any", "all", "none")(check_terms)
    _check_max_age = field_validator("max_age")(positive)

    @field_validator("stem")
    @classmethod
    def _check_stem(cls, value: bool | str | list[str]) -> bool | str | list[str]:
        if isinstance(value, list):
            unknown = sorted(set(value) - STEMMED_LANGUAGES)
            if unknown:
                raise ValueError(
                    f"no stemmer for {', '.join(unknown)}; stemmed languages: "
                    + ", ".join(sorted(STEMMED_LANGUAGES))
                )
        return value

    @property
    def has_terms(self) -> bool:
        """The watchlist matches items by terms or a query (a spread watchlist may not)."""
        return self.query is not None or bool(self.any or self.all)

    def stemmed_languages(self) -> frozenset[str]:
        """The languages whose items match this watchlist's terms by their stems."""
        if self.stem == "auto":
            return DEFAULT_STEMMED
        if isinstance(self.stem, list):
            return frozenset(self.stem)
        return STEMMED_LANGUAGES if self.stem else frozenset()

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        parse_timezone(value)
        return value

    @model_validator(mode="after")
    def _check_times(self) -> Any:
        # Parsed to be checked here; wiring.watchlists builds the schedules.
        zone = parse_timezone(self.timezone)
        if self.quiet:
            QuietHours.parse(self.quiet, zone)
        if self.digest:
            DigestSchedule.parse(self.digest, zone)
        return self

    @model_validator(mode="after")
    def _check_rules(self) -> Any:
        if self.query is not None and (self.any or self.all or self.none):
            raise ValueError("use query: or any:/all:/none:, not both")
        if self.query is None and not self.any and not self.all:
            if self.spread is None and self.like is None:
                raise ValueError("a watchlist needs a query: or terms in any: or all:")
            if self.none:
                raise ValueError("none: needs terms in any: or all: beside it (or a query:)")
        if self.like is not None:
            if self.has_terms or self.none:
                raise ValueError("use like: or terms (any:/all:/none:/query:), not both")
            if not self.like:
                raise ValueError("like: needs at least one sample")
            if self.spread is not None:
                raise ValueError("like: and spread: are watchlists of their own")
        elif self.threshold is not None:
            raise ValueError("threshold: applies to like: samples")
        if self.spread is not None:
            if self.follow_ups != "off":
                raise ValueError(
                    "follow_ups: does not apply to a spread watchlist: it alerts a story"
                    " once, listing its sources"
                )
            if self.digest:
                raise ValueError(
                    "digest: does not apply to a spread watchlist: it alerts a story when"
                    " it spreads (quiet: can hold it)"
                )
        if not self.fields:
            raise ValueError("fields must name at least one of: title, summary, fulltext")
        return self
