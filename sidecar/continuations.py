"""Which route stored each Responses API response: where a continuation may go.

A request with `previous_response_id` continues a conversation the provider that created
it keeps. Only that provider has it, so only that route can serve the request: sent
anywhere else it would fail, or worse, succeed after a guess. The sidecar records the route
of every response a native Responses route created (translated routes store nothing, so
their ids are not continuable), and sends continuations there or nowhere.

The map is bounded (`responses.max_remembered`, least recently used first out) and entries
expire after `responses.remember_s` (OpenAI keeps stored responses 30 days). It lives in
memory: after a restart an earlier id is unknown, and its continuation is a 404 rather than
a guess. Ids are the app's own opaque strings; they are never logged or recorded.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable


class Continuations:
    def __init__(
        self, max_entries: int, ttl_s: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._routes: OrderedDict[str, tuple[str, float]] = OrderedDict()
        """Response id -> (route id, when it expires)."""

    def __len__(self) -> int:
        return len(self._routes)

    def remember(self, response_id: str, route_id: str) -> None:
        self._routes[response_id] = (route_id, self._clock() + self.ttl_s)
        self._routes.move_to_end(response_id)
        while len(self._routes) > self.max_entries:
            self._routes.popitem(last=False)

    def route_of(self, response_id: str) -> str | None:
        """The route that stored it; None when unknown, expired or forgotten."""
        entry = self._routes.get(response_id)
        if entry is None:
            return None
        route_id, expires = entry
        if self._clock() >= expires:
            del self._routes[response_id]
            return None
        self._routes.move_to_end(response_id)
        return route_id

    def forget(self, response_id: str) -> None:
        self._routes.pop(response_id, None)
