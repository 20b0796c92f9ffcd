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
from typing import BinaryIO

import orjson
import structlog
from aiohttp import web
from aiohttp.web_protocol import RequestPayloadError

from sidecar.api.anthropic import COUNT_TOKENS, MESSAGES
from sidecar.api.base import BodyTooLarge, ClientApi, Inbound
from sidecar.api.openai import CHAT_COMPLETIONS, COMPLETIONS, EMBEDDINGS
from sidecar.api.passthrough import Passthrough
from sidecar.audit import AuditLog
from sidecar.breaker import Breakers
from sidecar.catalog import Catalog
from sidecar.classify import Classifier
from sidecar.config import Config, config_revision
from sidecar.credentials import load_credential
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
from sidecar.workload import resolve_workload

log = structlog.get_logger("llm_router.app")


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
    ) -> Sidecar:
        """Everything that can be built once is built here, never per request.
        Raises PolicyLoadError if the policy does not compile (start-up must stop)."""
        env = environ if environ is not None else os.environ
        metrics = Metrics()
        revision = config_revision(config)
        metrics.set_config_revision(revision)
        upstreams: dict[str, Upstream] = {}
        for name, pc in config.providers.items():
            cred = load_credential(name, pc.api_key_env, pc.api_key_file, env)
            if cred.value is None:
                log.warning("provider_unavailable", provider=name, reason=cred.problem)
            upstreams[name] = Upstream(name, pc, cred)
        policy = build_policy(config.policy, metrics, env)
        catalog = Catalog(config, upstreams)
        audit = AuditLog(
            config.audit, audit_stream, metrics=metrics, environ=env, config_revision=revision
        )
        admission = InFlight(config.limits.max_in_flight)
        metrics.in_flight_limit.set(config.limits.max_in_flight)
        breakers = Breakers(metrics)
        for model in catalog.models.values():  # every route's gauge exists from the start
            for cand in model.candidates:
                breakers.route(cand.id, cand.upstream.config.circuit_breaker)
        pipeline = Pipeline(
            limits=config.limits,
            catalog=catalog,
            classifier=Classifier.from_config(config.classification),
            engine=policy.engine,
            dispatcher=Dispatcher(metrics, breakers=breakers),
            audit=audit,
            metrics=metrics,
            workload=resolve_workload(config.workload, env),
            masks=dict(config.classification.masks),
            admission=admission,
        )
        return cls(
            config, metrics, upstreams, catalog, policy, audit, pipeline, admission, breakers
        )

    async def start(self) -> None:
        await self.audit.start()
        for up in self.upstreams.values():
            up.open_session()
        await self.policy.start()

    async def close(self) -> None:
        await self.policy.stop()
        await asyncio.gather(*(up.close() for up in self.upstreams.values()))
        await self.audit.close()

    # ---- app-facing -------------------------------------------------------------------

    def app(self) -> web.Application:
        app = web.Application(client_max_size=self.config.limits.max_body_bytes)
        app.router.add_post("/v1/chat/completions", self._handler(CHAT_COMPLETIONS))
        app.router.add_post("/v1/embeddings", self._handler(EMBEDDINGS))
        app.router.add_post("/v1/completions", self._handler(COMPLETIONS))
        app.router.add_post("/v1/messages", self._handler(MESSAGES))
        app.router.add_post("/v1/messages/count_tokens", self._handler(COUNT_TOKENS))
        app.router.add_get("/v1/models", self._models)
        for endpoint in self.config.passthrough:  # declared by the operator, with routes
            model = self.catalog.models[endpoint.model]
            names = frozenset((model.name, *model.aliases))
            app.router.add_post(endpoint.path, self._handler(Passthrough(endpoint, names)))
        # Last: any other path or method is refused, never forwarded (sidecar/endpoints.py).
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

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

    async def _unknown(self, request: web.Request) -> web.Response:
        reply = unknown_endpoint(request.method, request.path, request.headers, self.metrics)
        return web.Response(status=reply.status, body=reply.body, headers=reply.headers)

    async def _models(self, request: web.Request) -> web.Response:
        body = {"object": "list", "data": self.catalog.listing()}
        return web.Response(body=orjson.dumps(body), content_type="application/json")

    # ---- admin ------------------------------------------------------------------------

    def admin_app(self) -> web.Application:
        app = web.Application()
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
            },
            "providers": providers,
        }
        return web.json_response(body, status=200 if ready else 503)
