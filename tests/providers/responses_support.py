"""What the Responses translator tests share: the SDK types the translated bodies must
satisfy, a stream parser that checks every event against the openai SDK's event union and
the documented order, and an openai client answered in-process (no network)."""

from __future__ import annotations

import itertools
from typing import Any

import httpx2
import openai
import orjson
from anthropic.types import message_create_params
from openai.types.chat import completion_create_params
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from sidecar.providers.base import SSEParser
from tests.providers.test_translators import ANTHROPIC_TOOL_RESPONSE

EVENTS: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
CHAT_REQUEST = (
    completion_create_params.CompletionCreateParamsNonStreaming,
    completion_create_params.CompletionCreateParamsStreaming,
)
ANTHROPIC_REQUEST = (
    message_create_params.MessageCreateParamsNonStreaming,
    message_create_params.MessageCreateParamsStreaming,
)
"""A target's request types, without and with `stream`."""

TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    "strict": True,
}
# A second turn as the Agents SDK sends it: the first turn's output items replayed.
TOOL_TURN: list[dict[str, Any]] = [
    {"role": "developer", "content": "Answer briefly."},
    {
        "type": "message",
        "role": "user",
        "content": [
            {"type": "input_text", "text": "Weather in Paris and Rome?"},
            {"type": "input_image", "image_url": "https://example.com/a.png", "detail": "low"},
        ],
    },
    {
        "type": "reasoning",
        "id": "rs_1",
        "summary": [],
        "content": [{"type": "reasoning_text", "text": "two cities"}],
        "encrypted_content": "sig-1",
    },
    {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "status": "completed",
        "content": [{"type": "output_text", "text": "Checking.", "annotations": []}],
    },
    {
        "type": "function_call",
        "call_id": "call_1",
        "name": "get_weather",
        "arguments": '{"city":"Paris"}',
    },
    {
        "type": "function_call",
        "call_id": "call_2",
        "name": "get_weather",
        "arguments": '{"city":"Rome"}',
    },
    {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
    {
        "type": "function_call_output",
        "call_id": "call_2",
        "output": [{"type": "input_text", "text": "21C"}],
    },
]


def materialize(value: Any) -> Any:
    """pydantic validates an Iterable lazily: consuming it is what checks its items."""
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, list | tuple) or type(value).__name__ == "ValidatorIterator":
        return [materialize(v) for v in value]
    return value


def check_request_type(
    types: tuple[Any, Any], body: dict[str, Any], *, legacy: frozenset[str] = frozenset()
) -> None:
    """`body` is of the target SDK's request type: its top-level keys are known (`legacy`:
    fields the target's API still takes that this SDK no longer lists), and every value,
    however deep, validates."""
    typed = types[1] if body.get("stream") else types[0]
    known = typed.__required_keys__ | typed.__optional_keys__ | legacy
    assert set(body) <= known, set(body) - known
    adapter = TypeAdapter(typed)  # alive while the lazy iterators it made are consumed
    materialize(adapter.validate_python(body))


def parse_events(raw: bytes) -> list[dict[str, Any]]:
    """Every event parsed by the SDK's event union, its name its type, in sequence."""
    events = []
    for name, data in SSEParser().feed(raw):
        event = orjson.loads(data)
        assert name == event["type"]
        EVENTS.validate_python(event)
        events.append(event)
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    return events


def check_order(events: list[dict[str, Any]]) -> None:
    """created, in_progress, then each item from added to done before the next, then the end."""
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] in ("response.completed", "response.incomplete")
    current = -1
    for event in events[2:-1]:
        if event["type"] == "response.output_item.added":
            assert event["output_index"] == current + 1
            current = event["output_index"]
        assert event.get("output_index", current) == current
    assert events[-2]["type"] == "response.output_item.done"
    final = events[-1]["response"]
    assert len(final["output"]) == current + 1
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == final["output"]


def feed(translator: Any, raw: bytes, cuts: list[int]) -> bytes:
    points = sorted({c % (len(raw) + 1) for c in cuts} | {0, len(raw)})
    out = b"".join(translator.response_chunk(raw[a:b]) for a, b in itertools.pairwise(points))
    return out + translator.response_end()


def sdk_client(body: bytes, content_type: str) -> openai.OpenAI:
    """An openai client whose transport answers with `body`: no network at all."""
    transport = httpx2.MockTransport(
        lambda request: httpx2.Response(200, headers={"content-type": content_type}, content=body)
    )
    return openai.OpenAI(
        api_key="k",
        base_url="http://sidecar.test/v1",
        http_client=httpx2.Client(transport=transport),
    )


def usage_counts(response: Response) -> tuple[int, ...]:
    """input, of which cached and cache-written, output, of which reasoning, and total."""
    usage = response.usage
    assert usage is not None
    details = usage.input_tokens_details
    return (
        usage.input_tokens,
        details.cached_tokens,
        details.cache_write_tokens,
        usage.output_tokens,
        usage.output_tokens_details.reasoning_tokens,
        usage.total_tokens,
    )


def sdk_stream(raw: bytes) -> tuple[list[str], Response]:
    """The events through `client.responses.stream`, whose accumulator rebuilds the
    Response from the deltas and fails on events that do not fit together."""
    with sdk_client(raw, "text/event-stream").responses.stream(model="m", input="x") as stream:
        kinds = [event.type for event in stream]
        return kinds, stream.get_final_response()


INCLUDE = ["reasoning.encrypted_content"]
# An Anthropic answer with every block a translated request can cause: thinking, text split
# in two blocks (as citations split it), a tool call, and a tool call without parameters.
ANTHROPIC_ANSWER: dict[str, Any] = {
    "id": "msg_01",
    "type": "message",
    "role": "assistant",
    "model": "claude-sonnet-5",
    "content": [
        {"type": "thinking", "thinking": "Two cities.", "signature": "c2lnLTE="},
        {"type": "text", "text": "I'll check "},
        {"type": "text", "text": "both.", "citations": None},
        {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "toolu_2", "name": "get_time", "input": {}},
    ],
    "stop_reason": "tool_use",
    "stop_sequence": None,
    "usage": {**ANTHROPIC_TOOL_RESPONSE["usage"], "output_tokens_details": {"thinking_tokens": 30}},
}


def chat_chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "finish_reason": finish}
    return {
        "id": "c1",
        "object": "chat.completion.chunk",
        "model": "g",
        "choices": [choice],
        **extra,
    }


def chat_sse(chunks: list[dict[str, Any]], done: bool = True) -> bytes:
    body = b"".join(b"data: " + orjson.dumps(c) + b"\r\n\r\n" for c in chunks)
    return body + (b"data: [DONE]\r\n\r\n" if done else b"")


def anthropic_event(name: str, **data: Any) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) + b"\n\n"


def halves(text: str) -> list[str]:
    return [p for p in (text[: len(text) // 2], text[len(text) // 2 :]) if p]


def as_stream(message: dict[str, Any]) -> bytes:
    """`message` as Anthropic streams it: each block started empty, its text, thinking and
    input JSON in deltas (a tool without parameters gets none), then the stop and usage."""
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    out = anthropic_event("message_start", message=start) + anthropic_event("ping")
    for i, block in enumerate(message["content"]):
        kind = block["type"]
        empty = {"text": {"text": ""}, "thinking": {"thinking": "", "signature": ""}}.get(kind)
        opened = {**block, **(empty or {"input": {}})}
        out += anthropic_event("content_block_start", index=i, content_block=opened)
        if kind == "text":
            deltas = [{"type": "text_delta", "text": t} for t in halves(block["text"])]
        elif kind == "thinking":
            deltas = [{"type": "thinking_delta", "thinking": t} for t in halves(block["thinking"])]
            deltas.append({"type": "signature_delta", "signature": block["signature"]})
        else:
            arguments = orjson.dumps(block["input"]).decode() if block["input"] else ""
            deltas = [{"type": "input_json_delta", "partial_json": t} for t in halves(arguments)]
        for delta in deltas:
            out += anthropic_event("content_block_delta", index=i, delta=delta)
        out += anthropic_event("content_block_stop", index=i)
    stop = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    out += anthropic_event(
        "message_delta", delta=stop, usage={"output_tokens": usage["output_tokens"]}
    )
    return out + anthropic_event("message_stop")
