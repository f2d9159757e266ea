"""Settings → the frozen values and objects the daemon runs on. The runtime asks here,
and nothing below the runtime reads the configuration: the store gets its policy, the
fetcher its limits, the poller its settings, the relay its channels and timings.

``channels`` builds notifiers, ``watchlists`` the matcher and the watchlists' scopes and
timings; this module the rest.
"""

from __future__ import annotations

from monitor.config import Defaults, FeedSettings, HttpSettings, Settings
from monitor.dedupe import StoryPolicy
from monitor.fetch import FetchLimits
from monitor.fulltext import ArticleRule, FulltextLimits
from monitor.health import HealthRules
from monitor.match import FeedLabels
from monitor.match.like import LikeSet
from monitor.models import FeedSpec
from monitor.poll import PollSettings
from monitor.sources import PageSelectors, Source
from monitor.store import PostgresStore, SQLiteStore, Store
from monitor.wiring.watchlists import compile_watchlists, scopes, spread_rules


def story_policy(settings: Settings) -> StoryPolicy:
    """The ``stories:`` settings as the store applies them."""
    stories = settings.stories
    return StoryPolicy(stories.similarity, stories.window, stories.title_window)


def open_store(settings: Settings) -> Store:
    """The backend that ``storage:`` names (not yet opened), with its story policy and
    the spread watchlists it counts sources for."""
    store: Store
    if settings.uses_postgresql:
        store = PostgresStore(settings.storage, story_policy(settings))
    else:
        store = SQLiteStore(settings.sqlite_path(), story_policy(settings))
    store.spread_rules = spread_rules(settings)
    return store


def fetch_limits(http: HttpSettings) -> FetchLimits:
    """The ``http:`` settings as the fetcher applies them."""
    return FetchLimits(
        timeout=http.timeout,
        max_body=http.max_body,
        concurrency=http.concurrency,
        per_host=http.per_host,
        allow_private_networks=http.allow_private_networks,
        user_agent=http.user_agent,
        host_spacing=http.host_spacing,
    )


def feed_specs(settings: Settings) -> list[FeedSpec]:
    """Enabled feeds with the defaults filled in, as the store keeps them."""
    return [
        FeedSpec(
            url=feed.url,
            name=feed.name,
            interval=feed.interval or settings.defaults.interval,
            baseline=settings.defaults.baseline if feed.baseline is None else feed.baseline,
            max_alert_age=(
                settings.defaults.max_alert_age
                if feed.max_alert_age is None
                else feed.max_alert_age or None
            ),
            kind=feed.type,
        )
        for feed in settings.feeds
        if feed.enabled
    ]


def source_of(feed: FeedSettings, defaults: Defaults) -> Source:
    """How a configured source's body is read."""
    selectors = feed.selectors
    return Source(
        feed.type,
        None if selectors is None else PageSelectors(**selectors.model_dump()),
        feed.recent,
        feed.max_entries or defaults.max_entries,
    )


def health_rules(settings: Settings) -> HealthRules:
    """Who hears about feeds' health (every active notifier unless ``health.notify``
    says otherwise), and when."""
    notices_to = settings.health.notify
    if notices_to is None:
        notices_to = list(settings.active_notifiers())
    return HealthRules(tuple(notices_to), settings.health.after, settings.health.stale_after)


def article_rule(feed: FeedSettings | None, defaults: Defaults) -> ArticleRule:
    """When and how a feed's articles are read (``fulltext:`` of the feed, else of the
    defaults)."""
    if feed is None or feed.fulltext is None:
        return ArticleRule(defaults.fulltext)
    return ArticleRule(feed.fulltext.mode, feed.fulltext.selector)


def fulltext_limits(settings: Settings) -> FulltextLimits:
    """The ``fulltext:`` section as the article reader applies it."""
    section = settings.fulltext
    return FulltextLimits(section.timeout, section.short_below, section.max_text, section.robots)


def poll_settings(settings: Settings, likes: LikeSet | None = None) -> PollSettings:
    """Everything a poll needs to know of the configuration (and of the ``like:``
    watchlists, which the store completes: ``watchlists.like_set``)."""
    defaults = settings.defaults
    return PollSettings(
        watchlists=compile_watchlists(settings, likes),
        feed_labels={
            feed.url: FeedLabels(feed.url, feed.name, None, tuple(feed.tags))
            for feed in settings.feeds
        },
        sources={feed.url: source_of(feed, defaults) for feed in settings.feeds},
        scopes=scopes(settings),
        health=health_rules(settings),
        push_fallback=settings.websub.fallback_interval,
        max_interval=defaults.max_interval,
        max_backoff=defaults.max_backoff,
        adaptive=defaults.adaptive,
        articles={feed.url: article_rule(feed, defaults) for feed in settings.feeds},
        article_default=article_rule(None, defaults),
        fulltext=fulltext_limits(settings),
    )
