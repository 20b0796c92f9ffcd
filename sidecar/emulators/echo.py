"""A hostile upstream whose errors quote what it was sent, for the error-scrubbing tests
and the reliability benchmark.

Real providers quote parts of a request in their error messages; this one quotes the
worst it can: the key header it received, the other static headers, keys it knows of
other providers (an aggregator may hold them), a fragment of the prompt and the whole raw
body, and it puts the key in `param` and the body under `metadata.raw` as OpenRouter does.
It answers in OpenAI's or Anthropic's error format, either with an error status or as an
error event after `events_before` ordinary stream events. Every request is recorded.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web

from sidecar.emulators.server import LoopbackServer

ECHO_CODE = "echo_test"
"""The `code` of every error sent: what an app should still see."""


@dataclass
class Echoed:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class EchoUpstream(LoopbackServer):
    api: Literal["openai", "anthropic"]
    status: int = 400
    stream_errors: bool = False
    """Streamed requests: 200 and `events_before` events, then the error event."""
    events_before: int = 1
    known_keys: tuple[str, ...] = ()
    received: list[Echoed] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.url_path = "/v1"
        super().__init__(web.Application())
        self.app.router.add_post("/{tail:.*}", self._handle)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()
        self.received.append(Echoed(request.path, dict(request.headers), raw))
        message = self.message(request, raw)
        try:
            streamed = bool(orjson.loads(raw).get("stream"))
        except (orjson.JSONDecodeError, AttributeError):
            streamed = False
        if not (streamed and self.stream_errors):
            return web.Response(
                status=self.status,
                body=orjson.dumps(self.error(message, request, raw)),
                content_type="application/json",
            )
        response = web.StreamResponse(headers={"content-type": "text/event-stream"})
        await response.prepare(request)
        for event in self.first_events()[: self.events_before]:
            await response.write(event)
        data = orjson.dumps(self.error(message, request, raw))
        await response.write((b"event: error\n" if self.api == "anthropic" else b"") + b"data: ")
        await response.write(data + b"\n\n")
        await response.write_eof()
        return response

    def message(self, request: web.Request, raw: bytes) -> str:
        """Everything worth stealing, the short things first (a message is cut long before
        the whole body ends)."""
        key = request.headers.get("x-api-key") or request.headers.get("Authorization", "")
        others = [v for k, v in request.headers.items() if k.lower().startswith("x-org")]
        text = _last_text(raw)
        fragment = text[len(text) // 4 : len(text) // 4 + 40]
        return (
            f"Invalid request with credentials {key!r} and {others}; keys on file: "
            f"{', '.join(self.known_keys)}; near '{fragment}'; request was: "
            + raw.decode("utf-8", "replace")
        )

    def error(self, message: str, request: web.Request, raw: bytes) -> dict[str, Any]:
        key = request.headers.get("x-api-key") or request.headers.get("Authorization", "")
        if self.api == "anthropic":
            return {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": message, "echo": key},
                "request": raw.decode("utf-8", "replace"),
            }
        return {
            "error": {
                "message": message,
                "type": "invalid_request_error",
                "param": key,
                "code": ECHO_CODE,
                "metadata": {"raw": raw.decode("utf-8", "replace"), "headers": key},
            }
        }

    def first_events(self) -> list[bytes]:
        if self.api == "anthropic":
            start = {
                "type": "message_start",
                "message": {
                    "id": "msg_echo",
                    "type": "message",
                    "role": "assistant",
                    "model": "echo",
                    "content": [],
                    "stop_reason": None,
                    "stop_sequence": None,
                    "usage": {"input_tokens": 1, "output_tokens": 1},
                },
            }
            return [b"event: message_start\ndata: " + orjson.dumps(start) + b"\n\n"]
        chunk = {
            "id": "gen-echo",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "echo",
            "choices": [
                {"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}
            ],
        }
        return [b"data: " + orjson.dumps(chunk) + b"\n\n"]


def _last_text(raw: bytes) -> str:
    """The text of the last message, in either format ("" when there is none)."""
    try:
        content = (orjson.loads(raw).get("messages") or [{}])[-1].get("content")
    except (orjson.JSONDecodeError, AttributeError, TypeError):
        return ""
    if isinstance(content, list):
        content = " ".join(b.get("text", "") for b in content if isinstance(b, dict))
    return content if isinstance(content, str) else ""
