"""The policy contract's input document (v1), built from one request: the pipeline and
`llm-router explain` build it with this one function, so what `explain` shows is what the
policy sees."""

from __future__ import annotations

from typing import Any

from sidecar.api.base import ClientApi, ParsedRequest
from sidecar.catalog import Candidate, LogicalModel
from sidecar.policy.model import POLICY_INPUT_VERSION


def build_policy_input(
    *,
    request_id: str,
    api: ClientApi,
    parsed: ParsedRequest,
    declared: str | None,
    time: str,
    workload: dict[str, Any],
    classification: dict[str, Any],
    model: LogicalModel,
    candidates: list[Candidate],
    alternatives: dict[str, list[Candidate]],
    facts: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The policy contract's input document (v1). `llm-router explain` builds the same.
    The resolved model and all its names sit next to the requested one, so that a model
    rule written with one name holds for every alias. `facts` are an API's own fields of
    `request` (the Responses API's store, continues and hosted tools)."""
    policy_input: dict[str, Any] = {
        "version": POLICY_INPUT_VERSION,
        "request": {
            "id": request_id,
            "api": api.name,
            "model": parsed.model,
            "resolved_model": model.name,
            "model_names": [model.name, *model.aliases],
            "stream": parsed.stream,
            "declared": {"data_class": declared} if declared else {},
            "time": time,
            **(facts or {}),
        },
        "workload": workload,
        "classification": classification,
        "routes": [c.policy_view for c in candidates],
    }
    if alternatives:
        policy_input["alternatives"] = {
            name: [c.policy_view for c in cands] for name, cands in alternatives.items()
        }
    return policy_input
