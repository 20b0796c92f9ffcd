"""The audit record of one request (schema `llm-router.audit/v1`).

The pipeline fills one `AuditRecord` per request as the request goes through its journey;
`AuditLog` seals it into the hash chain and hands the line to a sink. A record holds tags,
counts, a digest and byte sizes of the content: never prompt or completion text, matched
values, keys or request headers. `sidecar/audit/llm-router.audit.v1.schema.json` is the
published contract; `to_dict` must always produce a document that validates against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

SCHEMA = "llm-router.audit/v1"
GENESIS = "0" * 64
"""`prev_hash` of an instance's first record (seq 0)."""


@dataclass(slots=True)
class Attempt:
    route: str
    provider: str
    kind: str
    outcome: str
    status: int | None
    latency_ms: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "route": self.route,
            "provider": self.provider,
            "kind": self.kind,
            "outcome": self.outcome,
            "status": self.status,
            "latency_ms": self.latency_ms,
        }


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@dataclass(slots=True)
class AuditRecord:
    decision_id: str
    api: str
    workload: dict[str, Any]
    time: str = field(default_factory=_now)
    model_requested: str | None = None
    """The requested name when the catalog knows it, `other` when it does not: the name is
    free text from the app and could carry anything."""
    model: str | None = None
    stream: bool = False
    decision: str = "invalid"
    """allow | deny | error (fail closed) | invalid (never reached the policy)."""
    classification: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    content: dict[str, Any] | None = None
    config_revision: str | None = None
    """The config revision the request ran on (set by the pipeline, which knows it across a
    reload); `AuditLog` adds it when sealing, its own current revision when unset."""

    def to_dict(self) -> dict[str, Any]:
        """The record's fields; the chain fields (`instance`, `seq`, `prev_hash`, `hash`,
        `dropped_before`) and `config_revision` are added by `AuditLog` when it seals it."""
        # Shallow on purpose (dataclasses.asdict deep-copies: ~90 us a record): the nested
        # dicts belong to this request alone and are not changed after emission.
        return {
            "schema": SCHEMA,
            "event": "audit",
            "decision_id": self.decision_id,
            "time": self.time,
            "api": self.api,
            "workload": self.workload,
            "model_requested": self.model_requested,
            "model": self.model,
            "stream": self.stream,
            "decision": self.decision,
            "classification": self.classification,
            "policy": self.policy,
            "attempts": [attempt.to_dict() for attempt in self.attempts],
            "outcome": self.outcome,
            "content": self.content,
        }
