"""The relay's stall watchdog, against a real loopback upstream: one timer per stream bounds
the gap between chunks while a read is in progress, time the app spends consuming does not
count as upstream idleness, and a cancellation from outside stays a cancellation."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import aiohttp
import pytest

from sidecar.emulators import Fault, OpenAIEmulator
from sidecar.errors import RouterError
from sidecar.providers.openai_openai import OpenAIToOpenAI
from sidecar.relay import UpstreamStream


@pytest.fixture
async def upstream() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator("openai", "sk-up", chunks=6) as emulator:
        yield emulator


async def open_stream(
    emu: OpenAIEmulator, session: aiohttp.ClientSession, *, idle_s: float, total_s: float = 30
) -> UpstreamStream:
    response = await session.post(
        emu.base_url + "/chat/completions",
        json={
            "model": "gpt-4o",
            "stream": True,
            "messages": [{"role": "user", "content": "hello"}],
        },
        headers={"Authorization": "Bearer sk-up"},
    )
    assert response.status == 200
    loop = asyncio.get_running_loop()
    stream = UpstreamStream(
        "openai:gpt-4o",
        response,
        OpenAIToOpenAI("chat_completions"),
        idle_s=idle_s,
        deadline=loop.time() + total_s,
        on_failure=lambda _code: None,
        on_close=lambda _stream: None,
    )
    await stream.first()
    return stream


async def drain(stream: UpstreamStream, pause: float = 0.0) -> bytes:
    out = b""
    while True:
        await asyncio.sleep(pause)  # the app busy with what it got before
        chunk = await stream.next()
        if not chunk:
            return out
        out += chunk


async def test_a_stall_longer_than_idle_ends_the_stream(upstream: OpenAIEmulator) -> None:
    upstream.faults.append(Fault("stall_stream", seconds=2.0, after=2))
    async with aiohttp.ClientSession() as session:
        stream = await open_stream(upstream, session, idle_s=0.2)
        started = asyncio.get_running_loop().time()
        with pytest.raises(RouterError) as caught:
            await drain(stream)
        stream.close()
    assert caught.value.code == "upstream_stream_timeout"
    assert "idle" in caught.value.message
    assert asyncio.get_running_loop().time() - started < 1.5  # the watchdog, not the stall


async def test_a_slow_app_does_not_count_as_upstream_idleness(upstream: OpenAIEmulator) -> None:
    """Chunks 0.3 s apart, the app takes 0.25 s over each, idle_s is 0.2: every read waits
    ~0.05 s, so no deadline passes, although 0.3 s lie between two chunks."""
    upstream.faults.append(Fault("slow_stream", seconds=0.3))
    async with aiohttp.ClientSession() as session:
        stream = await open_stream(upstream, session, idle_s=0.2)
        body = await drain(stream, pause=0.25)
        stream.close()
    assert body.rstrip().endswith(b"data: [DONE]")


async def test_the_total_deadline_holds_while_chunks_keep_coming(
    upstream: OpenAIEmulator,
) -> None:
    upstream.faults.append(Fault("slow_stream", seconds=0.1))
    async with aiohttp.ClientSession() as session:
        stream = await open_stream(upstream, session, idle_s=5, total_s=0.35)
        with pytest.raises(RouterError) as caught:
            await drain(stream)
        stream.close()
    assert caught.value.code == "upstream_stream_timeout"
    assert "total" in caught.value.message


async def test_a_cancellation_from_outside_is_not_a_timeout(upstream: OpenAIEmulator) -> None:
    upstream.faults.append(Fault("stall_stream", seconds=2.0, after=2))
    async with aiohttp.ClientSession() as session:
        stream = await open_stream(upstream, session, idle_s=0.5)
        reader = asyncio.ensure_future(drain(stream))
        await asyncio.sleep(0.1)  # the reader now waits on the stalled upstream
        reader.cancel()  # the app went away
        with pytest.raises(asyncio.CancelledError):
            await reader
        await asyncio.sleep(0.6)  # past idle_s: a watchdog left armed must not misfire
        stream.close()
    assert reader.cancelled()
