"""The audit record in OPA's decision-log format (`audit.format: opa_decision_log`).

For teams that already collect OPA decision logs: the same pipeline, dashboards and
retention then cover the sidecar's routing decisions. OPA's fields carry the decision
(`path`, `input`, `result`, `bundles`, `metrics`, `labels`), and everything OPA has no
field for (route attempts, outcome, content digest, the hash chain) sits in one
`llm_router` extension object. `input` is the part of the policy input that describes the
request (never its content); the candidate routes are configuration and are not repeated.
"""

from __future__ import annotations

from typing import Any

import sidecar
from sidecar.audit.chain import EXTENSION

DECISION_PATH = "llm_router/decision"


def to_opa_decision_log(record: dict[str, Any]) -> dict[str, Any]:
    """Map a native record (`AuditRecord.to_dict()` plus `config_revision`) to an OPA
    decision-log event. The chain fields are added afterwards, inside `llm_router`."""
    workload = record["workload"]
    policy = record.get("policy")
    event: dict[str, Any] = {
        "decision_id": record["decision_id"],
        "timestamp": record["time"],
        "path": DECISION_PATH,
        "labels": {
            "app": "llm-router",
            "version": sidecar.__version__,
            "namespace": workload.get("namespace", ""),
            "pod": workload.get("pod", ""),
        },
        "input": {
            "version": 1,
            "request": {
                "id": record["decision_id"],
                "api": record["api"],
                "model": record.get("model"),
                "stream": record.get("stream", False),
            },
            "workload": workload,
            "classification": record.get("classification"),
        },
    }
    extension: dict[str, Any] = {
        "schema": record["schema"],
        "config_revision": record.get("config_revision"),
        "decision": record["decision"],
        "model_requested": record.get("model_requested"),
        "attempts": record["attempts"],
        "outcome": record["outcome"],
        "content": record.get("content"),
    }
    if policy is not None:
        result = {
            key: policy[key]
            for key in ("allow", "routes", "reasons", "obligations")
            if key in policy
        }
        for key in ("break_glass", "reroute"):
            if key in policy:
                result[key] = policy[key]
        event["result"] = result
        event["bundles"] = {"llm_router": {"revision": policy["revision"]}}
        event["metrics"] = {"timer_rego_query_eval_ns": int(policy["eval_ms"] * 1_000_000)}
        extension["policy"] = {
            "engine": policy["engine"],
            "error": policy.get("error"),
            "engine_decision_id": policy.get("engine_decision_id"),
        }
    event[EXTENSION] = extension
    return event
