"""Circuit breakers and streams, end to end through a real sidecar: a stream's verdict is
known only when it ends, so streams that break after their first event open the circuit,
a streamed probe holds the half-open circuit until it has ended, and an app that goes away
mid-stream gives no verdict at all."""

from __future__ import annotations

import asyncio

import aiohttp
import openai
import pytest

from sidecar.emulators.chaos import Chaos
from sidecar.emulators.openai import Fault
from tests.conftest import Emulator, Harness, HarnessFactory
from tests.reliability.test_breaker import (
    AGGREGATOR,
    DIRECT,
    attempts,
    breaker_harness,
    fake_clock,
)
from tests.test_routing import user

CUT_EVERY_STREAM = Chaos(seed=16, rate=1.0, mix=(("cut_stream", 1.0),))
"""Every stream is cut, after one to four events (never before the first)."""
SLOW = Fault("slow_stream", seconds=0.05)
"""A healthy stream that lasts ~0.3 s: long enough to act while it is under way."""


async def cut_stream(h: Harness) -> None:
    """A stream that reached the app and then broke: the SDK got chunks, then an error."""
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("public"), stream=True
    )
    got = []
    with pytest.raises(openai.APIError):
        async for chunk in stream:
            got.append(chunk)
    assert got, "the stream broke before its first event: that is failover, not this test"


async def settled(h: Harness, records: int) -> None:
    """Until `records` requests have finished (their audit record is written last)."""
    for _ in range(200):
        if len(h.audit_records()) >= records:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"only {len(h.audit_records())} of {records} requests finished")


def state(h: Harness) -> float:
    return h.metric("llm_router_circuit_state", route=AGGREGATOR)


async def test_streams_cut_after_their_first_event_open_the_circuit(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=3)
    upstreams["openrouter"].chaos = CUT_EVERY_STREAM
    for _ in range(3):
        await cut_stream(h)
    assert state(h) == 2  # open
    async with (
        aiohttp.ClientSession() as session,
        session.get(h.running.admin_url + "/readyz") as resp,
    ):
        ready = await resp.json()
    assert ready["circuits"] == {AGGREGATOR: "open"}
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public")
    )
    assert raw.headers["x-llm-router-route"] == DIRECT
    assert attempts(h)[3] == [(AGGREGATOR, "circuit_open"), (DIRECT, "ok")]
    assert h.received_by("openrouter") == 3
    labels = {"provider": "openrouter", "code": "upstream_stream_cut"}
    assert h.metric("llm_router_stream_failures_total", **labels) == 3


async def test_a_streamed_probe_holds_the_half_open_circuit_until_it_ends(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=1, cooldown=30)
    clock = fake_clock(h, AGGREGATOR)
    upstreams["openrouter"].faults.append(Fault("cut_stream", after=1))
    await cut_stream(h)
    assert state(h) == 2
    clock.now += 30
    upstreams["openrouter"].faults.append(SLOW)
    probe = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("public"), stream=True
    )
    await probe.__anext__()  # the probe's stream is under way
    assert state(h) == 1  # half-open: its verdict is not known yet
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public")
    )
    assert raw.headers["x-llm-router-route"] == DIRECT  # turned away while the probe streams
    async for _ in probe:
        pass
    await settled(h, 3)
    assert state(h) == 0  # the probe completed: closed
    assert [(AGGREGATOR, "circuit_open"), (DIRECT, "ok")] in attempts(h)
    assert h.received_by("openrouter") == 2


async def test_a_streamed_probe_that_breaks_opens_the_circuit_again(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    """With failures=2 a single broken stream in a closed circuit would not open it: only
    the probe's own verdict, given when its stream broke, does."""
    h = await breaker_harness(make_harness, upstreams, failures=2, cooldown=30)
    clock = fake_clock(h, AGGREGATOR)
    upstreams["openrouter"].faults.append(Fault("cut_stream", after=1, times=3))
    await cut_stream(h)
    await cut_stream(h)
    assert state(h) == 2
    clock.now += 30
    await cut_stream(h)  # the probe
    assert state(h) == 2
    await h.client.chat.completions.create(model="gpt-4o", messages=user("public"))
    assert attempts(h)[-1] == [(AGGREGATOR, "circuit_open"), (DIRECT, "ok")]


async def test_an_app_that_goes_away_mid_stream_gives_no_verdict(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await breaker_harness(make_harness, upstreams, failures=2)
    cut = Fault("cut_stream", after=1)
    upstreams["openrouter"].faults.extend([cut, SLOW, cut])
    await cut_stream(h)  # one failure
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("public"), stream=True
    )
    await stream.__anext__()
    await stream.close()  # the app goes away
    await settled(h, 2)
    assert h.audit_records()[1]["outcome"]["status"] == 499
    assert state(h) == 0  # going away is not the route's failure...
    await cut_stream(h)
    assert state(h) == 2  # ...nor its success: this is the second failure in a row
