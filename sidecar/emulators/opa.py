"""A loopback OPA server: enough of OPA's REST API to test the OPA engine against, with no
`opa` binary.

Faithful where the engine depends on it (checked against OPA's server source):

* `POST /v1/data/{path}` with `{"input": ...}` evaluates a Python callable standing in for
  the policy. A defined document answers 200 `{"result": ...}`; an undefined one answers 200
  without a `result` key. With `decision_ids` on (OPA with decision logging enabled) every
  answer, undefined ones included, carries a fresh `decision_id`; with it off, an undefined
  document is exactly `{}`. An empty body means no input; a body that is not a JSON object
  is a 400.
* `?provenance` (bare or `=true`, any case) adds OPA's `provenance` object: version and
  build fields, plus `bundles: {name: {revision}}` when bundles are configured; `?metrics`
  adds a `metrics` object of `timer_*_ns` values.
* Errors are OPA's `{"code": ..., "message": ...}`: 400 `invalid_parameter`, 500
  `internal_error` (also when the callable raises), 404 `resource_not_found`, 401
  `unauthorized`.
* `GET /health` answers 200 `{}`, or 500 `{"error": ...}` when `healthy` is False; with
  `?bundles` it is also 500 while `bundles_activated` is False.

Scripted faults reuse the OpenAI emulator's `Fault`: "status" (answer with that status and
OPA's error object), "delay" (sleep `seconds`, then answer), "reset" (drop the connection).
They apply to Data API requests only, so a background health check never consumes a fault a
test queued for a decision. Every request is recorded, with the client's address and port
(equal ports mean a reused connection).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import orjson
from aiohttp import web

from sidecar.emulators.openai import Fault, FaultQueue, ReceivedRequest
from sidecar.emulators.server import LoopbackServer

DecideFn = Callable[[Any], Any]
"""`decide(input) -> document`: the policy's answer for an input (None when the request had
no input). Return None for an undefined document; anything else is the `result`."""

_ERROR_CODES = {
    400: "invalid_parameter",
    401: "unauthorized",
    404: "resource_not_found",
    500: "internal_error",
}
_ERROR_MESSAGES = {
    400: "error(s) occurred while parsing input",
    401: "request rejected by administrative policy",
    404: "document missing or undefined",
    500: "error(s) occurred while evaluating query",
}
VERSION = "1.0.0-emulator"
_NOT_JSON = object()


@dataclass
class OPARequest(ReceivedRequest):
    """A received request, plus the client's "host:port" (one per TCP connection)."""

    peer: str = ""


def error_body(status: int, message: str | None = None) -> bytes:
    """OPA's error object for `status`."""
    code = _ERROR_CODES.get(status, "internal_error")
    text = message or _ERROR_MESSAGES.get(status, "internal error")
    return orjson.dumps({"code": code, "message": text})


def _flag(request: web.Request, name: str) -> bool:
    """A boolean query parameter as OPA reads it: present and bare, or "true" in any case."""
    values = request.query.getall(name, [])
    if values == [""]:
        return True
    return any(v.lower() == "true" for v in values)


class OPAEmulator(LoopbackServer):
    """An OPA server on a loopback port: `async with OPAEmulator(decide) as opa`, then point
    an OPA client at `opa.base_url` (e.g. http://127.0.0.1:54321)."""

    def __init__(
        self,
        decide: DecideFn | None = None,
        *,
        path: str = "llm_router/decision",
        healthy: bool = True,
        decision_ids: bool = True,
        bundles: dict[str, str] | None = None,
    ) -> None:
        self.decide: DecideFn = decide if decide is not None else (lambda _input: None)
        self.path = path.strip("/")
        """The one data path that `decide` serves; every other path is undefined."""
        self.healthy = healthy
        self.bundles_activated = True
        self.decision_ids = decision_ids
        self.bundles: dict[str, str] = dict(bundles or {})
        """Bundle name -> revision, reported in `provenance`."""
        self.received: list[OPARequest] = []
        self.faults = FaultQueue()
        self.fail_always: Fault | None = None
        super().__init__(web.Application(client_max_size=16 * 1024 * 1024))
        self.app.router.add_post("/v1/data/{path:.*}", self._data)
        self.app.router.add_get("/health", self._health)
        self.app.router.add_route("*", "/{tail:.*}", self._unknown)

    @property
    def data_requests(self) -> list[OPARequest]:
        """The Data API requests received, in order (health checks left out)."""
        return [r for r in self.received if r.path.startswith("/v1/data")]

    # ---- request handling ---------------------------------------------------------------

    def _record(self, request: web.Request, raw: bytes, parsed: Any) -> None:
        peer = request.transport.get_extra_info("peername") if request.transport else None
        self.received.append(
            OPARequest(
                request.method,
                request.path,
                dict(request.query),
                dict(request.headers),
                raw,
                parsed,
                peer=f"{peer[0]}:{peer[1]}" if peer else "",
            )
        )

    @staticmethod
    def _json(status: int, payload: dict[str, Any]) -> web.Response:
        return web.Response(
            status=status, body=orjson.dumps(payload), content_type="application/json"
        )

    @staticmethod
    def _error(status: int, message: str | None = None) -> web.Response:
        return web.Response(
            status=status, body=error_body(status, message), content_type="application/json"
        )

    async def _data(self, request: web.Request) -> web.Response:
        started = time.perf_counter_ns()
        raw = await request.read()
        try:
            parsed: Any = orjson.loads(raw) if raw.strip() else None
        except orjson.JSONDecodeError:
            parsed = _NOT_JSON
        self._record(request, raw, None if parsed is _NOT_JSON else parsed)
        fault = self.faults.take() or self.fail_always
        if fault is not None and fault.kind == "status":
            return self._error(fault.status)
        if fault is not None and fault.kind == "reset":
            if request.transport is not None:
                request.transport.abort()
            return web.Response()  # never sent: the connection is gone
        if fault is not None and fault.kind == "delay":
            await asyncio.sleep(fault.seconds)
        if parsed is _NOT_JSON:
            return self._error(400, "body contains malformed JSON")
        if parsed is not None and not isinstance(parsed, dict):
            return self._error(400, "body must be a JSON object")
        policy_input = parsed.get("input") if isinstance(parsed, dict) else None
        result: Any = None
        if request.match_info["path"].strip("/") == self.path:
            try:
                result = self.decide(policy_input)
            except Exception as exc:
                return self._error(500, f"evaluation failed: {exc.__class__.__name__}")
        body: dict[str, Any] = {}
        if self.decision_ids:
            body["decision_id"] = str(uuid.uuid4())
        if _flag(request, "provenance"):
            body["provenance"] = self._provenance()
        if _flag(request, "metrics"):
            elapsed = time.perf_counter_ns() - started
            body["metrics"] = {
                "timer_rego_query_eval_ns": elapsed,
                "timer_server_handler_ns": elapsed,
            }
        if result is not None:
            body["result"] = result
        return self._json(200, body)

    def _provenance(self) -> dict[str, Any]:
        provenance: dict[str, Any] = {
            "version": VERSION,
            "build_commit": "",
            "build_timestamp": "",
            "build_hostname": "",
        }
        if self.bundles:
            provenance["bundles"] = {n: {"revision": r} for n, r in self.bundles.items()}
        return provenance

    async def _health(self, request: web.Request) -> web.Response:
        self._record(request, b"", None)
        if not self.healthy:
            return self._json(500, {"error": "unable to perform evaluation"})
        wants_bundles = _flag(request, "bundles") or _flag(request, "bundle")
        if wants_bundles and self.bundles and not self.bundles_activated:
            return self._json(500, {"error": "one or more bundles are not activated"})
        return self._json(200, {})

    async def _unknown(self, request: web.Request) -> web.Response:
        self._record(request, await request.read(), None)
        return web.Response(status=404, text="404 page not found\n")
