"""What one request went through, and how that becomes its audit record and metrics.

The pipeline fills a `Trip` as the request goes; `finish` runs exactly once at the end
(delivered, failed, or the client gone) and is the only place that writes either.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from sidecar.api.base import ClientApi
from sidecar.audit import AuditLog, AuditRecord
from sidecar.catalog import Candidate
from sidecar.dispatch import DispatchLog
from sidecar.metrics import OTHER, Metrics
from sidecar.providers.aggregator import dropped_fields
from sidecar.providers.base import Translator
from sidecar.relay import UpstreamStream


@dataclass(slots=True)
class Trip:
    """What one request went through; becomes the audit record and the metrics."""

    api: ClientApi
    started: float
    record: AuditRecord
    dispatch: DispatchLog = field(default_factory=DispatchLog)
    decision: str = "invalid"
    level: str = "unknown"
    status: int = 0
    error_code: str | None = None
    served_by: Candidate | None = None
    ready_at: float | None = None
    ttfb: float | None = None
    upstream_ttfb: float | None = None
    usage: dict[str, int] | None = None
    disconnected: bool = False
    upstream_stream: UpstreamStream | None = None
    """Closed when the request ends, even if the app never read the stream."""
    translator: Translator | None = None
    """The serving attempt's translator (what it learned: usage, a Responses id)."""
    stored: bool = False
    """A Responses API request whose response the upstream keeps (store, after the policy)."""
    dropped: dict[str, list[str]] = field(default_factory=dict)
    """Route -> the app's routing fields its body goes without (providers/aggregator.py)."""


def finish(trip: Trip, audit: AuditLog, m: Metrics) -> None:
    """The request's one audit record and its metrics, whatever happened."""
    now = time.perf_counter()
    record, cand = trip.record, trip.served_by
    record.attempts = trip.dispatch.attempts
    if dropped := dropped_fields(trip.dropped, ((a.route, a.outcome) for a in record.attempts)):
        record.outcome["dropped_fields"] = dropped  # names only, of routes the body went to
    record.decision = trip.decision
    ready = trip.ready_at if trip.ready_at is not None else now
    overhead = max(0.0, ready - trip.started - trip.dispatch.upstream_seconds)
    provider = cand.upstream.name if cand else None
    kind = cand.upstream.kind if cand else "none"
    record.outcome.update(
        {
            "status": 499 if trip.disconnected else trip.status,
            "error_code": "client_disconnected" if trip.disconnected else trip.error_code,
            "route": cand.id if cand else None,
            "provider": provider,
            "route_kind": kind,
            # Any attempt, served or failed over: the body left for an aggregator.
            "sent_to_aggregator": any(
                a.kind == "aggregator" and a.outcome != "unavailable" for a in record.attempts
            ),
            "ttfb_ms": round(trip.ttfb * 1000, 3) if trip.ttfb is not None else None,
            "duration_ms": round((now - trip.started) * 1000, 3),
            "overhead_ms": round(overhead * 1000, 4),
            "usage": trip.usage,
        }
    )
    audit.emit(record)

    provider = provider or "none"
    model = record.model or OTHER  # a configured model name, or `other`: bounded
    m.requests.labels(
        api=trip.api.name,
        route_kind=kind,
        provider=provider,
        decision=trip.decision,
        level=trip.level,
        model=model,
    ).inc()
    m.overhead.observe(overhead)
    if record.outcome["sent_to_aggregator"]:
        m.sent_to_aggregator.labels(level=trip.level).inc()
    if cand is not None:
        m.request_duration.labels(provider=provider, route_kind=kind).observe(now - trip.started)
        if trip.upstream_ttfb is not None and trip.status < 400:
            m.upstream_ttfb.labels(provider=provider, route_kind=kind).observe(trip.upstream_ttfb)
        if trip.usage:
            tokens = m.tokens
            tokens.labels(provider=provider, model=model, type="prompt").inc(
                trip.usage["prompt_tokens"]
            )
            tokens.labels(provider=provider, model=model, type="completion").inc(
                trip.usage["completion_tokens"]
            )
            for kind in ("cached", "reasoning"):  # parts of prompt and completion, not extra
                if count := trip.usage.get(kind + "_tokens", 0):
                    tokens.labels(provider=provider, model=model, type=kind).inc(count)
