"""OpenAI-format app to OpenAI-format upstream (OpenAI, Gemini's compatible endpoint,
OpenRouter): a pass-through that rewrites the model name and watches the stream.

Chunks are relayed as received; only lines that carry usage (at most one per stream) are
parsed, so relaying costs a byte search per chunk rather than a JSON parse.
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.providers.base import SSELines, Usage, relayed_headers

_DONE = b"data: [DONE]"
_USAGE = b'"usage":{'


class OpenAIToOpenAI:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.usage = Usage()
        self.complete = False
        self._lines = SSELines()

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
            self.usage.update(parsed.get("usage"))
            self.complete = True
        return body

    def response_chunk(self, chunk: bytes) -> bytes:
        if _USAGE in chunk or _DONE in chunk or self._lines.pending:
            for line in self._lines.feed(chunk):
                if line.startswith(_DONE):
                    self.complete = True
                elif _USAGE in line and line.startswith(b"data: "):
                    with contextlib.suppress(orjson.JSONDecodeError, AttributeError):
                        self.usage.update(orjson.loads(line[6:]).get("usage"))
        elif not chunk.endswith(b"\n"):
            self._lines.feed(chunk)
        return chunk

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        return status, body
