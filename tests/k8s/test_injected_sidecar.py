"""The injected sidecar container, run as the kubelet would run it.

The container's args and environment come from the patch, its mounts are directories filled
from the rendered ConfigMaps and Secret, the Downward API values are those of a pod: so the
wiring between injector, config, policies, keys and workload identity is checked end to end,
with an app that knows nothing but the environment injection gave it.
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import aiohttp
import jsonpatch
import openai
import pytest

from sidecar.emulators.openai import OpenAIEmulator
from sidecar.k8s.patch import build
from sidecar.k8s.settings import InjectorSettings
from sidecar.k8s.template import KEYS_DIR
from tests.k8s.support import K8S, kustomize, pod

POD = {"namespace": "claims", "name": "claims-api-7d9", "serviceAccountName": "claims-api"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def field(path: str) -> str:
    """A Downward API value of the pod."""
    return {
        "metadata.namespace": POD["namespace"],
        "metadata.name": POD["name"],
        "spec.serviceAccountName": POD["serviceAccountName"],
    }[path]


def mount_volumes(
    spec: dict[str, Any], labels: dict[str, str], root: Path, objects: dict[str, dict[str, Any]]
) -> dict[str, Path]:
    """A directory per volume, filled as the kubelet would fill it."""
    dirs: dict[str, Path] = {}
    for volume in spec["volumes"]:
        d = root / volume["name"]
        d.mkdir()
        dirs[volume["name"]] = d
        if "configMap" in volume:
            for name, text in objects[volume["configMap"]["name"]]["data"].items():
                (d / name).write_text(text)
        elif "secret" in volume:
            for name, text in objects[volume["secret"]["secretName"]].get("stringData", {}).items():
                (d / name).write_text(text)
        elif "downwardAPI" in volume:
            (d / "labels").write_text("".join(f'{k}="{v}"\n' for k, v in sorted(labels.items())))
    return dirs


async def test_injected_container_serves_the_app_with_the_pods_identity(tmp_path: Path) -> None:
    docs = kustomize(K8S / "workload")
    objects = {d["metadata"]["name"]: d for d in docs}
    upstream = OpenAIEmulator("openrouter", "sk-or-k8s-test-key")
    await upstream.start()
    try:
        config = objects["llm-router-config"]["data"]["config.yaml"]
        # The aggregator is a loopback emulator; key files are where the Secret is mounted.
        config = config.replace("https://openrouter.ai/api/v1", upstream.base_url)
        config = config.replace(KEYS_DIR, str(tmp_path / "llm-router-keys"))
        objects["llm-router-config"]["data"]["config.yaml"] = config
        # As `kubectl patch` would set it; the other providers stay without a key.
        objects["llm-router-provider-keys"]["stringData"] = {"openrouter": "sk-or-k8s-test-key"}

        settings = InjectorSettings(listen_port=free_port(), admin_port=free_port())
        original = pod(
            annotations={"llm-router.io/inject": "true"},
            labels={"app": "claims-api", "llm-router.io/residency": "us"},
        )
        original["spec"]["serviceAccountName"] = POD["serviceAccountName"]
        injection = build(original, "claims", settings, require_opt_in=True)
        patched = jsonpatch.apply_patch(original, injection.patch)
        spec = patched["spec"]
        dirs = mount_volumes(spec, patched["metadata"]["labels"], tmp_path, objects)
        router = spec["initContainers"][0]

        def remap(value: str) -> str:
            for mount in router["volumeMounts"]:
                path = mount["mountPath"]
                if value == path or value.startswith(path + "/"):
                    return str(dirs[mount["name"]]) + value[len(path) :]
            return value

        env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path)}
        for var in router["env"]:
            if "value" in var:
                env[var["name"]] = remap(var["value"])
            else:
                env[var["name"]] = field(var["valueFrom"]["fieldRef"]["fieldPath"])
        env["LLM_ROUTER__admin__host"] = "127.0.0.1"  # tests bind loopback only
        args = [remap(a) for a in router["args"]]
        proc = subprocess.Popen(  # noqa: ASYNC220  (starts it, does not wait)
            [sys.executable, "-m", "sidecar.cli", *args],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            probe = router["startupProbe"]["httpGet"]["path"]
            url = f"http://127.0.0.1:{settings.admin_port}{probe}"
            deadline = time.monotonic() + 60
            async with aiohttp.ClientSession() as session:
                while True:
                    try:
                        async with session.get(url) as resp:
                            ready = await resp.json()
                            break
                    except aiohttp.ClientConnectionError:
                        if proc.poll() is not None or time.monotonic() > deadline:
                            _, err = proc.communicate()
                            pytest.fail(f"sidecar never became ready: {err[-2000:]}")
                        await asyncio.sleep(0.1)
            assert ready["ready"] is True
            assert ready["providers"]["openrouter"] is True
            assert ready["providers"]["openai"] is False  # no key: unavailable, not a crash

            app_env = {e["name"]: e["value"] for e in spec["containers"][0]["env"]}
            client = openai.AsyncOpenAI(
                base_url=app_env["OPENAI_BASE_URL"], api_key=app_env["OPENAI_API_KEY"]
            )
            reply = await client.chat.completions.create(
                model="gpt-4o",
                messages=[{"role": "user", "content": "Summarise our release notes."}],
            )
            await client.close()
            assert reply.choices[0].message.content
            (received,) = upstream.received
            headers = {k.lower(): v for k, v in received.headers.items()}
            assert headers["authorization"] == "Bearer sk-or-k8s-test-key"  # not the placeholder
        finally:
            proc.send_signal(signal.SIGTERM)
            out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, err[-2000:]
        records = [json.loads(line) for line in out.splitlines() if '"llm-router.audit/v1"' in line]
        assert len(records) == 1
        assert records[0]["workload"] == {
            "namespace": "claims",
            "pod": "claims-api-7d9",
            "service_account": "claims-api",
            "labels": {
                "app": "claims-api",
                "llm-router.io/residency": "us",
                "llm-router.io/sidecar": "injected",
            },
        }
    finally:
        await upstream.stop()
