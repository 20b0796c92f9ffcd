"""The translator interface: one implementation per (client schema, backend schema) pair.

Modelled on Envoy AI Gateway: a translator sees the request body, the response headers,
each response body chunk (then the end of the stream) and upstream errors, and returns what
the other side should see. One instance serves one upstream attempt, so it may keep state
(e.g. a partial SSE line, the token usage seen so far).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

RELAYED_RESPONSE_HEADERS = frozenset(
    {
        "content-type",
        "x-request-id",
        "request-id",
        "openai-processing-ms",
        "openai-version",
        "retry-after",
    }
)
"""Upstream headers the app may see. Everything else (cookies, rate-limit details of the
sidecar's own key, server banners) stays behind the sidecar."""


@dataclass(slots=True)
class Usage:
    """Token counts in the sidecar's terms, read from either API's naming: Chat Completions'
    prompt/completion tokens, or the Responses API's input/output tokens (and the cached
    and reasoning tokens both report in their `*_details`)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cached_tokens: int = 0
    reasoning_tokens: int = 0
    seen: bool = False

    def update(self, usage: Any) -> None:
        if not isinstance(usage, dict):
            return
        responses = "input_tokens" in usage or "output_tokens" in usage
        prompt, completion = (
            ("input_tokens", "output_tokens")
            if responses
            else ("prompt_tokens", "completion_tokens")
        )
        self.prompt_tokens = _int(usage.get(prompt))
        self.completion_tokens = _int(usage.get(completion))
        self.total_tokens = _int(usage.get("total_tokens")) or (
            self.prompt_tokens + self.completion_tokens
        )
        details_in = usage.get(prompt + "_details")
        details_out = usage.get(completion + "_details")
        self.cached_tokens = (
            _int(details_in.get("cached_tokens")) if isinstance(details_in, dict) else 0
        )
        self.reasoning_tokens = (
            _int(details_out.get("reasoning_tokens")) if isinstance(details_out, dict) else 0
        )
        self.seen = True

    def to_dict(self) -> dict[str, int] | None:
        if not self.seen:
            return None
        counts = {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }
        if self.cached_tokens:
            counts["cached_tokens"] = self.cached_tokens
        if self.reasoning_tokens:
            counts["reasoning_tokens"] = self.reasoning_tokens
        return counts


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")


_DIGITS = re.compile(r"[0-9]{3,}")


class UnsupportedFeature(Exception):
    """The target format cannot express something the app asked for. The route is skipped
    with this reason in the audit record; never is the feature silently dropped.

    The message may quote the app's values (a block type, field names), which helps the
    app's developer and goes back only to the app; `audit` is the same reason without
    them, for the audit record (an app-chosen "type" can hold anything)."""

    def __init__(self, message: str, *, audit: str | None = None) -> None:
        super().__init__(message)
        shown = audit if audit is not None else _QUOTED.sub("…", message)
        self.audit = _DIGITS.sub("#", shown)  # a number the app sent as a "type", say


class Translator(Protocol):
    usage: Usage
    complete: bool
    """True once the response (or stream) reached its documented end."""

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]: ...

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]: ...

    def response_body(self, body: bytes) -> bytes: ...

    def response_chunk(self, chunk: bytes) -> bytes: ...

    def response_end(self) -> bytes: ...

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        """An upstream error body in the app's format. Its text is still the upstream's:
        the dispatcher cleans it (sidecar/scrub.py) before the app sees it, as the relay
        does the error events a translator passes on."""
        ...


TranslatorFactory = Callable[[str], Translator]
"""Builds a translator for one attempt, given the client endpoint (e.g. `chat_completions`)."""


def upstream_error(body: bytes) -> dict[str, Any]:
    """The `error` object of an upstream's error body, in either format; {} when there is
    none (an empty body, a proxy's HTML page), so a translated error still has its shape."""
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    error = parsed.get("error") if isinstance(parsed, dict) else None
    return error if isinstance(error, dict) else {}


def relayed_headers(headers: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower() in RELAYED_RESPONSE_HEADERS}


class SSELines:
    """Splits a byte stream into complete SSE lines without copying the relayed chunks.

    Only lines are returned; the caller decides which few are worth parsing as JSON.
    """

    def __init__(self) -> None:
        self._partial = b""

    @property
    def pending(self) -> bool:
        return bool(self._partial)

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._partial + chunk if self._partial else chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        return lines


class SSEParser:
    """Incremental SSE parser: bytes in, complete (event, data) pairs out.

    Used by translators, which must see whole events; pass-through relays never parse.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._cr = b""

    def feed(self, chunk: bytes) -> list[tuple[str | None, bytes]]:
        chunk = self._cr + chunk
        # A chunk may end between the CR and the LF of one line ending: hold the CR back.
        chunk, self._cr = (chunk[:-1], b"\r") if chunk.endswith(b"\r") else (chunk, b"")
        self._buffer += chunk.replace(b"\r\n", b"\n")
        events: list[tuple[str | None, bytes]] = []
        while True:
            end = self._buffer.find(b"\n\n")
            if end == -1:
                return events
            block, self._buffer = self._buffer[:end], self._buffer[end + 2 :]
            name: str | None = None
            data: list[bytes] = []
            for line in block.split(b"\n"):
                if line.startswith(b"event:"):
                    name = line[6:].strip().decode("utf-8", "replace")
                elif line.startswith(b"data:"):
                    data.append(line[5:].lstrip(b" "))
            if data or name:
                events.append((name, b"\n".join(data)))


def sse_event(name: str, data: bytes) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + data + b"\n\n"


def sse_data(data: bytes) -> bytes:
    return b"data: " + data + b"\n\n"
