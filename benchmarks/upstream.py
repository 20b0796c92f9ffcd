"""A loopback upstream that answers OpenAI chat completions and Responses API requests, as
cheaply as possible.

It shares a core with the load generator, so it is a raw asyncio protocol rather than an
aiohttp app (the test emulator in `sidecar.emulators` is faithful, this one is cheap).
Each event of a stream is its own HTTP chunk, `--gap-ms` apart, so that a proxy sees (and
pays for) every event separately, as it would with a real model producing tokens.

- Chat completions: a `chat.completion` with usage; streamed, `chat.completion.chunk`
  events: a role event, `max_tokens` content events, a finish event, a usage event when
  `stream_options.include_usage` is set, then `data: [DONE]`.
- Responses API (a path ending in `/responses`): a `response` object with one assistant
  message and usage; streamed, the typed events in the documented order (`event:` and
  `data:` lines, `sequence_number` from 0, no `[DONE]`): `response.created`,
  `response.in_progress`, `response.output_item.added`, `response.content_part.added`,
  `max_output_tokens` `response.output_text.delta` events, `response.output_text.done`,
  `response.content_part.done`, `response.output_item.done`, then `response.completed`
  with usage. Every response gets an id of its own, since a proxy that remembers the ids
  (for continuations) pays for each.

    python benchmarks/upstream.py [--port 0] [--gap-ms 1]   # prints the port, then serves
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import itertools
from typing import Any

import orjson
from rawhttp import MessageParser, loop_factory

DEFAULT_CONTENT_EVENTS = 20
CREATED = 1764000000
RESPONSE_ID = b"resp_" + b"x" * 48
"""Where each response's own id goes, in bytes built once per shape (same length)."""
MESSAGE_ID = "msg_bench0000000000000000000000000000000000000000000000"
_ids = itertools.count(1)


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _chunked(events: list[bytes]) -> list[bytes]:
    """HTTP chunks of a whole stream, the terminating empty chunk with the last event."""
    chunks = [_http_chunk(e) for e in events]
    chunks[-1] += b"0\r\n\r\n"
    return chunks


def _event(obj: dict[str, Any]) -> bytes:
    return b"data: " + orjson.dumps(obj) + b"\n\n"


def _typed_event(obj: dict[str, Any]) -> bytes:
    return b"event: %s\ndata: %s\n\n" % (obj["type"].encode(), orjson.dumps(obj))


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": model,
        "system_fingerprint": "fp_bench",
        "choices": [choice],
    }


def _usage(prompt_bytes: int, completion: int) -> dict[str, int]:
    prompt = max(1, prompt_bytes // 4)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _completion(model: str, prompt_bytes: int) -> bytes:
    message = {"role": "assistant", "content": "ok, noted.", "refusal": None}
    return orjson.dumps(
        {
            "id": "chatcmpl-bench",
            "object": "chat.completion",
            "created": CREATED,
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
            ],
            "usage": _usage(prompt_bytes, 4),
            "system_fingerprint": "fp_bench",
        }
    )


@functools.lru_cache(maxsize=256)
def stream_events(
    model: str, content_events: int, include_usage: bool, prompt_bytes: int
) -> list[bytes]:
    """Built once per shape: the upstream must cost the load generator's core next to
    nothing, and some twenty orjson dumps per stream are not nothing."""
    events = [_event(_chunk(model, {"role": "assistant", "content": ""}))]
    # Distinct tokens: LiteLLM aborts a stream that repeats one chunk ~100 times.
    events += [_event(_chunk(model, {"content": f"t{i} "})) for i in range(content_events)]
    events.append(_event(_chunk(model, {}, "stop")))
    if include_usage:
        usage = {**_chunk(model, {}), "choices": [], "usage": _usage(prompt_bytes, content_events)}
        events.append(_event(usage))
    events.append(b"data: [DONE]\n\n")
    return _chunked(events)


def _response_usage(prompt_bytes: int, output: int) -> dict[str, Any]:
    prompt = max(1, prompt_bytes // 4)
    return {
        "input_tokens": prompt,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": prompt + output,
    }


def _response(
    model: str, limit: int | None, store: bool, text: str, usage: dict[str, Any]
) -> dict[str, Any]:
    """The finished `response` object (openai's `types.responses.Response`)."""
    part = {"type": "output_text", "annotations": [], "logprobs": [], "text": text}
    message = {"id": MESSAGE_ID, "type": "message", "status": "completed", "role": "assistant"}
    return {
        "id": RESPONSE_ID.decode(),
        "object": "response",
        "created_at": CREATED,
        "status": "completed",
        "background": False,
        "completed_at": CREATED,
        "error": None,
        "incomplete_details": None,
        "instructions": None,
        "max_output_tokens": limit,
        "max_tool_calls": None,
        "model": model,
        "output": [{**message, "content": [part]}],
        "parallel_tool_calls": True,
        "previous_response_id": None,
        "reasoning": {"effort": None, "summary": None},
        "service_tier": "default",
        "store": store,
        "temperature": 1.0,
        "text": {"format": {"type": "text"}, "verbosity": "medium"},
        "tool_choice": "auto",
        "tools": [],
        "top_logprobs": 0,
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage,
        "user": None,
        "metadata": {},
    }


@functools.lru_cache(maxsize=256)
def _response_body(model: str, limit: int | None, store: bool, prompt_bytes: int) -> bytes:
    usage = _response_usage(prompt_bytes, 4)
    return orjson.dumps(_response(model, limit, store, "ok, noted.", usage))


@functools.lru_cache(maxsize=256)
def response_events(model: str, limit: int | None, store: bool, prompt_bytes: int) -> list[bytes]:
    """The typed events of a streamed response, built once per shape (as chat's are):
    `limit` (`max_output_tokens`) text deltas."""
    pieces = [f"t{i} " for i in range(limit or DEFAULT_CONTENT_EVENTS)]
    usage = _response_usage(prompt_bytes, len(pieces))
    done = _response(model, limit, store, "".join(pieces), usage)
    message = done["output"][0]
    part = message["content"][0]
    started = {**done, "status": "in_progress", "completed_at": None, "output": [], "usage": None}
    ids = {"item_id": MESSAGE_ID, "output_index": 0, "content_index": 0}
    added = {**message, "status": "in_progress", "content": []}
    frames: list[dict[str, Any]] = [
        {"type": "response.created", "response": started},
        {"type": "response.in_progress", "response": started},
        {"type": "response.output_item.added", "output_index": 0, "item": added},
        {"type": "response.content_part.added", **ids, "part": {**part, "text": ""}},
        *(
            {"type": "response.output_text.delta", **ids, "delta": p, "logprobs": []}
            for p in pieces
        ),
        {"type": "response.output_text.done", **ids, "text": part["text"], "logprobs": []},
        {"type": "response.content_part.done", **ids, "part": part},
        {"type": "response.output_item.done", "output_index": 0, "item": message},
        {"type": "response.completed", "response": done},
    ]
    return _chunked([_typed_event({**f, "sequence_number": n}) for n, f in enumerate(frames)])


def _new_id() -> bytes:
    return b"resp_%048x" % next(_ids)


def _chat_answer(body: dict[str, Any], prompt_bytes: int) -> bytes | list[bytes]:
    model = str(body["model"])
    if not body.get("stream"):
        return _completion(model, prompt_bytes)
    include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
    content_events = int(body.get("max_tokens") or DEFAULT_CONTENT_EVENTS)
    return stream_events(model, content_events, include_usage, prompt_bytes)


def _responses_answer(body: dict[str, Any], prompt_bytes: int) -> bytes | list[bytes]:
    model, store = str(body["model"]), body.get("store") is not False
    limit = body.get("max_output_tokens")
    limit = None if limit is None else int(limit)
    if not body.get("stream"):
        return _response_body(model, limit, store, prompt_bytes).replace(RESPONSE_ID, _new_id())
    events, own = list(response_events(model, limit, store, prompt_bytes)), _new_id()
    for i in (0, 1, -1):  # the events that carry the response object
        events[i] = events[i].replace(RESPONSE_ID, own)
    return events


class Upstream(asyncio.Protocol):
    def __init__(self, gap: float) -> None:
        self._gap = gap
        self._parser = MessageParser()
        self._transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        done = self._parser.feed(data)
        while done:
            self._answer(self._parser.head_line, bytes(self._parser.body))
            self._parser.reset()
            done = self._parser.feed(b"")

    def _answer(self, request_line: bytes, raw: bytes) -> None:
        assert self._transport is not None
        path = request_line.split(b" ", 2)[1] if request_line.count(b" ") >= 2 else b""
        answer = _responses_answer if path.endswith(b"/responses") else _chat_answer
        try:
            body = orjson.loads(raw)
            reply = answer(body, len(raw))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            msg = b'{"error":{"message":"bad request","type":"invalid_request_error"}}'
            head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            self._transport.write(head + b"Content-Length: %d\r\n\r\n%s" % (len(msg), msg))
            return
        if isinstance(reply, bytes):
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            self._transport.write(head + b"Content-Length: %d\r\n\r\n" % len(reply) + reply)
            return
        self._transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + reply[0]
        )
        self._send(reply, 1)

    def _send(self, events: list[bytes], index: int) -> None:
        transport = self._transport
        if transport is None or transport.is_closing():
            return
        if not self._gap:
            transport.write(b"".join(events[index:]))
            return
        transport.write(events[index])
        if index + 1 < len(events):
            asyncio.get_running_loop().call_later(self._gap, self._send, events, index + 1)

    def connection_lost(self, exc: Exception | None) -> None:
        self._transport = None


async def serve(port: int, gap: float) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(lambda: Upstream(gap), "127.0.0.1", port)
    print(server.sockets[0].getsockname()[1], flush=True)
    await server.serve_forever()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--gap-ms", type=float, default=1.0)
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt), asyncio.Runner(loop_factory=loop_factory()) as r:
        r.run(serve(args.port, args.gap_ms / 1000))


if __name__ == "__main__":
    main()
