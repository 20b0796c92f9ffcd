"""Each translator on request and response shapes from the providers' public documentation,
and round-trip properties over generated conversations."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.providers.anthropic_anthropic import AnthropicToAnthropic
from sidecar.providers.anthropic_openai import AnthropicToOpenAI
from sidecar.providers.base import SSEParser, UnsupportedFeature
from sidecar.providers.openai_anthropic import OpenAIToAnthropic

# Anthropic's documented tool-use response (Messages API reference), with cache usage.
ANTHROPIC_TOOL_RESPONSE = {
    "id": "msg_01Aq9w938a90dw8q",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-5",
    "content": [
        {"type": "text", "text": "I'll check the weather."},
        {
            "type": "tool_use",
            "id": "toolu_01A09q90qw90lq917835lq9",
            "name": "get_weather",
            "input": {"location": "San Francisco, CA"},
        },
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {
        "input_tokens": 472,
        "output_tokens": 89,
        "cache_creation_input_tokens": 10,
        "cache_read_input_tokens": 100,
    },
}

# The documented streaming sequence for a tool call (event names and payload shapes).
ANTHROPIC_STREAM = b"".join(
    b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
    for name, data in [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    "id": "msg_1",
                    "type": "message",
                    "role": "assistant",
                    "content": [],
                    "model": "claude-sonnet-5",
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 25, "output_tokens": 1, "cache_read_input_tokens": 5},
                },
            },
        ),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        ("ping", {"type": "ping"}),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": "Checking"},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 1,
                "content_block": {
                    "type": "tool_use",
                    "id": "toolu_9",
                    "name": "get_weather",
                    "input": {},
                },
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": '{"loc'},
            },
        ),
        (
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 1,
                "delta": {"type": "input_json_delta", "partial_json": 'ation": "SF"}'},
            },
        ),
        ("content_block_stop", {"type": "content_block_stop", "index": 1}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": "tool_use", "stop_sequence": None},
                "usage": {"output_tokens": 15},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
)

# OpenAI's documented chat.completion with a tool call.
OPENAI_TOOL_RESPONSE = {
    "id": "chatcmpl-abc123",
    "object": "chat.completion",
    "created": 1699896916,
    "model": "gpt-4o-mini",
    "choices": [
        {
            "index": 0,
            "message": {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_abc123",
                        "type": "function",
                        "function": {
                            "name": "get_current_weather",
                            "arguments": '{\n"location": "Boston, MA"\n}',
                        },
                    }
                ],
            },
            "logprobs": None,
            "finish_reason": "tool_calls",
        }
    ],
    "usage": {
        "prompt_tokens": 82,
        "completion_tokens": 17,
        "total_tokens": 99,
        "prompt_tokens_details": {"cached_tokens": 20},
    },
}


def openai_sse(chunks: list[dict[str, Any]]) -> bytes:
    return b"".join(b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks) + b"data: [DONE]\n\n"


def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "created": 1,
        "model": "gpt-4o",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
    }


def feed_bytewise(translator: Any, data: bytes, step: int = 7) -> bytes:
    """Feed in awkward slices: SSE events split anywhere must still translate."""
    out = b"".join(translator.response_chunk(data[i : i + step]) for i in range(0, len(data), step))
    return out + translator.response_end()


def test_openai_request_to_anthropic_with_parallel_tool_results() -> None:
    body = {
        "model": "x",
        "temperature": 0.2,
        "top_p": 0.9,
        "max_completion_tokens": 300,
        "stop": "END",
        "parallel_tool_calls": False,
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "get_weather",
                    "description": "Weather",
                    "parameters": {"type": "object"},
                },
            }
        ],
        "messages": [
            {"role": "developer", "content": "Be terse."},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Compare"},
                    {
                        "type": "image_url",
                        "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="},
                    },
                    {"type": "image_url", "image_url": {"url": "https://example.com/a.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"c": "Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"c": "Rome"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"},
            {"role": "tool", "tool_call_id": "call_2", "content": "25C"},
            {"role": "user", "content": "Which is warmer?"},
        ],
    }
    out = OpenAIToAnthropic("chat_completions").request_body(body, "claude-sonnet-5")
    assert out["system"] == "Be terse." and out["max_tokens"] == 300
    assert out["stop_sequences"] == ["END"]
    assert out["tool_choice"] == {
        "type": "tool",
        "name": "get_weather",
        "disable_parallel_tool_use": True,
    }
    assert out["tools"] == [
        {"name": "get_weather", "description": "Weather", "input_schema": {"type": "object"}}
    ]
    user, assistant, results = out["messages"]
    assert user["content"][1] == {
        "type": "image",
        "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="},
    }
    assert user["content"][2]["source"] == {"type": "url", "url": "https://example.com/a.jpg"}
    assert [b["id"] for b in assistant["content"]] == ["call_1", "call_2"]
    assert assistant["content"][1]["input"] == {"c": "Rome"}
    assert [b.get("tool_use_id") for b in results["content"]] == ["call_1", "call_2", None]
    assert results["content"][2] == {"type": "text", "text": "Which is warmer?"}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [("auto", {"type": "auto"}), ("none", {"type": "none"}), ("required", {"type": "any"})],
)
def test_tool_choice_mapping(choice: str, expected: dict[str, str]) -> None:
    body = {"model": "x", "messages": [{"role": "user", "content": "hi"}], "tool_choice": choice}
    assert OpenAIToAnthropic("chat_completions").request_body(body, "m")["tool_choice"] == expected
    back = AnthropicToOpenAI("messages").request_body(
        {
            "model": "m",
            "max_tokens": 5,
            "messages": [{"role": "user", "content": "hi"}],
            "tool_choice": expected,
        },
        "x",
    )
    assert back["tool_choice"] == choice


def test_anthropic_response_to_openai_keeps_tool_calls_and_cache_usage() -> None:
    t = OpenAIToAnthropic("chat_completions")
    out = orjson.loads(t.response_body(orjson.dumps(ANTHROPIC_TOOL_RESPONSE)))
    choice = out["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "I'll check the weather."
    call = choice["message"]["tool_calls"][0]
    assert call["id"] == "toolu_01A09q90qw90lq917835lq9"
    assert orjson.loads(call["function"]["arguments"]) == {"location": "San Francisco, CA"}
    assert out["usage"]["prompt_tokens"] == 582 and out["usage"]["completion_tokens"] == 89
    assert out["usage"]["prompt_tokens_details"] == {
        "cached_tokens": 100,
        "cache_creation_tokens": 10,
    }
    assert t.usage.total_tokens == 671 and t.complete


def test_anthropic_stream_to_openai_chunks() -> None:
    t = OpenAIToAnthropic("chat_completions")
    t.include_usage = True
    out = feed_bytewise(t, ANTHROPIC_STREAM)
    events = [data for _, data in SSEParser().feed(out)]
    assert events[-1] == b"[DONE]"
    chunks = [orjson.loads(e) for e in events[:-1]]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    args = "".join(
        tc["function"].get("arguments", "")
        for c in chunks
        if c["choices"]
        for tc in c["choices"][0]["delta"].get("tool_calls", [])
    )
    assert text == "Checking" and orjson.loads(args) == {"location": "SF"}
    assert [c["choices"][0]["finish_reason"] for c in chunks if c["choices"]][-1] == "tool_calls"
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["prompt_tokens"] == 30
    assert chunks[-1]["usage"]["completion_tokens"] == 15 and t.complete


def test_openai_response_to_anthropic_message() -> None:
    t = AnthropicToOpenAI("messages")
    out = orjson.loads(t.response_body(orjson.dumps(OPENAI_TOOL_RESPONSE)))
    assert out["type"] == "message" and out["stop_reason"] == "tool_use"
    assert out["content"] == [
        {
            "type": "tool_use",
            "id": "call_abc123",
            "name": "get_current_weather",
            "input": {"location": "Boston, MA"},
        }
    ]
    assert out["usage"] == {
        "input_tokens": 62,
        "output_tokens": 17,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 20,
    }


def test_openai_stream_to_anthropic_events() -> None:
    stream = openai_sse(
        [
            chunk({"role": "assistant", "content": ""}),
            chunk({"content": "Hel"}),
            chunk({"content": "lo"}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "call_1",
                            "type": "function",
                            "function": {"name": "f", "arguments": ""},
                        }
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"a":'}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": " 1}"}}]}),
            chunk(
                {
                    "tool_calls": [
                        {
                            "index": 1,
                            "id": "call_2",
                            "type": "function",
                            "function": {"name": "g", "arguments": "{}"},
                        }
                    ]
                }
            ),
            chunk({}, "tool_calls"),
            {
                **chunk({}),
                "choices": [],
                "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13},
            },
        ]
    )
    t = AnthropicToOpenAI("messages")
    events = [(n, orjson.loads(d)) for n, d in SSEParser().feed(feed_bytewise(t, stream, 5))]
    names = [n for n, _ in events]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    starts = [e["content_block"] for n, e in events if n == "content_block_start"]
    assert [s["type"] for s in starts] == ["text", "tool_use", "tool_use"]
    assert [s.get("id") for s in starts[1:]] == ["call_1", "call_2"]
    assert names.count("content_block_stop") == 3
    partial = "".join(
        e["delta"]["partial_json"]
        for n, e in events
        if n == "content_block_delta" and e["index"] == 1
    )
    assert orjson.loads(partial) == {"a": 1}
    delta = events[-2][1]
    assert delta["delta"]["stop_reason"] == "tool_use" and delta["usage"]["output_tokens"] == 4
    assert t.complete and t.usage.total_tokens == 13


def test_errors_are_translated_both_ways() -> None:
    overloaded = orjson.dumps(
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
    )
    status, body = OpenAIToAnthropic("chat_completions").error(529, overloaded)
    assert status == 529 and orjson.loads(body)["error"]["type"] == "overloaded_error"
    openai_err = orjson.dumps({"error": {"message": "bad", "type": "invalid_request_error"}})
    status, body = AnthropicToOpenAI("messages").error(400, openai_err)
    assert orjson.loads(body) == {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "bad"},
    }


@pytest.mark.parametrize(
    "body",
    [
        {"n": 2},
        {"logprobs": True},
        {"frequency_penalty": 0.5},
        {"messages": [{"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]}]},
        {"response_format": {"type": "grammar"}},
    ],
)
def test_openai_features_anthropic_cannot_express(body: dict[str, Any]) -> None:
    request = {"model": "x", "messages": [{"role": "user", "content": "hi"}], **body}
    with pytest.raises(UnsupportedFeature):
        OpenAIToAnthropic("chat_completions").request_body(request, "m")


@pytest.mark.parametrize(
    "body",
    [
        {"thinking": {"type": "enabled", "budget_tokens": 1024}},
        {"top_k": 5},
        {"messages": [{"role": "user", "content": [{"type": "document", "source": {}}]}]},
        {"tools": [{"type": "web_search_20250305", "name": "web_search"}]},
    ],
)
def test_anthropic_features_openai_cannot_express(body: dict[str, Any]) -> None:
    request = {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "hi"}],
        **body,
    }
    with pytest.raises(UnsupportedFeature):
        AnthropicToOpenAI("messages").request_body(request, "x")


def test_anthropic_passthrough_counts_usage_from_the_stream() -> None:
    t = AnthropicToAnthropic("messages")
    assert feed_bytewise(t, ANTHROPIC_STREAM, 11) == ANTHROPIC_STREAM
    assert t.complete and t.usage.prompt_tokens == 30 and t.usage.completion_tokens == 15


# ---- properties ---------------------------------------------------------------------------

text = st.text(min_size=1, max_size=40)
ident = st.from_regex(r"call_[A-Za-z0-9]{4,12}", fullmatch=True)
name = st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True)
args = st.dictionaries(
    name, st.one_of(st.integers(-(2**53), 2**53), text, st.booleans()), max_size=4
)


@st.composite
def conversations(draw: st.DrawFn) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = [{"role": "system", "content": draw(text)}]
    for _ in range(draw(st.integers(1, 3))):
        messages.append({"role": "user", "content": draw(text)})
        calls = draw(st.lists(st.tuples(ident, name, args), max_size=3, unique_by=lambda c: c[0]))
        if calls:
            messages.append(
                {
                    "role": "assistant",
                    "content": draw(st.one_of(st.none(), text)),
                    "tool_calls": [
                        {
                            "id": i,
                            "type": "function",
                            "function": {"name": n, "arguments": orjson.dumps(a).decode()},
                        }
                        for i, n, a in calls
                    ],
                }
            )
            messages.extend(
                {"role": "tool", "tool_call_id": i, "content": draw(text)} for i, _, _ in calls
            )
        else:
            messages.append({"role": "assistant", "content": draw(text)})
    return messages


def _texts_and_calls(
    messages: list[dict[str, Any]],
) -> tuple[list[str], list[tuple[str, str, Any]]]:
    texts, calls = [], []
    for m in messages:
        if isinstance(m.get("content"), str) and m["content"]:
            texts.append(m["content"])
        for c in m.get("tool_calls") or []:
            calls.append((c["id"], c["function"]["name"], orjson.loads(c["function"]["arguments"])))
    return texts, calls


@settings(max_examples=80, deadline=None)
@given(conversations())
def test_request_round_trip_keeps_text_ids_names_and_arguments(
    messages: list[dict[str, Any]],
) -> None:
    there = OpenAIToAnthropic("chat_completions").request_body(
        {"model": "x", "messages": messages}, "m"
    )
    back = AnthropicToOpenAI("messages").request_body(there, "x")
    assert _texts_and_calls(back["messages"]) == _texts_and_calls(messages)
    tool_ids = [m["tool_call_id"] for m in back["messages"] if m["role"] == "tool"]
    assert tool_ids == [m["tool_call_id"] for m in messages if m["role"] == "tool"]


@settings(max_examples=80, deadline=None)
@given(st.one_of(st.none(), text), st.lists(st.tuples(ident, name, args), max_size=3))
def test_response_round_trip(answer: str | None, calls: list[tuple[str, str, Any]]) -> None:
    content: list[dict[str, Any]] = [{"type": "text", "text": answer}] if answer else []
    content += [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in calls]
    message = {**ANTHROPIC_TOOL_RESPONSE, "content": content}
    as_openai = OpenAIToAnthropic("chat_completions").response_body(orjson.dumps(message))
    back = orjson.loads(AnthropicToOpenAI("messages").response_body(as_openai))
    assert back["content"] == content
