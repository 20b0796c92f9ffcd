"""Shared helpers for the policy tests: vectors, tiny policy directories, a sample input.

A decision vector (`tests/policy_vectors/*.json`) is `{"name", "input", "expected"}`, and
optionally `"data"`: settings for that vector only, each key replacing the same key of the
shipped `llm_router_config` (a deny list, a namespace entry). Tests that check `expected`
evaluate such a vector with `vector_source(vector)`; the others may use the shipped policy.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import orjson

from sidecar.policy.embedded import SMOKE_INPUT
from sidecar.policy.loader import PolicySource, read_policy_dir
from tests.conftest import POLICIES

VECTORS = sorted((Path(__file__).parent.parent / "policy_vectors").glob("*.json"))

__all__ = [
    "POLICIES",
    "VECTORS",
    "load_vector",
    "policy_dir",
    "routes_input",
    "vector_data",
    "vector_source",
]


def load_vector(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = orjson.loads(path.read_bytes())
    return vector


def vector_data(vector: dict[str, Any]) -> dict[str, Any]:
    """The data document a vector is decided with: the shipped data.json, with the
    vector's own `data` replacing those keys of `llm_router_config`."""
    document: dict[str, Any] = orjson.loads((POLICIES / "data.json").read_bytes())
    document["llm_router_config"] = {**document["llm_router_config"], **vector.get("data", {})}
    return document


def vector_source(vector: dict[str, Any]) -> PolicySource:
    """The shipped policy files with `vector_data(vector)` as their data.json."""
    source = read_policy_dir(POLICIES)
    if "data" not in vector:
        return source
    return dataclasses.replace(source, data=orjson.dumps(vector_data(vector)).decode())


def policy_dir(tmp_path: Path, rego: str, name: str = "p.rego") -> Path:
    """A policy directory holding one module of package llm_router with `rego` as its body."""
    (tmp_path / name).write_text("package llm_router\n\nimport rego.v1\n\n" + rego + "\n")
    return tmp_path


def routes_input(*ids: str) -> dict[str, Any]:
    """The sample input with one route per id (default: a single route "a:m")."""
    routes = [
        {"id": i, "provider": i.split(":")[0], "kind": "direct", "model": "m", "compliance": {}}
        for i in ids or ("a:m",)
    ]
    return {**SMOKE_INPUT, "routes": routes}
