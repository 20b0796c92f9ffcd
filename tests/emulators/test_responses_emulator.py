"""The emulator's Responses API is only a fair upstream if the real openai SDK takes it for
OpenAI: so the calls go through the SDK with strict response validation, and the wire
details it hides (error bodies, recorded requests) are read with a plain HTTP client. This
module covers requests and the state the provider keeps; test_responses_stream.py streams."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from sidecar.emulators import OpenAIEmulator
from sidecar.emulators.openai_payloads import token_count
from tests.emulators.responses_support import KEY, REPLY, WEATHER, call, error_of, events


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
