"""Failover moves down the decision's routes only, and only before the first byte."""

from __future__ import annotations

import asyncio

import openai
import pytest

from sidecar.emulators.openai import Fault
from tests.conftest import Harness
from tests.test_routing import EMAIL, user


async def test_aggregator_503_fails_over_to_next_allowed_route(harness: Harness) -> None:
    harness.upstreams["openrouter"].faults.append(Fault(kind="status", status=503))
    raw = await harness.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public question")
    )
    assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"
    [record] = harness.audit_records()
    assert [(a["provider"], a["outcome"]) for a in record["attempts"]] == [
        ("openrouter", "server_error"),
        ("openai", "ok"),
    ]
    assert harness.metric("llm_router_failovers_total") == 1
    assert (
        harness.metric(
            "llm_router_upstream_attempts_total", provider="openrouter", outcome="server_error"
        )
        == 1
    )


@pytest.mark.parametrize(
    "fault",
    [Fault(kind="status", status=429), Fault(kind="reset"), Fault(kind="delay", seconds=3)],
    ids=["429", "reset", "timeout"],
)
async def test_each_transient_failure_fails_over(harness: Harness, fault: Fault) -> None:
    harness.upstreams["openrouter"].faults.append(fault)
    raw = await harness.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public question")
    )
    assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"


async def test_regulated_data_never_fails_over_to_the_aggregator(harness: Harness) -> None:
    for name in ("openai", "google"):
        harness.upstreams[name].fail_always = Fault(kind="status", status=500)
    with pytest.raises(openai.APIStatusError) as caught:
        await harness.client.chat.completions.create(
            model="gpt-4o", messages=user(f"Write to {EMAIL}")
        )
    assert caught.value.status_code == 502
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "upstream_failed"
    assert "openai:gpt-4o" in body["message"]
    assert harness.received_by("openrouter") == 0
    [record] = harness.audit_records()
    assert {a["provider"] for a in record["attempts"]} == {"openai", "google"}


async def test_all_routes_timing_out_is_504(harness: Harness) -> None:
    for emu in harness.upstreams.values():
        emu.fail_always = Fault(kind="delay", seconds=3)
    with pytest.raises(openai.APIStatusError) as caught:
        await harness.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert caught.value.status_code == 504


async def test_upstream_4xx_is_relayed_without_failover(harness: Harness) -> None:
    harness.upstreams["openrouter"].faults.append(Fault(kind="status", status=400))
    with pytest.raises(openai.BadRequestError):
        await harness.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert harness.received_by("openai") == 0


async def test_stream_failover_before_first_byte(harness: Harness) -> None:
    harness.upstreams["openrouter"].faults.append(Fault(kind="status", status=502))
    stream = await harness.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "openai" in text


async def test_stream_cut_midway_surfaces_as_an_error(harness: Harness) -> None:
    harness.upstreams["openrouter"].faults.append(Fault(kind="cut_stream"))
    stream = await harness.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass
    [record] = harness.audit_records()
    assert record["outcome"]["error_code"] == "upstream_stream_cut"
    assert harness.received_by("openai") == 0  # no failover after the first byte


async def test_missing_key_makes_provider_unavailable(make_harness: object) -> None:
    from tests.conftest import key_environ

    env = {k: v for k, v in key_environ().items() if "OPENROUTER" not in k}
    h: Harness = await make_harness(environ=env)  # type: ignore[operator]
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public")
    )
    assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"
    assert h.received_by("openrouter") == 0


async def test_client_disconnect_cancels_upstream_and_is_audited(harness: Harness) -> None:
    harness.upstreams["openrouter"].faults.append(Fault(kind="delay", seconds=1.5))
    task = asyncio.create_task(
        harness.client.chat.completions.create(model="gpt-4o", messages=user("slow"))
    )
    for _ in range(100):
        if harness.received_by("openrouter"):
            break
        await asyncio.sleep(0.02)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    for _ in range(100):
        if harness.audit_records():
            break
        await asyncio.sleep(0.02)
    [record] = harness.audit_records()
    assert record["outcome"]["error_code"] == "client_disconnected"
    assert record["outcome"]["status"] == 499
    assert harness.received_by("openai") == 0
