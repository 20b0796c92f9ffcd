"""A loopback provider speaking OpenAI's wire format (OpenAI, Gemini's OpenAI-compatible
endpoint, OpenRouter), for tests, the demo and benchmarks.

Faithful where the sidecar depends on it: `chat.completion` and `chat.completion.chunk`
objects, SSE framing (`data: {...}\\n\\n` ending with `data: [DONE]`), the usage chunk with
`choices: []` when `stream_options.include_usage` is set, streamed tool calls, embeddings
(float or base64, which the openai SDK requests by default), OpenAI's error object with the
matching status codes and `retry-after` on 429. It records every request it receives, so a
test can prove what an upstream did (or did not) see, and it can be told to fail.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import struct
import time
import uuid
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web

FaultKind = Literal["status", "reset", "delay", "stall_stream", "cut_stream"]

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    502: ("server_error", None, "Bad gateway."),
    503: ("server_error", "service_unavailable", "The engine is currently overloaded."),
}


@dataclass
class Fault:
    """One scripted misbehaviour, consumed in order from `OpenAIEmulator.faults`."""

    kind: FaultKind
    status: int = 500
    seconds: float = 0.0


@dataclass
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    json: Any
    time: float = field(default_factory=time.time)


def error_body(status: int, message: str | None = None) -> bytes:
    kind, code, default = _ERRORS.get(status, ("server_error", None, "Error."))
    return orjson.dumps(
        {"error": {"message": message or default, "type": kind, "param": None, "code": code}}
    )


def _text_of(body: dict[str, Any]) -> str:
    parts: list[str] = []
    for msg in body.get("messages") or []:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(p.get("text", "") for p in content if isinstance(p, dict))
    return " ".join(parts)


class OpenAIEmulator:
    def __init__(self, name: str, api_key: str, *, base_path: str = "/v1", chunks: int = 3) -> None:
        self.name = name
        self.api_key = api_key
        self.base_path = base_path
        self.chunks = chunks
        self.received: list[ReceivedRequest] = []
        self.faults: deque[Fault] = deque()
        self.fail_always: Fault | None = None
        self.base_url = ""
        self._runner: web.AppRunner | None = None
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_post(base_path + "/chat/completions", self._chat)
        app.router.add_post(base_path + "/embeddings", self._embeddings)
        app.router.add_get(base_path + "/models", self._models)
        self.app = app

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        self.base_url = f"http://{host}:{sockets[0].getsockname()[1]}{self.base_path}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> OpenAIEmulator:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def received_bodies_text(self) -> str:
        return "\n".join(r.body.decode("utf-8", "replace") for r in self.received)

    # ---- request handling ---------------------------------------------------------------

    async def _admit(
        self, request: web.Request
    ) -> tuple[dict[str, Any] | None, web.Response | None]:
        raw = await request.read()
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
        self.received.append(
            ReceivedRequest(request.method, request.path, dict(request.headers), raw, parsed)
        )
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return None, self._error(401)
        if not isinstance(parsed, dict):
            return None, self._error(400, "We could not parse the JSON body of your request.")
        return parsed, None

    def _error(self, status: int, message: str | None = None) -> web.Response:
        headers = {"x-request-id": "req_" + uuid.uuid4().hex}
        if status == 429:
            headers["retry-after"] = "1"
        return web.Response(
            status=status,
            body=error_body(status, message),
            headers=headers,
            content_type="application/json",
        )

    def _next_fault(self) -> Fault | None:
        return self.faults.popleft() if self.faults else self.fail_always

    async def _pre_fault(self, request: web.Request, fault: Fault | None) -> web.Response | None:
        if fault is None:
            return None
        if fault.kind == "status":
            return self._error(fault.status)
        if fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            raise asyncio.CancelledError
        if fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        return None

    def _headers(self) -> dict[str, str]:
        return {
            "x-request-id": "req_" + uuid.uuid4().hex,
            "openai-processing-ms": "3",
            "x-emulator-provider": self.name,
        }

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body, failure = await self._admit(request)
        if failure is not None:
            return failure
        assert body is not None
        fault = self._next_fault()
        early = await self._pre_fault(request, fault)
        if early is not None:
            return early
        model = str(body.get("model", ""))
        text = _text_of(body)
        prompt_tokens = max(1, len(text) // 4)
        tools = body.get("tools") or []
        wants_tool = bool(tools) and "weather" in text.lower()
        answer = f"[served by {self.name}] model={model}: ok"
        pieces = _split(answer, self.chunks)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": len(pieces),
            "total_tokens": prompt_tokens + len(pieces),
        }
        ident = "chatcmpl-" + uuid.uuid4().hex[:24]
        created = int(time.time())
        tool_call = None
        if wants_tool:
            name = tools[0].get("function", {}).get("name", "tool")
            tool_call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": name, "arguments": '{"city": "Paris"}'},
            }
        if not body.get("stream"):
            message: dict[str, Any] = {
                "role": "assistant",
                "content": None if tool_call else answer,
                "refusal": None,
            }
            if tool_call:
                message["tool_calls"] = [tool_call]
            payload = {
                "id": ident,
                "object": "chat.completion",
                "created": created,
                "model": model,
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "logprobs": None,
                        "finish_reason": "tool_calls" if tool_call else "stop",
                    }
                ],
                "usage": usage,
                "system_fingerprint": "fp_emulator",
            }
            if self.name == "openrouter":
                payload["provider"] = "OpenAI"
            return web.Response(
                body=orjson.dumps(payload), headers=self._headers(), content_type="application/json"
            )
        return await self._stream(
            request, body, fault, ident, created, model, pieces, usage, tool_call
        )

    async def _stream(
        self,
        request: web.Request,
        body: dict[str, Any],
        fault: Fault | None,
        ident: str,
        created: int,
        model: str,
        pieces: list[str],
        usage: dict[str, int],
        tool_call: dict[str, Any] | None,
    ) -> web.StreamResponse:
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
            obj: dict[str, Any] = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_emulator",
                "choices": [
                    {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
                ],
            }
            if include_usage:
                obj["usage"] = None
            return b"data: " + orjson.dumps(obj) + b"\n\n"

        events = [chunk({"role": "assistant", "content": ""})]
        if tool_call:
            fn = tool_call["function"]
            events.append(
                chunk(
                    {
                        "tool_calls": [
                            {
                                "index": 0,
                                "id": tool_call["id"],
                                "type": "function",
                                "function": {"name": fn["name"], "arguments": ""},
                            }
                        ]
                    }
                )
            )
            for part in _split(fn["arguments"], 3):
                events.append(
                    chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
                )
            events.append(chunk({}, "tool_calls"))
        else:
            events.extend(chunk({"content": piece}) for piece in pieces)
            events.append(chunk({}, "stop"))
        if include_usage:
            final = {
                "id": ident,
                "object": "chat.completion.chunk",
                "created": created,
                "model": model,
                "system_fingerprint": "fp_emulator",
                "choices": [],
                "usage": usage,
            }
            events.append(b"data: " + orjson.dumps(final) + b"\n\n")
        events.append(b"data: [DONE]\n\n")

        response = web.StreamResponse(
            headers={
                **self._headers(),
                "Content-Type": "text/event-stream",
                "Cache-Control": "no-cache",
            }
        )
        await response.prepare(request)
        for i, event in enumerate(events):
            if fault is not None and i == 1 and fault.kind == "stall_stream":
                await asyncio.sleep(fault.seconds)
            if fault is not None and i == 2 and fault.kind == "cut_stream":
                if request.transport is not None:
                    request.transport.close()
                return response
            await response.write(event)
        await response.write_eof()
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        body, failure = await self._admit(request)
        if failure is not None:
            return failure
        assert body is not None
        early = await self._pre_fault(request, self._next_fault())
        if early is not None:
            return early
        raw_input = body.get("input")
        inputs = [raw_input] if isinstance(raw_input, str) else list(raw_input or [])
        as_base64 = body.get("encoding_format") == "base64"
        data = []
        for i, item in enumerate(inputs):
            vector = _vector(orjson.dumps(item))
            embedding: Any = (
                base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
                if as_base64
                else vector
            )
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        tokens = sum(max(1, len(str(x)) // 4) for x in inputs)
        payload = {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return web.Response(
            body=orjson.dumps(payload), headers=self._headers(), content_type="application/json"
        )

    async def _models(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return self._error(401)
        payload = {
            "object": "list",
            "data": [
                {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}
            ],
        }
        return web.Response(body=orjson.dumps(payload), content_type="application/json")


def _split(text: str, parts: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, parts)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def _vector(seed: bytes, dims: int = 8) -> list[float]:
    digest = hashlib.sha256(seed).digest()
    return [round((b - 128) / 128, 6) for b in digest[:dims]]
