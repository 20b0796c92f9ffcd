"""Responses to an Anthropic Messages upstream: the request checked against the anthropic
SDK's request types, the answer (whole, and as Anthropic's documented event stream in any
chunk split) parsed by the openai SDK, and errors in OpenAI's format."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response

from sidecar.providers.base import SSEParser, UnsupportedFeature
from sidecar.providers.responses_anthropic import ResponsesToAnthropic
from tests.providers.responses_support import (
    ANTHROPIC_ANSWER,
    ANTHROPIC_REQUEST,
    EVENTS,
    INCLUDE,
    TOOL,
    TOOL_TURN,
    anthropic_event,
    as_stream,
    check_order,
    check_request_type,
    feed,
    parse_events,
    sdk_stream,
    usage_counts,
)


def translator(**body: Any) -> tuple[ResponsesToAnthropic, dict[str, Any]]:
    out = ResponsesToAnthropic("responses", 2048)
    sent = out.request_body({"model": "gpt-5", "input": "hi", "tools": [TOOL], **body}, "claude-x")
    return out, sent


def test_request_turns_tools_and_settings() -> None:
    sent = translator(
        instructions="You are terse.",
        input=TOOL_TURN,
        tool_choice="required",
        parallel_tool_calls=False,
        text={"format": {"type": "json_schema", "name": "w", "schema": {"type": "object"}}},
        reasoning={"effort": "high"},
        safety_identifier="s-1",
        user="u-1",
        stream=True,
        store=False,
        metadata={"team": "a"},
    )[1]
    check_request_type(ANTHROPIC_REQUEST, sent)
    assert sent["system"] == "You are terse.\n\nAnswer briefly."
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris and Rome?"},
                {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"type": "thinking", "thinking": "two cities", "signature": "sig-1"},
                {"type": "text", "text": "Checking."},
                {
                    "type": "tool_use",
                    "id": "call_1",
                    "name": "get_weather",
                    "input": {"city": "Paris"},
                },
                {
                    "type": "tool_use",
                    "id": "call_2",
                    "name": "get_weather",
                    "input": {"city": "Rome"},
                },
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "call_1", "content": "18C"},
                {
                    "type": "tool_result",
                    "tool_use_id": "call_2",
                    "content": [{"type": "text", "text": "21C"}],
                },
            ],
        },
    ]
    assert sent["tools"] == [
        {
            "name": "get_weather",
            "input_schema": TOOL["parameters"],
            "description": TOOL["description"],
            "strict": True,
        }
    ]
    assert sent["tool_choice"] == {"type": "any", "disable_parallel_tool_use": True}
    assert sent["output_config"] == {
        "format": {"type": "json_schema", "schema": {"type": "object"}},
        "effort": "high",
    }
    assert sent["metadata"] == {"user_id": "s-1"}
    assert (sent["max_tokens"], sent["stream"], sent["model"]) == (2048, True, "claude-x")


def test_request_documents_json_object_and_sampling() -> None:
    files = [
        {
            "type": "input_file",
            "file_data": "data:application/pdf;base64,JVBERi0=",
            "filename": "a.pdf",
        },
        {"type": "input_file", "file_url": "https://example.com/b.pdf"},
        {"type": "input_image", "image_url": "data:image/png;base64,iVBORw0="},
    ]
    sent = translator(
        input=[
            {"role": "user", "content": files},
            {"type": "reasoning", "summary": [], "id": "rs_x"},
        ],
        text={"format": {"type": "json_object"}},
        max_output_tokens=99,
        temperature=0.2,
        top_p=0.5,
        user="u-1",
    )[1]
    check_request_type(ANTHROPIC_REQUEST, sent, legacy=frozenset({"temperature", "top_p"}))
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {
                    "type": "document",
                    "source": {
                        "type": "base64",
                        "media_type": "application/pdf",
                        "data": "JVBERi0=",
                    },
                    "title": "a.pdf",
                },
                {"type": "document", "source": {"type": "url", "url": "https://example.com/b.pdf"}},
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0="},
                },
            ],
        }
    ]
    assert "JSON object" in sent["system"] and "output_config" not in sent
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (99, 0.2, 0.5)
    assert sent["metadata"] == {"user_id": "u-1"} and "stream" not in sent


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ({"text": {"verbosity": "low"}}, "verbosity"),
        ({"reasoning": {"effort": "minimal"}}, "effort"),
        ({"tool_choice": {"type": "allowed_tools", "mode": "auto", "tools": []}}, "tool_choice"),
        (
            {
                "input": [
                    {
                        "role": "user",
                        "content": [
                            {"type": "input_file", "file_data": "data:text/csv;base64,YQ=="}
                        ],
                    }
                ]
            },
            "input_file",
        ),
        (
            {"input": [{"type": "function_call", "call_id": "c", "name": "f", "arguments": "[1]"}]},
            "JSON object",
        ),
    ],
)
def test_what_anthropic_cannot_express(body: dict[str, Any], reason: str) -> None:
    with pytest.raises(UnsupportedFeature, match=reason):
        translator(**body)


def test_whole_answer_is_a_valid_response() -> None:
    out, _ = translator(include=INCLUDE)
    response = Response.model_validate(
        orjson.loads(out.response_body(orjson.dumps(ANTHROPIC_ANSWER)))
    )
    assert [i.type for i in response.output] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    reasoning = response.output[0]
    assert reasoning.type == "reasoning" and reasoning.encrypted_content == "c2lnLTE="
    assert reasoning.content is not None and reasoning.content[0].text == "Two cities."
    assert response.output_text == "I'll check both."
    calls = [(c.call_id, c.name, c.arguments) for c in response.output if c.type == "function_call"]
    assert calls == [("toolu_1", "get_weather", '{"city":"Paris"}'), ("toolu_2", "get_time", "{}")]
    assert response.status == "completed" and response.model == "claude-x"
    assert usage_counts(response) == (582, 100, 10, 89, 30, 671)
    assert out.complete and out.usage.to_dict() == {
        "prompt_tokens": 582,
        "completion_tokens": 89,
        "total_tokens": 671,
        "cached_tokens": 100,
        "reasoning_tokens": 30,
    }
    plain, _ = translator()  # without the include, no signature leaves
    assert (
        orjson.loads(plain.response_body(orjson.dumps(ANTHROPIC_ANSWER)))["output"][0][
            "encrypted_content"
        ]
        is None
    )


@pytest.mark.parametrize(
    ("stop", "reason"), [("max_tokens", "max_output_tokens"), ("refusal", "content_filter")]
)
def test_stopped_answers_are_incomplete(stop: str, reason: str) -> None:
    answer = {**ANTHROPIC_ANSWER, "content": [{"type": "text", "text": "Par"}], "stop_reason": stop}
    out, _ = translator()
    response = Response.model_validate(orjson.loads(out.response_body(orjson.dumps(answer))))
    assert response.status == "incomplete" and response.incomplete_details is not None
    assert response.incomplete_details.reason == reason
    events = parse_events(translator()[0].response_chunk(as_stream(answer)))
    check_order(events)
    assert events[-1]["type"] == "response.incomplete"


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=20_000), max_size=12))
def test_stream_in_any_split_is_the_whole_answer(cuts: list[int]) -> None:
    streamed, _ = translator(include=INCLUDE)
    events = parse_events(feed(streamed, as_stream(ANTHROPIC_ANSWER), cuts))
    check_order(events)
    assert streamed.complete
    whole, _ = translator(include=INCLUDE)
    expected = orjson.loads(whole.response_body(orjson.dumps(ANTHROPIC_ANSWER)))
    final = events[-1]["response"]
    assert [{**i, "id": ""} for i in final["output"]] == [
        {**i, "id": ""} for i in expected["output"]
    ]
    assert final["usage"] == expected["usage"] and streamed.usage == whole.usage


def test_stream_through_the_sdk_accumulator() -> None:
    out, _ = translator()
    kinds, final = sdk_stream(out.response_chunk(as_stream(ANTHROPIC_ANSWER)))
    assert kinds.count("response.output_item.added") == 4 and kinds[-1] == "response.completed"
    assert final.output_text == "I'll check both."
    assert [o.arguments for o in final.output if o.type == "function_call"] == [
        '{"city":"Paris"}',
        "{}",
    ]


def test_stream_is_complete_only_at_message_stop() -> None:
    out, _ = translator()
    raw = as_stream(ANTHROPIC_ANSWER)
    cut = raw.index(b"event: message_stop")
    assert b"response.completed" not in out.response_chunk(raw[:cut]) and not out.complete
    assert b"response.completed" in out.response_chunk(raw[cut:]) and out.complete


def test_stream_errors_are_openai_error_events() -> None:
    overloaded = {"type": "overloaded_error", "message": "Overloaded"}
    out, _ = translator()
    first = out.response_chunk(anthropic_event("error", error=overloaded))
    ((name, data),) = SSEParser().feed(first)  # before any output: only the error, failover is open
    error = orjson.loads(data)
    EVENTS.validate_python(error)
    assert error == {
        "type": "error",
        "sequence_number": 0,
        "code": "overloaded_error",
        "message": "Overloaded",
        "param": None,
    }
    assert name == "error" and out.complete
    out, _ = translator()
    raw = as_stream(ANTHROPIC_ANSWER)
    late = out.response_chunk(
        raw[: raw.index(b"event: content_block_start")] + anthropic_event("error", error=overloaded)
    )
    assert b"response.created" in late and late.endswith(b"\n\n") and b"event: error" in late
