"""Sending within Telegram's limits, and again when the Bot API stumbles.

AIORateLimiter keeps to ~30 messages/s overall and 20/min per group and retries 429s.
On top of it, a 502 or a refused connection is retried with backoff: the request did not
reach Telegram, so a retry cannot duplicate a message. A read time-out is not retried,
because Telegram may have delivered the message already.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import NetworkError, TimedOut
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

# What PTB's rate limiters pass on and return (BaseRateLimiter.process_request).
Result = bool | dict[str, Any] | list[dict[str, Any]]
Request = Callable[..., Coroutine[Any, Any, Result]]


class RetryingRateLimiter(AIORateLimiter):
    def __init__(self, *, network_retries: int = 3, backoff: float = 0.5, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.network_retries = network_retries
        self.backoff = backoff

    async def process_request(
        self,
        callback: Request,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Result:
        attempt = 0
        while True:
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except TimedOut:
                raise
            except NetworkError as exc:
                if attempt >= self.network_retries or not _retryable(exc):
                    raise
                attempt += 1
                log.warning("Bot API %s failed (%s); retry %d", endpoint, exc.message, attempt)
                await asyncio.sleep(self.backoff * 2 ** (attempt - 1))


def _retryable(exc: NetworkError) -> bool:
    text = exc.message.lower()
    return any(w in text for w in ("bad gateway", "502", "connect", "service unavailable", "503"))
