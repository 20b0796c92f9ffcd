"""OpenAI-format app to OpenAI-format upstream (OpenAI, Gemini's compatible endpoint,
OpenRouter): a pass-through that rewrites the model name and watches the stream.

Chunks are relayed as received; only lines that carry usage (at most one per stream) are
parsed, so relaying costs a byte search per chunk rather than a JSON parse.
"""

from __future__ import annotations

import contextlib

import orjson

from sidecar.providers.base import SSELines
from sidecar.providers.passthrough import PassThrough

_DONE = b"data: [DONE]"
_USAGE = b'"usage":{'


class OpenAIToOpenAI(PassThrough):
    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self._lines = SSELines()

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
