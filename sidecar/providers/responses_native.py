"""Responses API from the app, Responses API upstream (OpenAI, Azure OpenAI's v1 API,
OpenRouter): a pass-through that rewrites the model and watches what it relays.

It learns two things on the way: the id of the response the upstream created (so a later
continuation can be sent to the route that stored it, sidecar/continuations.py) and the
usage, which the Responses API reports in the body, or in the stream's final
`response.completed` / `response.incomplete` event. Only the lines that carry one of those
are parsed; every other chunk costs a byte search.
"""

from __future__ import annotations

import contextlib
from typing import Any

import orjson

from sidecar.providers.base import SSELines
from sidecar.providers.passthrough import PassThrough

_CREATED = b'response.created"'
_ENDS = (b'response.completed"', b'response.incomplete"', b'response.failed"')
"""The documented last events of a stream (the `type` value, closing quote included)."""
_MARKERS = (_CREATED, *_ENDS)


class ResponsesNative(PassThrough):
    def __init__(self, endpoint: str) -> None:
        super().__init__(endpoint)
        self.response_id: str | None = None
        """The id the upstream gave its response (None until seen)."""
        self._lines = SSELines()

    def body_usage(self, body: dict[str, Any]) -> Any:
        response_id = body.get("id")
        if isinstance(response_id, str) and body.get("object") == "response":
            self.response_id = response_id
        return body.get("usage")

    def response_chunk(self, chunk: bytes) -> bytes:
        if self._lines.pending or any(m in chunk for m in _MARKERS):
            for line in self._lines.feed(chunk):
                if line.startswith(b"data:") and any(m in line for m in _MARKERS):
                    self._event(line[5:])
        elif not chunk.endswith(b"\n"):
            self._lines.feed(chunk)
        return chunk

    def _event(self, data: bytes) -> None:
        with contextlib.suppress(orjson.JSONDecodeError):
            event = orjson.loads(data)
            if not isinstance(event, dict) or not isinstance(event.get("response"), dict):
                return
            response: dict[str, Any] = event["response"]
            kind = event.get("type")
            if kind == "response.created" and isinstance(response.get("id"), str):
                self.response_id = response["id"]
            elif kind in ("response.completed", "response.incomplete", "response.failed"):
                self.usage.update(response.get("usage"))
                self.complete = True
