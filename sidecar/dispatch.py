"""Ordered failover over the routes a decision allowed, and nothing else.

The dispatcher receives an already-filtered plan (one entry per allowed route, in policy
order) and never looks anything up by itself, so no retry path can reach a route the policy
did not allow. It moves on to the next route on connect errors, timeouts, 429, 5xx and
upstream credential rejections, but only before the first byte has reached the app: for a
non-streamed call that is the whole body, for a stream the first data event.

Each attempt runs under its provider's deadlines (first byte, idle gap, total) and its
route's circuit breaker: a route whose circuit is open is skipped, which can only shorten
the list of allowed routes, never lengthen it. A stream's verdict is left to the relay,
which knows it only when the stream ends.

An upstream's error reaches the app with its status, and its error object rebuilt from
what is safe to relay (sidecar/scrub.py): never the body as the upstream wrote it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import aiohttp

from sidecar.audit import Attempt
from sidecar.breaker import Breakers, Ticket, retry_after_header
from sidecar.errors import RouterError
from sidecar.metrics import Metrics
from sidecar.providers.base import Translator
from sidecar.providers.upstream import Upstream
from sidecar.relay import MalformedResponse, UpstreamErrorEvent, UpstreamStream
from sidecar.scrub import Scrubber

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
    app_headers: dict[str, str] = field(default_factory=dict)
    """The app's forwardable headers (sidecar/headers.py); `Upstream.headers` keeps those
    of this upstream's family."""


@dataclass(slots=True)
class Opened:
    """A response the app will get: complete (non-streamed or error) or a stream under way."""

    plan: Plan
    status: int
    headers: dict[str, str]
    body: bytes
    stream: UpstreamStream | None = None
    upstream_seconds: float = 0.0
    ttfb_seconds: float = 0.0


@dataclass(slots=True)
class _Result:
    """What one attempt came to, before it is recorded."""

    outcome: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    stream: UpstreamStream | None = None


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


FAILURES = frozenset({"server_error", "timeout", "connect_error", "malformed", "error_event"})
"""Attempt outcomes that count against a route's circuit breaker. `ok` and
`client_error` (the upstream answered sensibly) count for it; 429 and credential
rejections are neither: they say "slow down" or "fix the key", not "broken"."""


class Dispatcher:
    def __init__(
        self,
        metrics: Metrics,
        clock: Callable[[], float] = time.perf_counter,
        breakers: Breakers | None = None,
    ) -> None:
        self.metrics = metrics
        self.clock = clock
        self.breakers = breakers if breakers is not None else Breakers(metrics)
        self.streams: set[UpstreamStream] = set()
        """Streams being relayed, so that shutdown can end them after its grace period."""
        self.closing = False

    async def open(
        self, plans: list[Plan], stream: bool, log: DispatchLog, scrubber: Scrubber | None = None
    ) -> Opened:
        """The first allowed route that answers. `scrubber` knows what the request sent
        (its text, the keys), to be taken out of any upstream error the app gets."""
        scrub = scrubber if scrubber is not None else Scrubber()
        for index, plan in enumerate(plans):
            if self.closing:
                break
            if index and log.attempts and log.attempts[-1].outcome != "ok":
                self.metrics.failovers.inc()
            opened = await self._attempt(plan, stream, log, scrub)
            if opened is not None:
                return opened
        if self.closing:
            raise RouterError(
                503,
                "shutting_down",
                "the router is shutting down",
                kind="api_error",
                headers={"Retry-After": "1"},
            )
        raise _all_failed(log.attempts, self._retry_after(plans))

    def abort(self) -> None:
        """Shutdown's grace period is over: no new attempts, and every stream still being
        relayed ends with a `shutting_down` error event."""
        self.closing = True
        for relayed in list(self.streams):
            relayed.abort()

    async def _attempt(
        self, plan: Plan, stream: bool, log: DispatchLog, scrub: Scrubber
    ) -> Opened | None:
        up = plan.upstream
        started = self.clock()
        key = up.credential.current()
        if key is None or up.session is None:
            self._record(log, plan, "unavailable", None, started)
            return None
        ticket = self.breakers.route(plan.route_id, up.config.circuit_breaker).admit()
        if ticket is None:
            self.metrics.circuit_skips.labels(route=plan.route_id).inc()
            self._record(log, plan, "circuit_open", None, started)
            return None
        try:
            result = await self._exchange(plan, stream, key, ticket, scrub)
        except TimeoutError:
            result = _Result("timeout")
        except MalformedResponse:
            result = _Result("malformed")
        except UpstreamErrorEvent:  # an error event before any data: nothing reached the app
            result = _Result("error_event")
        except (aiohttp.ClientError, OSError):
            result = _Result("connect_error")
        except BaseException:  # the app went away: no verdict on the route
            ticket.release()
            raise
        if result.stream is None:  # a stream's verdict comes when it ends (relay.py)
            _verdict(ticket, result.outcome)
        self._record(log, plan, result.outcome, result.status, started)
        if result.outcome == "client_error":
            assert result.status is not None
            try:
                status, body = plan.translator.error(result.status, result.body)
            except Exception:  # an unreadable error body: the pipeline renders its own
                status, body = result.status, b""
            body = scrub.error_body(body)  # b"" unless it is an error object
            headers = {"content-type": "application/json"}
            return self._opened(plan, status, headers, body, log, started)
        if result.outcome != "ok":
            return None
        assert result.status is not None
        opened = self._opened(plan, result.status, result.headers, result.body, log, started)
        if result.stream is not None:
            opened.stream = result.stream
            self.streams.add(result.stream)
        return opened

    async def _exchange(
        self, plan: Plan, stream: bool, key: str, ticket: Ticket, scrub: Scrubber
    ) -> _Result:
        """One request to one upstream, under its deadlines: headers and, for a stream, the
        first data event within `first_byte_s`; a body with no gap over `idle_s`; all of it
        within `total_s`."""
        up = plan.upstream
        assert up.session is not None
        limits = up.config.timeouts
        loop = asyncio.get_running_loop()
        now = loop.time()
        deadline = now + limits.total_s
        response: aiohttp.ClientResponse | None = None
        headers = up.headers(key, stream, plan.app_headers)
        scrub.sent(headers)
        try:
            async with asyncio.timeout_at(min(now + limits.first_byte_s, deadline)):
                response = await up.session.post(
                    plan.url, data=plan.body(), headers=headers, timeout=up.timeout()
                )
                status = response.status
                outcome = _outcome(status)
                if outcome != "ok":
                    body = await response.content.read(MAX_ERROR_BODY)
                    response.release()
                    return _Result(outcome, status, body=body)
                relayed_headers = plan.translator.response_headers(response.headers)
                if stream:
                    relayed = UpstreamStream(
                        plan.route_id,
                        response,
                        plan.translator,
                        idle_s=limits.idle,
                        deadline=deadline,
                        on_failure=self._stream_failed(up.name),
                        on_close=self.streams.discard,
                        ticket=ticket,
                        scrubber=scrub,
                    )
                    first = await relayed.first()
                    return _Result("ok", status, relayed_headers, first, relayed)
            raw = await _read_body(response, limits.idle, deadline)
            body = _translate_body(plan.translator, raw)
            return _Result("ok", status, relayed_headers, body)
        except BaseException:
            if response is not None:
                response.close()
            raise

    def _stream_failed(self, provider: str) -> Callable[[str], None]:
        def failed(code: str) -> None:
            self.metrics.stream_failures.labels(provider=provider, code=code).inc()

        return failed

    def _retry_after(self, plans: list[Plan]) -> float:
        """When the earliest of the skipped routes may be tried again."""
        waits = [
            b.retry_after()
            for b in (self.breakers.get(p.route_id) for p in plans)
            if b is not None and b.retry_after() > 0
        ]
        return min(waits, default=0.0)

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


def _verdict(ticket: Ticket, outcome: str) -> None:
    if outcome in ("ok", "client_error"):
        ticket.success()
    elif outcome in FAILURES:
        ticket.failure()
    else:  # 429 or credentials: no verdict
        ticket.release()


async def _read_body(response: aiohttp.ClientResponse, idle: float, deadline: float) -> bytes:
    """A non-streamed body, with at most `idle` seconds between its chunks."""
    loop = asyncio.get_running_loop()
    parts: list[bytes] = []
    while True:
        async with asyncio.timeout_at(min(loop.time() + idle, deadline)):
            chunk = await response.content.readany()
        if not chunk:
            break
        parts.append(chunk)
    response.release()
    return b"".join(parts)


def _translate_body(translator: Translator, raw: bytes) -> bytes:
    """A 200 body the translator cannot read, or that is not a complete response of the
    upstream's API, is the upstream's fault: the route failed and the next one may serve."""
    try:
        body = translator.response_body(raw)
    except Exception as exc:  # never let upstream bytes crash a request
        raise MalformedResponse(
            f"the response could not be translated ({type(exc).__name__})"
        ) from None
    if not translator.complete:
        raise MalformedResponse("the response is not a JSON object")
    return body


def _all_failed(attempts: list[Attempt], retry_after: float = 0.0) -> RouterError:
    summary = ", ".join(
        f"{a.route} ({a.outcome}{' ' + str(a.status) if a.status else ''})" for a in attempts
    )
    outcomes = {a.outcome for a in attempts}
    if outcomes <= {"unavailable"}:
        return RouterError(
            503, "no_route_available", f"no allowed route is available: {summary}", kind="api_error"
        )
    if outcomes <= {"circuit_open", "unavailable"}:
        return RouterError(
            503,
            "circuit_open",
            f"every allowed route is failing and paused (circuit open): {summary}",
            kind="api_error",
            headers={"Retry-After": retry_after_header(retry_after)},
        )
    outcomes.discard("circuit_open")
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
