"""Reading an upstream response under deadlines, and relaying only well-formed events.

Why this exists: an upstream can stall, trickle, cut a stream half-way through an event or
send bytes that are not SSE or not JSON. The app must still get either a complete response
or a well-formed error in its own API's format, never a half event glued to an error
event, and never garbage its SDK chokes on. So:

- every read has a deadline: the first event within `first_byte_s`, each later chunk within
  `idle_s` of the previous one, everything within `total_s`;
- what the translator produces passes through `EventGuard`, which releases complete events
  only and checks that each `data:` payload is JSON (or OpenAI's `[DONE]`);
- an upstream error event ends the stream: it is relayed as the stream's last event with
  its text cleaned (sidecar/scrub.py), never as the upstream wrote it;
- a failure before the first data event raises, so the dispatcher can fail over (nothing
  has reached the app); after it, `UpstreamStream.next` raises a RouterError that the
  pipeline turns into one final error event in the app's format;
- the route's circuit breaker gets the stream's verdict when the stream ends (complete:
  success; cut, stalled, malformed or an error event: failure), not when it starts, and
  none at all when the app goes away or shutdown ends it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import aiohttp
import orjson

from sidecar.breaker import Ticket
from sidecar.errors import RouterError
from sidecar.providers.base import Translator, sse_data, sse_event
from sidecar.scrub import Scrubber

_FIELDS = frozenset({b"data", b"event", b"id", b"retry"})
_DONE = b"[DONE]"


class MalformedResponse(Exception):
    """The upstream answered 200 with something that is not a valid response of its API
    (unparseable JSON, broken SSE, or a shape the translator cannot read)."""


class UpstreamErrorEvent(RouterError):
    """The upstream ended its stream with an error event. `event` is that event, cleaned
    and in the app's format, for the pipeline to relay as the stream's last one."""

    def __init__(self, event: bytes) -> None:
        super().__init__(
            502,
            "upstream_error_event",
            "the upstream ended the stream with an error",
            kind="api_error",
        )
        self.event = event


class EventGuard:
    """Splits a byte stream into complete SSE events and checks each of them.

    `feed` returns the complete events seen so far (bytes, possibly empty) and whether any
    of them carries data; an incomplete tail stays buffered until the rest arrives. Line
    ends are normalised to LF. Comments and `event`, `id`, `retry` fields pass; an unknown
    field or a `data` payload that is neither JSON nor `[DONE]` raises MalformedResponse.

    An error event (a payload with an `error` member, or of `type` error) is never
    released: `feed` stops before it and keeps its payload in `error`, and nothing after
    it is read, since the upstream's stream is over.
    """

    __slots__ = ("_buffer", "error")

    def __init__(self) -> None:
        self._buffer = b""
        self.error: dict[str, Any] | None = None

    @property
    def pending(self) -> bool:
        """Bytes of an event whose end has not arrived (whitespace does not count)."""
        return bool(self._buffer.strip())

    def feed(self, chunk: bytes) -> tuple[bytes, bool]:
        if self.error is not None:
            return b"", False
        data = self._buffer + chunk if self._buffer else chunk
        if b"\r" in data:
            held = b"\r" if data.endswith(b"\r") else b""  # maybe the first half of CRLF
            data = data[: len(data) - len(held)].replace(b"\r\n", b"\n").replace(b"\r", b"\n")
            data += held
        end = data.rfind(b"\n\n")
        if end < 0:
            self._buffer = data
            return b"", False
        complete, self._buffer = data[: end + 2], data[end + 2 :]
        has_data, error_at = self._check_events(complete)
        if error_at >= 0:
            complete, self._buffer = complete[:error_at], b""
        return complete, has_data

    def _check_events(self, complete: bytes) -> tuple[bool, int]:
        """Whether the events carry data (before an error event), and where an error
        event starts (-1: none)."""
        if complete.startswith(b"data: ") and complete.find(b"\n") == len(complete) - 2:
            return self._check_data(complete[6:-2], 0)  # one event, one data line: most chunks
        has_data = False
        start = 0
        for block in complete.split(b"\n\n"):
            at, start = start, start + len(block) + 2
            if not block:
                continue
            payload = _block_payload(block)
            if payload is None:
                continue
            data, error_at = self._check_data(payload, at)
            if error_at >= 0:
                return has_data, error_at
            has_data = has_data or data
        return has_data, -1

    def _check_data(self, text: bytes, at: int) -> tuple[bool, int]:
        event = _check_data(text)
        if event is not None and (event.get("type") == "error" or event.get("error") is not None):
            self.error = event
            return False, at
        return True, -1


def _block_payload(block: bytes) -> bytes | None:
    """The data of one event (None: a comment, or fields without data)."""
    payload: list[bytes] = []
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue
        name, colon, value = line.partition(b":")
        if not colon or name not in _FIELDS:
            raise MalformedResponse("a line that is not an SSE field")
        if name == b"data":
            payload.append(value[1:] if value.startswith(b" ") else value)
    return b"\n".join(payload) if payload else None


def _check_data(text: bytes) -> dict[str, Any] | None:
    """The event object of a data payload (None: OpenAI's `[DONE]`)."""
    if text == _DONE:
        return None
    try:
        event = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise MalformedResponse("an SSE data payload that is not JSON") from None
    if not isinstance(event, dict):
        raise MalformedResponse("an SSE data payload that is not a JSON object")
    return event


def translate(translator: Translator, guard: EventGuard, chunk: bytes) -> tuple[bytes, bool]:
    """One upstream chunk through the translator and the guard. Any exception of the
    translator on upstream bytes means the upstream sent something it could not read."""
    try:
        out = translator.response_chunk(chunk)
    except Exception as exc:  # a translator reading upstream bytes must never crash a request
        raise MalformedResponse(
            f"the stream could not be translated ({type(exc).__name__})"
        ) from None
    if not out:
        return b"", False
    return guard.feed(out)


def stream_failure(status: int, code: str, message: str) -> RouterError:
    return RouterError(status, code, message, kind="api_error")


class UpstreamStream:
    """A streamed upstream response that is being relayed to the app.

    The dispatcher calls `first` (which may raise, allowing failover); the pipeline then
    calls `next` until it returns b"" (complete) or raises a RouterError (the stream failed
    after bytes reached the app). `close` must always be called; `abort` is for shutdown.

    `ticket` is the route's circuit-breaker admission: the stream gives it its verdict
    when it ends, or releases it at `close` if it never ended (the app went away).
    """

    __slots__ = (
        "_deadline",
        "_ended",
        "_expired",
        "_guard",
        "_idle",
        "_loop",
        "_on_close",
        "_on_failure",
        "_read_since",
        "_reader",
        "_response",
        "_scrubber",
        "_ticket",
        "_watch",
        "aborted",
        "route",
        "translator",
    )

    def __init__(
        self,
        route: str,
        response: aiohttp.ClientResponse,
        translator: Translator,
        *,
        idle_s: float,
        deadline: float,
        on_failure: Callable[[str], None],
        on_close: Callable[[UpstreamStream], None],
        ticket: Ticket | None = None,
        scrubber: Scrubber | None = None,
    ) -> None:
        self.route = route
        self.translator = translator
        self.aborted = False
        self._ended = False
        self._response = response
        self._guard = EventGuard()
        self._idle = idle_s
        self._deadline = deadline
        self._loop = asyncio.get_running_loop()
        self._on_failure = on_failure
        self._on_close = on_close
        self._ticket = ticket
        self._scrubber = scrubber if scrubber is not None else Scrubber()
        self._reader: asyncio.Task[object] | None = None
        """The task waiting for the next chunk, while it waits."""
        self._read_since = 0.0
        self._watch: asyncio.TimerHandle | None = None
        self._expired: str | None = None

    async def first(self) -> bytes:
        """Everything up to and including the first complete data event. Comments before it
        (OpenRouter's keep-alives) are held back, so failover stays possible until real
        data arrives. The caller bounds this with the first-byte deadline."""
        held = b""
        while True:
            chunk = await self._response.content.readany()
            if not chunk:
                raise aiohttp.ClientPayloadError("the stream ended before its first event")
            out, has_data = translate(self.translator, self._guard, chunk)
            held += out
            if has_data:
                return held
            if self._guard.error is not None:  # before any data: the route failed
                raise self._error_event()

    async def next(self) -> bytes:
        """The next relayable bytes, b"" once the stream is complete. Raises a RouterError
        (for the app's stream error event) when it is not."""
        if self._ended:
            return b""
        try:
            while True:
                if self.aborted:
                    raise _shutting_down()
                if self._guard.error is not None:  # what came before it has been relayed
                    raise self._error_event()
                chunk = await self._read()
                if self.aborted:
                    raise _shutting_down()
                if not chunk:
                    return self._end()
                out, _ = translate(self.translator, self._guard, chunk)
                if out:
                    return out
        except MalformedResponse:
            err = stream_failure(
                502, "upstream_malformed", "the upstream sent a malformed stream event"
            )
        except aiohttp.ClientPayloadError:
            err = _cut()
        except aiohttp.ClientError:
            err = (
                _shutting_down()
                if self.aborted
                else stream_failure(502, "upstream_stream_error", "the upstream stream failed")
            )
        except RouterError as exc:
            err = exc
        if err.code != "shutting_down":
            self._on_failure(err.code)
            if self._ticket is not None:
                self._ticket.failure()
        raise err

    def _error_event(self) -> UpstreamErrorEvent:
        """The upstream's error event, rebuilt from its cleaned fields, in the app's format
        (the translator made it so): Anthropic's as an `error` event, OpenAI's as data."""
        assert self._guard.error is not None
        cleaned = self._scrubber.error_object(self._guard.error)
        data = orjson.dumps(cleaned)
        return UpstreamErrorEvent(
            sse_event("error", data) if cleaned.get("type") == "error" else sse_data(data)
        )

    async def _read(self) -> bytes:
        """The next chunk within the idle and total deadlines.

        One watchdog timer per stream instead of a timeout per read: arming and cancelling
        a timer for every chunk cost ~4.5 µs a chunk, a third of what relaying one costs.
        The watchdog wakes up at most once per idle period, compares the time with the
        start of the read in progress and, when a deadline has passed, cancels the reading
        task the way `asyncio.timeout` would."""
        task = asyncio.current_task()
        assert task is not None
        self._read_since = self._loop.time()
        if self._watch is None:
            self._watch = self._loop.call_at(self._due(), self._check)
        cancelling = task.cancelling()
        self._reader = task
        try:
            return await self._response.content.readany()
        except asyncio.CancelledError:
            if self._expired is None or task.uncancel() > cancelling:
                raise  # cancelled from outside (the app went away, shutdown)
            raise stream_failure(
                504,
                "upstream_stream_timeout",
                f"the upstream stream stalled ({self._expired} timeout)",
            ) from None
        finally:
            self._reader = None

    def _due(self) -> float:
        return min(self._read_since + self._idle, self._deadline)

    def _check(self) -> None:
        self._watch = None
        if self._ended or self._reader is None:
            return  # no read in progress: the next read arms the watchdog again
        due = self._due()
        if self._loop.time() < due:
            self._watch = self._loop.call_at(due, self._check)
            return
        self._expired = "total" if due >= self._deadline else "idle"
        self._reader.cancel()

    def _end(self) -> bytes:
        try:
            tail = self.translator.response_end()
        except Exception:
            raise MalformedResponse("the stream could not be finished") from None
        out = self._guard.feed(tail)[0] if tail else b""
        if not self.translator.complete or self._guard.pending:
            raise _cut()
        self._ended = True
        if self._ticket is not None:
            self._ticket.success()  # only now: a stream that started well may still break
        return out  # a translator's last events, if it keeps any until the end

    def abort(self) -> None:
        """Shutdown's grace period is over: end this stream with a `shutting_down` error."""
        self.aborted = True
        self._response.close()

    def close(self) -> None:
        """Idempotent: the relay closes the stream when it ends, the pipeline again when the
        request ends (the app may have gone away before reading it)."""
        if self._watch is not None:
            self._watch.cancel()
            self._watch = None
        if self._ticket is not None:
            self._ticket.release()  # no verdict yet: the app went away, or shutdown
        self._response.close()
        self._on_close(self)


def _cut() -> RouterError:
    return stream_failure(502, "upstream_stream_cut", "the upstream ended the stream early")


def _shutting_down() -> RouterError:
    return stream_failure(503, "shutting_down", "the router is shutting down")
