"""Limits on what one app-facing request, and all of them together, may cost the sidecar.

Why: the sidecar shares a pod with the app, so its memory and sockets come out of the
app's budget. Every limit answers at once with a clear 4xx in the app's own API format
rather than letting work pile up: there is no queue whose length depends on how hard the
app pushes. Body size and nesting depth are checked while parsing (api/); this module
holds the admission counter, the message count and the slow-client errors.
"""

from __future__ import annotations

import asyncio
from typing import Any

from sidecar.errors import RouterError, bad_request

RETRY_AFTER_S = 1
"""What a client refused for load is told to wait: in-flight requests are LLM calls that
usually finish within seconds, so a short pause is enough for a slot to free up."""


class InFlight:
    """A non-blocking semaphore over the requests inside the pipeline.

    `try_acquire` never waits: when all slots are taken the request is refused (429 with
    Retry-After) instead of queued. `close` makes every later acquisition fail (the sidecar
    is draining), and `wait_idle` lets shutdown wait, event-driven, for the last release.
    """

    __slots__ = ("_idle", "closed", "count", "limit")

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.count = 0
        self.closed = False
        self._idle: asyncio.Future[None] | None = None

    def try_acquire(self) -> bool:
        if self.closed or self.count >= self.limit:
            return False
        self.count += 1
        return True

    def release(self) -> None:
        self.count -= 1
        if self.count == 0 and self._idle is not None and not self._idle.done():
            self._idle.set_result(None)

    def close(self) -> None:
        self.closed = True

    def rejection(self) -> RouterError:
        """The error for a request `try_acquire` refused."""
        if self.closed:
            return RouterError(
                503,
                "shutting_down",
                "the router is shutting down and accepts no new requests",
                kind="api_error",
                headers={"Retry-After": str(RETRY_AFTER_S), "Connection": "close"},
            )
        return RouterError(
            429,
            "too_many_requests",
            f"the router is handling its limit of {self.limit} concurrent requests; retry shortly",
            kind="rate_limit_error",
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    async def wait_idle(self, grace_s: float) -> bool:
        """True once no request is in flight, False if `grace_s` passed first."""
        if self.count == 0:
            return True
        if self._idle is None or self._idle.done():
            self._idle = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait_for(asyncio.shield(self._idle), grace_s)
        except TimeoutError:
            return self.count == 0
        return True


def check_message_count(body: dict[str, Any], limit: int) -> None:
    """Chat completions and Messages carry their conversation in `messages`; a request with
    more than `limit` of them is refused before it is classified or forwarded."""
    messages = body.get("messages")
    if isinstance(messages, list) and len(messages) > limit:
        raise bad_request(
            f"'messages' has {len(messages)} entries; the limit is {limit}",
            param="messages",
            code="too_many_messages",
        )


def body_timeout(limit_s: float) -> RouterError:
    """A client that did not send its whole body within `limits.body_timeout_s`."""
    return RouterError(
        408,
        "request_timeout",
        f"the request body was not received within {limit_s:g} seconds",
        headers={"Connection": "close"},
    )
