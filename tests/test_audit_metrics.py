"""One audit record per request, nothing sensitive in it, and metrics on the admin port only."""

from __future__ import annotations

import aiohttp
import openai
import pytest

from tests.conftest import APP_KEY, KEYS, Harness
from tests.test_routing import AWS_KEY, EMAIL, IBAN, SSN, user

PLANTED = [EMAIL, IBAN, SSN, AWS_KEY, "autumn leaves"]


async def drive_mixed_traffic(h: Harness) -> int:
    sent = 0
    for text in ("autumn leaves poem", f"mail {EMAIL} {IBAN}", f"ssn {SSN}"):
        await h.client.chat.completions.create(model="gpt-4o", messages=user(text))
        sent += 1
    with pytest.raises(openai.PermissionDeniedError):
        await h.client.chat.completions.create(model="gpt-4o", messages=user(f"key {AWS_KEY}"))
    with pytest.raises(openai.NotFoundError):
        await h.client.chat.completions.create(model="nope", messages=user("x"))
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user("autumn leaves"), stream=True
    )
    async for _ in stream:
        pass
    return sent + 3


async def test_exactly_one_record_per_request_without_content(harness: Harness) -> None:
    count = await drive_mixed_traffic(harness)
    records = harness.audit_records()
    assert len(records) == count
    assert len({r["decision_id"] for r in records}) == count
    raw = harness.audit.getvalue().decode()
    for value in [*PLANTED, APP_KEY, *KEYS.values()]:
        assert value not in raw
    for record in records:
        assert record["schema"] == "llm-router.audit/v1"
        assert record["workload"]["namespace"] == "claims"
        assert len(record["content"]["sha256"]) == 64 and record["content"]["bytes"] > 0
        assert record["outcome"]["duration_ms"] >= record["outcome"]["overhead_ms"] >= 0
    denied = [r for r in records if r["outcome"]["status"] == 403]
    assert len(denied) == 1 and denied[0]["policy"]["allow"] is False
    assert denied[0]["policy"]["revision"]


async def test_metrics_count_decisions(harness: Harness) -> None:
    await drive_mixed_traffic(harness)
    m = harness.metric
    assert (
        m(
            "llm_router_requests_total",
            api="openai.chat_completions",
            route_kind="aggregator",
            provider="openrouter",
            decision="allow",
            level="public",
            model="gpt-4o",
        )
        == 2
    )
    assert (
        m(
            "llm_router_requests_total",
            api="openai.chat_completions",
            route_kind="direct",
            provider="openai",
            decision="allow",
            level="regulated",
            model="gpt-4o",
        )
        == 2
    )
    assert (
        m(
            "llm_router_requests_total",
            api="openai.chat_completions",
            route_kind="none",
            provider="none",
            decision="deny",
            level="regulated",
            model="gpt-4o",
        )
        == 1
    )
    assert (
        m(
            "llm_router_requests_total",
            api="openai.chat_completions",
            route_kind="none",
            provider="none",
            decision="invalid",
            level="unknown",
            model="other",
        )
        == 1
    )
    assert m("llm_router_findings_total", tag="pii.email") == 1
    assert m("llm_router_findings_total", tag="secret.aws_access_key") == 1
    assert m("llm_router_classification_seconds_count") == 5
    assert m("llm_router_policy_evaluation_seconds_count", engine="embedded") == 5
    assert m("llm_router_overhead_seconds_count") == 6
    assert (
        m("llm_router_request_duration_seconds_count", provider="openai", route_kind="direct") == 2
    )
    assert m("llm_router_upstream_attempts_total", provider="openrouter", outcome="ok") == 2
    assert m("llm_router_inflight_requests") == 0


async def test_admin_endpoints_and_no_metrics_on_app_port(harness: Harness) -> None:
    await drive_mixed_traffic(harness)
    admin, app = harness.running.admin_url, harness.running.app_url
    async with aiohttp.ClientSession() as s:
        async with s.get(admin + "/metrics") as r:
            text = await r.text()
            assert r.status == 200
            assert "llm_router_requests_total" in text
            assert "llm_router_policy_revision_info" in text
            for value in [*PLANTED, *KEYS.values()]:
                assert value not in text
        async with s.get(admin + "/healthz") as r:
            assert r.status == 200
        async with s.get(admin + "/readyz") as r:
            body = await r.json()
            assert r.status == 200 and body["ready"] is True
            assert body["policy"]["revision"] == harness.sidecar.engine.revision
        for path in ("/metrics", "/healthz", "/readyz"):
            async with s.get(app + path) as r:
                assert r.status == 404


def test_audit_records_survive_a_quiet_log_level() -> None:
    import io

    from sidecar.audit import AuditLog, configure_logging
    from sidecar.config import AuditConfig
    from tests.audit_support import sample_record

    configure_logging("error")
    try:
        stream = io.BytesIO()
        record = sample_record()
        log = AuditLog(AuditConfig(), stream)
        log.emit(record)
        assert log.wait_written()
        assert f'"decision_id":"{record.decision_id}"'.encode() in stream.getvalue()
    finally:
        configure_logging("info")
