"""Responses to a Chat Completions upstream: the request checked against the openai SDK's
chat request types, the answer (whole, and streamed in any chunk split) parsed by the
openai SDK's Response and stream event types and by its stream accumulator, and errors.
What both translated routes share is tested in test_responses_both_routes.py."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openai.types.responses import Response

from sidecar.providers.base import SSEParser
from sidecar.providers.responses_chat import ResponsesToChat
from tests.providers.responses_support import (
    CHAT_REQUEST,
    EVENTS,
    TOOL,
    TOOL_TURN,
    chat_chunk,
    chat_sse,
    check_order,
    check_request_type,
    feed,
    parse_events,
    sdk_client,
    sdk_stream,
    usage_counts,
)

# ---- Chat Completions upstream --------------------------------------------------------

CHAT_ANSWER = {
    "id": "chatcmpl-1",
    "object": "chat.completion",
    "created": 1,
    "model": "gemini-2.5-flash",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": "Let me look.",
                "reasoning_content": "needs a tool",
                "tool_calls": [
                    {
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                    },
                    {
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    },
                ],
            },
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 100,
        "completion_tokens": 30,
        "total_tokens": 130,
        "prompt_tokens_details": {"cached_tokens": 40},
        "completion_tokens_details": {"reasoning_tokens": 12},
    },
}


CHAT_STREAM = chat_sse(
    [
        chat_chunk({"role": "assistant", "content": ""}),
        chat_chunk({"reasoning_content": "needs "}),
        chat_chunk({"reasoning_content": "a tool"}),
        chat_chunk({"content": "Let "}),
        chat_chunk({"content": "me look."}),
        chat_chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "call_a",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"city":'}}]}),
        chat_chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris"}'}}]}),
        chat_chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "call_b",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                    }
                ]
            }
        ),
        chat_chunk({}, "tool_calls"),
        {
            "id": "c1",
            "object": "chat.completion.chunk",
            "choices": [],
            "usage": CHAT_ANSWER["usage"],
        },
    ]
)


def chat_translator(body: dict[str, Any] | None = None) -> tuple[ResponsesToChat, dict[str, Any]]:
    translator = ResponsesToChat("responses", 4096)
    sent = translator.request_body(
        body or {"model": "app-model", "input": "hi", "tools": [TOOL]}, "gemini-2.5-flash"
    )
    return translator, sent


def test_chat_request_maps_every_translated_field() -> None:
    body = {
        "model": "gpt-5",
        "instructions": "You are terse.",
        "input": TOOL_TURN,
        "tools": [TOOL],
        "tool_choice": {"type": "function", "name": "get_weather"},
        "parallel_tool_calls": False,
        "text": {
            "format": {
                "type": "json_schema",
                "name": "w",
                "schema": {"type": "object"},
                "strict": True,
            },
            "verbosity": "low",
        },
        "max_output_tokens": 500,
        "temperature": 0.3,
        "top_p": 0.9,
        "reasoning": {"effort": "low"},
        "user": "u-1",
        "safety_identifier": "s-1",
        "prompt_cache_key": "k",
        "metadata": {"team": "x"},
        "store": True,
        "include": ["reasoning.encrypted_content"],
        "truncation": "disabled",
        "stream": True,
    }
    sent = ResponsesToChat("responses", 4096).request_body(body, "gemini-2.5-flash")
    check_request_type(CHAT_REQUEST, sent)
    assert sent["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "system", "content": "Answer briefly."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "Weather in Paris and Rome?"},
                {
                    "type": "image_url",
                    "image_url": {"url": "https://example.com/a.png", "detail": "low"},
                },
            ],
        },
        {
            "role": "assistant",
            "content": "Checking.",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Paris"}'},
                },
                {
                    "id": "call_2",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": '{"city":"Rome"}'},
                },
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
        {"role": "tool", "tool_call_id": "call_2", "content": "21C"},
    ]
    assert sent["model"] == "gemini-2.5-flash"
    assert sent["tools"] == [
        {
            "type": "function",
            "function": {k: TOOL[k] for k in ("name", "description", "parameters", "strict")},
        }
    ]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "w", "schema": {"type": "object"}, "strict": True},
    }
    assert (sent["verbosity"], sent["reasoning_effort"], sent["max_tokens"]) == ("low", "low", 500)
    assert (sent["user"], sent["safety_identifier"], sent["prompt_cache_key"]) == (
        "u-1",
        "s-1",
        "k",
    )
    assert sent["stream_options"] == {"include_usage": True}
    assert not {"store", "metadata", "include", "input", "instructions"} & set(sent)


def test_chat_request_files_json_object_and_allowed_tools() -> None:
    pdf = {
        "type": "input_file",
        "file_data": "data:application/pdf;base64,JVBERi0=",
        "filename": "a.pdf",
    }
    sent = chat_translator(
        {
            "model": "m",
            "input": [{"role": "user", "content": [pdf]}],
            "tools": [TOOL],
            "tool_choice": {
                "type": "allowed_tools",
                "mode": "required",
                "tools": [{"type": "function", "name": "get_weather"}],
            },
            "text": {"format": {"type": "json_object"}},
        }
    )[1]
    check_request_type(CHAT_REQUEST, sent)
    assert sent["messages"][0]["content"] == [
        {"type": "file", "file": {"file_data": pdf["file_data"], "filename": "a.pdf"}}
    ]
    assert sent["tool_choice"]["allowed_tools"]["tools"] == [
        {"type": "function", "function": {"name": "get_weather"}}
    ]
    assert sent["response_format"] == {"type": "json_object"}
    assert "max_tokens" not in sent and "stream" not in sent


def test_chat_whole_answer_is_a_valid_response() -> None:
    translator, _ = chat_translator(
        {"model": "m", "input": "hi", "tools": [TOOL], "metadata": {"a": "b"}}
    )
    body = translator.response_body(orjson.dumps(CHAT_ANSWER))
    response = Response.model_validate(orjson.loads(body))
    assert response.id.startswith("resp_") and response.status == "completed"
    assert response.model == "gemini-2.5-flash" and response.metadata == {"a": "b"}
    assert [item.type for item in response.output] == [
        "reasoning",
        "message",
        "function_call",
        "function_call",
    ]
    assert response.output_text == "Let me look."
    calls = [(c.call_id, c.name, c.arguments) for c in response.output if c.type == "function_call"]
    assert calls == [
        ("call_a", "get_weather", '{"city":"Paris"}'),
        ("call_b", "get_weather", '{"city":"Rome"}'),
    ]
    assert all(
        c.id and c.id.startswith("fc_") for c in response.output if c.type == "function_call"
    )
    assert usage_counts(response) == (100, 40, 0, 30, 12, 130)
    assert translator.complete
    assert translator.usage.to_dict() == {
        "prompt_tokens": 100,
        "completion_tokens": 30,
        "total_tokens": 130,
        "cached_tokens": 40,
        "reasoning_tokens": 12,
    }
    via_sdk = sdk_client(body, "application/json").responses.create(model="m", input="hi")
    assert via_sdk.output_text == "Let me look."


def test_chat_answer_cut_by_max_tokens_is_incomplete() -> None:
    answer = {
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Par"},
                "finish_reason": "length",
            }
        ]
    }
    translator, _ = chat_translator()
    response = Response.model_validate(orjson.loads(translator.response_body(orjson.dumps(answer))))
    assert response.status == "incomplete" and response.incomplete_details is not None
    assert response.incomplete_details.reason == "max_output_tokens"
    assert response.usage is None and not translator.usage.seen
    assert response.output[0].status == "incomplete"  # the item the stop cut short


def test_chat_calls_without_an_index_are_calls_of_their_own() -> None:
    """Some servers send each call complete, with no index (or 0 for all)."""
    calls = [
        {
            "id": f"call_{c}",
            "type": "function",
            "function": {"name": "f", "arguments": f'{{"n":{c}}}'},
        }
        for c in (1, 2)
    ]
    message = {
        "role": "assistant",
        "content": None,
        "tool_calls": [{**c, "index": 0} for c in calls],
    }
    whole = {"choices": [{"index": 0, "message": message, "finish_reason": "tool_calls"}]}
    stream = chat_sse([chat_chunk({"tool_calls": [c]}) for c in calls])
    translator, _ = chat_translator()
    response = Response.model_validate(orjson.loads(translator.response_body(orjson.dumps(whole))))
    streamed = parse_events(chat_translator()[0].response_chunk(stream))[-1]["response"]
    for output in (response.model_dump()["output"], streamed["output"]):
        assert [(o["call_id"], o["arguments"]) for o in output] == [
            ("call_1", '{"n":1}'),
            ("call_2", '{"n":2}'),
        ]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=10_000), max_size=12))
def test_chat_stream_in_any_split_is_the_whole_answer(cuts: list[int]) -> None:
    translator, _ = chat_translator()
    events = parse_events(feed(translator, CHAT_STREAM, cuts))
    check_order(events)
    assert translator.complete
    final = events[-1]["response"]
    whole_translator, _ = chat_translator()
    whole = orjson.loads(whole_translator.response_body(orjson.dumps(CHAT_ANSWER)))
    strip = ("id", "created_at", "completed_at")
    assert [{k: v for k, v in i.items() if k != "id"} for i in final["output"]] == [
        {k: v for k, v in i.items() if k != "id"} for i in whole["output"]
    ]
    assert {k: v for k, v in final.items() if k not in (*strip, "output")} == {
        k: v for k, v in whole.items() if k not in (*strip, "output")
    }


def test_chat_stream_through_the_sdk_accumulator() -> None:
    translator, _ = chat_translator()
    kinds, final = sdk_stream(translator.response_chunk(CHAT_STREAM))
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert (
        "response.reasoning_text.delta" in kinds
        and "response.function_call_arguments.done" in kinds
    )
    assert final.output_text == "Let me look."
    assert [o.arguments for o in final.output if o.type == "function_call"] == [
        '{"city":"Paris"}',
        '{"city":"Rome"}',
    ]
    assert translator.usage.to_dict() is not None and translator.usage.prompt_tokens == 100


def test_chat_stream_is_complete_only_at_done() -> None:
    translator, _ = chat_translator()
    out = translator.response_chunk(
        chat_sse([chat_chunk({"content": "Hi"}), chat_chunk({}, "length")], done=False)
    )
    assert not translator.complete and b"response.completed" not in out
    out += translator.response_chunk(b"data: [DONE]\n\n")
    events = parse_events(out)
    check_order(events)
    assert translator.complete and events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


def test_chat_stream_error_and_interleaved_calls() -> None:
    translator, _ = chat_translator()
    error = {"error": {"message": "quota", "type": "rate_limit_error", "code": 429}}
    out = translator.response_chunk(b"data: " + orjson.dumps(error) + b"\n\n")
    assert translator.complete
    ((name, data),) = SSEParser().feed(out)
    event = orjson.loads(data)
    assert name == "error" and (event["message"], event["code"]) == ("quota", "429")
    EVENTS.validate_python(event)
    translator, _ = chat_translator()
    call = {"type": "function", "function": {"name": "f", "arguments": ""}}
    opened = [{"index": 0, "id": "a", **call}, {"index": 1, "id": "b", **call}]
    translator.response_chunk(chat_sse([chat_chunk({"tool_calls": opened})], done=False))
    late = [{"index": 0, "function": {"arguments": "{}"}}]
    with pytest.raises(ValueError):  # the relay turns it into a malformed-stream error
        translator.response_chunk(chat_sse([chat_chunk({"tool_calls": late})], done=False))
