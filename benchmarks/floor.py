"""The floor of the sidecar's stack: a bare aiohttp + uvloop pass-through proxy.

No parsing, classification, policy, audit or metrics: the request body goes to the upstream
as it came, the response (or each streamed chunk) comes back as it came. Measured next to
the sidecar, it shows what the HTTP hops alone cost on this machine, so the sidecar's own
work is the difference.

    python benchmarks/floor.py --port P --upstream http://127.0.0.1:U/v1
"""

from __future__ import annotations

import argparse
import asyncio

import aiohttp
from aiohttp import web
from rawhttp import loop_factory

RELAYED = ("Content-Type",)


def make_app(upstream: str) -> web.Application:
    async def start(app: web.Application) -> None:
        connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30)
        app["session"] = aiohttp.ClientSession(connector=connector)

    async def stop(app: web.Application) -> None:
        await app["session"].close()

    async def chat(request: web.Request) -> web.StreamResponse:
        session: aiohttp.ClientSession = request.app["session"]
        body = await request.read()
        headers = {"Content-Type": "application/json", "Authorization": "Bearer floor"}
        async with session.post(upstream + "/chat/completions", data=body, headers=headers) as up:
            relayed = {k: up.headers[k] for k in RELAYED if k in up.headers}
            if up.headers.get("Content-Type", "").startswith("text/event-stream"):
                response = web.StreamResponse(status=up.status, headers=relayed)
                await response.prepare(request)
                while chunk := await up.content.readany():
                    await response.write(chunk)
                await response.write_eof()
                return response
            return web.Response(status=up.status, body=await up.read(), headers=relayed)

    async def ready(request: web.Request) -> web.Response:
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/v1/chat/completions", chat)
    app.router.add_get("/ready", ready)
    app.on_startup.append(start)
    app.on_cleanup.append(stop)
    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True)
    args = parser.parse_args()
    app = make_app(args.upstream)
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        runner.run(_serve(app, args.port))


async def _serve(app: web.Application, port: int) -> None:
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


if __name__ == "__main__":
    main()
