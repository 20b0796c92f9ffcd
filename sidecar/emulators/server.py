"""The loopback life cycle every emulator shares: start on a free port, stop, `async with`.

Handlers are cancelled when their client goes away, so a delayed answer never outlives the
test that asked for it.
"""

from __future__ import annotations

from typing import Self

from aiohttp import web


class LoopbackServer:
    """An aiohttp application on 127.0.0.1; `base_url` is its address plus `url_path`."""

    url_path = ""
    """What follows host and port in `base_url` (an API's version prefix)."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.base_url = ""
        self._runner: web.AppRunner | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._runner = web.AppRunner(
            self.app, access_log=None, handler_cancellation=True, shutdown_timeout=0.5
        )
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        self.base_url = f"http://{host}:{self._runner.addresses[0][1]}{self.url_path}"
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()
