"""One POST to a receiver, with failures phrased without the (secret) URL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from urllib.parse import urlsplit

import aiohttp

from monitor.notify.base import DeliveryError
from monitor.schedule import parse_retry_after

# Statuses that say "try again later" rather than "this request is wrong".
RETRYABLE = frozenset({408, 409, 425, 429})


async def post(
    session: aiohttp.ClientSession,
    url: str,
    body: bytes,
    headers: Mapping[str, str],
    time_limit: timedelta,
    clock: Callable[[], datetime],
) -> str:
    """POST and return the response text; raise DeliveryError on anything but 2xx."""
    seconds = time_limit.total_seconds()
    try:
        async with asyncio.timeout(seconds):
            async with session.post(
                url, data=body, headers=headers, allow_redirects=False
            ) as response:
                text = (await response.content.read(2048)).decode("utf-8", "replace")
                if 200 <= response.status < 300:
                    return text
                # A receiver may echo the request path, which is the secret.
                path = urlsplit(url).path
                if len(path) > 1:
                    text = text.replace(path, "/***")
                detail = " ".join(text.split())[:200]
                message = f"HTTP {response.status}" + (f": {detail}" if detail else "")
                retry_after = parse_retry_after(response.headers.get("Retry-After"), clock())
                permanent = 400 <= response.status < 500 and response.status not in RETRYABLE
                raise DeliveryError(message, retry_after=retry_after, permanent=permanent)
    except TimeoutError:
        raise DeliveryError(f"no answer within {seconds:g}s") from None
    except aiohttp.ClientConnectorError as exc:
        reason = exc.os_error.strerror or str(exc.os_error)
        raise DeliveryError(f"cannot connect: {reason}") from None
    except aiohttp.ClientError as exc:
        # str() of some aiohttp errors includes the URL, which may hold a token.
        raise DeliveryError(f"{type(exc).__name__} while sending") from None
