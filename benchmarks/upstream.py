"""A loopback upstream that answers OpenAI chat completions, as cheaply as possible.

It shares a core with the load generator, so it is a raw asyncio protocol rather than an
aiohttp app (the test emulator in `sidecar.emulators` is faithful, this one is cheap).
Non-streamed calls get a `chat.completion` with usage. Streamed calls get SSE
`chat.completion.chunk` events: a role event, `max_tokens` content events, a finish event,
a usage event when `stream_options.include_usage` is set, then `data: [DONE]`; each event
is its own HTTP chunk, `--gap-ms` apart, so that a proxy sees (and pays for) every event
separately, as it would with a real model producing tokens.

    python benchmarks/upstream.py [--port 0] [--gap-ms 1]   # prints the port, then serves
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
from typing import Any

import orjson
from rawhttp import MessageParser, loop_factory

DEFAULT_CONTENT_EVENTS = 20


def _event(obj: dict[str, Any]) -> bytes:
    data = b"data: " + orjson.dumps(obj) + b"\n\n"
    return b"%x\r\n%s\r\n" % (len(data), data)


def _chunk(model: str, delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {
        "id": "chatcmpl-bench",
        "object": "chat.completion.chunk",
        "created": 1764000000,
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
            "created": 1764000000,
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
    data = b"data: [DONE]\n\n"
    events.append(b"%x\r\n%s\r\n0\r\n\r\n" % (len(data), data))
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
            self._answer(bytes(self._parser.body))
            self._parser.reset()
            done = self._parser.feed(b"")

    def _answer(self, raw: bytes) -> None:
        assert self._transport is not None
        try:
            body = orjson.loads(raw)
            model = str(body["model"])
        except (orjson.JSONDecodeError, KeyError, TypeError):
            msg = b'{"error":{"message":"bad request","type":"invalid_request_error"}}'
            head = b"HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n"
            self._transport.write(head + b"Content-Length: %d\r\n\r\n%s" % (len(msg), msg))
            return
        if not body.get("stream"):
            payload = _completion(model, len(raw))
            head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            self._transport.write(head + b"Content-Length: %d\r\n\r\n" % len(payload) + payload)
            return
        options = body.get("stream_options") or {}
        content_events = int(body.get("max_tokens") or DEFAULT_CONTENT_EVENTS)
        events = stream_events(model, content_events, bool(options.get("include_usage")), len(raw))
        self._transport.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n" + events[0]
        )
        self._send(events, 1)

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
