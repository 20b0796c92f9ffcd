"""Limits: body size, nesting depth and number of messages in both API formats; requests
in flight (429 with Retry-After at once, never a queue); slow clients (header and body
read timeouts). Nothing over a limit is ever forwarded."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import openai
import orjson
import pytest

from sidecar.emulators.openai import Fault
from sidecar.limits import InFlight
from tests.conftest import KEYS, Emulator, Harness, HarnessFactory
from tests.reliability.support import anthropic_error, openai_error
from tests.test_routing import user

OPENAI = "/v1/chat/completions"
ANTHROPIC = "/v1/messages"


def chat(messages: list[dict[str, Any]], api_path: str) -> dict[str, Any]:
    if api_path == ANTHROPIC:
        return {"model": "claude-sonnet-5", "max_tokens": 16, "messages": messages}
    return {"model": "gpt-4o", "messages": messages}


async def post(
    h: Harness, path: str, data: Any, headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any], Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            h.running.app_url + path,
            data=data,
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as resp,
    ):
        return resp.status, dict(resp.headers), orjson.loads(await resp.read())


def error_of(path: str, body: Any) -> dict[str, Any]:
    return openai_error(body) if path == OPENAI else anthropic_error(body)


def nothing_forwarded(h: Harness) -> bool:
    return sum(h.received_by(name) for name in KEYS) == 0


@pytest.mark.parametrize("path", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
async def test_too_many_messages_is_400(make_harness: HarnessFactory, path: str) -> None:
    h: Harness = await make_harness(limits={"max_messages": 4})
    ok = chat(user("one") * 3 + user("two"), path)
    status, _, _ = await post(h, path, orjson.dumps(ok))
    assert status == 200
    status, _, body = await post(h, path, orjson.dumps(chat(user("x") * 5, path)))
    assert status == 400
    error = error_of(path, body)
    assert error["code"] == "too_many_messages" and "limit is 4" in error["message"]
    assert len(h.audit_records()) == 2
    assert h.audit_records()[1]["outcome"]["error_code"] == "too_many_messages"
    assert sum(h.received_by(n) for n in KEYS) == 1


@pytest.mark.parametrize("path", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
async def test_too_deep_is_400_in_the_app_format(make_harness: HarnessFactory, path: str) -> None:
    h: Harness = await make_harness(limits={"max_depth": 8})
    nested: Any = "x"
    for _ in range(10):
        nested = {"a": nested}
    body = {**chat(user("hi"), path), "metadata": nested}
    status, _, reply = await post(h, path, orjson.dumps(body))
    assert status == 400 and error_of(path, reply)["code"] == "too_deep"
    assert nothing_forwarded(h)


async def _chunked(body: bytes) -> AsyncIterator[bytes]:
    for i in range(0, len(body), 4096):
        yield body[i : i + 4096]


@pytest.mark.parametrize("path", [OPENAI, ANTHROPIC], ids=["openai", "anthropic"])
async def test_a_large_chunked_body_without_length_is_413(
    make_harness: HarnessFactory, path: str
) -> None:
    h: Harness = await make_harness(limits={"max_body_bytes": 16 * 1024})
    big = orjson.dumps(chat(user("padding " * 8192), path))
    status, _, reply = await post(h, path, _chunked(big))  # no Content-Length: chunked
    assert status == 413 and error_of(path, reply)["code"] == "request_too_large"
    assert nothing_forwarded(h)
    [record] = h.audit_records()
    assert record["outcome"]["status"] == 413


async def test_beyond_max_in_flight_is_429_at_once_and_counted(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h: Harness = await make_harness(limits={"max_in_flight": 2})
    upstreams["openrouter"].faults.append(Fault("delay", seconds=2.0, times=2))
    held = [
        asyncio.create_task(h.client.chat.completions.create(model="gpt-4o", messages=user("a")))
        for _ in range(2)
    ]
    for _ in range(3000):  # until both slots are taken, the upstream answering slowly
        if h.received_by("openrouter") == 2:
            break
        await asyncio.sleep(0.01)
    with pytest.raises(openai.RateLimitError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user("b"))
    assert not any(t.done() for t in held)  # refused at once, not queued behind them
    assert caught.value.response.headers["retry-after"] == "1"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "too_many_requests"
    await asyncio.gather(*held)
    await h.client.chat.completions.create(model="gpt-4o", messages=user("c"))  # room again
    assert h.metric("llm_router_rejected_requests_total", reason="too_many_requests") == 1
    records = h.audit_records()
    assert len(records) == 4
    rejected = [r for r in records if r["outcome"]["status"] == 429]
    assert len(rejected) == 1 and rejected[0]["attempts"] == []
    assert h.metric(
        "llm_router_requests_total",
        api="openai.chat_completions",
        route_kind="none",
        provider="none",
        decision="rejected",
        level="unknown",
        model="other",
    )
    assert h.sidecar.admission.count == 0


def test_in_flight_counter_never_blocks() -> None:
    slots = InFlight(2)
    assert slots.try_acquire() and slots.try_acquire()
    assert not slots.try_acquire()
    assert slots.rejection().status == 429
    slots.release()
    assert slots.try_acquire()
    slots.close()
    slots.release()
    assert not slots.try_acquire()
    assert slots.rejection().code == "shutting_down"


async def test_wait_idle_is_woken_by_the_last_release() -> None:
    slots = InFlight(4)
    slots.try_acquire()
    slots.try_acquire()
    waiter = asyncio.create_task(slots.wait_idle(30))
    await asyncio.sleep(0)
    slots.release()
    await asyncio.sleep(0)
    assert not waiter.done()
    slots.release()
    assert await waiter is True
    slots.try_acquire()
    assert await slots.wait_idle(0.01) is False


async def _raw_connection(h: Harness) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    parts = urlsplit(h.running.app_url)
    return await asyncio.open_connection(parts.hostname, parts.port)


async def test_a_client_trickling_its_body_gets_408(make_harness: HarnessFactory) -> None:
    h: Harness = await make_harness(limits={"body_timeout_s": 0.3})
    reader, writer = await _raw_connection(h)
    writer.write(
        b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
        b'{"model": "gpt-4o", '
    )
    await writer.drain()
    response = await asyncio.wait_for(reader.read(65536), timeout=30)  # we never send more
    writer.close()
    head, _, body = response.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 408")
    assert openai_error(orjson.loads(body))["code"] == "request_timeout"
    assert nothing_forwarded(h)
    [record] = h.audit_records()
    assert record["outcome"]["error_code"] == "request_timeout"


async def test_a_client_trickling_its_headers_is_disconnected(
    make_harness: HarnessFactory,
) -> None:
    h: Harness = await make_harness(limits={"header_timeout_s": 0.3})
    reader, writer = await _raw_connection(h)
    writer.write(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n")  # never finished
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=30) == b""  # closed by the sidecar
    writer.close()
    assert h.audit_records() == []  # no request was ever complete
    # Clients that send whole requests are unaffected.
    completion = await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert completion.choices[0].message.content


async def test_clients_trickling_their_bodies_hold_no_in_flight_slot(
    make_harness: HarnessFactory,
) -> None:
    h: Harness = await make_harness(limits={"max_in_flight": 2, "body_timeout_s": 30})
    slow = [await _raw_connection(h) for _ in range(4)]  # twice the in-flight limit
    for _, writer in slow:
        writer.write(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
            b'{"model": "gpt-4o", '
        )
        await writer.drain()
    for _ in range(500):  # until the sidecar is reading all four bodies
        if h.metric("llm_router_http_connections", listener="app") >= 4:
            break
        await asyncio.sleep(0.01)
    # A fast client is served while the slow ones are still sending.
    completion = await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert completion.choices[0].message.content
    assert h.metric("llm_router_rejected_requests_total", reason="too_many_requests") == 0
    assert h.sidecar.admission.count == 0
    for _, writer in slow:
        writer.close()
