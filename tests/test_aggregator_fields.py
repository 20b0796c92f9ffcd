"""Routing fields in the app's body (OpenRouter's `models`, `provider`, `plugins`, ...) never
widen where data goes: dropped on every route, except `provider` on aggregators, which may
only narrow the policy's preferences. The audit record names what was dropped."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import anthropic

from sidecar.audit.schema import problems
from sidecar.emulators.openai import Fault
from sidecar.providers.aggregator import RECORDED_NAMES
from tests.conftest import APP_KEY, POLICIES, Harness, HarnessFactory
from tests.test_routing import EMAIL

ROUTING = {
    "models": ["some-lab/model-a", "some-lab/unvetted-model"],
    "fallbacks": [{"model": "some-lab/unvetted-model"}],
    "route": "fallback",
    "preset": "everything-goes",
    "plugins": [{"id": "web"}, {"id": "file-parser", "pdf": {"engine": "mistral-ocr"}}],
    "transforms": ["middle-out"],
}
TOP_LEVEL = ("models", "fallbacks", "route", "preset", "plugins", "transforms", "provider")
WIDE_PROVIDER = {
    "only": ["some-host"],
    "order": ["some-host", "other-host"],
    "allow_fallbacks": True,
    "data_collection": "allow",
    "zdr": False,
    "sort": "price",
    "experimental_anything": {"x": 1},
}


def sent(h: Harness, name: str) -> dict[str, Any]:
    [request] = h.upstreams[name].received
    body: dict[str, Any] = request.json
    return body


def dropped_fields(h: Harness) -> list[str]:
    [record] = h.audit_records()
    fields: list[str] = record["outcome"].get("dropped_fields", [])
    return fields


async def chat(h: Harness, text: str, extra: dict[str, Any], **kwargs: Any) -> None:
    await h.client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}], extra_body=extra, **kwargs
    )


async def test_models_and_other_routing_fields_never_reach_openrouter(harness: Harness) -> None:
    await chat(harness, "Write a haiku", ROUTING)
    body = sent(harness, "openrouter")
    assert not set(TOP_LEVEL) & set(body)  # public data: no provider object at all
    assert body["model"] == "openai/gpt-4o"
    assert dropped_fields(harness) == sorted(ROUTING)


async def test_app_provider_cannot_widen_the_policy_zdr_obligation(harness: Harness) -> None:
    await chat(
        harness,
        "quarterly roadmap",
        {"provider": WIDE_PROVIDER},
        extra_headers={"X-LLM-Data-Class": "internal"},
    )
    provider = sent(harness, "openrouter")["provider"]
    assert provider == {
        "data_collection": "deny",  # the policy's, not the app's "allow"
        "zdr": True,  # the policy's, not the app's false
        "only": ["some-host"],  # narrows: the policy sets no `only`
        "order": ["some-host", "other-host"],
        "sort": "price",
    }
    assert dropped_fields(harness) == [
        "provider.allow_fallbacks",
        "provider.data_collection",
        "provider.other",
        "provider.zdr",
    ]


def pinned_policy(tmp_path: Path) -> Path:
    """The default policy, with gpt-4o pinned on OpenRouter to one host, no fallbacks."""
    directory = tmp_path / "policies"
    shutil.copytree(POLICIES, directory)
    data = json.loads((directory / "data.json").read_text())
    data["llm_router_config"]["model_preferences"] = {
        "gpt-4o": {"only": ["azure"], "allow_fallbacks": False}
    }
    (directory / "data.json").write_text(json.dumps(data))
    return directory


async def test_policy_only_and_allow_fallbacks_win(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(policy={"path": str(pinned_policy(tmp_path)), "watch": False})
    await chat(
        h,
        "quarterly roadmap",
        {"provider": {**WIDE_PROVIDER, "ignore": ["deepinfra"]}},
        extra_headers={"X-LLM-Data-Class": "internal"},
    )
    provider = sent(h, "openrouter")["provider"]
    assert provider["only"] == ["azure"]  # some-host is outside the policy's only: dropped
    assert "order" not in provider  # neither of its hosts is within the policy's only
    assert provider["allow_fallbacks"] is False  # the app's true never replaces it
    assert provider["zdr"] is True and provider["data_collection"] == "deny"
    assert provider["ignore"] == ["deepinfra"]  # narrowing is kept
    assert {"provider.only", "provider.order", "provider.allow_fallbacks"} <= set(dropped_fields(h))


async def test_narrowing_within_the_policy_only_is_kept(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    h = await make_harness(policy={"path": str(pinned_policy(tmp_path)), "watch": False})
    await chat(
        h,
        "quarterly roadmap",
        {"provider": {"only": ["Azure/eastus", "other"], "require_parameters": True}},
        extra_headers={"X-LLM-Data-Class": "internal"},
    )
    provider = sent(h, "openrouter")["provider"]
    assert provider["only"] == ["Azure/eastus"]  # within `azure` (slugs ignore case)
    assert provider["require_parameters"] is True
    assert dropped_fields(h) == ["provider.only"]


async def test_direct_routes_receive_none_of_the_fields(harness: Harness) -> None:
    await chat(harness, f"Remind {EMAIL}", {**ROUTING, "provider": {"zdr": True}})
    assert harness.received_by("openrouter") == 0
    body = sent(harness, "openai")
    assert not set(TOP_LEVEL) & set(body)
    assert dropped_fields(harness) == sorted([*ROUTING, "provider"])


async def test_anthropic_sdk_fields_are_dropped_not_a_skipped_route(harness: Harness) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=harness.running.app_url, api_key=APP_KEY, max_retries=0
    )
    for text in ("Write a haiku", f"Email {EMAIL}"):
        await client.messages.create(
            model="claude-sonnet-5",
            max_tokens=20,
            messages=[{"role": "user", "content": text}],
            extra_body={**ROUTING, "provider": {"zdr": True}},
        )
    await client.close()
    aggregator, direct = sent(harness, "openrouter"), sent(harness, "anthropic")
    assert not set(ROUTING) & (set(aggregator) | set(direct))
    assert aggregator["provider"] == {"zdr": True}  # narrowing only: it may stay
    assert "provider" not in direct
    for record in harness.audit_records():
        assert "skipped" not in record["outcome"]


async def test_openrouter_server_tools_are_dropped(harness: Harness) -> None:
    function = {"type": "function", "function": {"name": "lookup", "parameters": {}}}
    await chat(
        harness,
        "What's new?",
        {"tools": [{"type": "openrouter:web_search"}, function]},
    )
    body = sent(harness, "openrouter")
    assert body["tools"] == [function]
    assert dropped_fields(harness) == ["tools.openrouter"]


async def test_a_request_without_routing_fields_records_nothing(harness: Harness) -> None:
    await chat(harness, "Write a haiku", {})
    assert "dropped_fields" not in harness.audit_records()[0]["outcome"]


async def test_only_routes_the_body_went_to_count(harness: Harness) -> None:
    await chat(harness, "Write a haiku", {"provider": {"zdr": True}})
    assert sent(harness, "openrouter")["provider"] == {"zdr": True}
    # The direct routes would have gone without `provider`, but were never tried.
    assert "dropped_fields" not in harness.audit_records()[0]["outcome"]


async def test_a_failover_records_what_the_next_route_went_without(harness: Harness) -> None:
    harness.upstreams["openrouter"].fail_always = Fault(kind="status", status=503)
    await chat(harness, "Write a haiku", {"provider": {"zdr": True}})
    [first] = harness.upstreams["openrouter"].received
    assert first.json["provider"] == {"zdr": True}
    served = next(n for n in ("openai", "google") if harness.received_by(n))
    assert "provider" not in sent(harness, served)
    assert dropped_fields(harness) == ["provider"]


def test_every_recorded_name_is_valid_in_the_audit_schema() -> None:
    record = {"outcome": {"dropped_fields": sorted(RECORDED_NAMES)}}
    assert not [p for p in problems(record) if "dropped_fields" in p]
