"""OpenAI chat completions from the app, Anthropic Messages upstream; responses back.

Maps system/developer messages to `system`, content parts (text, images as base64 or URL),
tools and tool_choice, tool calls to `tool_use` blocks and tool messages to `tool_result`
blocks (parallel results merged into one user turn), stop/temperature/top_p/max tokens,
response_format (json_schema as `output_config.format`, as Anthropic's structured outputs
recommend), user. Anything else raises UnsupportedFeature: the route is skipped, never
silently degraded.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.api.fields_openai import DOCUMENTED
from sidecar.classify.walk import named_fields
from sidecar.providers.anthropic_anthropic import anthropic_usage
from sidecar.providers.base import (
    SSEParser,
    UnsupportedFeature,
    Usage,
    relayed_headers,
    sse_data,
    upstream_error,
)
from sidecar.providers.openai_anthropic_content import (
    append_turn,
    assistant_blocks,
    text_of,
    tool_choice,
    user_blocks,
)

DEFAULT_MAX_TOKENS = 4096
TRANSLATED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "max_completion_tokens",
        "temperature",
        "top_p",
        "stop",
        "stream",
        "stream_options",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "user",
        "n",
    }
)
FINISH = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
JSON_OBJECT_INSTRUCTION = "Respond with a single valid JSON object and nothing else."


def openai_usage(usage: Any) -> dict[str, Any]:
    """Anthropic usage as OpenAI reports it: cache reads in prompt_tokens_details."""
    base = anthropic_usage(usage)
    if not base:
        return {}
    return {
        **base,
        "prompt_tokens_details": {
            "cached_tokens": int(usage.get("cache_read_input_tokens") or 0),
            "cache_creation_tokens": int(usage.get("cache_creation_input_tokens") or 0),
        },
    }


class OpenAIToAnthropic:
    def __init__(self, endpoint: str, default_max_tokens: int = DEFAULT_MAX_TOKENS) -> None:
        if endpoint != "chat_completions":
            raise UnsupportedFeature(f"OpenAI {endpoint} on an Anthropic upstream")
        self.default_max_tokens = default_max_tokens
        self.usage = Usage()
        self.complete = False
        self.include_usage = False
        self._events = SSEParser()
        self._chunk_head: dict[str, Any] = {}
        self._tool_index: dict[int, int] = {}
        self._anthropic_usage: dict[str, Any] = {}
        self._finish: str | None = None

    # ---- request ------------------------------------------------------------------------

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        unknown = sorted(k for k, v in body.items() if k not in TRANSLATED and v is not None)
        if unknown:
            raise UnsupportedFeature(
                "Anthropic cannot express: " + ", ".join(unknown),
                audit="Anthropic cannot express: " + named_fields(unknown, DOCUMENTED),
            )
        if body.get("n") not in (None, 1):
            raise UnsupportedFeature("n > 1")
        system: list[str] = []
        messages: list[dict[str, Any]] = []
        for msg in body["messages"]:
            role = msg["role"]
            if role in ("system", "developer"):
                system.append(text_of(msg.get("content"), role))
            elif role == "user":
                append_turn(messages, "user", user_blocks(msg.get("content")))
            elif role == "assistant":
                append_turn(messages, "assistant", assistant_blocks(msg))
            elif role == "tool":
                content = msg.get("content")
                result = content if isinstance(content, str) else user_blocks(content)
                append_turn(
                    messages,
                    "user",
                    [
                        {
                            "type": "tool_result",
                            "tool_use_id": msg.get("tool_call_id"),
                            "content": result,
                        }
                    ],
                )
            else:
                raise UnsupportedFeature(f"messages with role {role!r}")
        out: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": body.get("max_completion_tokens")
            or body.get("max_tokens")
            or self.default_max_tokens,
        }
        for key in ("temperature", "top_p"):
            if body.get(key) is not None:
                out[key] = body[key]
        stop = body.get("stop")
        if stop is not None:
            out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
        if body.get("stream"):
            out["stream"] = True
            self.include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        if body.get("tools"):
            out["tools"] = [self._tool(t) for t in body["tools"]]
        choice = tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"))
        if choice is not None:
            out["tool_choice"] = choice
        fmt = body.get("response_format") or {}
        if fmt.get("type") == "json_schema":
            schema = (fmt.get("json_schema") or {}).get("schema") or {"type": "object"}
            out["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
        elif fmt.get("type") == "json_object":
            system.append(JSON_OBJECT_INSTRUCTION)
        elif fmt and fmt.get("type") != "text":
            raise UnsupportedFeature(f"response_format {fmt.get('type')!r}")
        if system:
            out["system"] = "\n\n".join(system)
        if body.get("user"):
            out["metadata"] = {"user_id": body["user"]}
        return out

    @staticmethod
    def _tool(tool: dict[str, Any]) -> dict[str, Any]:
        if tool.get("type") != "function":
            raise UnsupportedFeature(f"tools of type {tool.get('type')!r}")
        fn = tool.get("function") or {}
        out = {
            "name": fn.get("name"),
            "input_schema": fn.get("parameters") or {"type": "object", "properties": {}},
        }
        if fn.get("description"):
            out["description"] = fn["description"]
        return out

    # ---- response -----------------------------------------------------------------------

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return relayed_headers(headers)

    def response_body(self, body: bytes) -> bytes:
        msg = orjson.loads(body)
        text, reasoning, calls = [], [], []
        for block in msg.get("content") or []:
            kind = block.get("type")
            if kind == "text":
                text.append(block["text"])
            elif kind == "thinking":
                reasoning.append(block.get("thinking", ""))
            elif kind == "tool_use":
                calls.append(
                    {
                        "id": block["id"],
                        "type": "function",
                        "function": {
                            "name": block["name"],
                            "arguments": orjson.dumps(block.get("input", {})).decode(),
                        },
                    }
                )
        message: dict[str, Any] = {
            "role": "assistant",
            "content": "".join(text) if text or not calls else None,
            "refusal": None,
        }
        if calls:
            message["tool_calls"] = calls
        if reasoning:
            message["reasoning"] = "".join(reasoning)
        usage = openai_usage(msg.get("usage"))
        self.usage.update(usage)
        self.complete = True
        return orjson.dumps(
            {
                "id": "chatcmpl-" + str(msg.get("id", "")),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": msg.get("model"),
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": FINISH.get(msg.get("stop_reason") or "", "stop"),
                    }
                ],
                "usage": usage,
            }
        )

    def response_chunk(self, chunk: bytes) -> bytes:
        out = bytearray()
        for name, data in self._events.feed(chunk):
            out += self._event(name, orjson.loads(data) if data else {})
        return bytes(out)

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        return sse_data(
            orjson.dumps(
                {
                    **self._chunk_head,
                    "choices": [
                        {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                    ],
                }
            )
        )

    def _event(self, name: str | None, event: dict[str, Any]) -> bytes:
        kind = event.get("type", name)
        if kind == "message_start":
            msg = event.get("message", {})
            self._anthropic_usage = dict(msg.get("usage") or {})
            self._chunk_head = {
                "id": "chatcmpl-" + str(msg.get("id", "")),
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": msg.get("model"),
            }
            return self._chunk({"role": "assistant", "content": ""})
        if kind == "content_block_start":
            block = event.get("content_block", {})
            if block.get("type") == "tool_use":
                index = self._tool_index.setdefault(event["index"], len(self._tool_index))
                return self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "id": block["id"],
                                "type": "function",
                                "function": {"name": block["name"], "arguments": ""},
                            }
                        ]
                    }
                )
            if block.get("type") == "text" and block.get("text"):
                return self._chunk({"content": block["text"]})
            return b""
        if kind == "content_block_delta":
            delta = event.get("delta", {})
            dtype = delta.get("type")
            if dtype == "text_delta":
                return self._chunk({"content": delta.get("text", "")})
            if dtype == "input_json_delta":
                index = self._tool_index.get(event["index"], 0)
                return self._chunk(
                    {
                        "tool_calls": [
                            {
                                "index": index,
                                "function": {"arguments": delta.get("partial_json", "")},
                            }
                        ]
                    }
                )
            if dtype == "thinking_delta":
                return self._chunk({"reasoning": delta.get("thinking", "")})
            return b""  # signature_delta: only meaningful to Anthropic itself
        if kind == "message_delta":
            self._anthropic_usage.update(event.get("usage") or {})
            self._finish = FINISH.get((event.get("delta") or {}).get("stop_reason") or "", "stop")
            return self._chunk({}, self._finish)
        if kind == "message_stop":
            usage = openai_usage(self._anthropic_usage)
            self.usage.update(usage)
            self.complete = True
            tail = b""
            if self.include_usage:
                tail = sse_data(orjson.dumps({**self._chunk_head, "choices": [], "usage": usage}))
            return tail + b"data: [DONE]\n\n"
        if kind == "error":
            self.complete = True
            error = event.get("error") or {}
            return sse_data(
                orjson.dumps(
                    {
                        "error": {
                            "message": error.get("message", "upstream error"),
                            "type": error.get("type"),
                            "param": None,
                            "code": error.get("type"),
                        }
                    }
                )
            )
        return b""  # ping and future event types

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        error = upstream_error(body)
        return status, orjson.dumps(
            {
                "error": {
                    "message": error.get("message", "upstream error"),
                    "type": error.get("type", "api_error"),
                    "param": None,
                    "code": error.get("type"),
                }
            }
        )
