"""Secrets out of what people read: user info, notifier URLs, database passwords."""

from __future__ import annotations

from monitor.redact import database_shown, mask_url, with_userinfo_of, without_userinfo


def test_a_feed_url_is_shown_without_its_user_info() -> None:
    assert without_userinfo("https://u:pw@news.example/feed") == "https://news.example/feed"
    assert without_userinfo("https://news.example/feed") == "https://news.example/feed"


def test_user_info_goes_only_to_the_same_origin() -> None:
    index = "https://u:pw@news.example/sitemap-index.xml"
    assert with_userinfo_of("https://news.example/s1.xml", index) == (
        "https://u:pw@news.example/s1.xml"
    )
    # Another host, another scheme or port: never.
    assert with_userinfo_of("https://cdn.example/s1.xml", index) == "https://cdn.example/s1.xml"
    assert with_userinfo_of("http://news.example/s1.xml", index) == "http://news.example/s1.xml"
    assert with_userinfo_of("https://news.example:8443/s", index) == "https://news.example:8443/s"
    # Its own user info wins; none to give, nothing given.
    assert with_userinfo_of("https://v:x@news.example/s", index) == "https://v:x@news.example/s"
    assert with_userinfo_of("https://news.example/s", "https://news.example/i") == (
        "https://news.example/s"
    )


def test_secret_urls_are_masked_and_database_passwords_hidden() -> None:
    assert mask_url("https://hooks.slack.com/services/T0/B0/secret") == (
        "https://hooks.slack.com/***"
    )
    assert database_shown("postgresql://news:pw@db/monitor") == "postgresql://news@db/monitor"
