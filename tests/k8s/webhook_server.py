"""The admission webhook served over real HTTPS on loopback, for the webhook tests.

Certificates are laid out as the kubelet mounts a Secret (`..data` -> a timestamped
directory, files linked through it) and rotated the way it rotates them: by swapping the
`..data` link atomically.
"""

from __future__ import annotations

import base64
import json
import os
import ssl
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import jsonpatch

from sidecar.k8s.certs import CertReloader
from sidecar.k8s.settings import InjectorSettings
from sidecar.k8s.webhook import RunningWebhook, Webhook
from tests.k8s.support import CertAuthority, validate

SERVICE = "llm-router-webhook.llm-router-system.svc"
ANNOTATED = {"llm-router.io/inject": "true"}


class SecretVolume:
    """A directory laid out like a mounted kubernetes.io/tls Secret."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.generation = 0
        root.mkdir(parents=True, exist_ok=True)

    def write(self, files: dict[str, bytes]) -> None:
        self.generation += 1
        version = self.root / f"..2026_11_25_{self.generation:04d}"
        version.mkdir()
        for name, data in files.items():
            (version / name).write_bytes(data)
        tmp = self.root / "..data_tmp"
        tmp.symlink_to(version.name)
        os.replace(tmp, self.root / "..data")
        for name in files:
            link = self.root / name
            if not link.is_symlink():
                link.symlink_to(f"..data/{name}")

    @property
    def cert(self) -> Path:
        return self.root / "tls.crt"

    @property
    def key(self) -> Path:
        return self.root / "tls.key"


def tls_files(ca: CertAuthority) -> dict[str, bytes]:
    cert, key = ca.issue(SERVICE)
    return {"tls.crt": cert, "tls.key": key, "ca.crt": ca.pem}


@dataclass
class Server:
    running: RunningWebhook
    volume: SecretVolume
    ca: CertAuthority

    @property
    def url(self) -> str:
        return self.running.url

    def client_ssl(self, ca: CertAuthority | None = None) -> ssl.SSLContext:
        return ssl.create_default_context(cadata=(ca or self.ca).pem.decode())

    async def post(
        self, path: str, body: Any, *, raw: bytes | None = None
    ) -> aiohttp.ClientResponse:
        async with aiohttp.ClientSession() as session:
            resp = await session.post(
                self.url + path,
                data=raw if raw is not None else json.dumps(body),
                headers={"content-type": "application/json"},
                ssl=self.client_ssl(),
            )
            await resp.read()
            return resp

    async def review(
        self, path: str, review: dict[str, Any], *, allowed: bool = True
    ) -> dict[str, Any]:
        resp = await self.post(path, review)
        assert resp.status == 200
        body: dict[str, Any] = await resp.json()
        assert body["apiVersion"] == "admission.k8s.io/v1"
        assert body["kind"] == "AdmissionReview"
        assert body["response"]["uid"] == review["request"]["uid"]
        assert body["response"]["allowed"] is allowed
        response: dict[str, Any] = body["response"]
        return response

    async def metric(self, decision: str, reason: str) -> float:
        async with aiohttp.ClientSession() as session:
            text = await (await session.get(self.running.admin_url + "/metrics")).text()
        prefix = f'llm_router_injector_admissions_total{{decision="{decision}",reason="{reason}"}} '
        values = [
            float(line[len(prefix) :]) for line in text.splitlines() if line.startswith(prefix)
        ]
        return values[0] if values else 0.0


@asynccontextmanager
async def serve(tmp_path: Path, settings: InjectorSettings) -> AsyncIterator[Server]:
    ca = CertAuthority()
    volume = SecretVolume(tmp_path / "tls")
    volume.write(tls_files(ca))
    webhook = Webhook(settings)
    certs = CertReloader(
        volume.cert, volume.key, interval=0.05, on_reload=webhook.metrics.cert_reloaded
    )
    running = await RunningWebhook(webhook, certs).start("127.0.0.1", 0, "127.0.0.1", 0)
    try:
        yield Server(running, volume, ca)
    finally:
        await running.stop()


def patched(original: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    assert response["patchType"] == "JSONPatch"
    patch = json.loads(base64.b64decode(response["patch"]))
    result: dict[str, Any] = jsonpatch.apply_patch(original, patch)
    validate(result)
    return result
