"""The emulator's Responses streams: the typed events in the documented order with their
sequence numbers, as the openai SDK and its stream helper read them, and the faults that
break them (an `error` event, `response.failed`, and the chat endpoint's stream faults)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import orjson
import pytest

from sidecar.emulators import Fault, OpenAIEmulator
from sidecar.emulators.openai_payloads import token_count
from tests.emulators.responses_support import (
    CALL_EVENTS,
    KEY,
    REPLY,
    TEXT_EVENTS,
    WEATHER,
    call,
    error_of,
    events,
)


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator("openai", KEY) as e:
        yield e


@pytest.fixture
async def client(emu: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with openai.AsyncOpenAI(
        base_url=emu.base_url,
        api_key=KEY,
        max_retries=0,
        timeout=5,
        _strict_response_validation=True,  # the SDK checks every body against its schema
    ) as c:
        yield c


# ---- streaming --------------------------------------------------------------------------


async def test_stream_events_in_documented_order(emu: OpenAIEmulator) -> None:
    status, headers, raw = await call(
        emu, "/responses", {"model": "gpt-4o", "input": "hi", "stream": True}
    )
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    stream = events(raw)
    assert [e["type"] for e in stream] == TEXT_EVENTS
    assert [e["sequence_number"] for e in stream] == list(range(len(stream)))
    created, in_progress, added, part_added, *deltas = stream[:7]
    assert created["response"]["status"] == "in_progress" and created["response"]["output"] == []
    assert created["response"]["usage"] is None and in_progress["response"] == created["response"]
    item_id = added["item"]["id"]
    assert added["item"]["status"] == "in_progress" and added["item"]["content"] == []
    assert part_added["part"] == {"type": "output_text", "text": "", "annotations": []}
    assert all(d["item_id"] == item_id and d["output_index"] == 0 for d in stream[3:9])
    assert all(d["content_index"] == 0 and d["logprobs"] == [] for d in deltas)
    assert "".join(d["delta"] for d in deltas) == REPLY == stream[7]["text"]
    assert stream[8]["part"]["text"] == REPLY and stream[9]["item"]["status"] == "completed"
    completed = stream[-1]["response"]
    assert completed["id"] == created["response"]["id"] and completed["status"] == "completed"
    assert completed["output"] == [stream[9]["item"]] and completed["usage"]["total_tokens"] > 0
    stored = emu.responses.stored[completed["id"]].response
    assert stored == completed


async def test_sdk_stream_and_stream_helper(client: openai.AsyncOpenAI) -> None:
    stream = await client.responses.create(model="gpt-4o", input="hi", stream=True)
    received = [event async for event in stream]
    assert [e.type for e in received] == TEXT_EVENTS
    numbers = [e.sequence_number for e in received]
    assert numbers == sorted(set(numbers)) and numbers[0] == 0
    deltas = [e.delta for e in received if e.type == "response.output_text.delta"]
    assert "".join(deltas) == REPLY

    async with client.responses.stream(model="gpt-4o", input="hi") as helper:
        texts = [e.snapshot async for e in helper if e.type == "response.output_text.delta"]
        final = await helper.get_final_response()
    assert texts[-1] == REPLY and final.output_text == REPLY
    assert final.usage is not None and final.usage.output_tokens == token_count(REPLY)
    assert (await client.responses.retrieve(final.id)).output_text == REPLY


async def test_streamed_function_call(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    body = {"model": "gpt-4o", "input": "weather?", "tools": [WEATHER], "stream": True}
    stream = events((await call(emu, "/responses", body))[2])
    assert [e["type"] for e in stream] == CALL_EVENTS
    added, done = stream[2]["item"], stream[-2]["item"]
    assert added["type"] == "function_call" and added["arguments"] == ""
    assert added["status"] == "in_progress" and added["call_id"] == done["call_id"]
    arguments = "".join(e["delta"] for e in stream[3:6])
    assert arguments == stream[6]["arguments"] == done["arguments"] == '{"city": "Paris"}'
    assert stream[6]["name"] == "get_weather" and stream[6]["item_id"] == added["id"]

    async with client.responses.stream(model="gpt-4o", input="weather?", tools=[WEATHER]) as s:
        final = await s.get_final_response()
    [item] = final.output
    assert item.type == "function_call" and item.arguments == '{"city": "Paris"}'
    result: Any = {"type": "function_call_output", "call_id": item.call_id, "output": "21C"}
    async with client.responses.stream(
        model="gpt-4o", input=[result], tools=[WEATHER], previous_response_id=final.id
    ) as s:
        assert (await s.get_final_response()).output_text == REPLY


async def test_reasoning_item_and_tokens(emu: OpenAIEmulator) -> None:
    body = {"model": "o4-mini", "input": "think", "reasoning": {"effort": "low"}}
    done = orjson.loads((await call(emu, "/responses", body))[2])
    assert [i["type"] for i in done["output"]] == ["reasoning", "message"]
    assert done["output"][0]["id"].startswith("rs_") and done["output"][0]["summary"] == []
    assert done["usage"]["output_tokens_details"]["reasoning_tokens"] == 10
    assert done["reasoning"] == {"effort": "low", "summary": None}
    stream = events((await call(emu, "/responses", {**body, "stream": True}))[2])
    kinds = [(e["type"], e.get("output_index")) for e in stream]
    assert kinds[2:4] == [("response.output_item.added", 0), ("response.output_item.done", 0)]
    assert kinds[4] == ("response.output_item.added", 1)


async def test_max_output_tokens_makes_an_incomplete_response(emu: OpenAIEmulator) -> None:
    body = {"model": "gpt-4o", "input": "hi", "max_output_tokens": 2}
    done = orjson.loads((await call(emu, "/responses", body))[2])
    assert done["status"] == "incomplete"
    assert done["incomplete_details"] == {"reason": "max_output_tokens"}
    assert done["output"][0]["status"] == "incomplete"
    assert done["output"][0]["content"][0]["text"] == REPLY[:8]
    stream = events((await call(emu, "/responses", {**body, "stream": True}))[2])
    assert stream[-1]["type"] == "response.incomplete"


# ---- faults -----------------------------------------------------------------------------


async def test_stream_can_end_in_an_error_event(emu: OpenAIEmulator) -> None:
    body = {"model": "gpt-4o", "input": "hi", "stream": True}
    emu.faults.append(Fault("stream_error"))
    stream = events((await call(emu, "/responses", body))[2])
    assert [e["type"] for e in stream] == [*TEXT_EVENTS[:-1], "error"]
    assert stream[-1] == {
        "type": "error",
        "code": "server_error",
        "message": "The server had an error while processing your request.",
        "param": None,
        "sequence_number": len(TEXT_EVENTS) - 1,
    }
    emu.faults.append(Fault("stream_error", after=2))
    assert [e["type"] for e in events((await call(emu, "/responses", body))[2])] == [
        "response.created",
        "response.in_progress",
        "error",
    ]
    emu.faults.append(Fault("stream_error"))
    status, _, raw = await call(emu, "/responses", {**body, "stream": False})
    assert status == 500 and error_of(raw)["type"] == "server_error"


async def test_stream_can_end_in_response_failed(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.faults.append(Fault("stream_failed", after=4))
    stream = await client.responses.create(model="gpt-4o", input="hi", stream=True)
    received = [e async for e in stream]
    assert [e.type for e in received] == [*TEXT_EVENTS[:4], "response.failed"]
    assert [e.sequence_number for e in received] == [0, 1, 2, 3, 4]
    failed = received[-1]
    assert failed.type == "response.failed" and failed.response.status == "failed"
    assert failed.response.error is not None and failed.response.error.code == "server_error"
    assert (await client.responses.retrieve(failed.response.id)).status == "failed"

    emu.faults.append(Fault("stream_failed"))
    with pytest.raises(RuntimeError, match=r"response\.completed"):
        async with client.responses.stream(model="gpt-4o", input="hi") as helper:
            await helper.get_final_response()


async def test_stream_faults_of_the_chat_endpoint_apply(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.faults.append(Fault("cut_stream", after=3))
    stream = await client.responses.create(model="gpt-4o", input="hi", stream=True)
    seen = []
    with pytest.raises(openai.APIConnectionError):
        async for event in stream:
            seen.append(event.type)
    assert seen == TEXT_EVENTS[:3]
    emu.faults.append(Fault("slow_stream", seconds=0.001))
    body = {"model": "gpt-4o", "input": "hi", "stream": True}
    assert [e["type"] for e in events((await call(emu, "/responses", body))[2])] == TEXT_EVENTS


async def test_malformed_and_status_faults(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    emu.faults.append(Fault("malformed", after=2))
    _, _, raw = await call(emu, "/responses", {"model": "gpt-4o", "input": "hi", "stream": True})
    blocks = raw[:-2].split(b"\n\n")
    assert len(blocks) == len(TEXT_EVENTS) + 1
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(blocks[2].split(b"\ndata: ", 1)[1])
    emu.faults.append(Fault("malformed"))
    status, _, raw = await call(emu, "/responses", {"model": "gpt-4o", "input": "hi"})
    assert status == 200
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(raw)
    emu.faults.append(Fault("status", status=429))
    with pytest.raises(openai.RateLimitError):
        await client.responses.create(model="gpt-4o", input="hi")
    emu.fail_always = Fault("status", status=503)
    with pytest.raises(openai.InternalServerError):
        await client.responses.retrieve("resp_any")
