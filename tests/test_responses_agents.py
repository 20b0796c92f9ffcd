"""The OpenAI Agents SDK running an agent with a function tool through the sidecar: one
tool round trip, streamed and not, on the Responses API (its default model). Tracing is
switched off: its exporter would send spans to OpenAI, and tests reach loopback only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from agents import (
    Agent,
    OpenAIResponsesModel,
    RunConfig,
    Runner,
    function_tool,
    set_tracing_disabled,
)

from tests.conftest import Harness

CALLS: list[str] = []


@function_tool
def get_weather(city: str) -> str:
    """The weather in a city."""
    CALLS.append(city)
    return f"Sunny in {city}; the caller's SSN on file is 536-22-8457."


@pytest.fixture(autouse=True)
def no_tracing() -> Iterator[None]:
    set_tracing_disabled(True)
    CALLS.clear()
    yield


def agent(h: Harness) -> Agent[Any]:
    model = OpenAIResponsesModel(model="gpt-4o", openai_client=h.client)
    return Agent(
        name="assistant",
        instructions="Answer weather questions with the tool.",
        tools=[get_weather],
        model=model,
    )


def check_round_trip(h: Harness) -> None:
    """Turn one (public) may use the aggregator; turn two carries the tool's output, an
    SSN, so it goes direct, with store off."""
    assert CALLS == ["Paris"]
    [first] = [r.json for r in h.upstreams["openrouter"].responses.received]  # never the SSN
    assert first["tools"][0]["name"] == "get_weather"
    [second] = [r.json for r in h.upstreams["openai"].responses.received]
    outputs = [i for i in second["input"] if i.get("type") == "function_call_output"]
    assert len(outputs) == 1 and "536-22-8457" in outputs[0]["output"]
    assert second["store"] is False
    routes = [r["outcome"]["route"] for r in h.audit_records()]
    assert routes == ["openrouter:openai/gpt-4o", "openai:gpt-4o"]


async def test_an_agent_with_a_function_tool(harness: Harness) -> None:
    result = await Runner.run(
        agent(harness), "What is the weather in Paris?", run_config=RunConfig(tracing_disabled=True)
    )
    assert isinstance(result.final_output, str) and result.final_output
    check_round_trip(harness)


async def test_an_agent_with_a_function_tool_streamed(harness: Harness) -> None:
    result = Runner.run_streamed(
        agent(harness), "What is the weather in Paris?", run_config=RunConfig(tracing_disabled=True)
    )
    kinds = [event.type async for event in result.stream_events()]
    assert "raw_response_event" in kinds and "run_item_stream_event" in kinds
    assert isinstance(result.final_output, str) and result.final_output
    check_round_trip(harness)
    assert all(r["stream"] for r in harness.audit_records())
