"""The embedded engine: decision vectors, and fail-closed on every kind of engine failure."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.policy import EmbeddedEngine, PolicyLoadError
from sidecar.policy.embedded import SMOKE_INPUT
from sidecar.policy.testrunner import format_report, run_policy_tests
from tests.conftest import POLICIES

VECTORS = sorted((Path(__file__).parent.parent / "policy_vectors").glob("*.json"))


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_decision_vectors(path: Path) -> None:
    vector = orjson.loads(path.read_bytes())
    engine = EmbeddedEngine.load(POLICIES, timeout_ms=50)
    decision = await engine.decide(vector["input"])
    expected = vector["expected"]
    assert decision.error is None
    assert decision.allow is expected["allow"]
    assert list(decision.routes) == expected["routes"]
    assert list(decision.obligations.redact) == expected["redact"]
    if "provider_preferences" in expected:
        assert decision.obligations.provider_preferences == expected["provider_preferences"]
    assert decision.reasons


def policy_dir(tmp_path: Path, rego: str) -> Path:
    (tmp_path / "p.rego").write_text("package llm_router\n\nimport rego.v1\n\n" + rego)
    return tmp_path


def routes_input() -> dict[str, Any]:
    route = {"id": "a:m", "provider": "a", "kind": "direct", "model": "m", "compliance": {}}
    return {**SMOKE_INPUT, "routes": [route]}


async def test_runtime_error_denies(tmp_path: Path) -> None:
    rego = (
        'decision := {"allow": true, "routes": ["a:m"], "reasons": []} if input.version == 1\n'
        "x := 1 if input.routes[0]\nx := 2 if input.routes[0]\n"
        'decision := {"allow": x == 1, "routes": [], "reasons": []} if input.version == 2\n'
    )
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    decision = await engine.decide({**routes_input(), "version": 2})
    assert decision.allow is False and decision.error == "evaluation_error"


@pytest.mark.parametrize(
    ("rego", "error"),
    [
        ('decision := {"allow": "true", "routes": ["a:m"], "reasons": []}', "malformed_decision"),
        ('decision := {"allow": true, "routes": "a:m", "reasons": []}', "malformed_decision"),
        (
            'decision := {"allow": true, "routes": ["a:m"], "reasons": [], "obligations": 3}',
            "malformed_obligations",
        ),
        (
            'decision := {"allow": true, "routes": ["a:m"], "reasons": []} if input.version == 7\n'
            'decision := {"allow": false, "routes": [], "reasons": []} if input.version == 1',
            "undefined_decision",
        ),
    ],
    ids=["allow-string", "routes-string", "obligations-number", "undefined"],
)
async def test_malformed_or_undefined_denies(tmp_path: Path, rego: str, error: str) -> None:
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    policy_input = routes_input()
    if error == "undefined_decision":
        policy_input["version"] = 3
    decision = await engine.decide(policy_input)
    assert decision.allow is False and decision.routes == ()
    assert decision.error == error


async def test_routes_outside_the_input_are_dropped(tmp_path: Path) -> None:
    rego = 'decision := {"allow": true, "routes": ["evil:m", "a:m"], "reasons": []}'
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    decision = await engine.decide(routes_input())
    assert decision.allow is True and decision.routes == ("a:m",)
    assert any("evil:m" in r for r in decision.reasons)
    only_evil = 'decision := {"allow": true, "routes": ["evil:m"], "reasons": []}'
    engine = EmbeddedEngine.load(policy_dir(tmp_path, only_evil), 50)
    assert (await engine.decide(routes_input())).allow is False


async def test_slow_evaluation_denies() -> None:
    engine = EmbeddedEngine.load(POLICIES, timeout_ms=0.000001)
    decision = await engine.decide(routes_input())
    assert decision.allow is False and decision.error == "timeout"


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.rego").write_text("package llm_router\n\nimport rego.v1\n\ndecision := {\n")
    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEngine.load(tmp_path, 50)
    assert "broken.rego:" in str(caught.value)
    assert "Stack backtrace" not in str(caught.value)


def test_policy_without_decision_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match=r"data\.llm_router\.decision"):
        EmbeddedEngine.load(policy_dir(tmp_path, "other := 1"), 50)


def test_revision_is_a_stable_content_hash(tmp_path: Path) -> None:
    a = EmbeddedEngine.load(POLICIES, 50).revision
    assert a == EmbeddedEngine.load(POLICIES, 50).revision and len(a) == 12
    copy = tmp_path / "p"
    shutil.copytree(POLICIES, copy)
    (copy / "router.rego").write_text((copy / "router.rego").read_text() + "\n# changed\n")
    assert EmbeddedEngine.load(copy, 50).revision != a


def test_test_runner_reports_pass_and_fail(tmp_path: Path) -> None:
    report = run_policy_tests(POLICIES)
    assert report.failed == 0 and report.passed >= 15
    shutil.copytree(POLICIES, tmp_path / "p")
    (tmp_path / "p" / "x_test.rego").write_text(
        "package x_test\n\nimport rego.v1\n\ntest_fails if {\n\t1 == 2\n}\n\n"
        "test_passes if {\n\t1 == 1\n}\n"
    )
    report = run_policy_tests(tmp_path / "p")
    assert report.failed == 1
    text = format_report(report)
    assert "FAIL data.x_test.test_fails" in text and "PASS data.x_test.test_passes" in text
