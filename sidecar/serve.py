"""Runs a Sidecar: the app-facing listener, the admin listener, and a clean shutdown.

On SIGTERM the sidecar stops accepting, lets in-flight requests finish within the grace
period, flushes the audit sink and exits 0, as Kubernetes expects of a container.
"""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiohttp import web

from sidecar.app import Sidecar

log = structlog.get_logger("llm_router.serve")

SHUTDOWN_GRACE = 30.0
"""Seconds in-flight requests get to finish after SIGTERM (below the pod's grace period)."""


class Running:
    """Both listeners up; `app_url`/`admin_url` tell where (ports may have been 0)."""

    def __init__(self, sidecar: Sidecar) -> None:
        self.sidecar = sidecar
        self._runners: list[web.AppRunner] = []
        self.app_url = ""
        self.admin_url = ""

    async def start(self) -> Running:
        cfg = self.sidecar.config
        await self.sidecar.start()
        # handler_cancellation: a client that disconnects cancels its upstream request.
        app_runner = web.AppRunner(self.sidecar.app(), handler_cancellation=True, access_log=None)
        admin_runner = web.AppRunner(self.sidecar.admin_app(), access_log=None)
        for runner in (app_runner, admin_runner):
            await runner.setup()
            self._runners.append(runner)
        self.app_url = await _site(app_runner, cfg.listen.host, cfg.listen.port)
        self.admin_url = await _site(admin_runner, cfg.admin.host, cfg.admin.port)
        return self

    async def stop(self) -> None:
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()
        await self.sidecar.close()


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
    await stop.wait()
    log.info("stopping")
    await running.stop()
    log.info("stopped")
