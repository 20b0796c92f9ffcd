"""Loading the embedded engine: what is read, what stops start-up, and the revision."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from sidecar.policy import EmbeddedEngine, PolicyLoadError
from sidecar.policy.model import PolicyEngine
from tests.policy.support import POLICIES, policy_dir, routes_input


def test_loads_the_shipped_policy() -> None:
    engine: PolicyEngine = EmbeddedEngine.load(POLICIES, 50)
    assert engine.name == "embedded" and engine.ready


def test_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "broken.rego").write_text(
        "package llm_router\n\nimport rego.v1\n\nallow if {\n\tinput.x ==\n}\n"
    )
    with pytest.raises(PolicyLoadError) as caught:
        EmbeddedEngine.load(tmp_path, 50)
    message = str(caught.value)
    assert "broken.rego:7:" in message
    assert "Stack backtrace" not in message


def test_bad_data_json_names_the_file_and_line(tmp_path: Path) -> None:
    shutil.copy(POLICIES / "router.rego", tmp_path)
    (tmp_path / "data.json").write_text('{\n  "llm_router_config": {\n    "requirements": {,}\n')
    with pytest.raises(PolicyLoadError, match=r"data\.json: .*line 3"):
        EmbeddedEngine.load(tmp_path, 50)


def test_policy_without_decision_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match=r"data\.llm_router\.decision"):
        EmbeddedEngine.load(policy_dir(tmp_path, "other := 1"), 50)


def test_decision_failing_on_sample_input_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match=r"divide by zero"):
        EmbeddedEngine.load(policy_dir(tmp_path, "decision := 1 / 0"), 50)


def test_empty_or_missing_directory_does_not_load(tmp_path: Path) -> None:
    with pytest.raises(PolicyLoadError, match=r"no \.rego files"):
        EmbeddedEngine.load(tmp_path, 50)
    with pytest.raises(PolicyLoadError, match="does not exist"):
        EmbeddedEngine.load(tmp_path / "nope", 50)


async def test_test_modules_are_not_loaded(tmp_path: Path) -> None:
    shutil.copytree(POLICIES, tmp_path / "p")
    # A *_test.rego that would break the decision if it were loaded: it is left out.
    (tmp_path / "p" / "z_test.rego").write_text(
        "package llm_router\n\nimport rego.v1\n\ndecision := 1\n"
    )
    engine = EmbeddedEngine.load(tmp_path / "p", 50)
    assert (await engine.decide(routes_input())).error is None


async def test_print_output_is_swallowed(tmp_path: Path, capfd: pytest.CaptureFixture[str]) -> None:
    rego = (
        'decision := d if {\n\tprint("request", input.request.id)\n'
        '\td := {"allow": true, "routes": ["a:m"], "reasons": []}\n}'
    )
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    policy_input = {**routes_input(), "request": {"id": "patient-4711"}}
    assert (await engine.decide(policy_input)).allow is True
    out, err = capfd.readouterr()
    assert "patient-4711" not in out + err


def test_revision_is_a_stable_content_hash(tmp_path: Path) -> None:
    a = EmbeddedEngine.load(POLICIES, 50).revision
    assert len(a) == 12 and int(a, 16) >= 0
    assert a == EmbeddedEngine.load(POLICIES, 50).revision
    copy = tmp_path / "p"
    shutil.copytree(POLICIES, copy)
    assert EmbeddedEngine.load(copy, 50).revision == a, "the directory's location does not count"
    (copy / "router.rego").write_text((copy / "router.rego").read_text() + "\n# changed\n")
    b = EmbeddedEngine.load(copy, 50).revision
    assert b != a
    (copy / "data.json").write_text((copy / "data.json").read_text() + " ")
    assert EmbeddedEngine.load(copy, 50).revision not in (a, b)
