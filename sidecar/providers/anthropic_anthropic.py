"""Anthropic-format app to Anthropic upstream: pass-through with the model rewritten.

Usage is read from `message_start` (input and cache tokens) and `message_delta` (output
tokens); chunks are otherwise relayed untouched.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.providers.base import SSEParser
from sidecar.providers.passthrough import PassThrough


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


class AnthropicToAnthropic(PassThrough):
    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self._events = SSEParser()
        self._input: dict[str, Any] = {}

    def body_usage(self, body: dict[str, Any]) -> Any:
        return anthropic_usage(body.get("usage")) if self.endpoint == "messages" else None

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
