"""Runs a Sidecar: the app-facing listener, the admin listener, and a graceful shutdown.

On SIGTERM the sidecar drains (see shutdown.py): readiness false, listener closed,
in-flight requests and streams finish within `shutdown_grace_s`, the audit sink is flushed,
and the process exits 0, as Kubernetes expects of a container.
"""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiohttp import web

from sidecar.app import Sidecar
from sidecar.listener import GuardedRunner
from sidecar.shutdown import DrainReport, drain

log = structlog.get_logger("llm_router.serve")

CLOSE_TIMEOUT = 2.0
"""Once drained, how long aiohttp may still take to finish writing responses."""


class Running:
    """Both listeners up; `app_url`/`admin_url` tell where (ports may have been 0)."""

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        self._app_runner: GuardedRunner | None = None
        self._admin_runner: GuardedRunner | None = None
        self.app_url = ""
        self.admin_url = ""
        self._stopped: DrainReport | None = None

    async def start(self) -> Running:
        cfg = self.sidecar.config
        await self.sidecar.start()
        # handler_cancellation: a client that disconnects cancels its upstream request.
        # keepalive_timeout: aiohttp closes a connection that has not delivered a complete
        # request within it (from its opening or its previous response): the header timeout.
        # Both listeners: the same header timeout, a connection cap, and the sidecar's own
        # answer to requests that are not valid HTTP (listener.py).
        self._app_runner = GuardedRunner(
            self.sidecar.app(),
            listener="app",
            max_connections=cfg.limits.max_connections,
            metrics=self.sidecar.metrics,
            on_invalid=self.sidecar.invalid_http,
            handler_cancellation=True,
            access_log=None,
            keepalive_timeout=cfg.limits.header_timeout_s,
            shutdown_timeout=CLOSE_TIMEOUT,
        )
        self._admin_runner = GuardedRunner(
            self.sidecar.admin_app(),
            listener="admin",
            max_connections=cfg.admin.max_connections,
            metrics=self.sidecar.metrics,
            access_log=None,
            keepalive_timeout=cfg.limits.header_timeout_s,
            shutdown_timeout=CLOSE_TIMEOUT,
        )
        await self._app_runner.setup()
        await self._admin_runner.setup()
        self.app_url = await _site(self._app_runner, cfg.listen.host, cfg.listen.port)
        self.admin_url = await _site(self._admin_runner, cfg.admin.host, cfg.admin.port)
        return self

    async def stop(self, grace_s: float = 0.0) -> DrainReport:
        """Drain (see shutdown.py), giving in-flight requests up to `grace_s` seconds. Once
        stopped, stopping again changes nothing."""
        if self._stopped is None:
            self._stopped = await drain(self, grace_s)
        return self._stopped

    async def close_listener(self) -> None:
        """Refuse new connections on the app-facing port; close idle keep-alive ones (busy
        ones close after their current response)."""
        runner = self._app_runner
        if runner is None:
            return
        for site in list(runner.sites):
            await site.stop()
        if runner.server is not None:
            runner.server.pre_shutdown()

    async def close_runners(self) -> None:
        for runner in (self._app_runner, self._admin_runner):
            if runner is not None:
                await runner.cleanup()
        self._app_runner = self._admin_runner = None


async def _site(runner: web.AppRunner, host: str, port: int) -> str:
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    actual = sockets[0].getsockname()[1] if sockets else port
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    return f"http://{shown}:{actual}"


async def serve_forever(sidecar: Sidecar) -> None:
    running = await Running(sidecar).start()
    log.info(
        "started",
        listen=running.app_url,
        admin=running.admin_url,
        policy_revision=sidecar.engine.revision,
        providers={n: u.available for n, u in sidecar.upstreams.items()},
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if sidecar.reloader is not None:  # SIGHUP: re-read the config file now
        loop.add_signal_handler(signal.SIGHUP, sidecar.reloader.trigger)
    await stop.wait()
    log.info("stopping")
    await running.stop(sidecar.config.shutdown_grace_s)
    log.info("stopped")
