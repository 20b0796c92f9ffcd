"""Differential check against the reference engine (OPA in Go, via opa-golib-python-bindings).

Skipped where that package is not installed (it declares Python >= 3.14 and is installed with
`pip install --ignore-requires-python opa-golib-python-bindings`). Where it is, the shipped
policy must give the same decision for every vector and pass all its own Rego tests there too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.policy.loader import compile_engine, read_policy_dir
from sidecar.policy.model import DECISION_QUERY
from sidecar.policy.testrunner import discover_tests
from tests.policy.support import POLICIES, VECTORS, load_vector, vector_data, vector_source

opa_bindings = pytest.importorskip("opa_bindings")


def opa_engine(data: Any) -> Any:
    engine = opa_bindings.OpaEngine()
    for path in sorted(POLICIES.glob("*.rego")):
        engine.add_policy(path.name, path.read_text())
    engine.add_data(data)
    return engine


@pytest.fixture(scope="module")
def opa() -> Any:
    return opa_engine(json.loads((POLICIES / "data.json").read_text()))


def opa_value(opa: Any, query: str, policy_input: Any = None) -> Any:
    rows = opa.eval_query(f"x := {query}", input=policy_input)
    return rows[0]["x"] if rows else "<undefined>"


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
def test_same_decision_as_opa(opa: Any, path: Path) -> None:
    vector = load_vector(path)
    source = vector_source(vector)
    regorus_engine = compile_engine(source, source.without_tests())
    reference = opa_engine(vector_data(vector)) if "data" in vector else opa
    policy_input = vector["input"]
    regorus_engine.set_input_json(orjson.dumps(policy_input).decode())
    ours = orjson.loads(regorus_engine.eval_rule_as_json(DECISION_QUERY))
    theirs = opa_value(reference, DECISION_QUERY, policy_input)
    assert ours == theirs
    assert theirs["allow"] is vector["expected"]["allow"]
    assert theirs["routes"] == vector["expected"]["routes"]


def test_rego_unit_tests_pass_on_opa(opa: Any) -> None:
    source = read_policy_dir(POLICIES)
    tests = discover_tests(compile_engine(source, source.modules))
    assert len(tests) >= 15
    failed = [t for t in tests if opa_value(opa, t) is not True]
    assert failed == []
