"""Circuit breakers, one per route: stop sending to a route that keeps failing, probe it
again after a cool-down, and trust it again once a probe succeeds.

Why: without a breaker every request pays for a dead route (a connect timeout, a stalled
stream) before failing over, and a struggling provider gets hammered while it recovers.
Why per route (`provider:model`) rather than per provider: one model of a provider can be
overloaded while the others answer.

A breaker only ever removes routes from a plan the policy already filtered; it never adds
one. So an open circuit can make a request fail (503 with Retry-After), but it can never
send data anywhere the decision did not allow.

States: closed (traffic flows; consecutive failures are counted), open (skipped until the
cool-down has passed), half-open (exactly one probe request is let through; its success
closes the circuit, its failure opens it for another cool-down).

A verdict belongs to one admitted attempt (`Ticket`), given once, when it is known: for a
non-streamed call when the response is read, for a stream only when the stream has ended,
since a stream that breaks after its first event is a failure of the route however well
it started. So a probe that is a stream holds the half-open circuit until it has ended.
A verdict on an attempt admitted before the circuit last opened is ignored: it says how
the route was doing then, not now.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from enum import IntEnum

from sidecar.config import CircuitBreakerConfig
from sidecar.metrics import Metrics


class State(IntEnum):
    """Values of the `llm_router_circuit_state` gauge."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class Ticket:
    """One admitted attempt's right to a verdict: the first of `success`, `failure` or
    `release` counts, later calls are ignored, so a stream that is closed after it failed
    cannot also release (or succeed) the same admission."""

    __slots__ = ("_breaker", "done", "epoch", "probe")

    def __init__(self, breaker: CircuitBreaker, epoch: int, probe: bool) -> None:
        self._breaker = breaker
        self.epoch = epoch
        self.probe = probe
        self.done = False

    def success(self) -> None:
        if not self.done:
            self.done = True
            self._breaker._success(self)

    def failure(self) -> None:
        if not self.done:
            self.done = True
            self._breaker._failure(self)

    def release(self) -> None:
        """No verdict: the app went away, shutdown ended the stream, or the upstream said
        429 ("slow down", not "broken")."""
        if not self.done:
            self.done = True
            self._breaker._release(self)


class CircuitBreaker:
    """The state machine of one route. Not thread-safe: it lives on the event loop.

    The dispatcher calls `admit()` before an attempt and gives the `Ticket` it returns
    exactly one verdict; for a stream, the relay gives it when the stream ends."""

    __slots__ = (
        "_epoch",
        "_on_change",
        "_opened_at",
        "_probing",
        "clock",
        "cooldown",
        "failures",
        "route",
        "state",
        "threshold",
    )

    def __init__(
        self,
        route: str,
        config: CircuitBreakerConfig,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, State], None] | None = None,
    ) -> None:
        self.route = route
        self.threshold = config.failures
        self.cooldown = config.cooldown_s
        self.state = State.CLOSED
        self.failures = 0
        self.clock = clock
        """Monotonic seconds; replaceable, so tests need not sleep through a cool-down."""
        self._on_change = on_change
        self._opened_at = 0.0
        self._probing = False
        self._epoch = 0
        """How many times the circuit has opened: tickets from before the last opening
        carry an older number, and their verdicts no longer count."""

    def admit(self) -> Ticket | None:
        """May an attempt go to this route now? In half-open, only the first caller gets
        through (the probe); the others are turned away until it has a verdict."""
        if self.state is State.CLOSED:
            return Ticket(self, self._epoch, probe=False)
        if self.state is State.OPEN:
            if self.clock() - self._opened_at < self.cooldown:
                return None
            self._set(State.HALF_OPEN)
        if self._probing:
            return None
        self._probing = True
        return Ticket(self, self._epoch, probe=True)

    def _success(self, ticket: Ticket) -> None:
        if ticket.epoch != self._epoch:
            return  # admitted before the circuit opened: proves little now
        if ticket.probe:
            self._probing = False
            self._set(State.CLOSED)
        self.failures = 0

    def _failure(self, ticket: Ticket) -> None:
        if ticket.epoch != self._epoch:
            return
        if ticket.probe:
            self._probing = False
            self._open()
        elif self.state is State.CLOSED:
            self.failures += 1
            if self.failures >= self.threshold:
                self._open()

    def _release(self, ticket: Ticket) -> None:
        if ticket.probe and ticket.epoch == self._epoch:
            self._probing = False  # let the next caller probe

    def retry_after(self) -> float:
        """Seconds until this route may be tried again (0 when it may be tried now)."""
        if self.state is State.CLOSED:
            return 0.0
        if self.state is State.OPEN:
            return max(0.0, self.cooldown - (self.clock() - self._opened_at))
        return self.cooldown if self._probing else 0.0

    def _open(self) -> None:
        self._opened_at = self.clock()
        self.failures = 0
        self._epoch += 1
        self._set(State.OPEN)

    def _set(self, state: State) -> None:
        if state is self.state:
            return
        self.state = state
        if self._on_change is not None:
            self._on_change(self.route, state)


class Breakers:
    """Every route's breaker, created on first use from its provider's settings. Route ids
    come from the config (the dispatcher only sees routes of the catalog), so the number of
    breakers and of gauge series is bounded by the config."""

    def __init__(self, metrics: Metrics, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.metrics = metrics
        self.clock = clock
        self._by_route: dict[str, CircuitBreaker] = {}

    def route(self, route_id: str, config: CircuitBreakerConfig) -> CircuitBreaker:
        breaker = self._by_route.get(route_id)
        if breaker is None:
            breaker = CircuitBreaker(route_id, config, clock=self.clock, on_change=self._changed)
            self._by_route[route_id] = breaker
            self.metrics.circuit_state.labels(route=route_id).set(State.CLOSED)
        return breaker

    def get(self, route_id: str) -> CircuitBreaker | None:
        return self._by_route.get(route_id)

    def retain(self, routes: Mapping[str, CircuitBreakerConfig]) -> None:
        """Make the breakers those of `routes` (the config's, after a reload). A route still
        configured keeps its breaker and state, so a reload neither sends traffic to a route
        that is failing nor forgets its pause, and takes the new thresholds; a route that is
        gone loses its breaker and its gauge series."""
        for route_id in [r for r in self._by_route if r not in routes]:
            del self._by_route[route_id]
            self.metrics.circuit_state.remove(route_id)
        for route_id, config in routes.items():
            breaker = self.route(route_id, config)
            breaker.threshold, breaker.cooldown = config.failures, config.cooldown_s

    def states(self) -> dict[str, str]:
        """For /readyz: which routes are not closed."""
        return {
            r: b.state.name.lower()
            for r, b in self._by_route.items()
            if b.state is not State.CLOSED
        }

    def _changed(self, route: str, state: State) -> None:
        self.metrics.circuit_state.labels(route=route).set(state)
        self.metrics.circuit_transitions.labels(route=route, state=state.name.lower()).inc()


def retry_after_header(seconds: float) -> str:
    """Retry-After wants whole seconds; never 0, or a client would retry in a tight loop."""
    return str(max(1, math.ceil(seconds)))
