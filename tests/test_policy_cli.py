"""The policy author's commands: output and exit codes."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from tests.conftest import POLICIES, ROOT, run_cli

VECTOR = ROOT / "tests" / "policy_vectors" / "phi_baa_only.json"


def test_check_ok_and_broken(tmp_path: Path) -> None:
    ok = run_cli("policy", "check", str(POLICIES))
    assert ok.returncode == 0 and ok.stdout.startswith("OK ") and "revision" in ok.stdout
    as_json = orjson.loads(run_cli("policy", "check", str(POLICIES), "--json").stdout)
    assert as_json["ok"] is True and "router.rego" in as_json["modules"]
    broken = tmp_path / "p"
    shutil.copytree(POLICIES, broken)
    (broken / "router.rego").write_text((broken / "router.rego").read_text() + "\nbad := {\n")
    out = run_cli("policy", "check", str(broken))
    assert out.returncode == 1 and "router.rego:" in out.stdout


def test_eval_human_and_json(tmp_path: Path) -> None:
    policy_input = tmp_path / "input.json"
    policy_input.write_bytes(orjson.dumps(orjson.loads(VECTOR.read_bytes())["input"]))
    human = run_cli("policy", "eval", "--input", str(policy_input), str(POLICIES))
    assert human.returncode == 0
    assert (
        "decision: ALLOW" in human.stdout
        and "phi requires a route with dpa and baa" in human.stdout
    )
    doc = orjson.loads(
        run_cli("policy", "eval", "-i", str(policy_input), str(POLICIES), "--json").stdout
    )
    assert doc["allow"] is True and doc["routes"] == ["google:gemini-2.5-flash"]
    missing = run_cli("policy", "eval", "--input", str(tmp_path / "nope.json"), str(POLICIES))
    assert missing.returncode == 2


def test_explain_shows_classification_input_and_decision(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        '{"model": "gpt-4o", "messages": [{"role": "user", '
        '"content": "Refund card 4111 1111 1111 1111 for jane@example.com"}]}'
    )
    human = run_cli("explain", "--request", str(request), "--namespace", "billing")
    assert human.returncode == 0, human.stderr
    assert "classification: regulated" in human.stdout and "pci.pan" in human.stdout
    assert '"namespace": "billing"' in human.stdout
    assert "redact before forwarding: pci" in human.stdout
    assert "4111 1111 1111 1111" not in human.stdout  # only tags and offsets are shown
    doc = orjson.loads(
        run_cli(
            "explain", "-r", str(request), "--json", "--label", "llm-router.io/residency=eu"
        ).stdout
    )
    assert doc["input"]["workload"]["labels"] == {"llm-router.io/residency": "eu"}
    assert doc["decision"]["allow"] is False  # no EU route in the default config offers dpa
    bad = tmp_path / "bad.json"
    bad.write_text('{"messages": []}')
    assert run_cli("explain", "--request", str(bad)).returncode == 1


def test_explain_shows_what_the_policy_sees_of_a_responses_request(tmp_path: Path) -> None:
    request = tmp_path / "request.json"
    request.write_text(
        '{"model": "gpt-4o", "input": "Patient SSN 536-22-8457 called.", "tools": '
        '[{"type": "mcp", "server_label": "crm", "server_url": "https://mcp.example.com", '
        '"authorization": "ghp_A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"}, {"type": "web_search"}]}'
    )
    out = run_cli("explain", "--api", "openai-responses", "-r", str(request), "--json")
    assert out.returncode == 0, out.stderr
    doc = orjson.loads(out.stdout)
    facts = doc["input"]["request"]
    assert facts["api"] == "openai.responses" and facts["store"] is True
    assert facts["continues"] is None and facts["hosted_tools"] == ["mcp", "web_search"]
    assert facts["hosted_tool_tags"] == {"mcp": ["secret.github_token"]}
    assert doc["decision"]["allow"] is False
    assert "secret in an mcp tool definition: blocked" in doc["decision"]["reasons"]
    assert doc["decision"]["obligations"]["store"] is False


def test_policy_test_reports_coverage() -> None:
    out = run_cli("policy", "test", str(POLICIES), "--coverage")
    assert out.returncode == 0
    assert "coverage policies/router.rego: 100.0%" in out.stdout.replace(str(POLICIES), "policies")
