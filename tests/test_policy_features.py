"""Policy features that need the sidecar's help: rerouting to a fallback model, break-glass."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.conftest import POLICIES, HarnessFactory
from tests.test_routing import user

MODELS = {
    "gpt-4o": {
        "routes": [
            {"provider": "openrouter", "model": "openai/gpt-4o"},
            {"provider": "openai", "model": "gpt-4o"},
        ],
        "fallbacks": ["claude-sonnet-5"],
    },
    "claude-sonnet-5": {"routes": [{"provider": "anthropic", "model": "claude-sonnet-5"}]},
}


def policy_with(tmp_path: Path, **settings: Any) -> str:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    data = json.loads((target / "data.json").read_text())
    data["llm_router_config"].update(settings)
    (target / "data.json").write_text(json.dumps(data))
    return str(target)


async def test_phi_is_rerouted_to_the_compliant_fallback_model(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    path = policy_with(tmp_path, reroute={"gpt-4o": "claude-sonnet-5"})
    h = await make_harness(models=MODELS, policy={"path": path})
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("patient summary"), extra_headers={"X-LLM-Data-Class": "phi"}
    )
    assert raw.headers["x-llm-router-route"] == "anthropic:claude-sonnet-5"
    assert h.received_by("openrouter") == h.received_by("openai") == 0
    assert h.upstreams["anthropic"].received[0].json["model"] == "claude-sonnet-5"
    [record] = h.audit_records()
    assert record["policy"]["reroute"] == "claude-sonnet-5"
    assert (
        "no route of gpt-4o is allowed: rerouted to claude-sonnet-5" in record["policy"]["reasons"]
    )


async def test_without_reroute_data_phi_is_denied(make_harness: HarnessFactory) -> None:
    h = await make_harness(models=MODELS)
    with pytest.raises(openai.PermissionDeniedError):
        await h.client.chat.completions.create(
            model="gpt-4o", messages=user("x"), extra_headers={"X-LLM-Data-Class": "phi"}
        )


async def test_break_glass_is_applied_audited_and_counted(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    exception = {
        "id": "BG-2026-11",
        "namespace": "claims",
        "waive": ["baa"],
        "reason": "outage of the BAA provider",
        "approver": "ciso@example.com",
        "expires": "2099-01-01T00:00:00Z",
    }
    path = policy_with(tmp_path, break_glass=[exception])
    h = await make_harness(models=MODELS, policy={"path": path})
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user("x"), extra_headers={"X-LLM-Data-Class": "phi"}
    )
    assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"
    [record] = h.audit_records()
    assert record["policy"]["break_glass"] == [
        {
            "id": "BG-2026-11",
            "approver": "ciso@example.com",
            "reason": "outage of the BAA provider",
            "expires": "2099-01-01T00:00:00Z",
        }
    ]
    assert h.metric("llm_router_break_glass_total", id="BG-2026-11") == 1
