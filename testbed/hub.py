"""A WebSub hub on a local aiohttp server, and a daemon run in this process: for the
WebSub tests and the push benchmark."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer

from monitor.config import Settings
from monitor.daemon import Daemon
from monitor.runtime import Runtime


@dataclass
class HubSubscription:
    """A subscription as the hub holds it."""

    callback: str
    topic: str
    secret: str
    expires: float  # loop time


@dataclass
class LocalHub:
    """The hub's side of WebSub: takes requests, verifies intent at the callback,
    grants ``lease_seconds``, pushes content, and lets leases lapse."""

    server: TestServer
    lease_seconds: int
    requests: list[dict[str, str]] = field(default_factory=list)
    verifications: list[tuple[str, int, bool]] = field(default_factory=list)
    subscriptions: dict[tuple[str, str], HubSubscription] = field(default_factory=dict)
    refuse: bool = False  # answer requests 500 (no renewal: the lease lapses)
    tasks: set[asyncio.Task[None]] = field(default_factory=set)

    @property
    def url(self) -> str:
        return str(self.server.make_url("/"))

    def active(self, topic: str) -> list[HubSubscription]:
        now = asyncio.get_running_loop().time()
        return [s for s in self.subscriptions.values() if s.topic == topic and s.expires > now]

    def asked(self, mode: str) -> list[dict[str, str]]:
        return [form for form in self.requests if form.get("hub.mode") == mode]

    async def handle(self, request: web.Request) -> web.Response:
        form = {key: str(value) for key, value in (await request.post()).items()}
        self.requests.append(form)
        if self.refuse:
            return web.Response(status=500, text="hub overloaded")
        if form.get("hub.mode") not in ("subscribe", "unsubscribe") or not form.get("hub.callback"):
            return web.Response(status=400, text="bad request")
        task = asyncio.create_task(self._verify(form))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return web.Response(status=202)

    async def _verify(self, form: dict[str, str]) -> None:
        challenge = secrets.token_urlsafe(12)
        query = {
            "hub.mode": form["hub.mode"],
            "hub.topic": form["hub.topic"],
            "hub.challenge": challenge,
            "hub.lease_seconds": str(self.lease_seconds),
        }
        async with (
            aiohttp.ClientSession() as http,
            http.get(form["hub.callback"], params=query) as answer,
        ):
            echoed = answer.status == 200 and await answer.text() == challenge
            self.verifications.append((form["hub.mode"], answer.status, echoed))
        key = (form["hub.callback"], form["hub.topic"])
        if echoed and form["hub.mode"] == "subscribe":
            expires = asyncio.get_running_loop().time() + self.lease_seconds
            self.subscriptions[key] = HubSubscription(
                form["hub.callback"], form["hub.topic"], form.get("hub.secret", ""), expires
            )
        elif echoed:
            self.subscriptions.pop(key, None)

    async def publish(self, topic: str, body: str, sign: str | None = "sha256") -> list[int]:
        """Push ``body`` to every live subscriber of ``topic``: signed with ``sign``
        (``wrong``: a signature by another secret; None: unsigned)."""
        statuses = []
        async with aiohttp.ClientSession() as http:
            for subscription in self.active(topic):
                headers = {
                    "Content-Type": "application/rss+xml",
                    "Link": f'<{self.url}>; rel="hub", <{topic}>; rel="self"',
                }
                if sign is not None:
                    method = "sha256" if sign == "wrong" else sign
                    key = b"not the secret" if sign == "wrong" else subscription.secret.encode()
                    digest = hmac.new(key, body.encode(), getattr(hashlib, method)).hexdigest()
                    headers["X-Hub-Signature"] = f"{method}={digest}"
                async with http.post(
                    subscription.callback, data=body.encode(), headers=headers
                ) as answer:
                    statuses.append(answer.status)
        return statuses

    async def deny(self, topic: str, reason: str) -> int:
        """Tell the subscribers of ``topic`` their subscription is denied."""
        (subscription,) = self.active(topic)
        query = {"hub.mode": "denied", "hub.topic": topic, "hub.reason": reason}
        async with (
            aiohttp.ClientSession() as http,
            http.get(subscription.callback, params=query) as answer,
        ):
            self.subscriptions.clear()
            return answer.status

    async def close(self) -> None:
        """Stop verifying and serving."""
        for task in list(self.tasks):
            task.cancel()
        await self.server.close()


async def start_hub(lease_seconds: int = 3600) -> LocalHub:
    """A hub on 127.0.0.1 that grants leases of ``lease_seconds``."""
    app = web.Application()
    server = TestServer(app, host="127.0.0.1")
    hub = LocalHub(server, lease_seconds)
    app.router.add_post("/", hub.handle)
    await server.start_server()
    return hub


@contextlib.asynccontextmanager
async def in_process_daemon(settings: Settings) -> AsyncIterator[tuple[Runtime, Daemon]]:
    """A daemon in this process (its web side, its jobs), stopped afterwards."""
    async with Runtime(settings) as runtime:
        daemon = Daemon(runtime)
        daemon.websub_every = timedelta(seconds=0.1)
        task = asyncio.create_task(daemon.run())
        try:
            yield runtime, daemon
        finally:
            daemon.stop()
            await asyncio.wait_for(task, 15)
