"""A loopback provider speaking Anthropic's Messages API, for tests, the demo and benchmarks.

Faithful where translation depends on it: `x-api-key` and `anthropic-version` checks, the
`message` object with content blocks and `stop_reason`, usage with cache read and creation
tokens, the documented SSE sequence (`message_start`, `content_block_start`, `ping`,
`content_block_delta` with `text_delta` / `input_json_delta` / `thinking_delta`,
`content_block_stop`, `message_delta`, `message_stop`), `input_json_delta` fragments split
mid-token, error bodies `{"type": "error", "error": {"type", "message"}}` with their status
codes (529 `overloaded_error` included), and `/v1/messages/count_tokens`. It misbehaves on
request like the OpenAI emulator (the same `Fault` kinds, scripted or at random).
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from typing import Any

import orjson
from aiohttp import web

from sidecar.api.anthropic import ERROR_TYPES
from sidecar.emulators.openai import Fault, FaultQueue, FaultSource, ReceivedRequest
from sidecar.emulators.server import LoopbackServer
from sidecar.emulators.streaming import write_events

MALFORMED_JSON = b'{"id": "msg_broken", "type": "message", "content": [{"type": "text", '
MALFORMED_EVENT = b'event: content_block_delta\ndata: {"type": "content_block_delta", "ind\n\n'

TOOL_INPUT = '{"city": "Paris", "unit": "celsius"}'


def anthropic_error(status: int, message: str = "error") -> bytes:
    kind = ERROR_TYPES.get(status, "api_error")
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    parts: list[str] = []
    for block in content if isinstance(content, list) else []:
        if isinstance(block, dict):
            if isinstance(block.get("text"), str):
                parts.append(block["text"])
            elif block.get("type") == "tool_result":
                parts.append(_text(block.get("content")))
    return " ".join(parts)


def _sse(event: str, data: dict[str, Any]) -> bytes:
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class AnthropicEmulator(LoopbackServer):
    url_path = "/v1"

    def __init__(self, name: str, api_key: str, *, chunks: int = 3, thinking: bool = False) -> None:
        self.name = name
        self.api_key = api_key
        self.chunks = chunks
        self.thinking = thinking
        self.received: list[ReceivedRequest] = []
        self.faults = FaultQueue()
        self.fail_always: Fault | None = None
        self.chaos: FaultSource | None = None
        super().__init__(web.Application(client_max_size=64 * 1024 * 1024))
        self.app.router.add_post("/v1/messages", self._messages)
        self.app.router.add_post("/v1/messages/count_tokens", self._count_tokens)
        self.app.router.add_route("*", "/{tail:.*}", self._unknown)

    def received_bodies_text(self) -> str:
        return "\n".join(r.body.decode("utf-8", "replace") for r in self.received)

    def _error(self, status: int, message: str) -> web.Response:
        headers = {"request-id": "req_" + uuid.uuid4().hex}
        if status == 429:
            headers["retry-after"] = "1"
        return web.Response(
            status=status,
            body=anthropic_error(status, message),
            headers=headers,
            content_type="application/json",
        )

    async def _admit(
        self, request: web.Request
    ) -> tuple[dict[str, Any] | None, web.Response | None]:
        raw = await request.read()
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
        self.received.append(
            ReceivedRequest(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                raw,
                parsed,
            )
        )
        if request.headers.get("x-api-key") != self.api_key:
            return None, self._error(401, "invalid x-api-key")
        if not request.headers.get("anthropic-version"):
            return None, self._error(400, "anthropic-version: header is required")
        if not isinstance(parsed, dict):
            return None, self._error(400, "Request body is not valid JSON")
        if not isinstance(parsed.get("messages"), list) or not parsed["messages"]:
            return None, self._error(400, "messages: Field required")
        return parsed, None

    async def _fault(
        self, request: web.Request, raw: bytes
    ) -> tuple[Fault | None, web.Response | None]:
        fault = self.faults.take() or self.fail_always
        if fault is None and self.chaos is not None:
            fault = self.chaos(self.name, raw)
        if fault is None:
            return None, None
        if fault.kind == "status":
            return fault, self._error(
                fault.status, "Overloaded" if fault.status == 529 else "error"
            )
        if fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault.kind in ("delay", "slow_stream"):
            await asyncio.sleep(fault.seconds)
        return fault, None

    async def _unknown(self, request: web.Request) -> web.Response:
        """Recorded like any request, so a test sees what should never have arrived."""
        raw = await request.read()
        self.received.append(
            ReceivedRequest(
                request.method, request.path, dict(request.query), dict(request.headers), raw, None
            )
        )
        return self._error(404, f"Not found: {request.method} {request.path}")

    async def _count_tokens(self, request: web.Request) -> web.Response:
        body, failure = await self._admit(request)
        if failure is not None:
            return failure
        assert body is not None
        text = " ".join(_text(m.get("content")) for m in body["messages"] if isinstance(m, dict))
        return web.json_response({"input_tokens": max(1, len(text) // 4)})

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        body, failure = await self._admit(request)
        if failure is not None:
            return failure
        assert body is not None
        if not isinstance(body.get("max_tokens"), int):
            return self._error(400, "max_tokens: Field required")
        fault, early = await self._fault(request, self.received[-1].body)
        if early is not None:
            return early
        message = self._answer(body)
        if not body.get("stream"):
            if fault is not None and fault.kind == "malformed":
                return web.Response(body=MALFORMED_JSON, content_type="application/json")
            return web.json_response(message, headers={"request-id": "req_" + uuid.uuid4().hex})
        return await self._stream(request, message, fault)

    def _answer(self, body: dict[str, Any]) -> dict[str, Any]:
        model = str(body.get("model", ""))
        last = body["messages"][-1]
        text_in = " ".join(_text(m.get("content")) for m in body["messages"] if isinstance(m, dict))
        tools = body.get("tools") or []
        wants_tool = (
            bool(tools)
            and isinstance(last, dict)
            and last.get("role") == "user"
            and "weather" in _text(last.get("content")).lower()
        )
        content: list[dict[str, Any]] = []
        if self.thinking:
            content.append(
                {
                    "type": "thinking",
                    "thinking": "Considering the question.",
                    "signature": "sig_emulator",
                }
            )
        if wants_tool:
            content.append({"type": "text", "text": "Let me check."})
            content.append(
                {
                    "type": "tool_use",
                    "id": "toolu_" + uuid.uuid4().hex[:22],
                    "name": tools[0].get("name", "tool"),
                    "input": orjson.loads(TOOL_INPUT),
                }
            )
            stop_reason = "tool_use"
        else:
            content.append({"type": "text", "text": f"[served by {self.name}] model={model}: ok"})
            stop_reason = "end_turn"
        cached = 4 if "cache_control" in orjson.dumps(body).decode() else 0
        return {
            "id": "msg_" + uuid.uuid4().hex[:24],
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": content,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": max(1, len(text_in) // 4),
                "output_tokens": 3 * len(content),
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": cached,
            },
        }

    async def _stream(
        self, request: web.Request, message: dict[str, Any], fault: Fault | None
    ) -> web.StreamResponse:
        events = [
            _sse(
                "message_start",
                {
                    "type": "message_start",
                    "message": {
                        **message,
                        "content": [],
                        "stop_reason": None,
                        "usage": {**message["usage"], "output_tokens": 1},
                    },
                },
            )
        ]
        for index, block in enumerate(message["content"]):
            events.extend(self._block_events(index, block))
            if index == 0:
                events.append(_sse("ping", {"type": "ping"}))
        events.append(
            _sse(
                "message_delta",
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
                    "usage": {"output_tokens": message["usage"]["output_tokens"]},
                },
            )
        )
        events.append(_sse("message_stop", {"type": "message_stop"}))
        response = web.StreamResponse(
            headers={
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
                "request-id": "req_" + uuid.uuid4().hex,
            }
        )
        await response.prepare(request)
        await write_events(request, response, events, fault, MALFORMED_EVENT)
        return response

    def _block_events(self, index: int, block: dict[str, Any]) -> list[bytes]:
        kind = block["type"]
        start: dict[str, Any]
        if kind == "text":
            start = {"type": "text", "text": ""}
            text = block["text"]
            size = max(1, -(-len(text) // self.chunks))
            deltas = [
                {"type": "text_delta", "text": text[i : i + size]}
                for i in range(0, len(text), size)
            ]
        elif kind == "tool_use":
            start = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            raw = orjson.dumps(block["input"]).decode()
            # Split mid-token, as the real API does: '{"ci' 'ty": "Pa' 'ris", ...'
            cuts = [0, 4, 13, len(raw)]
            deltas = [
                {"type": "input_json_delta", "partial_json": raw[a:b]}
                for a, b in itertools.pairwise(cuts)
                if b > a
            ]
        else:  # thinking
            start = {"type": "thinking", "thinking": ""}
            deltas = [
                {"type": "thinking_delta", "thinking": block["thinking"]},
                {"type": "signature_delta", "signature": block["signature"]},
            ]
        out = [
            _sse(
                "content_block_start",
                {"type": "content_block_start", "index": index, "content_block": start},
            )
        ]
        out.extend(
            _sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d})
            for d in deltas
        )
        out.append(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        return out
