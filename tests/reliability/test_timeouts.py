"""Upstream deadlines (connect, first byte, idle gap, total) and malformed upstream answers.

Before the first byte has reached the app a failure fails over to the next allowed route;
after it, the app gets one well-formed error event in its own API's format, and never the
broken bytes themselves."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import anthropic
import openai
import orjson
import pytest
from aiohttp import web

from sidecar.emulators.openai import Fault
from tests.conftest import APP_KEY, Emulator, Harness, HarnessFactory
from tests.reliability.support import check_anthropic, check_openai, providers_with, sse_events
from tests.test_routing import EMAIL, user

AGGREGATOR = "openrouter:openai/gpt-4o"
DIRECT = "openai:gpt-4o"


async def timed_harness(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    *,
    base_urls: dict[str, str] | None = None,
    **timeouts: float,
) -> Harness:
    limits = {"connect_s": 3.0, "first_byte_s": 3.0, "idle_s": 3.0, "total_s": 20.0, **timeouts}
    providers = providers_with(upstreams, timeouts=limits)
    for name, url in (base_urls or {}).items():
        providers[name]["base_url"] = url
    h: Harness = await make_harness(providers=providers)
    return h


def routes_tried(h: Harness) -> list[tuple[str, str]]:
    [record] = h.audit_records()
    return [(a["route"], a["outcome"]) for a in record["attempts"]]


async def post_raw(h: Harness, body: dict[str, Any], path: str = "/v1/chat/completions") -> Any:
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.running.app_url + path, json=body) as resp,
    ):
        return resp.status, resp.headers, await resp.read()


# ---- deadlines ------------------------------------------------------------------------------


@pytest.fixture
def unreachable() -> Any:
    """A port that never completes a TCP handshake: a listener whose backlog is full."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(4):
        s = socket.socket()
        s.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            s.connect(("127.0.0.1", port))
        fillers.append(s)
    yield f"http://127.0.0.1:{port}/v1"
    for s in [*fillers, listener]:
        s.close()


async def test_connect_timeout_fails_over(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator], unreachable: str
) -> None:
    h = await timed_harness(
        make_harness,
        upstreams,
        base_urls={"openrouter": unreachable},
        connect_s=0.3,
        first_byte_s=8,
        total_s=10,
    )
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("public")
    )
    assert raw.headers["x-llm-router-route"] == DIRECT
    [record] = h.audit_records()
    first = record["attempts"][0]
    assert (first["route"], first["outcome"]) == (AGGREGATOR, "timeout")
    assert first["latency_ms"] < 6000  # the connect deadline fired, not the first-byte one


async def test_no_headers_within_first_byte_fails_over_a_stream(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await timed_harness(make_harness, upstreams, first_byte_s=1)
    upstreams["openrouter"].faults.append(Fault("delay", seconds=5))
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "served by openai" in text
    assert routes_tried(h) == [(AGGREGATOR, "timeout"), (DIRECT, "ok")]


async def test_headers_and_keepalive_comments_but_no_event_fails_over(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    # OpenRouter sends ": OPENROUTER PROCESSING" first; a comment is not a first byte, so
    # the request can still move on when no event follows.
    h = await timed_harness(make_harness, upstreams, first_byte_s=1)
    upstreams["openrouter"].faults.append(Fault("stall_stream", seconds=5, after=0))
    status, _, raw = await post_raw(
        h, {"model": "gpt-4o", "stream": True, "messages": user("story")}
    )
    outcome = check_openai(status, {}, raw, stream=True)
    assert outcome.complete and "served by openai" in outcome.text
    assert b"OPENROUTER PROCESSING" not in raw
    assert routes_tried(h) == [(AGGREGATOR, "timeout"), (DIRECT, "ok")]


async def test_a_stall_mid_stream_ends_with_an_idle_timeout_event(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await timed_harness(make_harness, upstreams, first_byte_s=3, idle_s=0.3)
    upstreams["openrouter"].faults.append(Fault("stall_stream", seconds=5, after=2))
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    with pytest.raises(openai.APIError) as caught:
        async for _ in stream:
            pass
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "upstream_stream_timeout"
    assert "idle" in caught.value.body["message"]
    [record] = h.audit_records()
    assert record["outcome"]["error_code"] == "upstream_stream_timeout"
    assert h.received_by("openai") == 0  # bytes had reached the app: no failover
    assert h.sidecar.dispatcher.streams == set()


async def test_total_deadline_bounds_a_trickling_stream(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    upstreams["openrouter"].chunks = 12  # about 15 events, each 0.2 s apart: 3 s at least
    upstreams["openrouter"].faults.append(Fault("slow_stream", seconds=0.2))
    h = await timed_harness(make_harness, upstreams, first_byte_s=1.5, idle_s=1, total_s=1.6)
    status, _, raw = await post_raw(
        h, {"model": "gpt-4o", "stream": True, "messages": user("story")}
    )
    outcome = check_openai(status, {}, raw, stream=True)
    assert outcome.error_code == "upstream_stream_timeout"
    assert b"total timeout" in raw


async def test_a_slow_upstream_within_its_deadlines_is_waited_for(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    upstreams["openrouter"].chunks = 8
    upstreams["openrouter"].faults.append(Fault("slow_stream", seconds=0.05))
    h = await timed_harness(make_harness, upstreams, first_byte_s=2, idle_s=1.5)
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert text == "[served by openrouter] model=openai/gpt-4o: ok"


async def test_anthropic_stream_stall_gives_an_anthropic_error_event(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await timed_harness(make_harness, upstreams, first_byte_s=2, idle_s=0.3)
    upstreams["anthropic"].faults.append(Fault("stall_stream", seconds=3, after=3))
    client = anthropic.AsyncAnthropic(base_url=h.running.app_url, api_key=APP_KEY, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        async with client.messages.stream(
            model="claude-sonnet-5", max_tokens=64, messages=user(f"Write to {EMAIL}")
        ) as stream:
            async for _ in stream:
                pass
    await client.close()
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["code"] == "upstream_stream_timeout"
    assert h.received_by("openrouter") == 0


# ---- malformed answers ----------------------------------------------------------------------


async def test_malformed_json_body_fails_over(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await timed_harness(make_harness, upstreams)
    upstreams["openrouter"].faults.append(Fault("malformed"))
    completion = await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert "served by openai" in (completion.choices[0].message.content or "")
    assert routes_tried(h) == [(AGGREGATOR, "malformed"), (DIRECT, "ok")]


async def test_malformed_first_event_fails_over(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await timed_harness(make_harness, upstreams)
    upstreams["openrouter"].faults.append(Fault("malformed", after=0))
    status, _, raw = await post_raw(
        h, {"model": "gpt-4o", "stream": True, "messages": user("story")}
    )
    assert check_openai(status, {}, raw, stream=True).complete
    assert routes_tried(h) == [(AGGREGATOR, "malformed"), (DIRECT, "ok")]


async def test_a_malformed_event_mid_stream_is_never_relayed(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    h = await timed_harness(make_harness, upstreams)
    upstreams["openrouter"].faults.append(Fault("malformed", after=2, seconds=0.5))
    status, _, raw = await post_raw(
        h, {"model": "gpt-4o", "stream": True, "messages": user("story")}
    )
    outcome = check_openai(status, {}, raw, stream=True)  # strict: every event parses
    assert outcome.error_code == "upstream_malformed"
    assert b"broken" not in raw
    assert len(sse_events(raw)) == 3  # two good events, then the error


async def test_translated_stream_with_a_malformed_event_ends_in_the_app_format(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator]
) -> None:
    # OpenAI client, Anthropic upstream (PII: Anthropic direct is allowed): the translator
    # itself meets the broken event.
    h = await timed_harness(make_harness, upstreams)
    upstreams["anthropic"].faults.append(Fault("malformed", after=3, seconds=0.5))
    status, _, raw = await post_raw(
        h, {"model": "claude-sonnet-5", "stream": True, "messages": user(f"to {EMAIL}")}
    )
    outcome = check_openai(status, {}, raw, stream=True)
    assert outcome.error_code == "upstream_malformed"
    assert h.received_by("openrouter") == 0


class Scripted:
    """A loopback upstream that answers every request with the given raw parts, then
    (with `cut`) drops the connection instead of ending the response."""

    def __init__(self, status: int, content_type: str, parts: list[bytes], cut: bool) -> None:
        self.status, self.content_type, self.parts, self.cut = status, content_type, parts, cut
        self.received = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        self.received += 1
        response = web.StreamResponse(
            status=self.status, headers={"Content-Type": self.content_type}
        )
        await response.prepare(request)
        for part in self.parts:
            await response.write(part)
            await asyncio.sleep(0.05)
        if self.cut and request.transport is not None:
            request.transport.close()
            return response
        await response.write_eof()
        return response


@pytest.fixture
async def scripted() -> AsyncIterator[Any]:
    runners: list[web.AppRunner] = []

    async def start(
        parts: list[bytes],
        *,
        status: int = 200,
        content_type: str = "text/event-stream",
        cut: bool = False,
    ) -> tuple[str, Scripted]:
        upstream = Scripted(status, content_type, parts, cut)
        app = web.Application()
        app.router.add_post("/v1/chat/completions", upstream.handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        runners.append(runner)
        return f"http://127.0.0.1:{runner.addresses[0][1]}/v1", upstream

    yield start
    for runner in runners:
        await runner.cleanup()


def chunk_event(text: str) -> bytes:
    chunk = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "m",
        "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}],
    }
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


async def test_a_stream_cut_inside_an_event_relays_only_whole_events(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator], scripted: Any
) -> None:
    partial = chunk_event("and then")[:-20]  # cut after the text, before the event's end
    url, _ = await scripted([chunk_event("Once"), chunk_event(" upon"), partial], cut=True)
    h = await timed_harness(make_harness, upstreams, base_urls={"openrouter": url})
    status, _, raw = await post_raw(
        h, {"model": "gpt-4o", "stream": True, "messages": user("story")}
    )
    outcome = check_openai(status, {}, raw, stream=True)
    assert outcome.error_code == "upstream_stream_cut"
    assert b"and then" not in raw
    assert [e[1]["choices"][0]["delta"]["content"] for e in sse_events(raw)[:2]] == [
        "Once",
        " upon",
    ]
    # And the SDK raises its own error, not a JSON decoding one.
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("story"), stream=True
    )
    with pytest.raises(openai.APIError):
        async for _ in stream:
            pass


async def test_a_stream_that_ends_without_its_end_marker_is_reported_cut(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator], scripted: Any
) -> None:
    url, _ = await scripted([chunk_event("Once"), chunk_event(" upon")], cut=False)
    h = await timed_harness(make_harness, upstreams, base_urls={"openrouter": url})
    status, _, raw = await post_raw(
        h, {"model": "gpt-4o", "stream": True, "messages": user("story")}
    )
    assert check_openai(status, {}, raw, stream=True).error_code == "upstream_stream_cut"


async def test_an_upstream_error_that_is_not_json_becomes_a_well_formed_error(
    make_harness: HarnessFactory, upstreams: dict[str, Emulator], scripted: Any
) -> None:
    url, _ = await scripted([b"<html>Bad request</html>"], status=400, content_type="text/html")
    h = await timed_harness(make_harness, upstreams, base_urls={"openrouter": url})
    with pytest.raises(openai.BadRequestError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "upstream_client_error"
    status, headers, raw = await post_raw(
        h,
        {"model": "claude-via-aggregator", "max_tokens": 5, "messages": user("hi")},
        path="/v1/messages",
    )
    assert check_anthropic(status, headers, raw, stream=False).status == 400
