"""HTTP for feeds: conditional GET, one deadline, a cap on the decompressed body,
global and per-host limits, and a resolver that refuses private networks.

Redirects are followed here, hop by hop, so that every hop passes the same guard.
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urljoin, urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from monitor import __version__
from monitor.addresses import is_public_address
from monitor.lifecycle import AsyncResource
from monitor.redact import without_userinfo

USER_AGENT = f"news-monitor/{__version__} (+https://github.com/news-monitor/news-monitor)"
ACCEPT = (
    "application/rss+xml, application/atom+xml, application/feed+json, application/rdf+xml;q=0.9,"
    " application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5"
)
REDIRECTS = frozenset({301, 302, 303, 307, 308})
PERMANENT_REDIRECTS = frozenset({301, 308})
MAX_REDIRECTS = 5
CHUNK = 64 * 1024
ANSWER_SHOWN = 300  # of a hub's answer to a request: enough to say why it refused


class FetchError(Exception):
    """A fetch that brought no usable body; the message is meant for a person."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retry_after: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.retry_after = retry_after
        self.headers: Mapping[str, str] = headers or {}


class BlockedAddressError(OSError):
    """The host resolves only to addresses the configuration does not allow."""


@dataclass(frozen=True, slots=True)
class FetchResult:
    """A 200 with its body, or a 304 without one, and the validators to store."""

    status: int
    url: str
    headers: Mapping[str, str]
    body: bytes | None = None
    digest: str | None = None  # SHA-256 of the body, taken while it streamed in
    # Redirects were followed and every hop was 301 or 308: the feed has moved to ``url``.
    permanent_redirect: bool = False

    @property
    def etag(self) -> str | None:
        """Kept byte for byte: servers compare it as an opaque string."""
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        """Kept byte for byte and echoed as If-Modified-Since."""
        return self.headers.get("last-modified")


class PublicOnlyResolver(AbstractResolver):
    """Resolves through another resolver and drops every non-public address.

    Guarding the resolver (not the URL) also stops a public name that points at
    127.0.0.1 or at a cloud metadata address.
    """

    def __init__(self, inner: AbstractResolver) -> None:
        self.inner = inner

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        """The public addresses of the host; an error when it has none."""
        results = await self.inner.resolve(host, port, family)
        public = [result for result in results if is_public_address(result["host"])]
        if not public:
            raise BlockedAddressError(
                f"{host} resolves only to private or local addresses"
                " (http.allow_private_networks: true allows them)"
            )
        return public

    async def close(self) -> None:
        """Close the wrapped resolver."""
        await self.inner.close()


@dataclass(frozen=True, slots=True)
class FetchLimits:
    """How the fetcher behaves (the ``http:`` settings): a request's timeout and body
    cap, requests at once (in all and per host), spacing between a host's requests,
    whether private addresses may be fetched, and the User-Agent (None: ours)."""

    timeout: timedelta
    max_body: int
    concurrency: int
    per_host: int
    allow_private_networks: bool
    user_agent: str | None
    host_spacing: timedelta


class Fetcher(AsyncResource):
    """One aiohttp session shared by every feed poll."""

    def __init__(
        self,
        limits: FetchLimits,
        resolver: AbstractResolver | None = None,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.limits = limits
        inner = resolver or DefaultResolver()
        self._resolver = inner if limits.allow_private_networks else PublicOnlyResolver(inner)
        self._session: aiohttp.ClientSession | None = None
        self._all_hosts = asyncio.Semaphore(limits.concurrency)
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._next_slot: dict[str, float] = {}  # per host: the earliest next request start
        self._monotonic = monotonic
        self._sleep = sleep

    async def _wait_for_slot(self, host: str) -> None:
        """Keep ``http.host_spacing`` between the starts of requests to one host. The slot
        is reserved before waiting, so concurrent polls of a host queue up in order."""
        spacing = self.limits.host_spacing.total_seconds()
        if spacing <= 0:
            return
        now = self._monotonic()
        slot = max(now, self._next_slot.get(host, now))
        self._next_slot[host] = slot + spacing
        if slot > now:
            await self._sleep(slot - now)

    def _open_session(self) -> aiohttp.ClientSession:
        if self._session is None:
            # Our semaphores set the limits; the connector would count differently.
            connector = aiohttp.TCPConnector(limit=0, resolver=self._resolver, ttl_dns_cache=60)
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": self.limits.user_agent or USER_AGENT, "Accept": ACCEPT},
            )
        return self._session

    async def close(self) -> None:
        """Close the session and its connections."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def fetch(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> FetchResult:
        """GET a feed (or, with ``accept`` saying so, a page), conditionally when
        validators are known; raise FetchError."""
        host = (urlsplit(url).hostname or "").lower()
        per_host = self._per_host.setdefault(host, asyncio.Semaphore(self.limits.per_host))
        conditional: dict[str, str] = {"Accept": accept} if accept else {}
        if etag:
            conditional["If-None-Match"] = etag
        if last_modified:
            conditional["If-Modified-Since"] = last_modified
        async with per_host, self._all_hosts:
            await self._wait_for_slot(host)
            async with self._answer_within(url):
                return await self._follow(url, conditional)

    async def post_form(self, url: str, form: Mapping[str, str]) -> tuple[int, str]:
        """POST a form (a WebSub hub request) under the same guards as a fetch: http(s)
        only, no private addresses unless allowed, the timeout; no redirects followed.
        The status and the start of the answer's text; FetchError when there is none."""
        self._check_target(url)
        session = self._open_session()
        async with (
            self._answer_within(url),
            session.post(url, data=dict(form), allow_redirects=False) as response,
        ):
            text = await response.content.read(ANSWER_SHOWN)
            return response.status, text.decode("utf-8", "replace").strip()

    @asynccontextmanager
    async def _answer_within(self, url: str) -> AsyncIterator[None]:
        """The body runs within ``http.timeout``; what aiohttp raises becomes a
        FetchError that says what happened, without the URL's user info."""
        timeout = self.limits.timeout.total_seconds()
        try:
            async with asyncio.timeout(timeout):
                yield
        except TimeoutError:
            raise FetchError(f"no complete answer within {timeout:g}s") from None
        except aiohttp.ClientConnectorError as exc:
            reason = exc.os_error.strerror or str(exc.os_error) or str(exc)
            raise FetchError(f"cannot connect to {exc.host}:{exc.port}: {reason}") from None
        except aiohttp.ClientPayloadError as exc:
            raise FetchError(f"the body was cut off or corrupt: {exc}") from None
        except aiohttp.ClientError as exc:
            # Some aiohttp errors quote the URL, user info included.
            detail = str(exc).replace(url, without_userinfo(url))
            raise FetchError(f"{type(exc).__name__}: {detail}") from None

    def _check_target(self, url: str) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            shown = without_userinfo(url)
            raise FetchError(f"refusing to fetch {shown!r}: only http(s) URLs are polled")
        if self.limits.allow_private_networks:
            return
        try:
            public = is_public_address(parts.hostname)
        except ValueError:
            return  # a name: the resolver guards it
        if not public:
            raise FetchError(
                f"refusing to fetch {parts.hostname}: a private or local address"
                " (http.allow_private_networks: true allows it)"
            )

    async def _follow(self, url: str, headers: dict[str, str]) -> FetchResult:
        session = self._open_session()
        hops: list[int] = []
        for _ in range(MAX_REDIRECTS + 1):
            self._check_target(url)
            async with session.get(url, headers=headers, allow_redirects=False) as response:
                location = response.headers.get("Location")
                if response.status in REDIRECTS and location:
                    url = urljoin(url, location)
                    hops.append(response.status)
                    continue
                # Moved only when every hop says so: one 302 on the way means "for now".
                moved = bool(hops) and all(hop in PERMANENT_REDIRECTS for hop in hops)
                return await self._result(url, response, moved)
        raise FetchError(f"more than {MAX_REDIRECTS} redirects")

    async def _result(self, url: str, response: aiohttp.ClientResponse, moved: bool) -> FetchResult:
        headers = {key.lower(): value for key, value in response.headers.items()}
        if response.status == 304:
            return FetchResult(304, url, headers, permanent_redirect=moved)
        if response.status != 200:
            raise FetchError(
                f"HTTP {response.status} {response.reason or ''}".rstrip(),
                status=response.status,
                retry_after=headers.get("retry-after"),
                headers=headers,
            )
        body, digest = await self._read_capped(response)
        return FetchResult(200, url, headers, body, digest, permanent_redirect=moved)

    async def _read_capped(self, response: aiohttp.ClientResponse) -> tuple[bytes, str]:
        """Read the decompressed body, stopping as soon as it passes the cap; hash it
        chunk by chunk, so a large body never holds the loop for one long hash."""
        cap = self.limits.max_body
        if (response.content_length or 0) > cap:
            raise FetchError(f"the body is {response.content_length} bytes, over the {cap} cap")
        chunks: list[bytes] = []
        size = 0
        digest = hashlib.sha256()
        async for chunk in response.content.iter_chunked(CHUNK):
            size += len(chunk)
            if size > cap:
                raise FetchError(f"the body passed the {cap}-byte cap (http.max_body)")
            chunks.append(chunk)
            digest.update(chunk)
        return b"".join(chunks), digest.hexdigest()
