"""Anthropic-format app to Anthropic upstream: pass-through with the model rewritten.

Usage is read from `message_start` (input and cache tokens) and `message_delta` (output
tokens); chunks are otherwise relayed untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.providers.base import SSEParser, Usage, relayed_headers


def anthropic_usage(usage: Any) -> dict[str, int]:
    """Anthropic usage in OpenAI's terms, for metrics and audit: prompt includes cache."""
    if not isinstance(usage, dict):
        return {}
    inp = int(usage.get("input_tokens") or 0)
    read = int(usage.get("cache_read_input_tokens") or 0)
    created = int(usage.get("cache_creation_input_tokens") or 0)
    out = int(usage.get("output_tokens") or 0)
    prompt = inp + read + created
    return {"prompt_tokens": prompt, "completion_tokens": out, "total_tokens": prompt + out}


class AnthropicToAnthropic:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.usage = Usage()
        self.complete = False
        self._events = SSEParser()
        self._input: dict[str, Any] = {}

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        return {**body, "model": model}

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return relayed_headers(headers)

    def response_body(self, body: bytes) -> bytes:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if isinstance(parsed, dict):
            if self.endpoint == "messages":
                self.usage.update(anthropic_usage(parsed.get("usage")))
            self.complete = True
        return body

    def response_chunk(self, chunk: bytes) -> bytes:
        for name, data in self._events.feed(chunk):
            if name == "message_start":
                self._input = orjson.loads(data).get("message", {}).get("usage", {})
                self.usage.update(anthropic_usage(self._input))
            elif name == "message_delta":
                delta_usage = orjson.loads(data).get("usage") or {}
                self.usage.update(anthropic_usage({**self._input, **delta_usage}))
            elif name == "message_stop":
                self.complete = True
        return chunk

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        return status, body
