"""From an allowed decision to the upstream attempts: one `Plan` per allowed route, in the
policy's order, each with the body that route will be sent.

The obligations are carried out here, once, before any route sees the body: redaction
(of the body, and of forwarded headers: one whose value holds a covered finding is not
forwarded at all), and the app's aggregator routing fields taken away from it. Then each
route translates the body; a route that cannot express the request is skipped with a
reason, never sent a half-translated body.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import orjson
import structlog

from sidecar.api.base import ClientApi, ParsedRequest
from sidecar.catalog import Candidate
from sidecar.classify import redact
from sidecar.classify.model import Classification
from sidecar.classify.redact import HEADERS, Unredactable
from sidecar.dispatch import Plan
from sidecar.errors import RouterError
from sidecar.policy.model import Decision
from sidecar.providers.aggregator import take_routing_fields
from sidecar.providers.base import UnsupportedFeature
from sidecar.providers.upstream import UnsupportedRoute
from sidecar.trip import Trip

log = structlog.get_logger("llm_router.pipeline")


def _serializer(body: dict[str, Any]) -> Callable[[], bytes]:
    return lambda: orjson.dumps(body)


def redacted(
    parsed: ParsedRequest,
    classification: Classification,
    categories: set[str],
    headers: Mapping[str, str],
    masks: Mapping[str, str],
) -> tuple[dict[str, Any], dict[str, str]]:
    """The body and the forwarded headers with the `redact` obligation carried out."""
    covered = [f for f in classification.findings if f.category in categories]
    if not covered:
        return parsed.body, dict(headers)
    try:
        body = redact(parsed.body, parsed.segments, covered, categories, masks)
    except Unredactable as exc:
        raise RouterError(
            403,
            "unredactable",
            f"the policy requires redacting {exc} in text that cannot be rewritten (a PDF); "
            "nothing was sent",
            kind="policy_denied",
        ) from None
    dropped = {
        str(parsed.segments[f.segment].path[1])
        for f in covered
        if parsed.segments[f.segment].path[:1] == (HEADERS,)
    }
    return body, {k: v for k, v in headers.items() if k.lower() not in dropped}


def make_plans(
    api: ClientApi,
    parsed: ParsedRequest,
    classification: Classification,
    decision: Decision,
    candidates: list[Candidate],
    trip: Trip,
    app_headers: Mapping[str, str],
    masks: Mapping[str, str],
) -> list[Plan]:
    body, headers = redacted(
        parsed, classification, set(decision.obligations.redact), app_headers, masks
    )
    body, routing = take_routing_fields(body)  # models, provider, plugins...: the policy's
    store = decision.obligations.store
    if store is not None and api.endpoint == "responses":  # the app's own `store` yields
        body = {**body, "store": store}
    by_id = {c.id: c for c in candidates}
    prefs = decision.obligations.provider_preferences
    plans: list[Plan] = []
    skipped: list[str] = []
    """Why each route was skipped, for the app: may quote the app's own values."""
    recorded: list[str] = []
    """The same without them, for the audit record."""
    for route_id in decision.routes:
        cand = by_id.get(route_id)
        if cand is None:  # the engine already drops these; never trust, always verify
            continue
        up = cand.upstream
        try:
            url = up.url(api.endpoint, cand.model)
            translator = up.translator(api.schema, api.endpoint)
            translated = translator.request_body(body, cand.model)
        except (UnsupportedRoute, UnsupportedFeature) as exc:
            skipped.append(f"{route_id}: {exc}")
            audit = exc.audit if isinstance(exc, UnsupportedFeature) else str(exc)
            recorded.append(f"{route_id}: {audit}")
            continue
        except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
            # A field of a shape the parser let through but the translator cannot read:
            # skip the route rather than send a half-translated body.
            log.warning("translation_failed", route=route_id, error_type=type(exc).__name__)
            skipped.append(f"{route_id}: a field has a shape this route cannot take")
            recorded.append(skipped[-1])
            continue
        trip.dropped[route_id] = up.apply_obligations(translated, prefs, routing)
        plans.append(Plan(route_id, up, url, translator, _serializer(translated), headers))
    if recorded:
        trip.record.outcome["skipped"] = recorded
    if not plans:
        raise RouterError(
            400,
            "unsupported_feature",
            "no allowed route can express this request: " + "; ".join(skipped),
        )
    return plans
