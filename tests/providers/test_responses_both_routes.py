"""What both translated Responses routes do alike: refuse what they cannot serve (the
route is skipped, with an audit reason free of the app's values), answer upstream errors
in OpenAI's format, and take their own output back as the next turn's input (the Agents
SDK's tool loop)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import Response

from sidecar.providers.base import UnsupportedFeature
from sidecar.providers.responses_anthropic import ResponsesToAnthropic
from sidecar.providers.responses_chat import ResponsesToChat
from sidecar.relay import EventGuard
from sidecar.scrub import Scrubber
from tests.providers.responses_support import (
    ANTHROPIC_ANSWER,
    ANTHROPIC_REQUEST,
    CHAT_REQUEST,
    EVENTS,
    INCLUDE,
    TOOL,
    as_stream,
    chat_chunk,
    chat_sse,
    check_request_type,
)

# ---- what both translated routes refuse -------------------------------------------------

TRANSLATORS = [ResponsesToChat, ResponsesToAnthropic]
REFUSED = [
    ({"previous_response_id": "resp_1"}, "previous_response_id"),
    ({"conversation": "conv_1"}, "conversation"),
    ({"prompt": {"id": "pmpt_1"}}, "prompt"),
    ({"background": True}, "background"),
    ({"tools": [{"type": "web_search"}]}, "tool of type"),
    ({"tools": [{"type": "file_search", "vector_store_ids": ["vs_1"]}]}, "tool of type"),
    ({"tools": [{"type": "mcp", "server_label": "x", "server_url": "https://m"}]}, "tool of type"),
    ({"tools": [{"type": "code_interpreter", "container": {"type": "auto"}}]}, "tool of type"),
    ({"tools": [{"type": "computer_use_preview", "display_width": 1}]}, "tool of type"),
    ({"tools": [{**TOOL, "defer_loading": True}]}, "function tool fields"),
    ({"tool_choice": {"type": "web_search_preview"}, "tools": [TOOL]}, "tool_choice"),
    ({"include": ["message.output_text.logprobs"]}, "include"),
    ({"include": ["file_search_call.results"]}, "include"),
    ({"truncation": "auto"}, "truncation"),
    ({"reasoning": {"effort": "low", "summary": "auto"}}, "reasoning options"),
    ({"service_tier": "flex"}, "cannot express: service_tier"),
    ({"top_logprobs": 2}, "cannot express: top_logprobs"),
    ({"text": {"format": {"type": "grammar"}}}, "text.format"),
    ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "item_reference"),
    ({"input": [{"type": "computer_call_output", "call_id": "c"}]}, "input items of type"),
    (
        {"input": [{"role": "user", "content": [{"type": "input_image", "file_id": "file-1"}]}]},
        "file_id",
    ),
    (
        {"input": [{"role": "user", "content": [{"type": "input_file", "file_id": "file-1"}]}]},
        "input_file",
    ),
    (
        {
            "input": [
                {"role": "system", "content": [{"type": "input_image", "image_url": "https://x"}]}
            ]
        },
        "system content part",
    ),
]


@pytest.mark.parametrize("translator", TRANSLATORS)
@pytest.mark.parametrize(("extra", "reason"), REFUSED)
def test_what_a_translated_route_cannot_serve_skips_it(
    translator: Any, extra: dict[str, Any], reason: str
) -> None:
    with pytest.raises(UnsupportedFeature) as caught:
        translator("responses", 1024).request_body({"model": "m", "input": "hi", **extra}, "up")
    assert reason in str(caught.value)


def test_audit_reasons_carry_no_app_values() -> None:
    body = {"model": "m", "input": "hi", "my_secret_field_4111111111111111": 1}
    with pytest.raises(UnsupportedFeature) as caught:
        ResponsesToChat("responses", 1).request_body(body, "up")
    assert "4111" not in caught.value.audit and "1 other field(s)" in caught.value.audit
    kind = {"model": "m", "input": [{"type": "x-4111111111111111"}]}
    with pytest.raises(UnsupportedFeature) as caught:
        ResponsesToAnthropic("responses", 1).request_body(kind, "up")
    assert "4111" not in caught.value.audit


@pytest.mark.parametrize("translator", TRANSLATORS)
def test_only_the_responses_endpoint(translator: Any) -> None:
    with pytest.raises(UnsupportedFeature):
        translator("chat_completions", 1)


def test_the_request_type_check_can_fail() -> None:
    with pytest.raises(AssertionError):
        check_request_type(CHAT_REQUEST, {"model": "m", "messages": [], "input": "x"})
    with pytest.raises(ValueError):
        bad = {"role": "user", "content": [{"type": "input_text", "text": "x"}]}
        check_request_type(CHAT_REQUEST, {"model": "m", "messages": [bad]})


def test_chat_errors_in_openais_format() -> None:
    translator = ResponsesToChat("responses", 1)
    openai_error = {
        "error": {"message": "bad", "type": "invalid_request_error", "param": "x", "code": "c"}
    }
    assert orjson.loads(translator.error(400, orjson.dumps(openai_error))[1]) == openai_error
    gemini = [{"error": {"code": 400, "message": "Invalid value", "status": "INVALID_ARGUMENT"}}]
    status, body = translator.error(400, orjson.dumps(gemini))
    assert status == 400 and orjson.loads(body)["error"] == {
        "message": "Invalid value",
        "type": "invalid_request_error",
        "param": None,
        "code": 400,
    }
    assert orjson.loads(translator.error(502, b"<html>")[1])["error"]["type"] == "api_error"


def test_anthropic_errors_in_openais_format() -> None:
    body = {"type": "error", "error": {"type": "rate_limit_error", "message": "Slow down"}}
    status, out = ResponsesToAnthropic("responses", 1).error(429, orjson.dumps(body))
    assert status == 429
    assert orjson.loads(out) == {
        "error": {
            "message": "Slow down",
            "type": "rate_limit_error",
            "param": None,
            "code": "rate_limit_error",
        }
    }


@pytest.mark.parametrize(
    ("target", "stream", "error"),
    [
        (ResponsesToChat, chat_sse([chat_chunk({"content": "Hi"})]), b'data: {"error": {}}\n\n'),
        (
            ResponsesToAnthropic,
            as_stream(ANTHROPIC_ANSWER),
            b'event: error\ndata: {"type": "error", "error": {}}\n\n',
        ),
    ],
)
def test_the_relay_passes_every_event_and_holds_back_errors(
    target: Any, stream: bytes, error: bytes
) -> None:
    """The relay's guard (sidecar/relay.py) releases every translated event and holds an
    error event back, which the scrubber rebuilds as a Responses `error` event."""
    out = target("responses", 64)
    out.request_body({"model": "m", "input": "hi"}, "up")
    translated = out.response_chunk(stream)
    guard = EventGuard()
    assert guard.feed(translated) == (translated, True) and guard.error is None
    out = target("responses", 64)
    out.request_body({"model": "m", "input": "hi"}, "up")
    guard = EventGuard()
    assert guard.feed(out.response_chunk(error)) == (b"", False)
    assert guard.error is not None
    cleaned = Scrubber().error_object(guard.error)
    EVENTS.validate_python(cleaned)
    assert cleaned["type"] == "error" and cleaned["error"]["message"] == cleaned["message"]


@pytest.mark.parametrize("target", [ResponsesToAnthropic, ResponsesToChat])
def test_tool_round_trip_feeds_the_output_back(target: Any) -> None:
    """Turn one's output items, replayed with the tool results, are turn two's input."""
    first = target("responses", 512)
    body = {"model": "m", "input": "Weather?", "tools": [TOOL], "include": INCLUDE}
    first.request_body(body, "up")
    answer = (
        orjson.dumps(ANTHROPIC_ANSWER)
        if target is ResponsesToAnthropic
        else orjson.dumps(
            {
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "tool_calls",
                        "message": {
                            "role": "assistant",
                            "content": "I'll check both.",
                            "tool_calls": [
                                {
                                    "id": "toolu_1",
                                    "type": "function",
                                    "function": {
                                        "name": "get_weather",
                                        "arguments": '{"city":"Paris"}',
                                    },
                                },
                                {
                                    "id": "toolu_2",
                                    "type": "function",
                                    "function": {"name": "get_time", "arguments": "{}"},
                                },
                            ],
                        },
                    }
                ]
            }
        )
    )
    output = Response.model_validate(orjson.loads(first.response_body(answer))).output
    replay = [
        {"role": "user", "content": "Weather?"},
        *(o.model_dump(exclude_none=True) for o in output),
    ]
    replay += [
        {"type": "function_call_output", "call_id": "toolu_1", "output": "18C"},
        {"type": "function_call_output", "call_id": "toolu_2", "output": "noon"},
    ]
    sent = target("responses", 512).request_body({**body, "input": replay}, "up")
    if target is ResponsesToAnthropic:
        check_request_type(ANTHROPIC_REQUEST, sent)
        assistant, results = sent["messages"][1]["content"], sent["messages"][2]["content"]
        assert assistant[0] == {
            "type": "thinking",
            "thinking": "Two cities.",
            "signature": "c2lnLTE=",
        }
        assert [b["id"] for b in assistant if b["type"] == "tool_use"] == ["toolu_1", "toolu_2"]
        assert [b["tool_use_id"] for b in results] == ["toolu_1", "toolu_2"]
    else:
        assistant = sent["messages"][1]
        assert assistant["content"] == "I'll check both."
        assert [c["id"] for c in assistant["tool_calls"]] == ["toolu_1", "toolu_2"]
        assert [m["tool_call_id"] for m in sent["messages"][2:]] == ["toolu_1", "toolu_2"]
