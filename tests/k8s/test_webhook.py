"""The admission webhook over real HTTPS on loopback, with certificates made in the test
(see `webhook_server`), rotated the way the kubelet rotates a mounted Secret."""

from __future__ import annotations

import asyncio
import json
import signal
import ssl
import subprocess
import sys
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from sidecar.k8s import admission
from tests.k8s.support import CertAuthority, admission_review, pod
from tests.k8s.webhook_server import (
    ANNOTATED,
    SERVICE,
    SecretVolume,
    Server,
    patched,
    tls_files,
)


async def test_annotated_pod_is_injected(server: Server) -> None:
    p = pod(
        annotations=ANNOTATED,
        containers=[
            {"name": "app", "image": "a:1", "env": [{"name": "OPENAI_API_KEY", "value": "own"}]}
        ],
        init_containers=[{"name": "migrate", "image": "m:1"}],
    )
    result = patched(p, await server.review("/inject/object", admission_review(p)))
    assert [c["name"] for c in result["spec"]["initContainers"]] == ["llm-router", "migrate"]
    env = {e["name"]: e.get("value") for e in result["spec"]["containers"][0]["env"]}
    assert env["OPENAI_API_KEY"] == "own"
    assert env["OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
    assert await server.metric("injected", "injected") == 1


async def test_unannotated_pod_is_left_alone_unless_its_namespace_is_labelled(
    server: Server,
) -> None:
    p = pod()
    response = await server.review("/inject/object", admission_review(p))
    assert "patch" not in response and "patchType" not in response
    assert await server.metric("skipped", "not opted in") == 1
    patched(p, await server.review("/inject/namespace", admission_review(p)))


async def test_opted_out_and_already_injected_pods_are_unchanged(server: Server) -> None:
    out = pod(annotations={"llm-router.io/inject": "false"})
    assert "patch" not in await server.review("/inject/namespace", admission_review(out))
    once = patched(
        pod(annotations=ANNOTATED),
        await server.review("/inject/object", admission_review(pod(annotations=ANNOTATED))),
    )
    assert "patch" not in await server.review("/inject/namespace", admission_review(once))
    assert await server.metric("skipped", "opted out") == 1
    assert await server.metric("skipped", "already injected") == 1


async def test_requests_it_does_not_handle_are_allowed_unchanged(server: Server) -> None:
    p = pod(annotations=ANNOTATED)
    update = admission_review(p, operation="UPDATE")
    assert "patch" not in await server.review("/inject/object", update)
    deployment = admission_review(p)
    deployment["request"]["resource"] = {
        "group": "apps",
        "version": "v1",
        "resource": "deployments",
    }
    assert "patch" not in await server.review("/inject/object", deployment)
    status = admission_review(p)
    status["request"]["subResource"] = "status"
    assert "patch" not in await server.review("/inject/object", status)
    no_object = admission_review(None)
    assert "patch" not in await server.review("/inject/object", no_object)
    assert await server.metric("skipped", "not a create") == 1
    assert await server.metric("skipped", "not a pod") == 1


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        json.dumps({**admission_review(pod()), "apiVersion": "admission.k8s.io/v1beta1"}).encode(),
        json.dumps(
            {"apiVersion": "admission.k8s.io/v1", "kind": "AdmissionReview", "request": {}}
        ).encode(),
    ],
)
async def test_malformed_reviews_get_400(server: Server, raw: bytes) -> None:
    resp = await server.post("/inject/object", None, raw=raw)
    assert resp.status == 400
    assert await server.metric("invalid", "malformed review") == 1


async def test_its_own_bug_admits_the_pod_unchanged(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise KeyError("a bug in the injector")

    monkeypatch.setattr(admission, "build", broken)
    response = await server.review("/inject/object", admission_review(pod(annotations=ANNOTATED)))
    assert response == {"uid": response["uid"], "allowed": True}
    assert await server.metric("error", "KeyError") == 1


async def test_override_warnings_reach_kubectl(server: Server) -> None:
    p = pod(annotations={**ANNOTATED, "llm-router.io/memory-limit": "a lot"})
    response = await server.review("/inject/object", admission_review(p))
    assert response["warnings"] == [
        "llm-router: ignored annotation llm-router.io/memory-limit='a lot'"
    ]
    patched(p, response)


async def peer_certificate(server: Server, ca: CertAuthority, sni: bool) -> bytes:
    """The certificate the server presents in a handshake, to a client that trusts only `ca`.

    Without SNI (an IP address as the host) the server's SNI callback must still run.
    """
    host, port = server.url.removeprefix("https://").split(":")
    _, writer = await asyncio.open_connection(
        host, int(port), ssl=server.client_ssl(ca), server_hostname=SERVICE if sni else None
    )
    try:
        der: bytes = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
        return der
    finally:
        writer.close()
        await writer.wait_closed()


@pytest.mark.parametrize("sni", [True, False], ids=["sni", "no-sni"])
async def test_certificate_rotation_is_picked_up_without_a_restart(
    server: Server, sni: bool
) -> None:
    first = await peer_certificate(server, server.ca, sni)
    new_ca = CertAuthority("rotated CA")
    server.volume.write(tls_files(new_ca))
    for _ in range(100):
        try:
            second = await peer_certificate(server, new_ca, sni)
            break
        except ssl.SSLCertVerificationError:
            await asyncio.sleep(0.02)
    else:
        pytest.fail("the rotated certificate was never served")
    assert second != first
    # And it answers admission requests over the new certificate.
    async with aiohttp.ClientSession() as session:
        resp = await session.post(
            server.url + "/inject/object",
            json=admission_review(pod()),
            ssl=server.client_ssl(new_ca),
            server_hostname=SERVICE if sni else None,
        )
        assert resp.status == 200
    with pytest.raises(ssl.SSLCertVerificationError):
        await peer_certificate(server, server.ca, sni)
    async with aiohttp.ClientSession() as session:
        text = await (await session.get(server.running.admin_url + "/metrics")).text()
    assert 'llm_router_injector_certificate_reloads_total{result="ok"} 1.0' in text


async def test_a_broken_pair_keeps_the_old_certificate_serving(server: Server) -> None:
    other = CertAuthority("other")
    good = tls_files(server.ca)
    mismatched = {**good, "tls.key": tls_files(other)["tls.key"]}
    server.volume.write(mismatched)
    assert server.running.certs.check() is False
    await peer_certificate(server, server.ca, sni=True)  # still served, still trusted
    server.volume.write(tls_files(other))
    assert server.running.certs.check() is True
    await peer_certificate(server, other, sni=True)


def test_cli_serves_https_and_stops_cleanly_on_sigterm(tmp_path: Path) -> None:
    ca = CertAuthority()
    volume = SecretVolume(tmp_path / "tls")
    volume.write(tls_files(ca))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sidecar.cli",
            "webhook",
            "--tls-cert",
            str(volume.cert),
            "--tls-key",
            str(volume.key),
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--admin-host",
            "127.0.0.1",
            "--admin-port",
            "0",
        ],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        started = json.loads(proc.stderr.readline())
        assert started["event"] == "webhook_started"
        review = admission_review(pod(annotations=ANNOTATED))

        async def call() -> dict[str, Any]:
            async with aiohttp.ClientSession() as session:
                resp = await session.post(
                    started["url"] + "/inject/object",
                    json=review,
                    ssl=ssl.create_default_context(cadata=ca.pem.decode()),
                )
                body: dict[str, Any] = await resp.json()
                return body

        body = asyncio.run(call())
        assert body["response"]["patchType"] == "JSONPatch"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
