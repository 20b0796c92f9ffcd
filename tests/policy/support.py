"""Shared helpers for the policy tests: vectors, tiny policy directories, a sample input."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from sidecar.policy.embedded import SMOKE_INPUT
from tests.conftest import POLICIES

VECTORS = sorted((Path(__file__).parent.parent / "policy_vectors").glob("*.json"))

__all__ = ["POLICIES", "VECTORS", "load_vector", "policy_dir", "routes_input"]


def load_vector(path: Path) -> dict[str, Any]:
    vector: dict[str, Any] = orjson.loads(path.read_bytes())
    return vector


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
