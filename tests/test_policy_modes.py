"""The sidecar with an OPA server as its engine, and with its policy from a bundle URL."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from sidecar.emulators.bundles import BundleServer, build_bundle
from sidecar.emulators.opa import OPAEmulator
from sidecar.policy.loader import compile_engine, read_policy_dir
from sidecar.policy.model import DECISION_QUERY
from tests.conftest import POLICIES, HarnessFactory
from tests.test_routing import EMAIL, user


def rego_decider() -> Any:
    """What a real OPA loaded with policies/ would answer (same files, same evaluator)."""
    source = read_policy_dir(POLICIES)
    engine = compile_engine(source, source.without_tests())

    def decide(policy_input: Any) -> Any:
        engine.set_input_json(orjson.dumps(policy_input).decode())
        return orjson.loads(engine.eval_rule_as_json(DECISION_QUERY))

    return decide


async def readyz(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(url + "/readyz") as r:
        return r.status, await r.json()


async def test_opa_server_engine_routes_and_fails_closed(make_harness: HarnessFactory) -> None:
    async with OPAEmulator(rego_decider()) as opa:
        h = await make_harness(policy={"engine": "opa", "opa_url": opa.base_url, "timeout_ms": 200})
        raw = await h.client.chat.completions.with_raw_response.create(
            model="gpt-4o", messages=user(f"mail {EMAIL}")
        )
        assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"
        [record] = h.audit_records()
        assert record["policy"]["engine"] == "opa"
        assert record["policy"]["engine_decision_id"]  # OPA's decision id, for its decision log
        assert opa.data_requests[0].json["input"]["request"]["model"] == "gpt-4o"
        status, body = await readyz(h.running.admin_url)
        assert status == 200 and body["ready"] is True

        opa.decide = lambda _input: None  # undefined decision
        with pytest.raises(openai.APIStatusError) as caught:
            await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
        assert caught.value.status_code == 503
        assert h.received_by("openrouter") == 0
    # OPA gone: fail closed.
    with pytest.raises(openai.APIStatusError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert caught.value.status_code == 503
    assert h.audit_records()[-1]["policy"]["error"] == "opa_unreachable"


async def test_bundle_url_is_polled_verified_and_swapped(make_harness: HarnessFactory) -> None:
    files = {f"policies/{p.name}": p.read_text() for p in POLICIES.iterdir() if p.is_file()}
    files["data.json"] = files.pop("policies/data.json")
    async with BundleServer(token="bundle-token") as server:
        server.publish(build_bundle(files, {"revision": "2026.11.25-1", "roots": [""]}))
        h = await make_harness(
            policy={
                "path": str(POLICIES),
                "bundle": {
                    "url": server.url,
                    "token_env": "BUNDLE_TOKEN",
                    "min_delay_s": 0.05,
                    "max_delay_s": 0.1,
                },
            },
            environ={
                "BUNDLE_TOKEN": "bundle-token",
                "TEST_OPENROUTER_KEY": "sk-or-test-7f3a9c1d2e",
                "TEST_OPENAI_KEY": "sk-openai-test-4b8e6d0f1a",
            },
        )
        manager = h.sidecar.policy.manager
        assert manager is not None
        for _ in range(200):
            if manager.revision == "2026.11.25-1":
                break
            await asyncio.sleep(0.02)
        status, body = await readyz(h.running.admin_url)
        assert status == 200 and body["policy"]["revision"] == "2026.11.25-1"
        await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
        assert h.audit_records()[-1]["policy"]["revision"] == "2026.11.25-1"
        # A broken bundle never activates.
        files["policies/zz_broken.rego"] = "package llm_router\n\ndecision := {\n"
        server.publish(build_bundle(files, {"revision": "2026.11.25-2"}))
        for _ in range(200):
            if h.metric("llm_router_policy_reload_errors_total") >= 1:
                break
            await asyncio.sleep(0.02)
        assert manager.revision == "2026.11.25-1"
        assert manager.rejected == "2026.11.25-2"


async def test_not_ready_until_the_first_bundle_is_verified() -> None:
    from sidecar.metrics import Metrics
    from sidecar.policy.embedded import EmbeddedEngine
    from sidecar.policy.loader import read_policy_dir
    from sidecar.policy.reload import PolicyManager

    manager = PolicyManager(EmbeddedEngine.load(POLICIES, 50), Metrics(), 50, awaiting_bundle=True)
    assert manager.ready is False  # the bootstrap policy decides, but the pod is not ready
    source = read_policy_dir(POLICIES)
    bundled = type(source)(source.directory, source.modules, source.data, "v7")
    assert await manager.apply(bundled) is True
    assert manager.ready is True and manager.revision == "v7"
