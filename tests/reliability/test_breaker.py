"""Circuit breakers: the state machine on a fake clock, then end to end through a real
sidecar: a failing route opens, is skipped by failover (only among allowed routes),
half-opens after its cool-down, and a successful probe closes it."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest

from sidecar.breaker import Breakers, CircuitBreaker, State, Ticket
from sidecar.config import CircuitBreakerConfig
from sidecar.emulators.openai import Fault
from sidecar.metrics import Metrics
from tests.conftest import APP_KEY, Emulator, Harness, HarnessFactory
from tests.reliability.support import providers_with
from tests.test_routing import EMAIL, user


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def breaker(failures: int = 3, cooldown: float = 10.0) -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    config = CircuitBreakerConfig(failures=failures, cooldown_s=cooldown)
    return CircuitBreaker("p:m", config, clock=clock), clock


def test_opens_after_consecutive_failures_only() -> None:
    b, _ = breaker(failures=3)
    for _ in range(2):
        admitted(b).failure()
    admitted(b).success()  # a success in between resets the count
    for _ in range(2):
        admitted(b).failure()
    assert b.state is State.CLOSED
    admitted(b).failure()
    assert b.state is State.OPEN
    assert b.admit() is None


def admitted(b: CircuitBreaker) -> Ticket:
    ticket = b.admit()
    assert ticket is not None
    return ticket


def test_half_opens_after_the_cooldown_and_lets_exactly_one_probe_through() -> None:
    b, clock = breaker(failures=1, cooldown=10)
    admitted(b).failure()
    clock.now += 9.9
    assert b.admit() is None and b.retry_after() == pytest.approx(0.1)
    clock.now += 0.1
    probe = admitted(b)
    assert probe.probe and b.state is State.HALF_OPEN
    assert b.admit() is None and b.admit() is None  # everyone else waits for its verdict
    probe.success()
    assert b.state is State.CLOSED and b.admit() and b.admit()


def test_a_failed_probe_opens_for_another_cooldown() -> None:
    b, clock = breaker(failures=1, cooldown=10)
    admitted(b).failure()
    clock.now += 10
    admitted(b).failure()
    assert b.state is State.OPEN and b.retry_after() == 10
    clock.now += 10
    assert b.admit()


def test_a_probe_without_verdict_lets_the_next_caller_probe() -> None:
    b, clock = breaker(failures=1, cooldown=1)
    admitted(b).failure()
    clock.now += 1
    probe = admitted(b)
    assert b.admit() is None
    probe.release()  # e.g. the app went away, or the upstream answered 429
    assert admitted(b).probe


def test_a_late_success_does_not_close_an_open_circuit() -> None:
    b, _ = breaker(failures=1)
    first, second = admitted(b), admitted(b)  # two requests in flight
    first.failure()
    second.success()  # the other one, admitted before the circuit opened
    assert b.state is State.OPEN


def test_a_ticket_counts_once() -> None:
    """A stream that failed is closed afterwards: its release must not undo the failure,
    nor a second verdict count twice."""
    b, _ = breaker(failures=2)
    ticket = admitted(b)
    ticket.failure()
    ticket.failure()
    ticket.release()
    ticket.success()
    assert b.failures == 1 and b.state is State.CLOSED


def test_verdicts_from_before_the_circuit_opened_leave_the_probe_alone() -> None:
    """A long stream admitted while the circuit was closed ends while another request is
    probing: neither its failure nor its success is the probe's verdict."""
    b, clock = breaker(failures=1, cooldown=10)
    long_failing, long_fine = admitted(b), admitted(b)
    admitted(b).failure()
    clock.now += 10
    probe = admitted(b)
    long_failing.failure()
    long_fine.success()
    assert b.state is State.HALF_OPEN and b.admit() is None  # still the probe's to decide
    probe.success()
    assert b.state is State.CLOSED


def test_state_changes_are_exported() -> None:
    metrics = Metrics()
    clock = Clock()
    breakers = Breakers(metrics, clock=clock)
    b = breakers.route("openai:gpt-4o", CircuitBreakerConfig(failures=1, cooldown_s=5))
    sample = metrics.registry.get_sample_value
    assert sample("llm_router_circuit_state", {"route": "openai:gpt-4o"}) == 0
    admitted(b).failure()
    assert sample("llm_router_circuit_state", {"route": "openai:gpt-4o"}) == 2
    assert breakers.states() == {"openai:gpt-4o": "open"}
    clock.now += 5
    probe = admitted(b)
    assert sample("llm_router_circuit_state", {"route": "openai:gpt-4o"}) == 1
    probe.success()
    assert sample("llm_router_circuit_state", {"route": "openai:gpt-4o"}) == 0
    labels = {"route": "openai:gpt-4o", "state": "open"}
    assert sample("llm_router_circuit_transitions_total", labels) == 1


# ---- end to end -------------------------------------------------------------------------


async def breaker_harness(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    failures: int,
    cooldown: float = 30,
) -> Harness:
    breaker = {"failures": failures, "cooldown_s": cooldown}
    h: Harness = await make_harness(providers=providers_with(upstreams, circuit_breaker=breaker))
    return h


def fake_clock(h: Harness, route: str) -> Clock:
    """The route's breaker on a clock the test moves, instead of sleeping."""
    b = h.sidecar.breakers.get(route)
    assert b is not None
    clock = Clock()
    b.clock = clock
    return clock


def attempts(h: Harness) -> list[list[tuple[str, str]]]:
    return [[(a["route"], a["outcome"]) for a in r["attempts"]] for r in h.audit_records()]


AGGREGATOR = "openrouter:openai/gpt-4o"
DIRECT = "openai:gpt-4o"


async def test_open_circuit_is_skipped_then_probed_and_closed(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=3, cooldown=30)
    clock = fake_clock(h, AGGREGATOR)
    upstreams["openrouter"].fail_always = Fault("status", status=503)
    for _ in range(4):
        raw = await h.client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=user("public")
        )
        assert raw.headers["x-llm-router-route"] == DIRECT
    assert h.received_by("openrouter") == 3  # the fourth request did not try it
    assert attempts(h)[3] == [(AGGREGATOR, "circuit_open"), (DIRECT, "ok")]
    assert h.metric("llm_router_circuit_state", route=AGGREGATOR) == 2
    assert h.metric("llm_router_circuit_open_skips_total", route=AGGREGATOR) == 1

    upstreams["openrouter"].fail_always = None  # the aggregator recovers
    clock.now += 29.9
    await h.client.chat.completions.create(model="gpt-4o", messages=user("public"))
    assert h.received_by("openrouter") == 3  # still cooling down
    clock.now += 0.1
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public")
    )
    assert raw.headers["x-llm-router-route"] == AGGREGATOR  # the probe, and it succeeded
    assert h.metric("llm_router_circuit_state", route=AGGREGATOR) == 0


async def test_a_failed_probe_keeps_the_route_out(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=1, cooldown=30)
    clock = fake_clock(h, AGGREGATOR)
    upstreams["openrouter"].fail_always = Fault("reset")
    await h.client.chat.completions.create(model="gpt-4o", messages=user("public"))
    clock.now += 30
    await h.client.chat.completions.create(model="gpt-4o", messages=user("public"))
    await h.client.chat.completions.create(model="gpt-4o", messages=user("public"))
    assert [a[0] for a in attempts(h)] == [
        (AGGREGATOR, "connect_error"),
        (AGGREGATOR, "connect_error"),  # the probe
        (AGGREGATOR, "circuit_open"),  # open again for another cool-down
    ]
    assert h.received_by("openrouter") == 2


async def test_all_allowed_routes_open_is_503_and_never_widens_the_choice(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=1, cooldown=30)
    for name in ("openai", "google"):
        upstreams[name].fail_always = Fault("status", status=500)
    with pytest.raises(openai.InternalServerError):  # 502: both allowed routes failed
        await h.client.chat.completions.create(model="gpt-4o", messages=user(f"to {EMAIL}"))
    with pytest.raises(openai.APIStatusError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user(f"to {EMAIL}"))
    assert caught.value.status_code == 503
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "circuit_open"
    assert 1 <= int(caught.value.response.headers["retry-after"]) <= 30
    # The aggregator's circuit is closed and it works, but the policy did not allow it.
    assert h.received_by("openrouter") == 0
    assert h.metric("llm_router_circuit_state", route=AGGREGATOR) == 0
    record = h.audit_records()[1]
    assert record["outcome"]["error_code"] == "circuit_open"
    assert {a["outcome"] for a in record["attempts"]} == {"circuit_open"}


async def test_anthropic_clients_get_the_503_in_anthropic_format(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=1, cooldown=30)
    upstreams["anthropic"].fail_always = Fault("status", status=529)
    client = anthropic.AsyncAnthropic(base_url=h.running.app_url, api_key=APP_KEY, max_retries=0)
    kwargs: dict[str, Any] = {
        "model": "claude-sonnet-5",
        "max_tokens": 64,
        "messages": user(f"to {EMAIL}"),  # PII: Anthropic direct is the only allowed route
    }
    with pytest.raises(anthropic.APIStatusError):
        await client.messages.create(**kwargs)
    with pytest.raises(anthropic.APIStatusError) as caught:
        await client.messages.create(**kwargs)
    await client.close()
    assert caught.value.status_code == 503
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "overloaded_error" and body["error"]["code"] == "circuit_open"
    assert h.received_by("openrouter") == 0


async def test_a_stream_broken_after_its_first_byte_counts_against_the_route(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=1, cooldown=30)
    upstreams["openrouter"].faults.append(Fault("cut_stream"))
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public")
    )
    assert raw.headers["x-llm-router-route"] == DIRECT
    assert h.metric(
        "llm_router_stream_failures_total", provider="openrouter", code="upstream_stream_cut"
    )
    assert h.sidecar.dispatcher.streams == set()


async def test_rate_limits_do_not_open_the_circuit(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=2)
    upstreams["openrouter"].faults.append(Fault("status", status=429, times=4))
    for _ in range(4):
        await h.client.chat.completions.create(model="gpt-4o", messages=user("public"))
    assert h.received_by("openrouter") == 4
    assert h.metric("llm_router_circuit_state", route=AGGREGATOR) == 0
