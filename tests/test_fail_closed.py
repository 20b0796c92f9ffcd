"""When classification or policy fails, nothing goes upstream and the app gets a clear error."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from sidecar.classify import Classifier
from tests.conftest import KEYS, HarnessFactory
from tests.test_routing import user


async def test_policy_evaluation_error_fails_closed(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    (tmp_path / "p.rego").write_text(
        "package llm_router\n\nimport rego.v1\n\n"
        'decision := {"allow": true, "routes": [r.id | some r in input.routes], "reasons": []} '
        "if count(input.routes) == 0\n"
        "x := 1 if count(input.routes) > 0\nx := 2 if count(input.routes) > 0\n"
        'decision := {"allow": x == 1, "routes": [], "reasons": []} if count(input.routes) > 0\n'
    )
    h = await make_harness(policy={"path": str(tmp_path)})
    with pytest.raises(openai.APIStatusError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert caught.value.status_code == 503
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "policy_unavailable"
    assert sum(h.received_by(n) for n in KEYS) == 0
    [record] = h.audit_records()
    assert record["policy"]["error"] == "evaluation_error"
    assert (
        h.metric(
            "llm_router_requests_total",
            api="openai.chat_completions",
            route_kind="none",
            provider="none",
            decision="error",
            level="public",
            model="gpt-4o",
        )
        == 1
    )


async def test_policy_timeout_fails_closed(make_harness: HarnessFactory) -> None:
    from tests.conftest import POLICIES

    h = await make_harness(policy={"path": str(POLICIES), "timeout_ms": 0.000001})
    with pytest.raises(openai.APIStatusError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    assert caught.value.status_code == 503
    assert sum(h.received_by(n) for n in KEYS) == 0


class _BrokenScanner:
    def scan(self, segments: object) -> list[object]:
        raise RuntimeError("detector crashed")


async def test_classification_failure_fails_closed(make_harness: HarnessFactory) -> None:
    h = await make_harness()
    h.sidecar.pipeline.classifier = Classifier(scanner=_BrokenScanner())  # type: ignore[arg-type]
    with pytest.raises(openai.InternalServerError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user("hi"))
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "classification_failed"
    assert "crashed" not in str(body)
    assert sum(h.received_by(n) for n in KEYS) == 0
    assert len(h.audit_records()) == 1
