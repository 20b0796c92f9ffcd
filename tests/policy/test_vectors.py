"""Decision vectors, each checked by hand: the shipped policy through the embedded engine."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sidecar.policy import EmbeddedEngine
from tests.policy.support import POLICIES, VECTORS, load_vector, vector_source


@pytest.fixture(scope="module")
def engine() -> EmbeddedEngine:
    return EmbeddedEngine.load(POLICIES, timeout_ms=50)


def engine_for(vector: dict[str, Any], shipped: EmbeddedEngine) -> EmbeddedEngine:
    """The shipped engine, or one with the vector's own settings."""
    if "data" not in vector:
        return shipped
    return EmbeddedEngine.from_source(vector_source(vector), timeout_ms=50)


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 10
    assert any("data" in load_vector(p) for p in VECTORS), "a vector with its own settings"


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_decision_vectors(engine: EmbeddedEngine, path: Path) -> None:
    vector = load_vector(path)
    assert set(vector) <= {"name", "input", "expected", "data"}
    assert vector["name"] == path.stem
    expected = vector["expected"]
    deciding = engine_for(vector, engine)
    decision = await deciding.decide(vector["input"])
    assert decision.error is None
    assert decision.allow is expected["allow"]
    assert list(decision.routes) == expected["routes"]
    assert list(decision.obligations.redact) == expected["redact"]
    if "provider_preferences" in expected:
        assert decision.obligations.provider_preferences == expected["provider_preferences"]
    if "reasons" in expected:
        assert list(decision.reasons) == expected["reasons"]
    assert decision.reasons, "every decision explains itself"
    assert decision.engine == "embedded" and decision.revision == deciding.revision


async def test_decisions_do_not_leak_between_calls(engine: EmbeddedEngine) -> None:
    """The engine is reused across requests: each decision depends on its own input only."""
    by_name = {p.stem: load_vector(p) for p in VECTORS}
    first = {n: await engine.decide(v["input"]) for n, v in by_name.items()}
    for name in reversed(list(by_name)):
        again = await engine.decide(by_name[name]["input"])
        assert (again.allow, again.routes, again.reasons) == (
            first[name].allow,
            first[name].routes,
            first[name].reasons,
        )
