"""Fetching against a real local server: validators, limits, errors, the private-network guard."""

from __future__ import annotations

import asyncio
import gzip
import socket
from datetime import timedelta

import pytest
from aiohttp import web
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.test_utils import TestServer

from monitor.config import HttpSettings
from monitor.fetch import Fetcher, FetchError, FetchLimits
from monitor.wiring import fetch_limits
from tests.support.servers import FeedServer

BODY = b"<rss version='2.0'><channel><title>t</title></channel></rss>"


def http(**overrides: object) -> FetchLimits:
    values: dict[str, object] = {"allow_private_networks": True, "timeout": "5s"}
    values.update(overrides)
    return fetch_limits(HttpSettings.model_validate(values))


class StaticResolver(AbstractResolver):
    """Resolves every name to one address, as a hostile DNS answer would."""

    def __init__(self, address: str) -> None:
        self.address = address

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        return [
            {
                "hostname": host,
                "host": self.address,
                "port": port,
                "family": socket.AF_INET,
                "proto": 0,
                "flags": socket.AI_NUMERICHOST,
            }
        ]

    async def close(self) -> None:
        pass


async def test_conditional_get_echoes_validators_byte_exact(feeds: FeedServer) -> None:
    etag = 'W/"abc\u00e9-1"'.encode("latin-1").decode("latin-1")
    modified = "Sat, 10 Oct 2020 09:00:00 GMT"

    async def handler(request: web.Request) -> web.Response:
        if request.headers.get("If-None-Match") == etag:
            return web.Response(status=304)
        return web.Response(body=BODY, headers={"ETag": etag, "Last-Modified": modified})

    url = feeds.handle("/feed", handler)
    async with Fetcher(http()) as fetcher:
        first = await fetcher.fetch(url)
        assert (first.status, first.body, first.etag, first.last_modified) == (
            200,
            BODY,
            etag,
            modified,
        )
        second = await fetcher.fetch(url, etag=first.etag, last_modified=first.last_modified)
    assert second.status == 304 and second.body is None
    request = feeds.hits["/feed"][1]
    assert request.headers["If-None-Match"] == etag
    assert request.headers["If-Modified-Since"] == modified
    assert "news-monitor/" in request.headers["User-Agent"]
    assert "https://" in request.headers["User-Agent"]


@pytest.mark.parametrize(("status", "message"), [(404, "HTTP 404 Not Found"), (500, "HTTP 500")])
async def test_error_statuses(feeds: FeedServer, status: int, message: str) -> None:
    url = feeds.serve("/feed", "nope", status=status)
    async with Fetcher(http()) as fetcher:
        with pytest.raises(FetchError, match=message) as caught:
            await fetcher.fetch(url)
    assert caught.value.status == status


async def test_429_carries_retry_after(feeds: FeedServer) -> None:
    url = feeds.serve("/feed", "slow down", status=429, headers={"Retry-After": "120"})
    async with Fetcher(http()) as fetcher:
        with pytest.raises(FetchError) as caught:
            await fetcher.fetch(url)
    assert (caught.value.status, caught.value.retry_after) == (429, "120")


async def test_body_over_the_cap_by_content_length(feeds: FeedServer) -> None:
    url = feeds.serve("/feed", b"x" * 5000)
    async with Fetcher(http(max_body=1000)) as fetcher:
        with pytest.raises(FetchError, match="over the 1000 cap"):
            await fetcher.fetch(url)


async def test_streamed_body_over_the_cap(feeds: FeedServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        for _ in range(50):
            await response.write(b"y" * 1000)
        await response.write_eof()
        return response

    url = feeds.handle("/feed", handler)
    async with Fetcher(http(max_body=10_000)) as fetcher:
        with pytest.raises(FetchError, match="passed the 10000-byte cap"):
            await fetcher.fetch(url)


async def test_decompression_bomb_is_capped_on_decompressed_size(feeds: FeedServer) -> None:
    bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
    assert len(bomb) < 100_000
    url = feeds.serve("/feed", bomb, headers={"Content-Encoding": "gzip"})
    async with Fetcher(http(max_body="1MiB")) as fetcher:
        with pytest.raises(FetchError, match="cap"):
            await fetcher.fetch(url)


async def test_gzip_within_the_cap_is_decompressed(feeds: FeedServer) -> None:
    url = feeds.serve("/feed", gzip.compress(BODY), headers={"Content-Encoding": "gzip"})
    async with Fetcher(http()) as fetcher:
        assert (await fetcher.fetch(url)).body == BODY


async def test_a_hanging_server_times_out(feeds: FeedServer) -> None:
    async def handler(request: web.Request) -> web.Response:
        await asyncio.sleep(30)
        return web.Response(body=BODY)

    url = feeds.handle("/feed", handler)
    async with Fetcher(http(timeout="0.5s")) as fetcher:
        with pytest.raises(FetchError, match=r"no complete answer within 0.5s"):
            await fetcher.fetch(url)


async def test_a_trickling_body_times_out_as_a_whole(feeds: FeedServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        for _ in range(100):
            await response.write(b"<")  # one byte at a time: each read is quick
            await asyncio.sleep(0.05)
        return response

    url = feeds.handle("/feed", handler)
    async with Fetcher(http(timeout="0.5s")) as fetcher:
        with pytest.raises(FetchError, match="no complete answer"):
            await fetcher.fetch(url)


async def test_redirects_are_followed_and_loops_stopped(feeds: FeedServer) -> None:
    feeds.serve("/final", BODY)
    feeds.serve("/moved", "", status=301, headers={"Location": "/final"})
    feeds.serve("/loop", "", status=302, headers={"Location": "/loop"})
    async with Fetcher(http()) as fetcher:
        result = await fetcher.fetch(feeds.url("/moved"))
        assert (result.body, result.url) == (BODY, feeds.url("/final"))
        with pytest.raises(FetchError, match="more than 5 redirects"):
            await fetcher.fetch(feeds.url("/loop"))


async def test_connection_refused_is_a_clear_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    async with Fetcher(http()) as fetcher:
        with pytest.raises(FetchError, match=f"cannot connect to 127.0.0.1:{port}"):
            await fetcher.fetch(f"http://127.0.0.1:{port}/feed")


async def test_private_addresses_are_refused_by_default(feeds: FeedServer) -> None:
    url = feeds.serve("/feed", BODY)
    async with Fetcher(http(allow_private_networks=False)) as fetcher:
        with pytest.raises(FetchError, match="private or local address"):
            await fetcher.fetch(url)
    assert "/feed" not in feeds.hits


async def test_an_ipv4_compatible_address_is_refused(feeds: FeedServer) -> None:
    # http://[::127.0.0.1]:port/ was taken for a public address.
    port = feeds.server.port
    async with Fetcher(http(allow_private_networks=False)) as fetcher:
        with pytest.raises(FetchError, match="private or local address"):
            await fetcher.fetch(f"http://[::127.0.0.1]:{port}/feed")


async def test_names_that_resolve_to_private_addresses_are_refused(feeds: FeedServer) -> None:
    feeds.serve("/feed", BODY)
    port = feeds.server.port
    settings = http(allow_private_networks=False)
    async with Fetcher(settings, resolver=StaticResolver("127.0.0.1")) as fetcher:
        with pytest.raises(FetchError, match="resolves only to private or local addresses"):
            await fetcher.fetch(f"http://news.example:{port}/feed")
    assert "/feed" not in feeds.hits
    async with Fetcher(http(), resolver=StaticResolver("127.0.0.1")) as fetcher:
        assert (await fetcher.fetch(f"http://news.example:{port}/feed")).body == BODY


async def test_per_host_limit(feeds: FeedServer) -> None:
    active = peak = 0

    async def handler(request: web.Request) -> web.Response:
        nonlocal active, peak
        active += 1
        peak = max(peak, active)
        await asyncio.sleep(0.05)
        active -= 1
        return web.Response(body=BODY)

    feeds.handle("/feed", handler)
    async with Fetcher(http(per_host=2)) as fetcher:
        await asyncio.gather(*(fetcher.fetch(feeds.url(f"/feed?n={n}")) for n in range(8)))
    assert peak == 2


async def test_non_http_scheme_is_refused() -> None:
    async with Fetcher(http()) as fetcher:
        with pytest.raises(FetchError, match="only http"):
            await fetcher.fetch("file:///etc/passwd")


def test_timeout_setting_is_used() -> None:
    assert http(timeout="3s").timeout == timedelta(seconds=3)


async def test_host_spacing_queues_requests_to_one_host_and_not_another() -> None:
    # Two loopback hosts: 127.0.0.1 and 127.0.0.2 are different hosts to the rule.
    async def feed(request: web.Request) -> web.Response:
        return web.Response(body=BODY, content_type="application/rss+xml")

    app = web.Application()
    app.router.add_get("/feed", feed)
    servers = [TestServer(app, host=host) for host in ("127.0.0.1", "127.0.0.2")]
    for server in servers:
        await server.start_server()
    waits: list[float] = []

    async def record(seconds: float) -> None:  # the clock does not move: every wait shows
        waits.append(seconds)

    first, second = (str(server.make_url("/feed")) for server in servers)
    try:
        spaced = http(host_spacing="2s")
        async with Fetcher(spaced, monotonic=lambda: 1000.0, sleep=record) as fetcher:
            results = await asyncio.gather(
                *(fetcher.fetch(first) for _ in range(3)), fetcher.fetch(second)
            )
    finally:
        for server in servers:
            await server.close()
    assert all(result.body == BODY for result in results)
    assert sorted(waits) == [2.0, 4.0]  # the first host's second and third; never the other


async def test_a_hub_request_is_a_guarded_form_post(feeds: FeedServer) -> None:
    seen: list[dict[str, str]] = []

    async def hub(request: web.Request) -> web.Response:
        seen.append({key: str(value) for key, value in (await request.post()).items()})
        return web.Response(status=202, text="accepted " + "x" * 1000)

    url = feeds.handle("/hub", hub)
    async with Fetcher(fetch_limits(HttpSettings(allow_private_networks=True))) as fetcher:
        status, answer = await fetcher.post_form(url, {"hub.mode": "subscribe"})
        assert (status, seen) == (202, [{"hub.mode": "subscribe"}])
        assert answer.startswith("accepted x") and len(answer) <= 300
        with socket.socket() as closed:
            closed.bind(("127.0.0.1", 0))
            port = closed.getsockname()[1]
        with pytest.raises(FetchError, match=r"cannot connect to 127\.0\.0\.1"):
            await fetcher.post_form(f"http://127.0.0.1:{port}/hub", {})
    async with Fetcher(fetch_limits(HttpSettings())) as guarded:
        with pytest.raises(FetchError, match="a private or local address"):
            await guarded.post_form(url, {"hub.mode": "subscribe"})
    assert len(seen) == 1
