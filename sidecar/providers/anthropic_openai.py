"""Anthropic Messages from the app, OpenAI-format upstream (e.g. OpenRouter); responses back.

Maps `system` to a system message, text and image blocks to content parts, `tool_use`
blocks to assistant tool calls and `tool_result` blocks to tool messages (ahead of the
user's text, as OpenAI expects), tools and tool_choice, stop_sequences, temperature, top_p,
max_tokens, metadata.user_id, and `output_config.format` to response_format json_schema.
Thinking, top_k, documents, server tools and other Anthropic-only features raise
UnsupportedFeature. Streams become Anthropic's event sequence.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.api.anthropic import ERROR_TYPES
from sidecar.api.fields_anthropic import DOCUMENTED
from sidecar.classify.walk import named_fields
from sidecar.providers.anthropic_openai_content import (
    assistant_message,
    plain_text,
    tool_choice,
    user_messages,
)
from sidecar.providers.base import (
    SSEParser,
    UnsupportedFeature,
    Usage,
    relayed_headers,
    sse_event,
    upstream_error,
)

TRANSLATED = frozenset(
    {
        "model",
        "messages",
        "max_tokens",
        "system",
        "stop_sequences",
        "temperature",
        "top_p",
        "stream",
        "tools",
        "tool_choice",
        "metadata",
        "output_config",
    }
)
STOP = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


class AnthropicToOpenAI:
    def __init__(self, endpoint: str, default_max_tokens: int = 0) -> None:
        if endpoint != "messages":
            raise UnsupportedFeature(f"Anthropic {endpoint} on an OpenAI-format upstream")
        self.usage = Usage()
        self.complete = False
        self._events = SSEParser()
        self._started = False
        self._open: tuple[str, int] | None = None  # (kind, openai tool index)
        self._block = -1
        self._stop = "end_turn"
        self._model = ""
        self._id = "msg_" + uuid.uuid4().hex[:24]
        self._openai_usage: dict[str, Any] = {}

    # ---- request ------------------------------------------------------------------------

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        unknown = sorted(k for k, v in body.items() if k not in TRANSLATED and v is not None)
        if unknown:
            raise UnsupportedFeature(
                "an OpenAI-format upstream cannot express: " + ", ".join(unknown),
                audit="an OpenAI-format upstream cannot express: "
                + named_fields(unknown, DOCUMENTED),
            )
        messages: list[dict[str, Any]] = []
        if body.get("system"):
            messages.append({"role": "system", "content": plain_text(body["system"], "system")})
        for msg in body["messages"]:
            if msg["role"] == "user":
                messages.extend(user_messages(msg.get("content")))
            else:
                messages.append(assistant_message(msg.get("content")))
        out: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": body["max_tokens"],
        }
        for key in ("temperature", "top_p"):
            if body.get(key) is not None:
                out[key] = body[key]
        if body.get("stop_sequences"):
            out["stop"] = list(body["stop_sequences"])
        if body.get("stream"):
            out["stream"] = True
            out["stream_options"] = {"include_usage": True}
        if body.get("tools"):
            out["tools"] = [self._tool(t) for t in body["tools"]]
        if body.get("tool_choice"):
            choice, parallel = tool_choice(body["tool_choice"])
            out["tool_choice"] = choice
            if parallel is not None:
                out["parallel_tool_calls"] = parallel
        metadata = body.get("metadata") or {}
        if set(metadata) - {"user_id"}:
            raise UnsupportedFeature("metadata other than user_id")
        if metadata.get("user_id"):
            out["user"] = metadata["user_id"]
        config = body.get("output_config") or {}
        if set(config) - {"format"}:
            raise UnsupportedFeature("output_config other than format")
        fmt = config.get("format")
        if fmt:
            if fmt.get("type") != "json_schema":
                raise UnsupportedFeature(f"output format {fmt.get('type')!r}")
            out["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": "output", "schema": fmt.get("schema", {}), "strict": True},
            }
        return out

    @staticmethod
    def _tool(tool: dict[str, Any]) -> dict[str, Any]:
        if tool.get("type") not in (None, "custom"):
            raise UnsupportedFeature(f"server tool {tool.get('type')!r}")
        fn: dict[str, Any] = {
            "name": tool.get("name"),
            "parameters": tool.get("input_schema") or {},
        }
        if tool.get("description"):
            fn["description"] = tool["description"]
        return {"type": "function", "function": fn}

    # ---- response -----------------------------------------------------------------------

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return relayed_headers(headers)

    @staticmethod
    def _anthropic_usage(usage: Any) -> dict[str, int]:
        usage = usage if isinstance(usage, dict) else {}
        cached = int((usage.get("prompt_tokens_details") or {}).get("cached_tokens") or 0)
        return {
            "input_tokens": int(usage.get("prompt_tokens") or 0) - cached,
            "output_tokens": int(usage.get("completion_tokens") or 0),
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cached,
        }

    def response_body(self, body: bytes) -> bytes:
        parsed = orjson.loads(body)
        choice = (parsed.get("choices") or [{}])[0]
        message = choice.get("message") or {}
        content: list[dict[str, Any]] = []
        if message.get("content"):
            content.append({"type": "text", "text": message["content"]})
        for call in message.get("tool_calls") or []:
            fn = call.get("function") or {}
            content.append(
                {
                    "type": "tool_use",
                    "id": call.get("id"),
                    "name": fn.get("name"),
                    "input": orjson.loads(fn.get("arguments") or "{}"),
                }
            )
        self.usage.update(parsed.get("usage"))
        self.complete = True
        return orjson.dumps(
            {
                "id": "msg_" + str(parsed.get("id", "")),
                "type": "message",
                "role": "assistant",
                "model": parsed.get("model"),
                "content": content,
                "stop_reason": STOP.get(choice.get("finish_reason") or "", "end_turn"),
                "stop_sequence": None,
                "usage": self._anthropic_usage(parsed.get("usage")),
            }
        )

    def response_chunk(self, chunk: bytes) -> bytes:
        out = bytearray()
        for _, data in self._events.feed(chunk):
            if data == b"[DONE]":
                out += self._finish()
                continue
            event = orjson.loads(data)
            if "error" in event:
                self.complete = True
                error = event.get("error") or {}
                out += sse_event(
                    "error", orjson.dumps({"type": "error", "error": _error(error, "api_error")})
                )
                continue
            out += self._chunk(event)
        return bytes(out)

    def _emit(self, name: str, data: dict[str, Any]) -> bytes:
        return sse_event(name, orjson.dumps({"type": name, **data}))

    def _close_block(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        return self._emit("content_block_stop", {"index": self._block})

    def _open_block(self, kind: str, start: dict[str, Any], tool_index: int = -1) -> bytes:
        out = self._close_block()
        self._block += 1
        self._open = (kind, tool_index)
        return out + self._emit(
            "content_block_start", {"index": self._block, "content_block": start}
        )

    def _chunk(self, event: dict[str, Any]) -> bytes:
        out = b""
        if not self._started:
            self._started = True
            self._model = event.get("model", "")
            out += self._emit(
                "message_start",
                {
                    "message": {
                        "id": self._id,
                        "type": "message",
                        "role": "assistant",
                        "model": self._model,
                        "content": [],
                        "stop_reason": None,
                        "stop_sequence": None,
                        "usage": {"input_tokens": 0, "output_tokens": 0},
                    }
                },
            )
        if event.get("usage"):
            self._openai_usage = event["usage"]
        for choice in event.get("choices") or []:
            delta = choice.get("delta") or {}
            if delta.get("content"):
                if self._open is None or self._open[0] != "text":
                    out += self._open_block("text", {"type": "text", "text": ""})
                out += self._emit(
                    "content_block_delta",
                    {
                        "index": self._block,
                        "delta": {"type": "text_delta", "text": delta["content"]},
                    },
                )
            for call in delta.get("tool_calls") or []:
                fn = call.get("function") or {}
                index = call.get("index", 0)
                if call.get("id") or self._open != ("tool_use", index):
                    out += self._open_block(
                        "tool_use",
                        {
                            "type": "tool_use",
                            "id": call.get("id"),
                            "name": fn.get("name"),
                            "input": {},
                        },
                        index,
                    )
                if fn.get("arguments"):
                    out += self._emit(
                        "content_block_delta",
                        {
                            "index": self._block,
                            "delta": {"type": "input_json_delta", "partial_json": fn["arguments"]},
                        },
                    )
            if choice.get("finish_reason"):
                self._stop = STOP.get(choice["finish_reason"], "end_turn")
        return out

    def _finish(self) -> bytes:
        usage = self._anthropic_usage(self._openai_usage)
        self.usage.update(self._openai_usage)
        self.complete = True
        return (
            self._close_block()
            + self._emit(
                "message_delta",
                {
                    "delta": {"stop_reason": self._stop, "stop_sequence": None},
                    "usage": {"output_tokens": usage["output_tokens"]},
                },
            )
            + self._emit("message_stop", {})
        )

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        error = _error(upstream_error(body), ERROR_TYPES.get(status, "api_error"))
        return status, orjson.dumps({"type": "error", "error": error})


def _error(error: dict[str, Any], kind: str) -> dict[str, Any]:
    """OpenAI's error object in Anthropic's terms: its message, and its code when it has
    one (the sidecar's own Anthropic errors carry a `code` too). The text is still the
    upstream's, cleaned later (sidecar/scrub.py)."""
    out = {"type": kind, "message": error.get("message", "upstream error")}
    if error.get("code") is not None:
        out["code"] = error["code"]
    return out
