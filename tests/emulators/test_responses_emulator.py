"""The emulator's Responses API is only a fair upstream if the real openai SDK takes it for
OpenAI: so the calls go through the SDK with strict response validation, and the wire
details the SDK hides (event lines, sequence numbers, the order of events, error bodies)
are read with a plain HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from sidecar.emulators import Fault, OpenAIEmulator
from sidecar.emulators.openai_payloads import token_count

KEY = "sk-emulator-test-5e1f"
REPLY = "[served by openai] model=gpt-4o: ok"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 3,  # the emulator's `chunks`
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
CALL_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    *["response.function_call_arguments.delta"] * 3,
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
]


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


async def call(
    emu: OpenAIEmulator, path: str, body: Any = None, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    data = None if body is None else orjson.dumps(body)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.base_url + path, data=data, headers=headers) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


def events(raw: bytes) -> list[dict[str, Any]]:
    """The stream's events; each `event:` line must name the type its data carries."""
    assert raw.endswith(b"\n\n") and b"[DONE]" not in raw
    out = []
    for block in raw[:-2].split(b"\n\n"):
        if block.startswith(b":"):
            continue  # an SSE comment (OpenRouter's keep-alive)
        head, data = block.split(b"\n")
        assert head.startswith(b"event: ") and data.startswith(b"data: ")
        event = orjson.loads(data[6:])
        assert event["type"] == head[7:].decode()
        out.append(event)
    return out


def error_of(raw: bytes) -> dict[str, Any]:
    error: dict[str, Any] = orjson.loads(raw)["error"]
    return error


# ---- create ---------------------------------------------------------------------------


async def test_create_answers_a_documented_response(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    text, instructions = "Write a haiku about autumn leaves.", "Answer in English."
    raw = await client.responses.with_raw_response.create(
        model="gpt-4o", input=text, instructions=instructions, metadata={"team": "a"}
    )
    done = raw.parse()
    assert done.id.startswith("resp_") and done.object == "response"
    assert done.status == "completed" and done.model == "gpt-4o" and done.error is None
    assert done.completed_at is not None and done.completed_at >= done.created_at
    assert done.instructions == instructions and done.metadata == {"team": "a"}
    assert done.store is True and done.previous_response_id is None and done.tools == []
    assert done.tool_choice == "auto" and done.parallel_tool_calls is True
    [message] = done.output
    assert message.type == "message" and message.id.startswith("msg_")
    assert message.role == "assistant" and message.status == "completed"
    [part] = message.content
    assert part.type == "output_text" and part.text == REPLY and part.annotations == []
    assert done.output_text == REPLY
    assert done.usage is not None
    assert done.usage.input_tokens == token_count(f"{instructions} {text}")
    assert done.usage.output_tokens == token_count(REPLY)
    assert done.usage.input_tokens_details.cached_tokens == 0
    assert done.usage.output_tokens_details.reasoning_tokens == 0
    assert done.usage.total_tokens == done.usage.input_tokens + done.usage.output_tokens
    assert raw.headers["x-request-id"].startswith("req_")
    assert raw.headers["content-type"].startswith("application/json")

    [seen] = emu.responses.received
    assert seen.method == "POST" and seen.path == "/v1/responses"
    assert seen.headers["Authorization"] == f"Bearer {KEY}"
    assert seen.json == {
        "model": "gpt-4o",
        "input": text,
        "instructions": instructions,
        "metadata": {"team": "a"},
    }
    assert emu.received == [seen]


async def test_input_items_are_kept_in_order_and_paged(client: openai.AsyncOpenAI) -> None:
    conversation: Any = [
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "input_text", "text": "Hello"}]},
        {"type": "message", "role": "assistant", "content": "Hi."},
        {"role": "user", "content": "How are you?"},
    ]
    done = await client.responses.create(model="gpt-4o", input=conversation)
    assert await client.responses.retrieve(done.id) == done

    newest_first = [i async for i in client.responses.input_items.list(done.id)]
    assert [i.type for i in newest_first] == ["message"] * 4
    assert [getattr(i, "role", None) for i in newest_first] == [
        "user",
        "assistant",
        "user",
        "developer",
    ]
    assert all(i.id and getattr(i, "status", None) == "completed" for i in newest_first)
    first = newest_first[-1]
    assert first.type == "message" and first.content[0].type == "input_text"
    assert first.content[0].text == "Be brief."
    reply = newest_first[1]
    assert reply.type == "message" and reply.content[0].type == "output_text"

    oldest_first = await client.responses.input_items.list(done.id, order="asc", limit=3)
    assert [i.id for i in oldest_first.data] == [i.id for i in newest_first[::-1][:3]]
    assert oldest_first.has_more is True and oldest_first.last_id == oldest_first.data[-1].id
    assert oldest_first.first_id == oldest_first.data[0].id
    rest = await client.responses.input_items.list(
        done.id, order="asc", limit=3, after=oldest_first.last_id
    )
    assert [i.id for i in rest.data] == [newest_first[0].id] and rest.has_more is False
    paged = [i.id async for i in client.responses.input_items.list(done.id, limit=1)]
    assert paged == [i.id for i in newest_first]  # the SDK follows `after` and `has_more`


async def test_validation_errors_are_openais(emu: OpenAIEmulator) -> None:
    cases: list[tuple[dict[str, Any], str, str | None, str | None]] = [
        ({"input": "hi"}, "Missing required parameter: 'model'.", "model", "missing"),
        ({"model": "m"}, "Missing required parameter: 'input'.", "input", "missing"),
        (
            {"model": "m", "input": {"role": "user"}},
            "Invalid type for 'input': expected one of a string or array of input items,"
            " but got an object instead.",
            "input",
            "invalid_type",
        ),
        (
            {"model": "m", "input": [{"type": "function_call_output", "output": "x"}]},
            "Missing required parameter: 'input[0].call_id'.",
            "input[0].call_id",
            "missing",
        ),
        (
            {"model": "m", "messages": [{"role": "user", "content": "hi"}]},
            "Unknown parameter: 'messages'.",
            "messages",
            "unknown_parameter",
        ),
        (
            {"model": "m", "input": "x", "tools": [{"type": "function"}]},
            "Missing required parameter: 'tools[0].name'.",
            "tools[0].name",
            "missing",
        ),
    ]
    for body, message, param, code in cases:
        status, _, raw = await call(emu, "/responses", body)
        expected = "missing_required_parameter" if code == "missing" else code
        assert status == 400, body
        assert error_of(raw) == {
            "message": message,
            "type": "invalid_request_error",
            "param": param,
            "code": expected,
        }
    assert len(emu.responses.received) == len(cases) and not emu.responses.stored


# ---- function calls -----------------------------------------------------------------------


async def test_function_call_round_trip(client: openai.AsyncOpenAI) -> None:
    asked = await client.responses.create(
        model="gpt-4o", input="What's the weather in Paris?", tools=[WEATHER]
    )
    [call_item] = asked.output
    assert call_item.type == "function_call" and call_item.status == "completed"
    assert call_item.id is not None and call_item.id.startswith("fc_")
    assert call_item.call_id.startswith("call_") and call_item.name == "get_weather"
    assert orjson.loads(call_item.arguments) == {"city": "Paris"}
    assert asked.output_text == ""
    [tool] = asked.tools
    assert tool.type == "function" and tool.name == "get_weather" and tool.strict is True

    result: Any = {"type": "function_call_output", "call_id": call_item.call_id, "output": "21C"}
    answered = await client.responses.create(
        model="gpt-4o", previous_response_id=asked.id, input=[result], tools=[WEATHER]
    )
    assert answered.output_text == REPLY and answered.previous_response_id == asked.id

    # Without the server's state the client sends the whole turn, call included.
    whole: Any = [{"role": "user", "content": "Weather?"}, call_item.model_dump(), result]
    stateless = await client.responses.create(
        model="gpt-4o", input=whole, tools=[WEATHER], store=False
    )
    assert stateless.output_text == REPLY

    forced = await client.responses.create(
        model="gpt-4o",
        input=whole,
        tools=[WEATHER],
        tool_choice={"type": "function", "name": "get_weather"},
    )
    assert forced.output[0].type == "function_call"
    plain = await client.responses.create(model="gpt-4o", input="weather?", tool_choice="none")
    assert plain.output_text == REPLY


async def test_tool_output_without_its_call_is_refused(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    orphan: Any = [{"type": "function_call_output", "call_id": "call_nowhere", "output": "x"}]
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="gpt-4o", input=orphan)
    assert caught.value.status_code == 400
    assert caught.value.body == {
        "message": "No tool call found for function call output with call_id call_nowhere.",
        "type": "invalid_request_error",
        "param": "input",
        "code": None,
    }
    assert not emu.responses.stored


# ---- state: store, continuations, retrieval ------------------------------------------------


async def test_previous_response_id_chains_stored_turns(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    first = await client.responses.create(model="gpt-4o", input="My name is Ada.")
    second = await client.responses.create(
        model="gpt-4o", input="What is my name?", previous_response_id=first.id
    )
    third = await client.responses.create(
        model="gpt-4o", input="And again?", previous_response_id=second.id
    )
    assert second.previous_response_id == first.id and third.previous_response_id == second.id
    assert [t.response["id"] for t in emu.responses.chain(second.id)] == [first.id, second.id]
    prior = f"My name is Ada. {REPLY}"
    assert second.usage is not None and third.usage is not None
    assert second.usage.input_tokens_details.cached_tokens == token_count(prior)
    assert second.usage.input_tokens == token_count(f"{prior} What is my name?")
    cached = third.usage.input_tokens_details.cached_tokens
    assert cached == token_count(f"{prior} What is my name? {REPLY}")
    assert emu.received[-1].json["previous_response_id"] == second.id


async def test_unknown_previous_response_id_is_400(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="gpt-4o", input="hi", previous_response_id="resp_x")
    assert caught.value.body == {
        "message": "Previous response with id 'resp_x' not found.",
        "type": "invalid_request_error",
        "param": "previous_response_id",
        "code": "previous_response_not_found",
    }
    assert not emu.responses.stored


async def test_store_false_is_neither_retrievable_nor_continued(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    done = await client.responses.create(model="gpt-4o", input="secret", store=False)
    assert done.store is False and done.output_text == REPLY
    assert done.id not in emu.responses.stored
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(done.id)
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.create(model="gpt-4o", input="more", previous_response_id=done.id)
    assert caught.value.code == "previous_response_not_found"
    streamed = await client.responses.create(
        model="gpt-4o", input="secret", store=False, stream=True
    )
    assert [e.type async for e in streamed][-1] == "response.completed"
    assert not emu.responses.stored


async def test_retrieve_then_delete(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    done = await client.responses.create(model="gpt-4o", input="hi")
    assert (await client.responses.retrieve(done.id)).output_text == REPLY
    status, _, raw = await call(emu, f"/responses/{done.id}", method="DELETE")
    assert status == 200 and orjson.loads(raw) == {
        "id": done.id,
        "object": "response",
        "deleted": True,
    }
    with pytest.raises(openai.NotFoundError):
        await client.responses.delete(done.id)  # the SDK's own call, now for a gone id
    with pytest.raises(openai.NotFoundError):
        await client.responses.retrieve(done.id)
    again = await client.responses.create(model="gpt-4o", input="hi")
    assert await client.responses.delete(again.id) is None and not emu.responses.stored
    methods = [(r.method, r.path) for r in emu.responses.received]
    assert ("DELETE", f"/v1/responses/{again.id}") in methods


async def test_unknown_ids_are_404_everywhere(emu: OpenAIEmulator) -> None:
    expected = {
        "message": "Response with id 'resp_nope' not found.",
        "type": "invalid_request_error",
        "param": None,
        "code": None,
    }
    for method, path in [
        ("GET", "/responses/resp_nope"),
        ("DELETE", "/responses/resp_nope"),
        ("GET", "/responses/resp_nope/input_items"),
        ("POST", "/responses/resp_nope/cancel"),
    ]:
        status, _, raw = await call(emu, path, method=method)
        assert status == 404 and error_of(raw) == expected, (method, path)
    status, _, raw = await call(emu, "/responses/resp_nope", method="GET")
    assert status == 404
    headers = {"Authorization": "Bearer sk-wrong"}
    async with (
        aiohttp.ClientSession() as session,
        session.get(emu.base_url + "/responses/resp_nope", headers=headers) as resp,
    ):
        assert resp.status == 401  # the key is checked before the id


async def test_cancel_only_background_responses(client: openai.AsyncOpenAI) -> None:
    sync = await client.responses.create(model="gpt-4o", input="hi")
    with pytest.raises(openai.BadRequestError) as caught:
        await client.responses.cancel(sync.id)
    assert caught.value.message.endswith("Cannot cancel a synchronous response.")

    queued = await client.responses.create(model="gpt-4o", input="hi", background=True)
    assert queued.status == "queued" and queued.output == [] and queued.usage is None
    cancelled = await client.responses.cancel(queued.id)
    assert cancelled.status == "cancelled" and cancelled.background is True
    assert (await client.responses.cancel(queued.id)).status == "cancelled"  # idempotent
    assert (await client.responses.retrieve(queued.id)).status == "cancelled"

    polled = await client.responses.create(model="gpt-4o", input="hi", background=True)
    done = await client.responses.retrieve(polled.id)
    assert done.status == "completed" and done.output_text == REPLY
    assert (await client.responses.cancel(polled.id)).status == "completed"


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


# ---- servers with or without the API ----------------------------------------------------


async def test_a_chat_only_server_has_no_responses_api() -> None:
    async with OpenAIEmulator("google", KEY, base_path="/v1beta/openai", responses=False) as gm:
        status, _, raw = await call(gm, "/responses", {"model": "gemini-2.5-flash", "input": "x"})
        assert status == 404
        assert error_of(raw)["message"] == "Invalid URL (POST /v1beta/openai/responses)"
        status, _, _ = await call(gm, "/responses/resp_1", method="GET")
        assert status == 404
        messages = [{"role": "user", "content": "hi"}]
        status, _, _ = await call(gm, "/chat/completions", {"model": "g", "messages": messages})
        assert status == 200
        assert gm.received[0].path == "/v1beta/openai/responses"
        assert gm.responses.enabled is False and not gm.responses.stored


async def test_openrouter_responses_endpoint() -> None:
    async with OpenAIEmulator("openrouter", KEY, base_path="/api/v1") as router:
        body = {"model": "openai/gpt-4o", "input": "hi", "provider": {"order": ["OpenAI"]}}
        status, _, raw = await call(router, "/responses", body)
        assert status == 200  # OpenRouter accepts its own parameters
        [message] = orjson.loads(raw)["output"]
        assert message["content"][0]["text"] == "[served by openrouter] model=openai/gpt-4o: ok"
        _, _, raw = await call(router, "/responses", {**body, "stream": True})
        assert raw.startswith(b": OPENROUTER PROCESSING\n\n")
        assert events(raw)[-1]["type"] == "response.completed"
        assert router.received[0].path == "/api/v1/responses"
