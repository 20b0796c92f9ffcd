"""Graceful shutdown of a real `llm-router serve` process with live streams in flight:
SIGTERM turns readiness false, refuses new connections, lets the streams finish (or ends
them with a well-formed error once the grace period is over), flushes the audit sink and
exits 0."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import anthropic
import openai
import orjson
import pytest

from sidecar.emulators.openai import Fault
from tests.conftest import APP_KEY, Emulator, Harness, config_dict, make_emulators
from tests.reliability.support import SidecarProcess, check_openai
from tests.test_routing import EMAIL, user

EVENT_PAUSE_S = 0.15
"""The emulators pause this long before every stream event: each stream lasts at least
(events x pause) after SIGTERM, which is sent once every stream has its first chunk."""


@pytest.fixture
async def slow_upstreams() -> Any:
    emulators = make_emulators()
    for emu in emulators.values():
        emu.chunks = 12
        await emu.start()
    yield emulators
    for emu in emulators.values():
        await emu.stop()


def slow_streams(emulators: dict[str, Emulator], pause: float) -> None:
    for emu in emulators.values():
        emu.fail_always = Fault("slow_stream", seconds=pause)


Stream = Callable[[asyncio.Event], Awaitable[dict[str, Any]]]


def stream_clients(sidecar: SidecarProcess) -> list[Stream]:
    """Four apps streaming at once: the openai SDK (twice), the anthropic SDK (regulated
    data, so direct to Anthropic), and a raw HTTP client that keeps the exact bytes."""

    async def openai_sdk(first: asyncio.Event) -> dict[str, Any]:
        async with openai.AsyncOpenAI(
            base_url=sidecar.listen + "/v1", api_key=APP_KEY, max_retries=0, timeout=60
        ) as client:
            stream = await client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Tell me a long story."}],
                stream=True,
            )
            text = ""
            try:
                async for chunk in stream:
                    first.set()
                    text += "".join(c.delta.content or "" for c in chunk.choices)
            except openai.APIError as err:
                return {"text": text, "error": err.body}
            return {"text": text, "error": None}

    async def anthropic_sdk(first: asyncio.Event) -> dict[str, Any]:
        async with anthropic.AsyncAnthropic(
            base_url=sidecar.listen, api_key=APP_KEY, max_retries=0, timeout=60
        ) as client:
            text = ""
            try:
                async with client.messages.stream(
                    model="claude-sonnet-5",
                    max_tokens=256,
                    messages=[{"role": "user", "content": f"Write to {EMAIL} at length."}],
                ) as stream:
                    async for event in stream:
                        first.set()
                        if event.type == "text":
                            text += event.text
            except anthropic.APIStatusError as err:
                return {"text": text, "error": err.body}
            return {"text": text, "error": None}

    async def raw_http(first: asyncio.Event) -> dict[str, Any]:
        body = {
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": "And another long story."}],
        }
        async with (
            aiohttp.ClientSession() as session,
            session.post(sidecar.listen + "/v1/chat/completions", json=body) as resp,
        ):
            raw = b""
            async for chunk in resp.content.iter_any():
                first.set()
                raw += chunk
            outcome = check_openai(resp.status, resp.headers, raw, stream=True)
            return {"text": outcome.text, "error": outcome.error_code, "raw": raw}

    return [openai_sdk, openai_sdk, anthropic_sdk, raw_http]


async def start_streams(sidecar: SidecarProcess) -> list[asyncio.Task[dict[str, Any]]]:
    clients = stream_clients(sidecar)
    firsts = [asyncio.Event() for _ in clients]
    tasks = [asyncio.create_task(c(f)) for c, f in zip(clients, firsts, strict=True)]
    await asyncio.wait_for(asyncio.gather(*(f.wait() for f in firsts)), timeout=30)
    return tasks


async def wait_draining(sidecar: SidecarProcess) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        for _ in range(400):
            status, body = await sidecar.readyz(session)
            if status == 503:
                return body
            await asyncio.sleep(0.025)
    raise AssertionError("readiness never turned false")


async def connection_refused(url: str) -> bool:
    parts = urlsplit(url)
    try:
        _, writer = await asyncio.open_connection(parts.hostname, parts.port)
    except ConnectionRefusedError:
        return True
    writer.close()
    return False


def config(emulators: dict[str, Emulator], grace_s: float) -> dict[str, Any]:
    cfg = config_dict({name: emu.base_url for name, emu in emulators.items()})
    for provider in cfg["providers"].values():
        provider["timeouts"] = {"connect_s": 2, "first_byte_s": 5, "idle_s": 5, "total_s": 60}
    cfg["shutdown_grace_s"] = grace_s
    cfg["policy"]["watch"] = False
    return cfg


async def test_sigterm_lets_live_streams_finish_then_exits_0(
    slow_upstreams: dict[str, Emulator], tmp_path: Path
) -> None:
    slow_streams(slow_upstreams, EVENT_PAUSE_S)
    sidecar = await SidecarProcess(config(slow_upstreams, grace_s=30), tmp_path).start()
    try:
        tasks = await start_streams(sidecar)
        sidecar.terminate()
        ready = await wait_draining(sidecar)
        assert ready["draining"] is True and ready["ready"] is False
        assert await connection_refused(sidecar.listen)
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        assert await sidecar.wait() == 0
    finally:
        await sidecar.stop()

    for result in results:
        assert result["error"] is None
        assert "served by" in result["text"] and result["text"].endswith(": ok")
    assert results[-1]["raw"].rstrip().endswith(b"data: [DONE]")
    records = sidecar.audit_records()
    assert len(records) == 4
    assert all(
        r["outcome"]["status"] == 200 and r["outcome"]["error_code"] is None for r in records
    )
    assert sorted(r["outcome"]["route"] for r in records) == [
        "anthropic:claude-sonnet-5",
        *["openrouter:openai/gpt-4o"] * 3,
    ]
    [drained] = [e for e in sidecar.log_events() if e.get("event") == "drained"]
    assert drained["in_flight_at_start"] == 4 and drained["completed"] is True
    assert sidecar.log_problems() == []


async def test_streams_outliving_the_grace_period_end_with_an_error_event(
    slow_upstreams: dict[str, Emulator], tmp_path: Path
) -> None:
    slow_streams(slow_upstreams, 0.5)  # 12+ events: several seconds, far beyond the grace
    sidecar = await SidecarProcess(config(slow_upstreams, grace_s=0.5), tmp_path).start()
    try:
        tasks = await start_streams(sidecar)
        sidecar.terminate()
        results = await asyncio.wait_for(asyncio.gather(*tasks), timeout=60)
        assert await sidecar.wait() == 0
    finally:
        await sidecar.stop()

    openai_errors = [r["error"] for r in results[:2]]
    assert all(e is not None and e["code"] == "shutting_down" for e in openai_errors)
    assert results[2]["error"]["error"]["code"] == "shutting_down"  # Anthropic's shape
    assert results[3]["error"] == "shutting_down"  # well-formed on the wire, last event
    last = results[3]["raw"].rstrip().rsplit(b"\n\n", 1)[-1]
    assert orjson.loads(last.removeprefix(b"data: "))["error"]["type"] == "api_error"
    records = sidecar.audit_records()
    assert len(records) == 4
    assert {r["outcome"]["error_code"] for r in records} == {"shutting_down"}
    [drained] = [e for e in sidecar.log_events() if e.get("event") == "drained"]
    assert drained["completed"] is False
    assert sidecar.log_problems() == []


async def test_a_request_still_waiting_on_its_upstream_after_the_grace_gets_503(
    harness: Harness, upstreams: dict[str, Emulator]
) -> None:
    upstreams["openrouter"].faults.append(Fault("delay", seconds=30))
    task = asyncio.create_task(
        harness.client.chat.completions.create(model="gpt-4o", messages=user("slow"))
    )
    for _ in range(3000):
        if harness.received_by("openrouter"):
            break
        await asyncio.sleep(0.01)
    report = await harness.running.stop(grace_s=0.2)
    with pytest.raises(openai.APIStatusError) as caught:
        await task
    assert report.drained is False and report.in_flight_at_start == 1
    assert caught.value.status_code == 503
    assert isinstance(caught.value.body, dict) and caught.value.body["code"] == "shutting_down"
    assert harness.received_by("openai") == 0  # no failover while shutting down
    [record] = harness.audit_records()
    assert record["outcome"]["error_code"] == "shutting_down"
