"""`llm-router webhook`: the mutating admission webhook, an aiohttp HTTPS server.

Two paths, one per MutatingWebhookConfiguration entry, because the AdmissionReview does not
say which entry called and the webhook never reads namespaces from the API:
  POST /inject/namespace  pods of namespaces labelled `llm-router.io/injection: enabled`;
                          injected unless they opt out
  POST /inject/object     pods of other namespaces; injected only when they opt in
A plain-HTTP admin listener serves /metrics, /healthz and /readyz for probes and Prometheus.

The webhook's collectors are its own (a separate process with its own registry); the
sidecar's live in `sidecar/metrics.py`.
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import structlog
from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest

from sidecar.k8s.admission import InvalidReview, parse, review
from sidecar.k8s.certs import CertReloader
from sidecar.k8s.settings import InjectorSettings

log = structlog.get_logger("llm_router.webhook")

MAX_BODY = 4 * 1024 * 1024
"""Pods are far smaller; the API server caps objects at about 1.5 MiB."""


class WebhookMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.admissions = Counter(
            "llm_router_injector_admissions",
            "Admission requests, by decision (injected, skipped, refused, error, invalid) "
            "and reason.",
            ["decision", "reason"],
            registry=self.registry,
        )
        self.duration = Histogram(
            "llm_router_injector_admission_duration_seconds",
            "Time to answer one admission request.",
            buckets=(0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1),
            registry=self.registry,
        )
        self.cert_reloads = Counter(
            "llm_router_injector_certificate_reloads",
            "Serving certificate reloads, by result (ok, error).",
            ["result"],
            registry=self.registry,
        )

    def cert_reloaded(self, ok: bool) -> None:
        self.cert_reloads.labels("ok" if ok else "error").inc()


@dataclass
class Webhook:
    settings: InjectorSettings
    metrics: WebhookMetrics = field(default_factory=WebhookMetrics)

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY)
        app.router.add_post("/inject/namespace", self._handler(require_opt_in=False))
        app.router.add_post("/inject/object", self._handler(require_opt_in=True))
        return app

    def admin_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/metrics", self._metrics)
        app.router.add_get("/healthz", self._ok)
        app.router.add_get("/readyz", self._ok)
        return app

    def _handler(self, *, require_opt_in: bool) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def handle(request: web.Request) -> web.Response:
            started = time.perf_counter()
            try:
                req = parse(await request.read())
            except InvalidReview as exc:
                self.metrics.admissions.labels("invalid", "malformed review").inc()
                log.warning("admission_invalid", path=request.path, error=str(exc))
                return web.json_response({"error": str(exc)}, status=400)
            outcome = review(req, self.settings, require_opt_in=require_opt_in)
            self.metrics.admissions.labels(outcome.decision, outcome.reason).inc()
            self.metrics.duration.observe(time.perf_counter() - started)
            log.info(
                "admission",
                uid=req.get("uid"),
                namespace=req.get("namespace"),
                name=req.get("name") or _generate_name(req),
                path=request.path,
                decision=outcome.decision,
                reason=outcome.reason,
                warnings=outcome.warnings or None,
                refused=outcome.refused,
                dry_run=bool(req.get("dryRun")),
            )
            return web.json_response(outcome.review)

        return handle

    async def _metrics(self, request: web.Request) -> web.Response:
        return web.Response(
            body=generate_latest(self.metrics.registry),
            headers={"content-type": "text/plain; version=0.0.4; charset=utf-8"},
        )

    async def _ok(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})


def _generate_name(req: Mapping[str, Any]) -> str | None:
    obj = req.get("object")
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    value = meta.get("generateName") if isinstance(meta, dict) else None
    return value if isinstance(value, str) else None


class RunningWebhook:
    """Both listeners up; URLs carry the real ports (0 picks a free one)."""

    def __init__(self, webhook: Webhook, certs: CertReloader) -> None:
        self.webhook = webhook
        self.certs = certs
        self._runners: list[web.AppRunner] = []
        self.url = ""
        self.admin_url = ""

    async def start(self, host: str, port: int, admin_host: str, admin_port: int) -> RunningWebhook:
        runner = web.AppRunner(self.webhook.app(), access_log=None)
        admin = web.AppRunner(self.webhook.admin_app(), access_log=None)
        for r in (runner, admin):
            await r.setup()
            self._runners.append(r)
        self.url = await _site(runner, host, port, "https", self.certs)
        self.admin_url = await _site(admin, admin_host, admin_port, "http", None)
        self.certs.start()
        return self

    async def stop(self) -> None:
        await self.certs.stop()
        for r in self._runners:
            await r.cleanup()
        self._runners.clear()


async def _site(
    runner: web.AppRunner, host: str, port: int, scheme: str, certs: CertReloader | None
) -> str:
    site = web.TCPSite(runner, host, port, ssl_context=certs.context if certs else None)
    await site.start()
    sockets = getattr(site._server, "sockets", None) or []
    actual = sockets[0].getsockname()[1] if sockets else port
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"{scheme}://{shown}:{actual}"


async def serve_webhook(
    settings: InjectorSettings,
    cert: Path,
    key: Path,
    *,
    host: str,
    port: int,
    admin_host: str,
    admin_port: int,
    reload_interval: float,
) -> None:
    """Serve until SIGTERM or SIGINT; then stop accepting and exit cleanly."""
    webhook = Webhook(settings)
    certs = CertReloader(
        cert, key, interval=reload_interval, on_reload=webhook.metrics.cert_reloaded
    )
    running = await RunningWebhook(webhook, certs).start(host, port, admin_host, admin_port)
    log.info("webhook_started", url=running.url, admin=running.admin_url, image=settings.image)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    await running.stop()
    log.info("webhook_stopped")
