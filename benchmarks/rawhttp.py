"""A minimal HTTP/1.1 keep-alive client and message parser on raw asyncio protocols.

The load generator shares a core with the upstream, so it must cost far less per request
than what it measures: an aiohttp client spends more CPU per request than the sidecar's
whole pipeline. This parser handles what the benchmark meets (Content-Length and chunked
bodies, one request in flight per connection) and records when the first body byte and the
last byte arrived, and how many HTTP chunks a streamed body came in.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Response:
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)
    chunks: int = 0
    """HTTP chunks in a chunked body: one per write of a relaying proxy."""
    sent_at: float = 0.0
    first_byte_at: float = 0.0
    """When the first byte of the body arrived (for a stream: its first event)."""
    done_at: float = 0.0

    @property
    def latency(self) -> float:
        return self.done_at - self.sent_at

    @property
    def ttfb(self) -> float:
        return self.first_byte_at - self.sent_at


class Incomplete(Exception):
    """More bytes are needed."""


class MessageParser:
    """Incremental parser of one HTTP/1.1 message head plus body, for either direction.

    `head_line` is the status line of a response or the request line of a request.
    """

    def __init__(self) -> None:
        self.buffer = bytearray()
        self.reset()

    def reset(self) -> None:
        self.head_line = b""
        self.headers: dict[str, str] = {}
        self.body = bytearray()
        self.chunks = 0
        self._in_body = False
        self._length: int | None = None
        self._chunked = False

    @property
    def in_body(self) -> bool:
        return self._in_body

    def feed(self, data: bytes) -> bool:
        """Add bytes; True once a whole message is parsed (its bytes leave the buffer)."""
        self.buffer += data
        try:
            if not self._in_body:
                self._parse_head()
            return self._parse_body()
        except Incomplete:
            return False

    def _parse_head(self) -> None:
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            raise Incomplete
        lines = bytes(self.buffer[:end]).split(b"\r\n")
        del self.buffer[: end + 4]
        self.head_line = lines[0]
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            self.headers[name.strip().lower().decode("latin-1")] = value.strip().decode("latin-1")
        self._chunked = "chunked" in self.headers.get("transfer-encoding", "").lower()
        length = self.headers.get("content-length")
        self._length = int(length) if length is not None else (None if self._chunked else 0)
        self._in_body = True

    def _parse_body(self) -> bool:
        buf = self.buffer
        if not self._chunked:
            assert self._length is not None
            if len(buf) < self._length:
                raise Incomplete
            self.body += buf[: self._length]
            del buf[: self._length]
            return True
        while True:
            eol = buf.find(b"\r\n")
            if eol < 0:
                raise Incomplete
            size = int(bytes(buf[:eol]).split(b";")[0], 16)
            if len(buf) < eol + 2 + size + 2:
                raise Incomplete
            if size == 0:
                del buf[: eol + 4]
                return True
            self.body += buf[eol + 2 : eol + 2 + size]
            self.chunks += 1
            del buf[: eol + 2 + size + 2]


class ClientConnection(asyncio.Protocol):
    """One keep-alive connection; `request` sends a whole request and awaits the reply."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self._parser = MessageParser()
        self._waiter: asyncio.Future[Response] | None = None
        self._response = Response()
        self._closed: Exception | None = None

    @classmethod
    async def open(cls, host: str, port: int) -> ClientConnection:
        loop = asyncio.get_running_loop()
        _, protocol = await loop.create_connection(cls, host, port)
        return protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._closed = exc or ConnectionResetError("connection closed")
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_exception(self._closed)

    def data_received(self, data: bytes) -> None:
        resp, p = self._response, self._parser
        done = p.feed(data)
        now = time.perf_counter()
        if not resp.first_byte_at and (done or (p.in_body and (p.body or p.buffer))):
            resp.first_byte_at = now
        if done:
            resp.status = int(p.head_line.split(b" ", 2)[1])
            resp.headers, resp.body, resp.chunks, resp.done_at = p.headers, p.body, p.chunks, now
            p.reset()
            if self._waiter is not None and not self._waiter.done():
                self._waiter.set_result(resp)

    async def request(self, data: bytes) -> Response:
        if self._closed is not None or self.transport is None:
            raise ConnectionResetError("connection closed")
        self._response = Response(sent_at=time.perf_counter())
        self._waiter = asyncio.get_running_loop().create_future()
        self.transport.write(data)
        return await self._waiter

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()


def post(path: str, body: bytes, *, host: str, key: str) -> bytes:
    """A whole POST request with a JSON body, ready to write."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Authorization: Bearer {key}\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def get_status(host: str, port: int, path: str) -> int | None:
    """Status of one GET on a fresh connection, or None if nothing answers yet."""
    try:
        conn = await ClientConnection.open(host, port)
    except OSError:
        return None
    try:
        request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n"
        resp = await asyncio.wait_for(conn.request(request.encode()), 5)
        return resp.status
    except (OSError, TimeoutError):
        return None
    finally:
        conn.close()


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop]:
    """uvloop when installed (as in the sidecar), else asyncio's own loop."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop
    return uvloop.new_event_loop
