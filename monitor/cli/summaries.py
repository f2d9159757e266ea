"""The summaries `check`, `once` and `notifiers` print: the configuration in a few
lines (every secret masked), what one pass did, and each notifier with its state."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from monitor.addresses import is_public_address
from monitor.config import (
    ConsoleNotifierSettings,
    Settings,
    WatchlistSettings,
    WebhookNotifierSettings,
)
from monitor.match.like import DEFAULT_THRESHOLD
from monitor.models import (
    NotifierState,
)
from monitor.notify.relay import RelayReport
from monitor.redact import database_shown, without_userinfo
from monitor.runtime import OnceReport
from monitor.views import duration_text, iso_utc, shortened
from monitor.wiring import feed_specs
from monitor.wiring.channels import describe_policy

LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


SHOWN_CHARS = 200  # a name or URL from a feed list, in a summary line


def fulltext_line(settings: Settings) -> str:
    """When articles are read unless a feed says otherwise, and how."""
    mode, section = settings.defaults.fulltext, settings.fulltext
    if mode == "off":
        return "full text: off unless a feed says otherwise"
    when = (
        "every new item's article"
        if mode == "always"
        else f"the articles of new items under {section.short_below} words"
    )
    robots = "robots.txt asked" if section.robots else "robots.txt NOT asked"
    wait = duration_text(section.timeout.total_seconds())
    return f"full text: {mode}: {when} read (wait up to {wait}, {robots})"


def check_summary(settings: Settings, path: Path) -> str:
    """The configuration in a few lines, every secret masked."""
    lines = [f"{path}: valid", f"storage: {database_shown(settings.storage)}"]
    if settings.uses_postgresql:
        lease = settings.cluster.lease.total_seconds()
        lines.append(
            f"cluster: leases of {duration_text(lease)}, renewed every {duration_text(lease / 3)}"
        )
    specs = feed_specs(settings)
    lines.append(f"feeds: {len(specs)} enabled of {len(settings.feeds)}")
    own_fulltext = {feed.url: feed.fulltext for feed in settings.feeds if feed.fulltext}
    for spec in specs:
        baseline = "baseline" if spec.baseline else "alerts on first poll"
        label = f"{shortened(spec.name, SHOWN_CHARS)}: " if spec.name else ""
        every = duration_text(spec.interval.total_seconds())
        kind = "" if spec.kind == "feed" else f"{spec.kind}, "
        url = shortened(without_userinfo(spec.url), SHOWN_CHARS)
        article = ""
        if (fulltext := own_fulltext.get(spec.url)) is not None:
            where = f" at {fulltext.selector!r}" if fulltext.selector else ""
            article = f", full text {fulltext.mode}{where}"
        lines.append(f"  - {label}{url} ({kind}every {every}, {baseline}{article})")
    lines.append(fulltext_line(settings))
    lines.append("notifiers:")
    lines.append(notifier_lines(settings, {}))
    active = settings.active_notifiers()
    lines.append(f"watchlists: {len(settings.watchlists)}")
    for watchlist in settings.watchlists:
        rules = [
            f"{key}: {', '.join(terms)}"
            for key, terms in (
                ("any", watchlist.any),
                ("all", watchlist.all),
                ("none", watchlist.none),
            )
            if terms
        ]
        if watchlist.query is not None:
            rules.append(f"query: {watchlist.query}")
        if watchlist.like is not None:
            samples = ", ".join(sample.label for sample in watchlist.like)
            threshold = watchlist.threshold or DEFAULT_THRESHOLD
            rules.append(f"like: {samples} (threshold {threshold:g})")
        if watchlist.spread is not None:
            spread = watchlist.spread
            rules.insert(
                0, f"spread: {spread.sources} sources within {duration_text(spread.within)}"
            )
        targets = watchlist.notify if watchlist.notify is not None else list(active)
        shown = [name if name in active else f"{name} (off)" for name in targets]
        timing = [
            f"{key}: {value}"
            for key, value in (("digest", watchlist.digest), ("quiet", watchlist.quiet))
            if value
        ]
        if timing:
            rules.append(f"{', '.join(timing)} ({watchlist.timezone})")
        rules += _language_rules(watchlist)
        lines.append(f"  - {watchlist.name}: {'; '.join(rules)}")
        lines.append(
            f"    in {', '.join(watchlist.fields)} → {', '.join(shown) or 'no active notifier'}"
        )
    web = settings.web
    if web is None or not web.enabled:
        lines.append("web: off")
    else:
        guard = "bearer token required" if web.token else "no token"
        lines.append(f"web: http://{web.listen}/ (status page, /metrics, /api/…; {guard})")
    push_url = settings.push_url
    if push_url is None:
        lines.append("websub: off (it needs web.public_url)")
    else:
        fallback = duration_text(settings.websub.fallback_interval.total_seconds())
        lines.append(
            f"websub: hubs push to {push_url}/websub/…; pushed feeds polled every {fallback}"
        )
        assert settings.web is not None  # push_url needs it
        listen_host = settings.web.listen.rpartition(":")[0].strip("[]")
        public_host = urlsplit(push_url).hostname or ""
        if listen_host in LOOPBACK and public_host not in LOOPBACK:
            lines.append(
                f"  listening on {settings.web.listen} only: a reverse proxy at {push_url}"
                " must forward /websub/ to it"
            )
    return "\n".join(lines)


def _private_target(url: str) -> bool:
    """The notifier's URL names a private or local address (by its literal host; a
    name is not resolved here)."""
    try:
        host = urlsplit(url).hostname or ""
    except ValueError:
        return False
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return not is_public_address(host)
    except ValueError:
        return False


def notifier_lines(settings: Settings, disabled: Mapping[str, NotifierState]) -> str:
    """Each configured notifier: type, masked URL, retry and rate policy, and state."""
    lines = []
    configured = settings.notifiers or {"console": ConsoleNotifierSettings(type="console")}
    for name, notifier in configured.items():
        if isinstance(notifier, ConsoleNotifierSettings):
            lines.append(f"  - {name}: console")
            continue
        if not notifier.enabled:
            lines.append(f"  - {name}: {notifier.type}, OFF (its url is empty)")
            continue
        signed = ""
        if isinstance(notifier, WebhookNotifierSettings):
            signed = ", signed" if notifier.signing_key() else ", unsigned"
        where = notifier.shown_url()
        private = notifier.type != "apprise" and _private_target(notifier.resolved_url())
        local = " (a private or local address)" if private else ""
        lines.append(f"  - {name}: {notifier.type} → {where}{signed}{local}")
        lines.append(f"      {describe_policy(notifier)}")
        state = disabled.get(name)
        if state is not None:
            since = iso_utc(state.disabled_at)
            lines.append(f"      DISABLED since {since}: {state.reason}")
    return "\n".join(lines)


def _waiting(relay: RelayReport) -> str:
    parts = [
        f"{count} {label}"
        for count, label in (
            (relay.throttled, "throttled (429)"),
            (relay.held, "held (quiet hours, digest, rate limit)"),
            (relay.folded, "rolled up"),
        )
        if count
    ]
    return f"; {', '.join(parts)}" if parts else ""


def once_summary(report: OnceReport) -> str:
    """Counts of what ``once`` did, then every failure."""
    statuses = Counter(poll.status for poll in report.polls)
    lines = [
        f"polled {len(report.polls)} feed(s): {statuses['updated']} updated, "
        f"{statuses['not-modified']} not modified, {statuses['failed']} failed; "
        f"{sum(poll.stored for poll in report.polls)} new item(s), "
        f"{sum(poll.deliveries for poll in report.polls)} alert(s) queued",
        f"delivered {report.relay.sent} alert(s); {report.relay.retrying} to retry, "
        f"{report.relay.deferred} deferred, {report.relay.dead} dead" + _waiting(report.relay),
    ]
    failures = [
        f"  feed {poll.feed.shown_url}: {poll.error}" for poll in report.polls if poll.error
    ]
    failures += [f"  {failure}" for failure in report.relay.failures]
    if failures:
        lines.append("failures:")
        lines.extend(failures)
    return "\n".join(lines)


def _language_rules(watchlist: WatchlistSettings) -> list[str]:
    """How a watchlist reads other languages, when not as by default."""
    rules = []
    if watchlist.stem is False:
        rules.append("no stems")
    elif watchlist.stem is True:
        rules.append("stems in every language, English too")
    elif isinstance(watchlist.stem, list):
        rules.append(f"stems in {', '.join(watchlist.stem) or 'no language'}")
    if watchlist.transliterate:
        rules.append("across scripts")
    return rules
