"""OpenAI Responses from the app, Anthropic Messages upstream; Responses back.

`instructions` and system/developer messages become `system`; the input items become turns
(responses_anthropic_content.py); function tools, tool_choice and parallel_tool_calls,
max_output_tokens (or the route's default: Anthropic requires one), temperature, top_p and
`text.format` map as openai_anthropic.py maps their chat equivalents (a JSON schema as
`output_config.format`, json_object as an instruction); reasoning effort becomes
`output_config.effort` and safety_identifier (else user) `metadata.user_id`. Everything
else raises UnsupportedFeature (see responses_input.py).

The answer's blocks become output items, whole or as the typed event stream: text a
message, tool_use a function_call, thinking a reasoning item whose signature is its
`encrypted_content` when the request includes `reasoning.encrypted_content`. Errors, in
bodies and as stream events, come back in OpenAI's format (openai_anthropic.py's mapping).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.providers.base import SSEParser, UnsupportedFeature, Usage, relayed_headers
from sidecar.providers.openai_anthropic import (
    DEFAULT_MAX_TOKENS,
    JSON_OBJECT_INSTRUCTION,
    OpenAIToAnthropic,
    openai_usage,
)
from sidecar.providers.openai_anthropic_content import tool_choice
from sidecar.providers.responses_anthropic_content import anthropic_turns
from sidecar.providers.responses_events import ResponseBuilder, responses_usage
from sidecar.providers.responses_input import (
    TRANSLATED,
    chat_response_format,
    chat_tool_choice,
    check_request,
    function_tools,
    reasoning_effort,
)

INCOMPLETE = {
    "max_tokens": "max_output_tokens",
    "model_context_window_exceeded": "max_output_tokens",
    "refusal": "content_filter",
}
"""Anthropic stop_reason -> Responses incomplete_details.reason (any other: completed)."""
EFFORTS = frozenset({"low", "medium", "high", "xhigh", "max"})


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "name": tool.get("name"),
        "input_schema": tool.get("parameters") or {"type": "object", "properties": {}},
    }
    for key in ("description", "strict"):
        if tool.get(key) is not None:
            out[key] = tool[key]
    return out


def chat_usage(usage: Any) -> dict[str, Any]:
    """Anthropic usage in Chat Completions' terms (openai_usage), with thinking tokens as
    reasoning tokens."""
    out = openai_usage(usage)
    details = usage.get("output_tokens_details") if isinstance(usage, dict) else None
    thinking = details.get("thinking_tokens") if isinstance(details, dict) else None
    if out and isinstance(thinking, int):
        out["completion_tokens_details"] = {"reasoning_tokens": thinking}
    return out


class ResponsesToAnthropic:
    def __init__(self, endpoint: str, default_max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        if endpoint != "responses":
            raise UnsupportedFeature(f"OpenAI {endpoint} on a Responses-to-Anthropic route")
        self.default_max_tokens = default_max_tokens
        self.usage = Usage()
        self.complete = False
        self._events = SSEParser()
        self._request: dict[str, Any] = {}
        self._model = ""
        self._stream: ResponseBuilder | None = None
        self._blocks: dict[Any, str] = {}
        self._anthropic_usage: dict[str, Any] = {}
        self._stop: str | None = None

    # ---- request ------------------------------------------------------------------------

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        check_request(body, TRANSLATED, "Anthropic")
        effort = reasoning_effort(body.get("reasoning"))
        text = body.get("text") or {}
        if text.get("verbosity") is not None:
            raise UnsupportedFeature("text.verbosity")
        system = [body["instructions"]] if body.get("instructions") else []
        out: dict[str, Any] = {
            "model": model,
            "messages": anthropic_turns(body, system),
            "max_tokens": body.get("max_output_tokens") or self.default_max_tokens,
        }
        for key in ("temperature", "top_p"):
            if body.get(key) is not None:
                out[key] = body[key]
        tools = function_tools(body.get("tools"))
        if tools:
            out["tools"] = [_tool(t) for t in tools]
            choice = tool_choice(
                chat_tool_choice(body.get("tool_choice")), body.get("parallel_tool_calls")
            )
            if choice is not None:
                out["tool_choice"] = choice
        config: dict[str, Any] = {}
        fmt = chat_response_format(text)
        if fmt is not None and fmt["type"] == "json_schema":
            config["format"] = {"type": "json_schema", "schema": fmt["json_schema"]["schema"]}
        elif fmt is not None:
            system.append(JSON_OBJECT_INSTRUCTION)
        if effort is not None:
            if effort not in EFFORTS:
                raise UnsupportedFeature(f"reasoning effort {effort!r}")
            config["effort"] = effort
        if config:
            out["output_config"] = config
        if system:
            out["system"] = "\n\n".join(system)
        user = body.get("safety_identifier") or body.get("user")
        if user:
            out["metadata"] = {"user_id": user}
        if body.get("stream"):
            out["stream"] = True
        self._request, self._model = body, model
        return out

    # ---- response -----------------------------------------------------------------------

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return relayed_headers(headers)

    def _open(self, out: ResponseBuilder, index: Any, block: dict[str, Any]) -> bytes:
        """A content block begins; the ones a translated request cannot cause (server tool
        results) and redacted thinking, which has no text, are passed over."""
        kind = block.get("type")
        self._blocks[index] = kind or ""
        if kind == "text":
            return out.text(block.get("text") or "")
        if kind == "thinking":
            return out.text(block.get("thinking") or "", "reasoning_text")
        if kind == "tool_use":
            return out.function_call(block.get("id") or "", block.get("name") or "", index)
        return b""

    def _close(self, out: ResponseBuilder, index: Any) -> bytes:
        """Consecutive text blocks (Anthropic splits text at citations) stay one message
        item; a thinking or tool_use block is an item of its own."""
        kind = self._blocks.get(index)
        return out.close() if kind in ("thinking", "tool_use") else b""

    def _end(self, out: ResponseBuilder) -> bytes:
        usage = chat_usage(self._anthropic_usage)
        self.usage.update(usage)
        self.complete = True
        return out.finish(INCOMPLETE.get(self._stop or ""), responses_usage(usage))

    def response_body(self, body: bytes) -> bytes:
        msg = orjson.loads(body)
        out = ResponseBuilder(self._request, self._model, events=False)
        for index, block in enumerate(msg.get("content") or []):
            self._open(out, index, block)
            if block.get("type") == "tool_use":
                out.arguments(orjson.dumps(block.get("input") or {}).decode(), index)
            elif block.get("type") == "thinking":
                out.signature(block.get("signature") or "")
            self._close(out, index)
        self._anthropic_usage = msg.get("usage") or {}
        self._stop = msg.get("stop_reason")
        self._end(out)
        return orjson.dumps(out.final)

    def response_chunk(self, chunk: bytes) -> bytes:
        if self._stream is None:
            self._stream = ResponseBuilder(self._request, self._model, events=True)
        events = bytearray()
        for name, data in self._events.feed(chunk):
            if self.complete:
                break  # nothing after the end counts
            events += self._event(self._stream, name, orjson.loads(data) if data else {})
        return bytes(events)

    def _event(self, out: ResponseBuilder, name: str | None, event: dict[str, Any]) -> bytes:
        kind = event.get("type", name)
        index = event.get("index")
        if kind == "message_start":
            self._anthropic_usage = dict((event.get("message") or {}).get("usage") or {})
            return out.start()
        if kind == "content_block_start":
            return self._open(out, index, event.get("content_block") or {})
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            dtype = delta.get("type")
            if dtype == "text_delta":
                return out.text(delta.get("text") or "")
            if dtype == "thinking_delta":
                return out.text(delta.get("thinking") or "", "reasoning_text")
            if dtype == "input_json_delta":
                return out.arguments(delta.get("partial_json") or "", index)
            if dtype == "signature_delta":
                out.signature(delta.get("signature") or "")
            return b""  # citations: the text they cite has come as text
        if kind == "content_block_stop":
            return self._close(out, index)
        if kind == "message_delta":
            self._anthropic_usage.update(event.get("usage") or {})
            self._stop = (event.get("delta") or {}).get("stop_reason") or self._stop
            return b""
        if kind == "message_stop":
            return self._end(out)
        if kind == "error":
            self.complete = True
            error = event.get("error") or {}
            return out.error(error.get("message") or "upstream error", error.get("type"))
        return b""  # ping and future event types

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        """As an OpenAI chat app sees an Anthropic error: the same mapping."""
        return OpenAIToAnthropic("chat_completions").error(status, body)
