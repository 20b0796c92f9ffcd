"""The embedded engine denies on every kind of policy or engine failure, and says which."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import Any

import pytest

from sidecar.policy import Decision, EmbeddedEngine
from tests.policy.support import POLICIES, policy_dir, routes_input

ALLOW_A = '{"allow": true, "routes": ["a:m"], "reasons": []}'


def assert_denied(decision: Decision, error: str | None) -> None:
    assert decision.allow is False
    assert decision.routes == ()
    assert decision.error == error
    assert decision.reasons, "a denial explains itself"


async def test_well_formed_decision_is_followed(tmp_path: Path) -> None:
    engine = EmbeddedEngine.load(policy_dir(tmp_path, f"decision := {ALLOW_A}"), 50)
    decision = await engine.decide(routes_input())
    assert decision.allow is True and decision.routes == ("a:m",) and decision.error is None


async def test_undefined_decision_denies(tmp_path: Path) -> None:
    rego = f"decision := {ALLOW_A} if input.version == 1"
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    assert_denied(await engine.decide({**routes_input(), "version": 3}), "undefined_decision")


async def test_runtime_conflict_denies(tmp_path: Path) -> None:
    # Two values for one complete rule only when version is 2: loads, then fails at eval.
    rego = (
        "x := 1 if input.version == 2\n"
        "x := 2 if input.version == 2\n"
        'decision := {"allow": x == 1, "routes": ["a:m"], "reasons": []} if input.version == 2\n'
        f"decision := {ALLOW_A} if input.version == 1"
    )
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    assert (await engine.decide(routes_input())).allow is True
    assert_denied(await engine.decide({**routes_input(), "version": 2}), "evaluation_error")


@pytest.mark.parametrize(
    ("decision", "error"),
    [
        ('{"allow": "true", "routes": ["a:m"], "reasons": []}', "malformed_decision"),
        ('{"allow": 1, "routes": ["a:m"], "reasons": []}', "malformed_decision"),
        ('{"routes": ["a:m"], "reasons": []}', "malformed_decision"),
        ('{"allow": true, "routes": "a:m", "reasons": []}', "malformed_decision"),
        ('{"allow": true, "routes": ["a:m", 3], "reasons": []}', "malformed_decision"),
        ('{"allow": true, "routes": ["a:m"], "reasons": "ok"}', "malformed_decision"),
        (
            '{"allow": true, "routes": ["a:m"], "reasons": [], "obligations": 3}',
            "malformed_obligations",
        ),
        (
            '{"allow": true, "routes": ["a:m"], "reasons": [], "obligations": {"redact": "pci"}}',
            "malformed_obligations",
        ),
        (
            '{"allow": true, "routes": ["a:m"], "reasons": [],'
            ' "obligations": {"provider_preferences": []}}',
            "malformed_obligations",
        ),
        (
            '{"allow": true, "routes": ["a:m"], "reasons": [], "obligations": {"store": "no"}}',
            "malformed_obligations",
        ),
        ('["a:m"]', "undefined_decision"),
    ],
    ids=[
        "allow-string",
        "allow-number",
        "allow-missing",
        "routes-string",
        "routes-number",
        "reasons-string",
        "obligations-number",
        "redact-string",
        "preferences-array",
        "store-string",
        "not-an-object",
    ],
)
async def test_malformed_decision_denies(tmp_path: Path, decision: str, error: str) -> None:
    rego = (
        f"decision := {decision} if input.version == 2\ndecision := {ALLOW_A} if input.version == 1"
    )
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    assert_denied(await engine.decide({**routes_input(), "version": 2}), error)


async def test_routes_outside_the_input_are_dropped(tmp_path: Path) -> None:
    rego = 'decision := {"allow": true, "routes": ["evil:m", "a:m", "a:m"], "reasons": []}'
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    decision = await engine.decide(routes_input())
    assert decision.allow is True and decision.routes == ("a:m",)
    assert any("evil:m" in r for r in decision.reasons)


async def test_only_routes_outside_the_input_denies(tmp_path: Path) -> None:
    rego = 'decision := {"allow": true, "routes": ["evil:m"], "reasons": []}'
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    decision = await engine.decide(routes_input())
    assert decision.allow is False and decision.routes == ()
    assert any("evil:m" in r for r in decision.reasons)


async def test_allow_false_lists_no_route(tmp_path: Path) -> None:
    rego = 'decision := {"allow": false, "routes": ["a:m"], "reasons": ["no"]}'
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    decision = await engine.decide(routes_input())
    assert decision.allow is False and decision.routes == () and decision.error is None


async def test_tiny_timeout_denies() -> None:
    engine = EmbeddedEngine.load(POLICIES, timeout_ms=0.000001)
    assert_denied(await engine.decide(routes_input()), "timeout")


async def test_expensive_policy_denies_on_timeout(tmp_path: Path) -> None:
    rego = (
        "n := count([x | some x in numbers.range(1, 100000); x % 7 == input.version])\n"
        'decision := {"allow": n > 0, "routes": ["a:m"], "reasons": []}'
    )
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), timeout_ms=2)
    decision = await engine.decide(routes_input())
    assert_denied(decision, "timeout")
    assert decision.eval_seconds > 0.002


class _Panicking:
    """Stands in for a regorus Engine whose Rust code panicked: pyo3 raises PanicException,
    which derives from BaseException, not Exception."""

    class PanicException(BaseException):
        pass

    def set_input_json(self, _: str) -> None:
        raise self.PanicException("index out of bounds")

    def take_prints(self) -> list[str]:
        return []


async def test_engine_panic_denies() -> None:
    engine = EmbeddedEngine.load(POLICIES, 50)
    engine._engine = _Panicking()
    assert_denied(await engine.decide(routes_input()), "evaluation_error")


async def test_unserialisable_input_denies() -> None:
    engine = EmbeddedEngine.load(POLICIES, 50)
    bad: dict[str, Any] = {**routes_input(), "request": {"id": object()}}
    assert_denied(await engine.decide(bad), "evaluation_error")


def test_call_from_another_thread_denies() -> None:
    engine = EmbeddedEngine.load(POLICIES, 50)
    out: list[Decision] = []
    worker = threading.Thread(target=lambda: out.append(asyncio.run(engine.decide(routes_input()))))
    worker.start()
    worker.join()
    assert_denied(out[0], "wrong_thread")


async def test_error_reason_carries_no_input_text(tmp_path: Path) -> None:
    rego = 'decision := {"allow": true, "routes": [input.request.id], "reasons": 1}'
    engine = EmbeddedEngine.load(policy_dir(tmp_path, rego), 50)
    policy_input = {**routes_input(), "request": {"id": "SSN 123-45-6789"}}
    decision = await engine.decide(policy_input)
    assert_denied(decision, "malformed_decision")
    assert "123-45-6789" not in repr(decision)
