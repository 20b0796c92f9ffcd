"""Builds the sidecar's long-lived parts from a config and the two aiohttp apps.

Wiring only: the app-facing handlers turn an HTTP request into an `Inbound`, hand it to the
pipeline and write the `Reply` back. Metrics and health live on the admin app only, so an
app container on the same loopback cannot read them through the API port.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from sidecar import responses_retrieval as stored
from sidecar.api.anthropic import COUNT_TOKENS, MESSAGES
from sidecar.api.base import BodyTooLarge, ClientApi, Inbound, Reply
from sidecar.api.invalid_http import INVALID_HTTP
from sidecar.api.openai import CHAT_COMPLETIONS, COMPLETIONS, EMBEDDINGS
from sidecar.api.passthrough import Passthrough
from sidecar.api.responses import RESPONSES_API
from sidecar.audit import AuditLog
from sidecar.breaker import Breakers
from sidecar.catalog import Catalog
from sidecar.classify import Classifier
from sidecar.config import Config, config_revision
from sidecar.config_parts import Shared, build_parts, build_upstreams, route_breakers
from sidecar.config_reload import ConfigReloader
from sidecar.continuations import Continuations
from sidecar.dispatch import Dispatcher
from sidecar.endpoints import unknown_endpoint
from sidecar.errors import RouterError
from sidecar.headers import read_app_headers
from sidecar.limits import InFlight, body_timeout
from sidecar.metrics import Metrics
from sidecar.pipeline import Pipeline
from sidecar.policy.model import PolicyEngine
from sidecar.policy.runtime import PolicyRuntime, build_policy
from sidecar.providers.upstream import Upstream
from sidecar.responses_flow import ResponsesFlow

log = structlog.get_logger("llm_router.app")

ADMIN_MAX_BODY = 64 * 1024
"""The admin endpoints are GETs; nothing there needs a body."""


@dataclass
class Sidecar:
    config: Config
    metrics: Metrics
    upstreams: dict[str, Upstream]
    catalog: Catalog
    policy: PolicyRuntime
    audit: AuditLog
    pipeline: Pipeline
    admission: InFlight
    breakers: Breakers
    draining: bool = False
    """Set on SIGTERM: /readyz answers 503 so no new traffic is sent here."""
    reloader: ConfigReloader | None = None
    """Reloads the config file, if the sidecar was built from one (config_reload.py)."""

    @property
    def engine(self) -> PolicyEngine:
        return self.policy.engine

    @property
    def dispatcher(self) -> Dispatcher:
        return self.pipeline.dispatcher

    @classmethod
    def build(
        cls,
        config: Config,
        *,
        audit_stream: BinaryIO | None = None,
        environ: Mapping[str, str] | None = None,
        config_path: Path | None = None,
    ) -> Sidecar:
        """Everything that can be built once is built here, never per request. With
        `config_path` (the file `config` was read from) the file is reloaded on change.
        Raises PolicyLoadError if the policy does not compile (start-up must stop)."""
        env = environ if environ is not None else os.environ
        metrics = Metrics()
        revision = config_revision(config)
        metrics.set_config_revision(revision)
        upstreams = build_upstreams(config, env)
        policy = build_policy(config.policy, metrics, env)
        audit = AuditLog(
            config.audit, audit_stream, metrics=metrics, environ=env, config_revision=revision
        )
        admission = InFlight(config.limits.max_in_flight)
        metrics.in_flight_limit.set(config.limits.max_in_flight)
        breakers = Breakers(metrics)
        continuations = Continuations(config.responses.max_remembered, config.responses.remember_s)
        shared = Shared(
            policy.engine,
            Dispatcher(metrics, breakers=breakers),
            audit,
            metrics,
            admission,
            ResponsesFlow(continuations),
        )
        classifier = Classifier.from_config(config.classification)
        parts = build_parts(config, revision, upstreams, classifier, shared, env)
        breakers.retain(route_breakers(parts.catalog))  # every route's gauge from the start
        catalog, pipeline = parts.catalog, parts.pipeline
        sidecar = cls(
            config, metrics, upstreams, catalog, policy, audit, pipeline, admission, breakers
        )
        if config_path is not None:
            sidecar.reloader = ConfigReloader(sidecar, config_path, env)
        return sidecar

    async def start(self) -> None:
        await self.audit.start()
        for up in self.upstreams.values():
            up.open_session()
        await self.policy.start()
        if self.reloader is not None:
            self.reloader.start()

    async def close(self) -> None:
        if self.reloader is not None:
            await self.reloader.stop()
        await self.policy.stop()
        await asyncio.gather(*(up.close() for up in self.upstreams.values()))
        await self.audit.close()

    def config_status(self) -> dict[str, Any]:
        """For /readyz: the config revision serving, and a rejected file's reason."""
        if self.reloader is not None:
            return self.reloader.status()
        return {"revision": self.pipeline.config_revision, "error": None, "restart_required": []}

    # ---- app-facing -------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.limits.max_body_bytes)
        app.router.add_post("/v1/chat/completions", self._handler(CHAT_COMPLETIONS))
        app.router.add_post("/v1/embeddings", self._handler(EMBEDDINGS))
        app.router.add_post("/v1/completions", self._handler(COMPLETIONS))
        app.router.add_post("/v1/messages", self._handler(MESSAGES))
        app.router.add_post("/v1/messages/count_tokens", self._handler(COUNT_TOKENS))
        app.router.add_post("/v1/responses", self._handler(RESPONSES_API))
        for api in (stored.GET, stored.DELETE, stored.INPUT_ITEMS, stored.CANCEL):
            path = "/v1/responses/{response_id}" + api.suffix
            app.router.add_route(api.method, path, self._stored(api))
        app.router.add_get("/v1/models", self._models)
        for endpoint in self.config.passthrough:  # declared by the operator, with routes
            model = self.catalog.models[endpoint.model]
            names = frozenset((model.name, *model.aliases))
            app.router.add_post(endpoint.path, self._handler(Passthrough(endpoint, names)))
        # Last: any other path or method is refused, never forwarded (sidecar/endpoints.py).
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    def _stored(
        self, api: stored.StoredResponseApi
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            response_id = request.match_info["response_id"]
            reply = await stored.stored_response(self.pipeline, api, response_id, request.query)
            return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

        return handle

    def _handler(self, api: ClientApi) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def handle(request: web.Request) -> web.StreamResponse:
            return await self._serve(api, request)

        return handle

    async def _serve(self, api: ClientApi, request: web.Request) -> web.StreamResponse:
        limits = self.config.limits

        async def read() -> bytes:
            try:
                async with asyncio.timeout(limits.body_timeout_s):
                    return await request.read()
            except web.HTTPRequestEntityTooLarge:
                raise BodyTooLarge() from None
            except TimeoutError:  # a client trickling its body must not hold a slot
                raise body_timeout(limits.body_timeout_s) from None
            except RequestPayloadError:  # e.g. `Content-Encoding: gzip` over bytes that are not
                raise RouterError(
                    400,
                    "invalid_body",
                    "the request body could not be decoded as its Content-Encoding says",
                ) from None

        inbound = Inbound(
            content_type=request.content_type,
            content_length=request.content_length,
            read=read,
            headers=read_app_headers(request.headers),
        )
        async with self.pipeline.run(api, inbound) as reply:
            if reply.stream is None:
                # Sent here, inside the block: the audit record and metrics that the
                # pipeline writes on leaving it then no longer delay the app's answer.
                complete = web.Response(status=reply.status, body=reply.body, headers=reply.headers)
                await complete.prepare(request)
                await complete.write_eof()
                return complete
            response = web.StreamResponse(status=reply.status, headers=reply.headers)
            response.headers.setdefault("content-type", "text/event-stream")
            response.headers["cache-control"] = "no-cache"
            stream = reply.stream
            try:
                await response.prepare(request)
                async for chunk in stream:
                    await response.write(chunk)
                await response.write_eof()
            finally:
                await stream.aclose()
            return response

    def invalid_http(self, status: int, error: str) -> Reply:
        """A request aiohttp's parser rejected: its error (in a format both SDKs read),
        audit record and metrics, and not one byte of the request in any of them."""
        err = RouterError(
            status,
            "invalid_http",
            f"the request is not valid HTTP/1.1 ({error}); nothing was forwarded",
            headers={"Connection": "close"},
        )
        return self.pipeline.refuse(INVALID_HTTP, err)

    async def _unknown(self, request: web.Request) -> web.Response:
        reply = unknown_endpoint(request.method, request.path, request.headers, self.metrics)
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def _models(self, request: web.Request) -> web.Response:
        body = {"object": "list", "data": self.catalog.listing()}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    # ---- admin ------------------------------------------------------------------------

    def admin_app(self) -> web.Application:
        app = web.Application(client_max_size=ADMIN_MAX_BODY)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        return app

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=self.metrics.exposition(),
            headers={"content-type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def _healthz(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "alive"})

    async def _readyz(self, request: web.Request) -> web.Response:
        providers = {name: up.available for name, up in self.upstreams.items()}
        ready = self.engine.ready and not self.draining
        body = {
            "ready": ready,
            "draining": self.draining,
            "in_flight": self.admission.count,
            "circuits": self.breakers.states(),
            "policy": {
                "engine": self.engine.name,
                "revision": self.engine.revision,
                "rejected_revision": self.policy.rejected,
                **self.policy.health(),  # a stale bundle: degraded, never unready
            },
            "config": self.config_status(),
            "audit": self.audit.health(),  # a stuck sink: degraded, never unready
            "providers": providers,
        }
        return web.json_response(body, status=200 if ready else 503)
