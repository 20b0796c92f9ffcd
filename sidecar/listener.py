"""The sidecar's HTTP listeners: aiohttp's server, with a connection cap and error
handling of the sidecar's own.

Why not aiohttp's defaults:
- When its HTTP parser rejects a request (bare-LF line endings, chunked framing errors, a
  malformed header), aiohttp answers with a text page quoting the raw request bytes and
  logs a traceback that quotes them again: prompt text and keys, on the wire and in the
  log. Here the app gets an error body in the OpenAI and Anthropic error formats at once
  (each SDK reads its own fields), the log gets the error's class only, and the refusal is
  counted, and audited through `on_invalid`.
- aiohttp accepts any number of connections. A pod's file descriptors and memory are the
  app's too, so past `max_connections` a new connection is closed at once and counted.
"""

from __future__ import annotations

import asyncio
import traceback
from collections.abc import Callable
from typing import Any

import aiohttp.http_exceptions as http_exceptions
import orjson
import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from sidecar.api.base import Reply
from sidecar.metrics import Metrics

log = structlog.get_logger("llm_router.listener")

PARSER_ERRORS = frozenset(
    name
    for name, value in vars(http_exceptions).items()
    if isinstance(value, type) and issubclass(value, http_exceptions.HttpProcessingError)
)
"""Bounded values of the `error` label: aiohttp's own parser exception classes."""

InvalidHandler = Callable[[int, str], Reply]
"""(status, error class) -> the reply; called once per request that was not valid HTTP."""


def error_class(exc: BaseException | None) -> str:
    """A name that says what went wrong without any of the request's bytes."""
    name = type(exc).__name__ if exc is not None else "unknown"
    return name if name in PARSER_ERRORS else "other"


class _Guarded(RequestHandler):
    """One connection. Replaces the two places aiohttp puts request bytes: its error page
    and its exception log."""

    def __init__(self, server: GuardedServer, **kwargs: Any) -> None:
        super().__init__(server, **kwargs)
        self._guard = server

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: part of a response is out already
            raise ConnectionError("response already started; the connection is closed")
        reply = self._guard.invalid(status, exc)
        response = web.Response(status=reply.status, body=reply.body, headers=reply.headers)
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kw: Any) -> None:
        """aiohttp's exception log would print the exception's message, which for parser
        errors quotes the request. Logged here: the class and the frames only."""
        exc = kw.get("exc_info")
        if not isinstance(exc, BaseException):
            exc = None
        log.error(
            "http_error",
            listener=self._guard.listener,
            error_type=type(exc).__name__ if exc is not None else "unknown",
            traceback="".join(traceback.format_tb(exc.__traceback__)) if exc else None,
        )


class _Refused(asyncio.Protocol):
    """A connection beyond the cap: closed as soon as it is accepted."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        transport.close()


class GuardedServer(web.Server):
    """aiohttp's `web.Server` with `_Guarded` connections and a cap on how many are open."""

    def __init__(
        self,
        plain: web.Server,
        *,
        listener: str,
        max_connections: int,
        metrics: Metrics,
        on_invalid: InvalidHandler | None = None,
    ) -> None:
        # The same handler, request factory and handler options AppRunner gave `plain`.
        super().__init__(
            plain.request_handler,
            request_factory=plain.request_factory,
            handler_cancellation=plain.handler_cancellation,
            **plain._kwargs,
        )
        self.listener = listener
        self.max_connections = max_connections
        self._on_invalid = on_invalid
        self._open = metrics.http_connections.labels(listener=listener)
        self._refused = metrics.http_connections_refused.labels(listener=listener)
        self._invalid = metrics.invalid_http
        self._open.set(0)

    def __call__(self) -> Any:  # a protocol: `_Guarded`, or `_Refused` past the cap
        if len(self._connections) >= self.max_connections:
            self._refused.inc()
            return _Refused()
        return _Guarded(self, loop=self._loop, **self._kwargs)

    def connection_made(self, handler: RequestHandler, transport: asyncio.Transport) -> None:
        super().connection_made(handler, transport)
        self._open.set(len(self._connections))

    def connection_lost(self, handler: RequestHandler, exc: BaseException | None = None) -> None:
        super().connection_lost(handler, exc)
        self._open.set(len(self._connections))

    def invalid(self, status: int, exc: BaseException | None) -> Reply:
        name = error_class(exc)
        self._invalid.labels(listener=self.listener, error=name).inc()
        log.info("invalid_http", listener=self.listener, error=name, status=status)
        if self._on_invalid is not None:
            return self._on_invalid(status, name)
        error = {"code": "invalid_http", "message": f"the request is not valid HTTP/1.1 ({name})"}
        return Reply(status, {"content-type": "application/json"}, orjson.dumps({"error": error}))


class GuardedRunner(web.AppRunner):
    """An AppRunner whose server is a `GuardedServer`."""

    def __init__(
        self,
        app: web.Application,
        *,
        listener: str,
        max_connections: int,
        metrics: Metrics,
        on_invalid: InvalidHandler | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(app, **kwargs)
        self._guard_options: dict[str, Any] = {
            "listener": listener,
            "max_connections": max_connections,
            "metrics": metrics,
            "on_invalid": on_invalid,
        }

    async def _make_server(self) -> web.Server:
        return GuardedServer(await super()._make_server(), **self._guard_options)
