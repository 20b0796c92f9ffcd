"""The Responses API on routes that do not have it: a Chat-Completions-only OpenAI-format
upstream (Gemini's compatible endpoint) and Anthropic Messages, through the real sidecar
with the real openai SDK and the Agents SDK. Tools and streaming included."""

from __future__ import annotations

from typing import Any

import openai
import pytest
from agents import Agent, OpenAIResponsesModel, RunConfig, Runner, set_tracing_disabled

from tests.conftest import Harness, HarnessFactory

ROUTED = {
    "gemini": {"routes": [{"provider": "google", "model": "gemini-2.5-flash"}]},
    "claude": {"routes": [{"provider": "anthropic", "model": "claude-sonnet-5"}]},
}
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
BACKENDS = [("gemini", "google", "/chat/completions"), ("claude", "anthropic", "/messages")]


@pytest.fixture
async def h(make_harness: HarnessFactory) -> Harness:
    harness: Harness = await make_harness(models=ROUTED)
    return harness


def upstream_bodies(h: Harness, name: str) -> list[dict[str, Any]]:
    return [r.json for r in h.upstreams[name].received]


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_text_round_trip(h: Harness, model: str, provider: str, path: str) -> None:
    response = await h.client.responses.create(
        model=model, input="Summarise the quarterly report.", instructions="Be brief."
    )
    assert response.status == "completed" and response.object == "response"
    assert f"served by {provider}" in response.output_text
    [sent] = h.upstreams[provider].received
    assert sent.path.endswith(path) and "store" not in sent.json and "input" not in sent.json
    record = h.audit_records()[-1]
    assert record["api"] == "openai.responses" and record["outcome"]["usage"]["prompt_tokens"] > 0


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_streamed_with_the_sdk_helper(
    h: Harness, model: str, provider: str, path: str
) -> None:
    async with h.client.responses.stream(model=model, input="Tell me a story.") as stream:
        events = [event async for event in stream]
        final = await stream.get_final_response()
    kinds = [e.type for e in events]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    numbers = [e.sequence_number for e in events]
    assert numbers == list(range(len(numbers)))
    assert f"served by {provider}" in final.output_text
    assert h.audit_records()[-1]["outcome"]["status"] == 200


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_function_tool_round_trip(h: Harness, model: str, provider: str, path: str) -> None:
    first = await h.client.responses.create(
        model=model, input="What is the weather in Paris?", tools=[WEATHER]
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and "Paris" in call.arguments
    second = await h.client.responses.create(
        model=model,
        tools=[WEATHER],
        input=[
            {"role": "user", "content": "What is the weather in Paris?"},
            {
                "type": "function_call",
                "call_id": call.call_id,
                "name": call.name,
                "arguments": call.arguments,
            },
            {"type": "function_call_output", "call_id": call.call_id, "output": "Sunny, 21 C"},
        ],
    )
    assert second.output_text
    sent = upstream_bodies(h, provider)[-1]
    assert "Sunny, 21 C" in str(sent)  # the tool's output reached the model


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_streamed_function_call(h: Harness, model: str, provider: str, path: str) -> None:
    stream = await h.client.responses.create(
        model=model, input="What is the weather in Paris?", tools=[WEATHER], stream=True
    )
    kinds = [event.type async for event in stream]
    assert "response.function_call_arguments.delta" in kinds
    assert "response.function_call_arguments.done" in kinds
    assert kinds[-1] == "response.completed"


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_what_a_translated_route_cannot_do_is_refused_not_dropped(
    h: Harness, model: str, provider: str, path: str
) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await h.client.responses.create(model=model, input="hi", tools=[{"type": "web_search"}])
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "unsupported_feature"
    assert h.upstreams[provider].received == []


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_a_translated_response_is_not_continuable(
    h: Harness, model: str, provider: str, path: str
) -> None:
    """A translated route stores nothing: its id continues nowhere, and says so."""
    first = await h.client.responses.create(model=model, input="hi")
    with pytest.raises(openai.NotFoundError):
        await h.client.responses.create(model=model, input="more", previous_response_id=first.id)
    with pytest.raises(openai.NotFoundError):
        await h.client.responses.retrieve(first.id)
    assert len(h.upstreams[provider].received) == 1


@pytest.mark.parametrize(("model", "provider", "path"), BACKENDS)
async def test_an_agent_with_a_tool_on_a_translated_route(
    h: Harness, model: str, provider: str, path: str
) -> None:
    from agents import function_tool

    calls: list[str] = []

    @function_tool
    def get_weather(city: str) -> str:
        """The weather in a city."""
        calls.append(city)
        return f"Sunny in {city}"

    set_tracing_disabled(True)
    agent = Agent(
        name="assistant",
        tools=[get_weather],
        model=OpenAIResponsesModel(model=model, openai_client=h.client),
    )
    result = await Runner.run(
        agent, "What is the weather in Paris?", run_config=RunConfig(tracing_disabled=True)
    )
    assert calls == ["Paris"] and isinstance(result.final_output, str)
    streamed = Runner.run_streamed(
        agent, "What is the weather in Paris?", run_config=RunConfig(tracing_disabled=True)
    )
    async for _ in streamed.stream_events():
        pass
    assert calls == ["Paris", "Paris"] and isinstance(streamed.final_output, str)
    assert len(h.upstreams[provider].received) == 4  # two turns each
