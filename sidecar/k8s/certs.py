"""The webhook's TLS certificate, reloaded from its files when they rotate.

cert-manager (or whoever) renews the serving certificate by updating a Secret; the kubelet
swaps the mounted files atomically (a `..data` symlink). A restart to pick the new pair up
would leave a window where the API server cannot reach the injector, so the files are
polled and a new context is built from them. Connections then get the newest context
through the SNI callback, which OpenSSL calls on every handshake, with or without SNI. A
pair that does not load (half-written, key not matching) is logged and counted, and the
previous context keeps serving until a good pair appears.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections.abc import Callable
from pathlib import Path

import structlog

log = structlog.get_logger("llm_router.webhook")


class CertReloader:
    def __init__(
        self,
        cert: Path,
        key: Path,
        *,
        interval: float = 5.0,
        on_reload: Callable[[bool], None] | None = None,
    ) -> None:
        self.cert = cert
        self.key = key
        self.interval = interval
        self._on_reload = on_reload
        self._digest = b""
        self._current = self._load()
        self.context = self._new_context()
        self.context.load_cert_chain(self.cert, self.key)
        self.context.sni_callback = self._select
        self._task: asyncio.Task[None] | None = None

    @property
    def digest(self) -> str:
        """sha256 of the certificate and key files currently served."""
        return self._digest.hex()

    @staticmethod
    def _new_context() -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        return ctx

    def _fingerprint(self) -> bytes:
        digest = hashlib.sha256()
        digest.update(self.cert.read_bytes())
        digest.update(b"\0")
        digest.update(self.key.read_bytes())
        return digest.digest()

    def _load(self) -> ssl.SSLContext:
        """A context from the files as they are now; raises if they do not load."""
        before = self._fingerprint()
        ctx = self._new_context()
        ctx.load_cert_chain(self.cert, self.key)
        if self._fingerprint() != before:
            raise ssl.SSLError("certificate files changed while loading")
        self._digest = before
        return ctx

    def _select(self, sslobj: ssl.SSLObject, name: str | None, ctx: ssl.SSLContext) -> None:
        sslobj.context = self._current

    def check(self) -> bool:
        """Reload when the files changed. True if a new pair is now served."""
        try:
            if self._fingerprint() == self._digest:
                return False
            self._current = self._load()
        except (OSError, ssl.SSLError) as exc:
            log.warning("tls_reload_failed", cert=str(self.cert), error=str(exc))
            if self._on_reload:
                self._on_reload(False)
            return False
        log.info("tls_reloaded", cert=str(self.cert), sha256=self.digest[:16])
        if self._on_reload:
            self._on_reload(True)
        return True

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            self.check()

    def start(self) -> None:
        self._task = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
