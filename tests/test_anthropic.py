"""Both SDKs, both upstream formats: the Anthropic SDK through the sidecar to an Anthropic
upstream (pass-through) and to OpenRouter (translated), and the OpenAI SDK to Anthropic."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import orjson
import pytest

from sidecar.emulators.anthropic import TOOL_INPUT
from sidecar.emulators.openai import Fault
from tests.conftest import APP_KEY, KEYS, Harness, HarnessFactory
from tests.test_routing import EMAIL, SSN

WEATHER_TOOL: dict[str, Any] = {
    "name": "get_weather",
    "description": "Current weather for a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture
async def ant(harness: Harness) -> anthropic.AsyncAnthropic:
    # The SDK appends /v1/messages itself: ANTHROPIC_BASE_URL is the listener's root.
    client = anthropic.AsyncAnthropic(
        base_url=harness.running.app_url, api_key=APP_KEY, max_retries=0
    )
    return client


def say(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


async def test_public_message_is_translated_to_the_aggregator(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    raw = await ant.messages.with_raw_response.create(
        model="claude-sonnet-5", max_tokens=100, messages=say("Write a haiku")
    )
    message = await raw.parse()
    assert raw.headers["x-llm-router-route"] == "openrouter:anthropic/claude-sonnet-5"
    assert message.content[0].type == "text"
    assert "served by openrouter" in message.content[0].text
    assert message.stop_reason == "end_turn" and message.usage.output_tokens > 0
    sent = harness.upstreams["openrouter"].received[0].json
    assert sent["model"] == "anthropic/claude-sonnet-5"
    assert sent["messages"] == [{"role": "user", "content": "Write a haiku"}]
    assert sent["max_tokens"] == 100


async def test_regulated_message_goes_to_anthropic_with_its_headers(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    message = await ant.messages.create(
        model="claude-sonnet-5",
        max_tokens=100,
        system="You are a billing assistant.",
        messages=say(f"Email {EMAIL} the invoice"),
        extra_headers={"anthropic-beta": "fine-grained-tool-streaming-2025-05-14"},
    )
    assert "served by anthropic" in message.content[0].text  # type: ignore[union-attr]
    assert harness.received_by("openrouter") == 0
    [request] = harness.upstreams["anthropic"].received
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["x-api-key"] == KEYS["anthropic"]
    assert headers["anthropic-version"] == "2023-06-01"
    assert headers["anthropic-beta"] == "fine-grained-tool-streaming-2025-05-14"
    assert APP_KEY not in str(request.headers)
    assert request.json["model"] == "claude-sonnet-5"


async def test_stream_with_tool_use_through_the_aggregator(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    async with ant.messages.stream(
        model="claude-sonnet-5",
        max_tokens=200,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=say("What's the weather in Paris?"),
    ) as stream:
        final = await stream.get_final_message()
    assert harness.received_by("openrouter") == 1
    tool = next(b for b in final.content if b.type == "tool_use")
    assert tool.name == "get_weather" and tool.input == {"city": "Paris"}
    assert tool.id.startswith("call_")
    assert final.stop_reason == "tool_use"
    sent = harness.upstreams["openrouter"].received[0].json
    assert sent["tools"][0]["function"]["parameters"] == WEATHER_TOOL["input_schema"]
    assert sent["stream_options"] == {"include_usage": True}


async def test_stream_with_tool_use_direct_to_anthropic(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    async with ant.messages.stream(
        model="claude-sonnet-5",
        max_tokens=200,
        tools=[WEATHER_TOOL],  # type: ignore[list-item]
        messages=say(f"Weather for {EMAIL}'s city?"),
    ) as stream:
        events = [event.type async for event in stream]
        final = await stream.get_final_message()
    assert harness.received_by("openrouter") == 0
    tool = next(b for b in final.content if b.type == "tool_use")
    assert tool.input == {"city": "Paris", "unit": "celsius"}
    assert final.usage.output_tokens > 0
    assert "input_json" in events
    [record] = harness.audit_records()
    assert record["outcome"]["usage"]["completion_tokens"] == final.usage.output_tokens


async def test_tool_result_with_ssn_forces_a_compliant_route(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Look the member up"},
        {
            "role": "assistant",
            "content": [
                {"type": "tool_use", "id": "toolu_1", "name": "lookup", "input": {"q": "member"}}
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "type": "tool_result",
                    "tool_use_id": "toolu_1",
                    "content": [{"type": "text", "text": f"member ssn {SSN}"}],
                }
            ],
        },
    ]
    await ant.messages.create(model="claude-sonnet-5", max_tokens=50, messages=messages)  # type: ignore[arg-type]
    assert harness.received_by("openrouter") == 0
    assert harness.received_by("anthropic") == 1
    [record] = harness.audit_records()
    assert record["classification"]["tags"] == {"pii.ssn": 1}


async def test_denial_and_bad_input_in_anthropic_format(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    with pytest.raises(anthropic.PermissionDeniedError) as denied:
        await ant.messages.create(
            model="claude-sonnet-5", max_tokens=10, messages=say("key AKIAZ4QJ7XK2MNB3PLRT")
        )
    body = denied.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "policy_denied" and body["error"]["reasons"]
    with pytest.raises(anthropic.BadRequestError) as bad:
        await ant.messages.create(model="claude-sonnet-5", max_tokens=0, messages=say("x"))
    assert bad.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    with pytest.raises(anthropic.NotFoundError):
        await ant.messages.create(model="nope", max_tokens=5, messages=say("x"))
    assert sum(harness.received_by(n) for n in KEYS) == 0


async def test_count_tokens_only_goes_to_anthropic(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    count = await ant.messages.count_tokens(
        model="claude-sonnet-5", messages=say("how many tokens is this sentence?")
    )
    assert count.input_tokens > 0
    assert harness.received_by("openrouter") == 0
    [record] = harness.audit_records()
    assert any("openrouter" in s for s in record["outcome"]["skipped"])


async def test_anthropic_only_feature_skips_the_openai_route(
    harness: Harness, ant: anthropic.AsyncAnthropic
) -> None:
    await ant.messages.create(
        model="claude-sonnet-5",
        max_tokens=50,
        messages=say("public question"),
        extra_body={"top_k": 5},
    )
    assert harness.received_by("openrouter") == 0 and harness.received_by("anthropic") == 1
    [record] = harness.audit_records()
    assert "top_k" in record["outcome"]["skipped"][0]
    with pytest.raises(anthropic.BadRequestError) as caught:
        await ant.messages.create(
            model="claude-via-aggregator",
            max_tokens=50,
            messages=say("hi"),
            extra_body={"top_k": 5},
        )
    assert caught.value.body["error"]["code"] == "unsupported_feature"  # type: ignore[index]
    assert "top_k" in caught.value.body["error"]["message"]  # type: ignore[index]


async def test_openai_sdk_to_anthropic_upstream(harness: Harness) -> None:
    completion = await harness.client.chat.completions.create(
        model="claude-sonnet-5",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": f"Write to {EMAIL}"},
        ],
        max_tokens=64,
        stop=["END"],
        user="user-42",
    )
    assert "served by anthropic" in (completion.choices[0].message.content or "")
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None and completion.usage.total_tokens > 0
    sent = harness.upstreams["anthropic"].received[0].json
    assert sent["system"] == "Be brief."
    assert sent["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": f"Write to {EMAIL}"}]}
    ]
    assert sent["stop_sequences"] == ["END"] and sent["metadata"] == {"user_id": "user-42"}
    assert sent["max_tokens"] == 64


async def test_openai_sdk_streams_tool_calls_from_anthropic(harness: Harness) -> None:
    tools = [
        {
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {}}},
        }
    ]
    stream = await harness.client.chat.completions.create(
        model="claude-sonnet-5",
        messages=[{"role": "user", "content": f"weather for {EMAIL}?"}],
        tools=tools,  # type: ignore[arg-type]
        tool_choice="required",
        stream=True,
        stream_options={"include_usage": True},
    )
    calls: dict[int, dict[str, str]] = {}
    finish, usage, text = None, None, ""
    async for chunk in stream:
        if chunk.usage:
            usage = chunk.usage
        for choice in chunk.choices:
            text += choice.delta.content or ""
            finish = choice.finish_reason or finish
            for call in choice.delta.tool_calls or []:
                entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
                entry["id"] += call.id or ""
                entry["name"] += (call.function.name or "") if call.function else ""
                entry["arguments"] += (call.function.arguments or "") if call.function else ""
    assert text == "Let me check."
    assert calls[0]["name"] == "get_weather" and calls[0]["id"].startswith("toolu_")
    assert orjson.loads(calls[0]["arguments"]) == orjson.loads(TOOL_INPUT)
    assert finish == "tool_calls"
    assert usage is not None and usage.completion_tokens > 0
    sent = harness.upstreams["anthropic"].received[0].json
    assert sent["tool_choice"] == {"type": "any"} and sent["stream"] is True


async def test_openai_sdk_json_schema_uses_structured_outputs(harness: Harness) -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string"}}, "required": ["a"]}
    await harness.client.chat.completions.create(
        model="claude-sonnet-5",
        messages=[{"role": "user", "content": f"{EMAIL}"}],
        response_format={"type": "json_schema", "json_schema": {"name": "x", "schema": schema}},
    )
    sent = harness.upstreams["anthropic"].received[0].json
    assert sent["output_config"] == {"format": {"type": "json_schema", "schema": schema}}
    assert sent["max_tokens"] == 4096  # the configured default: Anthropic requires one


async def test_overloaded_anthropic_fails_over(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    h.upstreams["anthropic"].faults.append(Fault(kind="status", status=529))
    client = anthropic.AsyncAnthropic(base_url=h.running.app_url, api_key=APP_KEY, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as caught:
        await client.messages.create(
            model="claude-sonnet-5", max_tokens=5, messages=say(f"mail {EMAIL}")
        )
    assert caught.value.status_code == 502
    [record] = h.audit_records()
    assert (
        record["attempts"][0]["status"] == 529
        and record["attempts"][0]["outcome"] == "server_error"
    )
    await client.close()


async def test_openai_client_error_from_anthropic_is_translated(harness: Harness) -> None:
    harness.upstreams["anthropic"].faults.append(Fault(kind="status", status=400))
    with pytest.raises(openai.BadRequestError) as caught:
        await harness.client.chat.completions.create(
            model="claude-sonnet-5", messages=[{"role": "user", "content": f"{EMAIL}"}]
        )
    assert caught.value.body["type"] == "invalid_request_error"  # type: ignore[index]


async def test_thinking_deltas_reach_an_openai_client(harness: Harness) -> None:
    harness.upstreams["anthropic"].thinking = True
    stream = await harness.client.chat.completions.create(
        model="claude-sonnet-5", messages=[{"role": "user", "content": f"{EMAIL}"}], stream=True
    )
    reasoning = ""
    async for chunk in stream:
        for choice in chunk.choices:
            reasoning += (choice.delta.model_extra or {}).get("reasoning") or ""
    assert reasoning == "Considering the question."
