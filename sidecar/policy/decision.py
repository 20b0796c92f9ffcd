"""Turns an engine's JSON result into a Decision, trusting nothing in it.

Shared by every engine, so the fail-closed rules are written once: an undefined or
malformed decision, or `allow` other than the boolean true, denies; route ids that are not
among the input's routes are dropped, with a reason.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.policy.model import Decision, Obligations


def failed_decision(error: str, engine: str, revision: str, elapsed: float) -> Decision:
    """The fail-closed decision: no route, and `error` says why (never input content)."""
    return Decision(
        allow=False,
        routes=(),
        reasons=(f"policy evaluation failed: {error}",),
        obligations=Obligations(),
        engine=engine,
        revision=revision,
        eval_seconds=elapsed,
        error=error,
    )


def _strings(value: Any) -> tuple[str, ...] | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return tuple(value)
    return None


def parse_decision(
    raw: str | bytes, policy_input: dict[str, Any], engine: str, revision: str, elapsed: float
) -> Decision:
    try:
        result = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return failed_decision("malformed_result", engine, revision, elapsed)
    if not isinstance(result, dict):
        return failed_decision("undefined_decision", engine, revision, elapsed)
    allow = result.get("allow")
    routes = _strings(result.get("routes", []))
    reasons = _strings(result.get("reasons", []))
    obligations = result.get("obligations", {})
    if not isinstance(allow, bool) or routes is None or reasons is None:
        return failed_decision("malformed_decision", engine, revision, elapsed)
    if not isinstance(obligations, dict):
        return failed_decision("malformed_obligations", engine, revision, elapsed)
    redact = _strings(obligations.get("redact", []))
    prefs = obligations.get("provider_preferences", {})
    store = obligations.get("store")
    if redact is None or not isinstance(prefs, dict) or not isinstance(store, bool | None):
        return failed_decision("malformed_obligations", engine, revision, elapsed)

    offered = list(policy_input.get("routes", []))
    for routes_of_model in (policy_input.get("alternatives") or {}).values():
        offered.extend(routes_of_model if isinstance(routes_of_model, list) else [])
    known = {r.get("id") for r in offered if isinstance(r, dict)}
    kept = tuple(dict.fromkeys(r for r in routes if r in known))  # offered, once, in order
    dropped = sorted(set(routes) - known)
    if dropped:
        reasons = (
            *reasons,
            f"sidecar dropped routes not offered to the policy: {', '.join(dropped)}",
        )
    allowed = allow is True and bool(kept)
    if allow is True and not kept:
        reasons = (*reasons, "sidecar denied: the policy allowed no offered route")
    return Decision(
        allow=allowed,
        routes=kept if allowed else (),
        reasons=reasons,
        obligations=Obligations(redact=redact, provider_preferences=prefs, store=store),
        engine=engine,
        revision=revision,
        eval_seconds=elapsed,
        engine_decision_id=result.get("decision_id")
        if isinstance(result.get("decision_id"), str)
        else None,
        annotations={k: result[k] for k in ANNOTATIONS if k in result},
    )


ANNOTATIONS = ("break_glass", "reroute")
