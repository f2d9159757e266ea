"""The shared base of the HTTP channels: one POST, and what its answer means.

Only 2xx is success; redirects are not followed (the URL should be fixed); 429 waits
for ``Retry-After``; 410 means the receiver is gone; other 4xx are permanent; 5xx,
timeouts and connection errors are retried. Failures never show the (secret) URL.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from monitor.models import Message
from monitor.notify.base import DeliveryError
from monitor.schedule import parse_retry_after

# Statuses that say "try again later" rather than "this request is wrong".
RETRYABLE = frozenset({408, 409, 425})
THROTTLED_WAIT = timedelta(seconds=30)  # a 429 without Retry-After


def _masked(text: str, url: str) -> str:
    # A receiver may echo the request path, which is the secret.
    path = urlsplit(url).path
    return text.replace(path, "/***") if len(path) > 1 else text


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    time_limit: timedelta,
    clock: Callable[[], datetime],
    retry_after_of: Callable[[str], timedelta | None] = lambda _: None,
) -> str:
    """POST and return the response text; raise DeliveryError on anything but 2xx.

    ``retry_after_of`` reads a delay from a 429's body, for receivers (Discord) that
    put it there rather than in the header.
    """
    seconds = time_limit.total_seconds()
    try:
        async with asyncio.timeout(seconds):
            async with session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                text = (await response.content.read(2048)).decode("utf-8", "replace")
                status = response.status
                if 200 <= status < 300:
                    return text
                detail = " ".join(_masked(text, url).split())[:200]
                message = f"HTTP {status}" + (f": {detail}" if detail else "")
                retry_after = parse_retry_after(response.headers.get("Retry-After"), clock())
                if 300 <= status < 400:
                    message += " (a redirect: fix the notifier's URL)"
                    raise DeliveryError(message, permanent=True)
                if status == 429:
                    wait = retry_after or retry_after_of(text) or THROTTLED_WAIT
                    raise DeliveryError(message, retry_after=wait, throttled=True)
                if status == 410:
                    raise DeliveryError(message, gone=True)
                permanent = 400 <= status < 500 and status not in RETRYABLE
                raise DeliveryError(message, retry_after=retry_after, permanent=permanent)
    except TimeoutError:
        raise DeliveryError(f"no answer within {seconds:g}s") from None
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or str(exc.os_error)
        raise DeliveryError(f"cannot connect: {reason}") from None
    except aiohttp.ClientError as exc:
        # str() of some aiohttp errors includes the URL, which may hold a token.
        raise DeliveryError(f"{type(exc).__name__} while sending") from None


class HttpNotifier(ABC):
    """A channel that POSTs one rendered body per message to a secret URL."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        url: str,
        timeout: timedelta,
        clock: Callable[[], datetime],
    ) -> None:
        self.session = session
        self.url = url
        self.timeout = timeout
        self.clock = clock

    @abstractmethod
    def request(self, message: Message) -> tuple[bytes, dict[str, str]]:
        """The body and headers for one message."""

    def retry_after_of(self, body: str) -> timedelta | None:
        """A 429's delay from its body, when the receiver puts it there."""
        return None

    async def send(self, message: Message) -> None:
        """POST the message; a non-2xx answer raises DeliveryError."""
        body, headers = self.request(message)
        await post(
            self.session, self.url, body, headers, self.timeout, self.clock, self.retry_after_of
        )

    async def close(self) -> None:  # noqa: B027 - nothing to release by default
        """The session belongs to the runtime."""
