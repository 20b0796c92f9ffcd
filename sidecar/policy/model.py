"""The decision the sidecar acts on, and the engine protocol that produces it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

POLICY_INPUT_VERSION = 1
DECISION_QUERY = "data.llm_router.decision"


@dataclass(frozen=True, slots=True)
class Obligations:
    redact: tuple[str, ...] = ()
    provider_preferences: dict[str, Any] = field(default_factory=dict)
    store: bool | None = None
    """The Responses API's `store` the policy requires (None: the app's own choice); the
    sidecar writes it into the body of every route it sends the request to."""

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "redact": list(self.redact),
            "provider_preferences": dict(self.provider_preferences),
        }
        if self.store is not None:
            out["store"] = self.store
        return out


@dataclass(frozen=True, slots=True)
class Decision:
    """A policy verdict. `allow` is only ever True when the engine returned a well-formed
    decision in time; every failure yields allow=False with `error` set (fail closed)."""

    allow: bool
    routes: tuple[str, ...]
    reasons: tuple[str, ...]
    obligations: Obligations
    engine: str
    revision: str
    eval_seconds: float
    error: str | None = None
    engine_decision_id: str | None = None
    annotations: dict[str, Any] = field(default_factory=dict)
    """Extra decision fields the sidecar records but does not act on beyond routing:
    `break_glass` (exceptions used), `reroute` (the model routed to instead)."""
    cached: bool = False
    """Reused from an identical earlier decision of the same revision (policy/cache.py);
    a cached Decision is shared between requests, so nothing may mutate its contents."""

    @property
    def fail_closed(self) -> bool:
        return self.error is not None


class PolicyEngine(Protocol):
    """Something that turns a policy input document into a Decision and never raises."""

    name: str

    @property
    def revision(self) -> str: ...

    @property
    def ready(self) -> bool: ...

    async def decide(self, policy_input: dict[str, Any]) -> Decision: ...

    async def close(self) -> None: ...
