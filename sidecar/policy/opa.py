"""The OPA engine: decisions from an OPA server (the upstream `opa` binary, usually a second
container in the pod) through its REST Data API, spoken by opa-python-client.

One decision is one `POST {url}/v1/data/llm_router/decision?provenance=true` with
`{"input": <policy input>}`. OPA answers `{"result": ..., "decision_id": ...}`; without a
`result` key the decision is undefined; errors come as `{"code": ..., "message": ...}` with
400 or 500. Everything that is not a well-formed result in time denies (fail closed), with
`Decision.error` saying why: `undefined_decision`, `opa_error_<status>`, `opa_unreachable`,
`timeout`, `malformed_result`, `not_started` or `opa_error` (anything else). A result goes
through `parse_decision`, the same checks the embedded engine uses.

The client is opa-python-client's `AsyncOpaClient` (version 3), which fits:

* Connection reuse: it holds one aiohttp `ClientSession` (a pooled, keep-alive connector)
  for its lifetime; the engine opens it in `start` and closes it in `close`.
* Per-request timeout: the session's `ClientTimeout(total=timeout)` bounds every request as
  a whole (pool wait, connect, send, response). It is fixed per client rather than per call,
  which is all the engine needs: every decision has the same budget, `timeout_ms`. The call
  is also wrapped in `asyncio.timeout` with the same budget, so the deadline holds whatever
  the library does inside, and a result that arrives after it is discarded.
* Retries: the client retries connection errors and 500/502/504 with back-off (0.3 s, 0.6 s,
  ...) by default. That would blow the latency budget and hammer a failing OPA, so the engine
  sets `retries=0`: a failure denies at once and the next request tries again.
* `query_rule(..., query_params={"provenance": True})` sends `?provenance=True`, which OPA
  accepts (it compares the value case-insensitively with "true").

What the library does not do, and why it does not matter here: it raises on a non-2xx status
without reading OPA's error body (the engine needs only the status), and it parses JSON with
the standard library (the result is re-encoded for `parse_decision`, a few microseconds).
It builds URLs from host and port, so an OPA URL with a path prefix is refused at
construction rather than silently ignored.

Health: `GET /health?bundles=true` (200 when OPA can evaluate and, if bundles are
configured, every bundle has been activated). `start` checks once; a background loop checks
again every `health_interval_s` and keeps `ready` current, so /readyz follows OPA. Health
checks use a second client with a longer timeout (`health_timeout_s`, default 1 s) so that
readiness does not flap on the 50 ms decision budget. `decide` does not consult `ready`:
it always asks OPA, and denies if OPA cannot answer.

Revision: taken from the `provenance` of each decision response, so the revision recorded
with a decision is the one OPA evaluated it with. With one bundle it is that bundle's
revision; with several, `name=revision` pairs joined by commas in name order; OPA's legacy
single-bundle `revision` field is used when that is what it sends. When OPA serves no bundle
revision (e.g. `opa run --server policies/`), or before the first decision, it is
"opa:" + the URL's host:port, which names the server but not the policy version. The
revision is not probed separately: every Data API call is a decision that OPA's decision
log would record.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
from opa_client import AsyncOpaClient

from sidecar.policy.decision import failed_decision, parse_decision
from sidecar.policy.model import DECISION_QUERY, Decision

DEFAULT_PATH = DECISION_QUERY.removeprefix("data.").replace(".", "/")
"""The Data API path of the decision: llm_router/decision."""

_DEFAULT_PORTS = {"http": 80, "https": 443}


def _parse_url(url: str) -> tuple[str, int, bool, str]:
    """(host for the client, port, use TLS, host:port) of an OPA base URL."""
    parts = urlsplit(url.strip())
    if parts.scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise ValueError(f"OPA URL must be http(s)://host[:port], got {url!r}")
    if parts.path.strip("/") or parts.query or parts.fragment or parts.username:
        raise ValueError(f"OPA URL must not have a path, query or credentials, got {url!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[parts.scheme]
    except ValueError:
        raise ValueError(f"OPA URL has an invalid port: {url!r}") from None
    host = f"[{parts.hostname}]" if ":" in parts.hostname else parts.hostname
    return host, port, parts.scheme == "https", f"{host}:{port}"


def bundle_revision(provenance: Any) -> str | None:
    """The policy revision named by OPA's `provenance` object, if it names one."""
    if not isinstance(provenance, dict):
        return None
    bundles = provenance.get("bundles")
    revisions: dict[str, str] = {}
    if isinstance(bundles, dict):
        for name, info in bundles.items():
            revision = info.get("revision") if isinstance(info, dict) else None
            if isinstance(revision, str) and revision:
                revisions[str(name)] = revision
    if len(revisions) == 1:
        return next(iter(revisions.values()))
    if revisions:
        return ",".join(f"{name}={rev}" for name, rev in sorted(revisions.items()))
    legacy = provenance.get("revision")
    return legacy if isinstance(legacy, str) and legacy else None


class OPAEngine:
    """A PolicyEngine backed by an OPA server. `await start()` before use, `await close()`
    at shutdown; both on the event loop that will call `decide`."""

    name = "opa"

    def __init__(
        self,
        url: str,
        timeout_ms: float,
        *,
        path: str = DEFAULT_PATH,
        health_interval_s: float = 5.0,
        health_timeout_s: float = 1.0,
    ) -> None:
        if timeout_ms <= 0:
            raise ValueError("timeout_ms must be positive")
        self.url = url.strip().rstrip("/")
        self._host, self._port, self._tls, netloc = _parse_url(self.url)
        self._path = path.strip("/").replace(".", "/")
        self._timeout = timeout_ms / 1000.0
        self._health_interval = health_interval_s
        self._health_timeout = health_timeout_s
        self._fallback_revision = f"opa:{netloc}"
        self._revision = self._fallback_revision
        self._ready = False
        self._client: Any = None
        self._health_client: Any = None
        self._health_task: asyncio.Task[None] | None = None

    # ---- lifecycle ----------------------------------------------------------------------

    def _new_client(self, timeout: float) -> Any:
        return AsyncOpaClient(
            host=self._host, port=self._port, ssl=self._tls, timeout=timeout, retries=0
        )

    async def start(self) -> None:
        """Open the connection pools, check OPA's health once and start the health loop.
        An OPA that is not up yet is not an error: `ready` stays False until it is."""
        if self._client is not None:
            return
        client, health = self._new_client(self._timeout), self._new_client(self._health_timeout)
        await client.__aenter__()
        await health.__aenter__()
        self._client, self._health_client = client, health
        self._ready = await self._check_health()
        self._health_task = asyncio.create_task(self._health_loop(), name="opa-health")

    async def close(self) -> None:
        self._ready = False
        task, self._health_task = self._health_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        clients = (self._client, self._health_client)
        self._client = self._health_client = None
        for client in clients:
            if client is not None:
                await client.close_connection()

    async def __aenter__(self) -> OPAEngine:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ---- PolicyEngine -------------------------------------------------------------------

    @property
    def revision(self) -> str:
        return self._revision

    @property
    def ready(self) -> bool:
        return self._ready

    async def decide(self, policy_input: dict[str, Any]) -> Decision:
        """Ask OPA and never raise (except on cancellation of the caller): every failure is a
        deny with `error` set."""
        started = time.perf_counter()
        client = self._client
        if client is None:
            return self._failed("not_started", started, self._revision)
        try:
            async with asyncio.timeout(self._timeout):
                body = await client.query_rule(
                    policy_input, self._path, query_params={"provenance": True}
                )
        except TimeoutError:  # asyncio's deadline and aiohttp's timeouts alike
            return self._failed("timeout", started, self._revision)
        except aiohttp.ContentTypeError:
            return self._failed("malformed_result", started, self._revision)
        except aiohttp.ClientResponseError as exc:
            return self._failed(f"opa_error_{exc.status}", started, self._revision)
        except (aiohttp.ClientConnectionError, OSError):
            return self._failed("opa_unreachable", started, self._revision)
        except ValueError:  # the body was not JSON
            return self._failed("malformed_result", started, self._revision)
        except Exception:
            return self._failed("opa_error", started, self._revision)
        return self._decision(body, policy_input, started)

    # ---- internals ----------------------------------------------------------------------

    def _decision(self, body: Any, policy_input: dict[str, Any], started: float) -> Decision:
        if not isinstance(body, dict):
            return self._failed("malformed_result", started, self._revision)
        revision = bundle_revision(body.get("provenance")) or self._fallback_revision
        self._revision = revision
        decision_id = body.get("decision_id")
        opa_id = decision_id if isinstance(decision_id, str) and decision_id else None
        elapsed = time.perf_counter() - started
        if elapsed > self._timeout:
            decision = self._failed("timeout", started, revision)
        elif "result" not in body:
            decision = self._failed("undefined_decision", started, revision)
        else:
            try:
                raw = orjson.dumps(body["result"])
            except orjson.JSONEncodeError:
                decision = self._failed("malformed_result", started, revision)
            else:
                decision = parse_decision(raw, policy_input, self.name, revision, elapsed)
        if opa_id is not None:
            decision = dataclasses.replace(decision, engine_decision_id=opa_id)
        return decision

    def _failed(self, error: str, started: float, revision: str) -> Decision:
        return failed_decision(error, self.name, revision, time.perf_counter() - started)

    async def _check_health(self) -> bool:
        client = self._health_client
        if client is None:
            return False
        try:
            async with asyncio.timeout(self._health_timeout):
                return bool(await client.check_health(query={"bundles": True}))
        except TimeoutError:
            return False

    async def _health_loop(self) -> None:
        while True:
            await asyncio.sleep(self._health_interval)
            self._ready = await self._check_health()
