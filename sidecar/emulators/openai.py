"""A loopback provider speaking OpenAI's wire format (OpenAI, Gemini's OpenAI-compatible
endpoint, OpenRouter), for tests, the demo and benchmarks.

Faithful where the sidecar depends on it: `chat.completion` and `chat.completion.chunk`
objects, SSE framing (`data: {...}\\n\\n` ending with `data: [DONE]`), the usage chunk with
`choices: []` when `stream_options.include_usage` is set, streamed tool calls, embeddings
(float or base64, which the openai SDK requests by default), OpenAI's error object with the
matching status codes and `retry-after` on 429. As OpenRouter it also names the provider
that served each response and sends SSE keep-alive comments. It records every request it
receives, so a test can prove what an upstream did (or did not) see, and it can be told to
misbehave: fail with a status, drop the connection, be slow, stall or cut a stream, or send
malformed JSON or SSE; scripted one fault at a time, or at random (see chaos.py).
"""

from __future__ import annotations

import asyncio
import base64
import struct
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from aiohttp import web

from sidecar.emulators.openai_payloads import (
    chat_chunks,
    completion_payloads,
    moderation,
    prompt_text,
    served_by,
    split,
    text_of,
    token_count,
    vector,
)
from sidecar.emulators.responses import ResponsesAPI
from sidecar.emulators.server import LoopbackServer
from sidecar.emulators.streaming import write_events

FaultKind = Literal[
    "status",
    "reset",
    "delay",
    "stall_stream",
    "cut_stream",
    "malformed",
    "slow_stream",
    "stream_error",
    "stream_failed",
]

_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached on requests per min (RPM)."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("service_unavailable_error", "server_is_overloaded", "Our servers are overloaded."),
}
"""(type, code, message) as OpenAI sends them, by status; any other is a server_error."""

_MISSING_KEY = (
    "You didn't provide an API key. You need to provide your API key in an Authorization "
    "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY)."
)
_BAD_JSON = "We could not parse the JSON body of your request."
_SUCCESS_HEADERS = {
    "openai-processing-ms": "3",
    "openai-version": "2020-10-01",
    "x-ratelimit-limit-requests": "10000",
    "x-ratelimit-remaining-requests": "9999",
    "x-ratelimit-reset-requests": "6ms",
    "x-ratelimit-limit-tokens": "30000000",
    "x-ratelimit-remaining-tokens": "29999000",
    "x-ratelimit-reset-tokens": "2ms",
}


@dataclass
class Fault:
    """One scripted misbehaviour. Queued in `OpenAIEmulator.faults` it serves the next
    `times` requests, in order; as `fail_always` it serves every request. A refused key
    consumes none; the stream kinds affect streamed chat only.

    `delay` waits `seconds` before answering; `slow_stream` waits `seconds` before every
    stream event; `malformed` answers 200 with a truncated JSON body, or sends a stream
    event whose data is not JSON after `after` events (default 1). A stream fault waits
    `seconds` before it strikes (for `stall_stream` that is the stall). `stream_error` and
    `stream_failed` concern the Responses API only: its stream ends with an `error` or a
    `response.failed` event (see responses.py)."""

    kind: FaultKind
    status: int = 500
    seconds: float = 0.0
    times: int = 1
    after: int | None = None
    """Stream events sent before a stall (default 1), a cut (default 2) or a malformed
    event (default 1)."""


class FaultQueue(deque[Fault]):
    """Scripted faults in order: the head serves its `times` requests, then the next."""

    _head: tuple[Fault, int] | None

    def __init__(self) -> None:
        super().__init__()
        self._head = None

    def take(self) -> Fault | None:
        if not self:
            return None
        head = self[0]
        used = self._head[1] + 1 if self._head is not None and self._head[0] is head else 1
        self._head = (head, used)
        if used >= head.times:
            self.popleft()
            self._head = None
        return head


FaultSource = Callable[[str, bytes], "Fault | None"]
"""Consulted for each request no scripted fault claims, with the emulator's name and the
raw request body (see chaos.py)."""

MALFORMED_JSON = b'{"id": "broken", "object": "chat.completion", "choices": [{"message": '
MALFORMED_EVENT = b'data: {"id": "broken", "choices": [{"delta": {"content": "\n\n'


@dataclass
class ReceivedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    json: Any
    time: float = field(default_factory=time.time)


def error_body(
    status: int, message: str | None = None, *, code: str | None = None, param: str | None = None
) -> bytes:
    """OpenAI's error object. Without a message: the status's usual message and code."""
    kind, usual_code, usual = _ERRORS.get(status, ("server_error", None, "Error."))
    if message is None:
        message, code = usual, usual_code
    return orjson.dumps({"error": {"message": message, "type": kind, "param": param, "code": code}})


class OpenAIEmulator(LoopbackServer):
    """An OpenAI-format provider on a loopback port: `async with OpenAIEmulator(...) as emu`
    then point a client at `emu.base_url`."""

    def __init__(
        self,
        name: str,
        api_key: str,
        *,
        base_path: str = "/v1",
        chunks: int = 3,
        openrouter: bool | None = None,
        azure: bool = False,
        responses: bool = True,
    ) -> None:
        self.name = name
        self.api_key = api_key
        self.base_path = base_path.rstrip("/")
        self.chunks = chunks
        self.azure = azure
        """Azure OpenAI: key in `api-key`, `api-version` query required, deployment in path."""
        self.openrouter = name == "openrouter" if openrouter is None else openrouter
        """OpenRouter's additions: `provider` in responses, `gen-` ids, SSE comments."""
        self.models = ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
        self.received: list[ReceivedRequest] = []
        self.faults = FaultQueue()
        self.fail_always: Fault | None = None
        self.chaos: FaultSource | None = None
        self.url_path = self.base_path
        self.responses = ResponsesAPI(self, enabled=responses)
        """The Responses API and its store; `responses=False` plays a Chat-only server."""
        super().__init__(web.Application(client_max_size=64 * 1024 * 1024))
        self.app.router.add_post(self.base_path + "/chat/completions", self._chat)
        self.app.router.add_post(self.base_path + "/embeddings", self._embeddings)
        self.app.router.add_post(self.base_path + "/completions", self._completions)
        self.app.router.add_post(self.base_path + "/moderations", self._moderations)
        self.app.router.add_get(self.base_path + "/models", self._models)
        self.responses.register(self.app.router, self.base_path)
        self.app.router.add_route("*", "/{tail:.*}", self._unknown)

    def received_bodies_text(self) -> str:
        return "\n".join(r.body.decode("utf-8", "replace") for r in self.received)

    # ---- request handling ---------------------------------------------------------------

    def _headers(self, **extra: str) -> dict[str, str]:
        request_id = f"req_{uuid.uuid4().hex}"
        return {"x-request-id": request_id, "x-emulator-provider": self.name, **extra}

    def _respond(self, status: int, body: bytes, **headers: str) -> web.Response:
        ctype = "application/json"
        return web.Response(
            status=status, body=body, headers=self._headers(**headers), content_type=ctype
        )

    def _ok(self, payload: dict[str, Any], **headers: str) -> web.Response:
        return self._respond(200, orjson.dumps(payload), **_SUCCESS_HEADERS, **headers)

    def _error(self, status: int, message: str | None = None, **fields: str | None) -> web.Response:
        extra = {"retry-after": "1", "x-ratelimit-remaining-requests": "0"} if status == 429 else {}
        return self._respond(status, error_body(status, message, **fields), **extra)

    def _next_fault(self, raw: bytes) -> Fault | None:
        fault = self.faults.take() or self.fail_always
        if fault is None and self.chaos is not None:
            return self.chaos(self.name, raw)
        return fault

    def _record(self, request: web.Request, raw: bytes, parsed: Any) -> None:
        query, headers = dict(request.query), dict(request.headers)
        self.received.append(
            ReceivedRequest(request.method, request.path, query, headers, raw, parsed)
        )

    async def _admit(
        self, request: web.Request, *, needs_body: bool = True
    ) -> tuple[web.Response | None, Any, Fault | None]:
        """Record the request, then check it as OpenAI would: the key, any scripted fault,
        then the body. Returns the response to send instead (or None), the body, the fault."""
        raw = await request.read()
        try:
            parsed = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
        self._record(request, raw, parsed)
        if self.azure:
            key = request.headers.get("api-key", "")
            if not request.query.get("api-version"):
                return self._error(404, "Resource not found"), parsed, None
        else:
            auth = request.headers.get("Authorization", "")
            key = auth[7:].strip() if auth.startswith("Bearer ") else ""
        if not key:
            return self._error(401, _MISSING_KEY), parsed, None
        if key != self.api_key:
            masked = f"Incorrect API key provided: {key[:3]}***{key[-4:]}."
            return self._error(401, masked, code="invalid_api_key"), parsed, None
        fault = self._next_fault(raw)
        if fault is not None and fault.kind == "status":
            return self._error(fault.status), parsed, fault
        if fault is not None and fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            return web.Response(), parsed, fault  # never sent: the connection is gone
        if fault is not None and fault.kind in ("delay", "slow_stream"):
            await asyncio.sleep(fault.seconds)
        if needs_body and not isinstance(parsed, dict):
            return self._error(400, _BAD_JSON), parsed, fault
        return None, parsed, fault

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        early, body, fault = await self._admit(request)
        if early is not None:
            return early
        if not body.get("model"):
            return self._error(400, "you must provide a model parameter")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            return self._error(400, "Missing required parameter: 'messages'.", param="messages")
        model = str(body["model"])
        answer = f"[served by {self.name}] model={model}: ok"
        tools = body.get("tools") or []
        last = messages[-1] if isinstance(messages[-1], dict) else {}
        tool_call: dict[str, Any] | None = None
        if tools and last.get("role") == "user" and "weather" in text_of([last]).lower():
            name = (tools[0].get("function") or {}).get("name", "tool")
            tool_call = {
                "id": "call_" + uuid.uuid4().hex[:24],
                "type": "function",
                "function": {"name": name, "arguments": '{"city": "Paris"}'},
            }
        prompt = token_count(text_of(messages))
        completion = token_count(tool_call["function"]["arguments"] if tool_call else answer)
        usage = {"prompt_tokens": prompt, "completion_tokens": completion}
        usage["total_tokens"] = prompt + completion
        now = int(time.time())
        prefix = f"gen-{now}-" if self.openrouter else "chatcmpl-"
        head: dict[str, Any] = {"id": prefix + uuid.uuid4().hex[:20]}
        if self.openrouter:
            head["provider"] = served_by(body.get("provider"))
        head.update(object="chat.completion", created=now, model=model)
        extra = {"x-generation-id": head["id"]} if self.openrouter else {}
        if body.get("stream"):
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            pieces = split(answer, self.chunks)
            events = chat_chunks(head, pieces, tool_call, usage if include_usage else None)
            return await self._stream(request, fault, events, extra)
        if fault is not None and fault.kind == "malformed":
            return self._respond(200, MALFORMED_JSON, **_SUCCESS_HEADERS)
        message: dict[str, Any] = {"role": "assistant", "content": answer, "refusal": None}
        if tool_call:
            message.update(content=None, tool_calls=[tool_call])
        finish = "tool_calls" if tool_call else "stop"
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": finish}
        payload = {**head, "choices": [choice], "usage": usage, "system_fingerprint": "fp_emu"}
        return self._ok(payload, **extra)

    async def _stream(
        self,
        request: web.Request,
        fault: Fault | None,
        events: list[bytes],
        extra: dict[str, str],
        malformed: bytes = MALFORMED_EVENT,
    ) -> web.StreamResponse:
        sse = {"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
        response = web.StreamResponse(headers=self._headers(**_SUCCESS_HEADERS, **extra, **sse))
        await response.prepare(request)
        if self.openrouter:  # OpenRouter's keep-alive comment; SSE clients skip it
            await response.write(b": OPENROUTER PROCESSING\n\n")
        await write_events(request, response, events, fault, malformed)
        return response

    async def _embeddings(self, request: web.Request) -> web.Response:
        early, body, fault = await self._admit(request)
        if early is not None:
            return early
        if fault is not None and fault.kind == "malformed":
            return self._respond(200, MALFORMED_JSON, **_SUCCESS_HEADERS)
        raw_input = body.get("input")
        inputs = [raw_input] if isinstance(raw_input, str) else list(raw_input or [])
        for param, missing in (("model", not body.get("model")), ("input", not inputs)):
            if missing:
                return self._error(400, f"Missing required parameter: '{param}'.", param=param)
        as_base64 = body.get("encoding_format") == "base64"
        dims = body["dimensions"] if isinstance(body.get("dimensions"), int) else 8
        data = []
        for i, item in enumerate(inputs):
            values = vector(orjson.dumps(item), max(1, dims))
            embedding: Any = values
            if as_base64:
                embedding = base64.b64encode(struct.pack(f"<{len(values)}f", *values)).decode()
            data.append({"object": "embedding", "index": i, "embedding": embedding})
        tokens = sum(token_count(str(x)) for x in inputs)
        usage = {"prompt_tokens": tokens, "total_tokens": tokens}
        return self._ok({"object": "list", "data": data, "model": body["model"], "usage": usage})

    async def _completions(self, request: web.Request) -> web.StreamResponse:
        early, body, fault = await self._admit(request)
        if early is not None:
            return early
        for param in ("model", "prompt"):
            if body.get(param) in (None, "", []):
                return self._error(400, f"Missing required parameter: '{param}'.", param=param)
        tokens = token_count(prompt_text(body["prompt"]))
        whole, chunks = completion_payloads(body, self.name, self.chunks, tokens)
        if body.get("stream"):
            events = [b"data: " + orjson.dumps(c) + b"\n\n" for c in chunks]
            return await self._stream(request, fault, [*events, b"data: [DONE]\n\n"], {})
        return self._ok(whole)

    async def _moderations(self, request: web.Request) -> web.Response:
        early, body, _ = await self._admit(request)
        if early is not None:
            return early
        if body.get("input") in (None, "", []):
            return self._error(400, "Missing required parameter: 'input'.", param="input")
        return self._ok(moderation(body))

    async def _models(self, request: web.Request) -> web.Response:
        early, _, _ = await self._admit(request, needs_body=False)
        if early is not None:
            return early
        data = [
            {"id": m, "object": "model", "created": 1715367049, "owned_by": "system"}
            for m in self.models
        ]
        return self._ok({"object": "list", "data": data})

    async def _unknown(self, request: web.Request) -> web.Response:
        self._record(request, await request.read(), None)
        return self._error(404, f"Invalid URL ({request.method} {request.path})")
