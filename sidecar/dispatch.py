"""Ordered failover over the routes a decision allowed, and nothing else.

The dispatcher receives an already-filtered plan (one entry per allowed route, in policy
order) and never looks anything up by itself, so no retry path can reach a route the policy
did not allow. It moves on to the next route on connect errors, timeouts, 429, 5xx and
upstream credential rejections, but only before the first byte has reached the app: for a
non-streamed call that is the whole body, for a stream the first chunk.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from sidecar.audit import Attempt
from sidecar.errors import RouterError
from sidecar.metrics import Metrics
from sidecar.providers.base import Translator
from sidecar.providers.upstream import Upstream

MAX_ERROR_BODY = 64 * 1024
FAILOVER_STATUSES = frozenset({401, 403, 408, 409, 429})
"""Besides 5xx: the sidecar's own key rejected (the app cannot fix that), timeouts and
rate limits are the upstream's problem, not the request's."""


@dataclass(slots=True)
class Plan:
    route_id: str
    upstream: Upstream
    url: str
    translator: Translator
    body: Callable[[], bytes]
    """Serialised lazily: a route that is never tried costs nothing."""
    anthropic_beta: str | None = None


@dataclass(slots=True)
class Opened:
    """A response the app will get: complete (non-streamed or error) or a stream under way."""

    plan: Plan
    status: int
    headers: dict[str, str]
    body: bytes
    response: aiohttp.ClientResponse | None = None
    upstream_seconds: float = 0.0
    ttfb_seconds: float = 0.0


@dataclass(slots=True)
class DispatchLog:
    attempts: list[Attempt] = field(default_factory=list)
    upstream_seconds: float = 0.0


def _outcome(status: int) -> str:
    if status == 429:
        return "rate_limited"
    if status in (401, 403):
        return "auth_error"
    if status >= 500:
        return "server_error"
    if status >= 400:
        return "client_error"
    return "ok"


class Dispatcher:
    def __init__(self, metrics: Metrics, clock: Callable[[], float] = time.perf_counter) -> None:
        self.metrics = metrics
        self.clock = clock

    async def open(self, plans: list[Plan], stream: bool, log: DispatchLog) -> Opened:
        for index, plan in enumerate(plans):
            if index and log.attempts and log.attempts[-1].outcome != "ok":
                self.metrics.failovers.inc()
            opened = await self._attempt(plan, stream, log)
            if opened is not None:
                return opened
        raise _all_failed(log.attempts)

    async def _attempt(self, plan: Plan, stream: bool, log: DispatchLog) -> Opened | None:
        up = plan.upstream
        started = self.clock()
        key = up.credential.current()
        if key is None or up.session is None:
            self._record(log, plan, "unavailable", None, started)
            return None
        response: aiohttp.ClientResponse | None = None
        try:
            response = await up.session.post(
                plan.url,
                data=plan.body(),
                headers=up.headers(key, stream, plan.anthropic_beta),
                timeout=up.timeout(),
            )
            status = response.status
            outcome = _outcome(status)
            if outcome != "ok":
                body = await response.content.read(MAX_ERROR_BODY)
                response.release()
                response = None
                self._record(log, plan, outcome, status, started)
                if outcome == "client_error":
                    status, body = plan.translator.error(status, body)
                    return self._opened(
                        plan, status, {"content-type": "application/json"}, body, log, started
                    )
                return None
            headers = plan.translator.response_headers(response.headers)
            if not stream:
                body = plan.translator.response_body(await response.read())
                response.release()
                response = None
                self._record(log, plan, "ok", status, started)
                return self._opened(plan, status, headers, body, log, started)
            first = b""
            while not first:
                chunk = await response.content.readany()
                if not chunk:
                    raise aiohttp.ClientPayloadError("stream ended before its first event")
                first = plan.translator.response_chunk(chunk)
            self._record(log, plan, "ok", status, started)
            opened = self._opened(plan, status, headers, first, log, started)
            opened.response, response = response, None
            return opened
        except TimeoutError:
            self._record(log, plan, "timeout", None, started)
        except (aiohttp.ClientError, OSError):
            self._record(log, plan, "connect_error", None, started)
        finally:
            if response is not None:
                response.close()
        return None

    def _opened(
        self,
        plan: Plan,
        status: int,
        headers: dict[str, str],
        body: bytes,
        log: DispatchLog,
        started: float,
    ) -> Opened:
        ttfb = self.clock() - started
        return Opened(
            plan, status, headers, body, upstream_seconds=log.upstream_seconds, ttfb_seconds=ttfb
        )

    def _record(
        self, log: DispatchLog, plan: Plan, outcome: str, status: int | None, started: float
    ) -> None:
        elapsed = self.clock() - started
        log.upstream_seconds += elapsed
        up = plan.upstream
        log.attempts.append(
            Attempt(plan.route_id, up.name, up.kind, outcome, status, round(elapsed * 1000, 3))
        )
        self.metrics.upstream_attempts.labels(provider=up.name, outcome=outcome).inc()


def _all_failed(attempts: list[Attempt]) -> RouterError:
    summary = ", ".join(
        f"{a.route} ({a.outcome}{' ' + str(a.status) if a.status else ''})" for a in attempts
    )
    outcomes = {a.outcome for a in attempts}
    if outcomes <= {"unavailable"}:
        return RouterError(
            503, "no_route_available", f"no allowed route is available: {summary}", kind="api_error"
        )
    if outcomes <= {"timeout", "unavailable"}:
        return RouterError(
            504, "upstream_timeout", f"all allowed routes timed out: {summary}", kind="api_error"
        )
    if outcomes <= {"rate_limited", "unavailable"}:
        return RouterError(
            503,
            "upstream_rate_limited",
            f"all allowed routes are rate limited: {summary}",
            kind="api_error",
            headers={"Retry-After": "1"},
        )
    return RouterError(
        502, "upstream_failed", f"all allowed routes failed: {summary}", kind="api_error"
    )
