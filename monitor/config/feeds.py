"""The sources to poll: a feed, a news sitemap, or a page read with CSS selectors; and
whether (and where on the page) their items' articles are read."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, field_validator, model_validator
from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from monitor.config.units import Duration, Strict, http_url, off, positive
from monitor.redact import brief


def _css_selector(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        LexborHTMLParser("<p></p>").css(value)
    except SelectolaxError:
        raise ValueError(f"not a CSS selector: {brief(value)}") from None
    return value


FulltextMode = Literal["auto", "always", "off"]


def fulltext_mode(value: object) -> object:
    """``off`` (which YAML reads as false) and ``on`` (true, meaning ``auto``) as words."""
    if value is False:
        return "off"
    if value is True:
        return "auto"
    return value


def _fulltext_choice(value: object) -> object:
    """``fulltext: always`` is ``fulltext: {mode: always}``."""
    value = fulltext_mode(value)
    return {"mode": value} if isinstance(value, str) else value


class FeedFulltext(Strict):
    """When a feed's articles are read (``auto``: when the feed's text is short), and,
    for a site the extractor gets wrong, where its article is on the page."""

    mode: Annotated[FulltextMode, BeforeValidator(fulltext_mode)] = "auto"
    selector: str | None = None  # CSS; its matches' text is the article

    _check_selector = field_validator("selector")(_css_selector)


class HtmlSelectors(Strict):
    """Where a page without a feed keeps its articles (``type: html``): CSS selectors,
    ``item`` on the page, the others inside each item."""

    item: str
    title: str | None = None  # default: the item's first heading, else its link's text
    link: str | None = None  # default: the item's first a[href] (the item itself if a link)
    summary: str | None = None
    date: str | None = None  # a <time datetime>, a content= or the text, ISO 8601 or RFC 822

    _check_selectors = field_validator("item", "title", "link", "summary", "date")(_css_selector)


class FeedSettings(Strict):
    """One source to poll."""

    url: str
    # How the body is read: an RSS/Atom/JSON feed, a (Google News) sitemap, or a page.
    type: Literal["feed", "sitemap", "html"] = "feed"
    selectors: HtmlSelectors | None = None  # type: html only
    # type: sitemap only: entries published (or modified) longer ago are not read.
    recent: Duration | None = None
    name: str | None = None
    interval: Duration | None = None
    tags: list[str] = []  # accepted now; filters and digests by tag come later
    baseline: bool | None = None
    enabled: bool = True
    # None: the default's; "off": this feed alerts whatever an item's age.
    max_alert_age: Annotated[Duration | Literal[False] | None, BeforeValidator(off)] = None
    max_entries: int | None = Field(default=None, ge=1, le=100_000)  # None: the default's
    # None: the default's mode; a mode, or {mode, selector}.
    fulltext: Annotated[FeedFulltext | None, BeforeValidator(_fulltext_choice)] = None

    _check_url = field_validator("url")(http_url)

    @field_validator("interval", "max_alert_age")
    @classmethod
    def _check_interval(cls, value: timedelta | bool | None) -> timedelta | bool | None:
        return value if not isinstance(value, timedelta) else positive(value)

    @model_validator(mode="after")
    def _check_type(self) -> FeedSettings:
        if self.type == "html" and self.selectors is None:
            raise ValueError("type: html needs selectors: (at least item:)")
        if self.type != "html" and self.selectors is not None:
            raise ValueError("selectors: are for type: html only")
        if self.type != "sitemap" and self.recent is not None:
            raise ValueError("recent: is for type: sitemap only")
        return self

    @field_validator("recent")
    @classmethod
    def _check_recent(cls, value: timedelta | None) -> timedelta | None:
        return positive(value)
