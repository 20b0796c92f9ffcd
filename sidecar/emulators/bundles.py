"""A loopback OPA bundle server, for tests and the demo, and `build_bundle` to make bundles.

It speaks the bundle service API as OPA's docs describe it: `GET <path>` answers 200 with
the gzipped tarball (`Content-Type: application/gzip`) and a strong `ETag` (the sha256 of
the bytes), or `304 Not Modified` when `If-None-Match` names the current ETag (a list, `W/`
tags and `*` are understood, with the weak comparison HTTP prescribes). With a token set it
answers 401 to a request without `Authorization: Bearer <token>`. It records every request
and the status it got, and can be told to misbehave: fail with a status, or serve the
current bundle cut in half (with a matching ETag, as a broken build would be served), or
stall before answering.
"""

from __future__ import annotations

import asyncio
import gzip
import hashlib
import io
import tarfile
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiohttp import web

from sidecar.emulators.server import LoopbackServer


def build_bundle(files: dict[str, str | bytes], manifest: dict[str, Any] | None = None) -> bytes:
    """A valid .tar.gz bundle holding `files` (path inside the bundle → content) and, when
    given, `manifest` as `.manifest`. The same input always gives the same bytes."""
    members: list[tuple[str, bytes]] = []
    if manifest is not None:
        members.append((".manifest", orjson.dumps(manifest)))
    members += [(p, c.encode() if isinstance(c, str) else c) for p, c in files.items()]
    tar_bytes = io.BytesIO()
    with tarfile.open(fileobj=tar_bytes, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path, content in members:
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(content), 0o644, 0
            tar.addfile(info, io.BytesIO(content))
    out = io.BytesIO()
    with gzip.GzipFile(fileobj=out, mode="wb", mtime=0) as compressed:
        compressed.write(tar_bytes.getvalue())
    return out.getvalue()


def strong_etag(data: bytes) -> str:
    return '"' + hashlib.sha256(data).hexdigest() + '"'


def etag_matches(header: str, etag: str) -> bool:
    """Whether an If-None-Match value names `etag` (weak comparison, RFC 9110 13.1.2)."""
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))


@dataclass
class BundleRequest:
    method: str
    path: str
    headers: dict[str, str]
    status: int = 0
    """The status it was answered with."""
    time: float = field(default_factory=time.time)


class BundleServer(LoopbackServer):
    """`async with BundleServer() as server`, `server.publish(build_bundle(...))`, then poll
    `server.url`."""

    def __init__(self, *, path: str = "/bundles/router.tar.gz", token: str | None = None) -> None:
        self.path = path
        self.token = token
        self.bundle: bytes | None = None
        self.fail_status: int | None = None
        """When set, every request (after the token check) gets this status."""
        self.serve_corrupt = False
        """When set, the first half of the bundle is served, with its own ETag."""
        self.honor_if_none_match = True
        """When cleared, always 200, as a plain static file server may answer."""
        self.delay_s = 0.0
        """Each answer waits this long first (a stalled server, for client timeouts)."""
        self.received: list[BundleRequest] = []
        super().__init__(web.Application())
        self.app.router.add_route("*", "/{tail:.*}", self._handle)

    @property
    def url(self) -> str:
        return self.base_url + self.path

    @property
    def etag(self) -> str | None:
        served = self._served()
        return None if served is None else strong_etag(served)

    def publish(self, bundle: bytes) -> str:
        """Serve `bundle` from now on; returns its ETag."""
        self.bundle = bundle
        return strong_etag(bundle)

    def statuses(self) -> list[int]:
        return [r.status for r in self.received]

    def _served(self) -> bytes | None:
        if self.bundle is None:
            return None
        return self.bundle[: len(self.bundle) // 2] if self.serve_corrupt else self.bundle

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        record = BundleRequest(request.method, request.path, dict(request.headers))
        self.received.append(record)
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        response = self._respond(request)
        record.status = response.status
        return response

    def _respond(self, request: web.Request) -> web.Response:
        if request.path != self.path:
            return web.Response(status=404, text="no such bundle\n")
        if request.method not in ("GET", "HEAD"):
            return web.Response(status=405, headers={"Allow": "GET, HEAD"})
        if self.token is not None:
            auth = request.headers.get("Authorization", "")
            if auth != f"Bearer {self.token}":
                headers = {"WWW-Authenticate": 'Bearer realm="bundles"'}
                return web.Response(status=401, headers=headers, text="unauthorized\n")
        if self.fail_status is not None:
            return web.Response(status=self.fail_status, text="scripted failure\n")
        served = self._served()
        if served is None:
            return web.Response(status=404, text="no bundle published\n")
        etag = strong_etag(served)
        conditional = request.headers.get("If-None-Match", "")
        if self.honor_if_none_match and etag_matches(conditional, etag):
            return web.Response(status=304, headers={"ETag": etag})
        return web.Response(
            status=200, body=served, headers={"ETag": etag}, content_type="application/gzip"
        )

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        await super().start(host, port)
        return self.url
