"""Every Prometheus collector the sidecar exports, in one place.

Label values come only from the configuration and policy vocabulary (API names, provider
names, route kinds, levels, tags of the detector catalogue, logical model names), never from
request data, so the number of series is bounded by the config, not by traffic. Where a
value comes from policy text (denial reasons, break-glass ids) `BoundedLabel` enforces the
bound: past a fixed number of distinct values every new one becomes `other`.
"""

from __future__ import annotations

import functools
import platform

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics import MetricWrapperBase

import sidecar
from sidecar.audit.record import SCHEMA as AUDIT_SCHEMA

# Sub-millisecond buckets: the sidecar's own work is measured in microseconds.
FAST_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)
# Time to first byte: from loopback-fast to a slow model's first token.
TTFB_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
OTHER = "other"


class BoundedLabel:
    """Caps the distinct values of a label fed from policy text: at most `limit` values,
    each cut to `width` characters; any further value is reported as `other`."""

    def __init__(self, limit: int = 50, width: int = 120) -> None:
        self.limit = limit
        self.width = width
        self._seen: set[str] = set()

    def __call__(self, value: str) -> str:
        value = value[: self.width]
        if value in self._seen:
            return value
        if len(self._seen) >= self.limit:
            return OTHER
        self._seen.add(value)
        return value


def _memoize_labels(metric: MetricWrapperBase) -> None:
    """`labels(...)` checks and formats its arguments and takes a lock on every call
    (~1.7 us; a request makes about eight such calls); the child for a given set of
    values never changes, so it is looked up once. The label space is bounded by the
    configuration (see above), and none of these collectors is ever cleared."""
    metric.labels = functools.lru_cache(maxsize=None)(metric.labels)  # type: ignore[method-assign]


class BundleCollectors:
    """A bundle-polling sidecar's collectors (see policy/bundle/health.py)."""

    def __init__(self, r: CollectorRegistry) -> None:
        self.failures = Counter(
            "llm_router_policy_bundle_failures",
            "Bundles refused and bundle polls failed, by reason (not_gzip, truncated, "
            "unsafe_member, too_large, invalid_data, compile_error, test_failure, "
            "http_status, connect_error, timeout, ...); the last good policy kept serving.",
            ["reason"],
            registry=r,
        )
        self.consecutive_poll_failures = Gauge(
            "llm_router_policy_bundle_consecutive_poll_failures",
            "Bundle polls in a row that got no answer, or an HTTP error, from the server.",
            registry=r,
        )
        self.last_success = Gauge(
            "llm_router_policy_bundle_last_success_timestamp_seconds",
            "When a poll last confirmed that the active bundle is the one the server "
            "offers (activated, or Not Modified); 0: never.",
            registry=r,
        )
        self.last_activation = Gauge(
            "llm_router_policy_bundle_last_activation_timestamp_seconds",
            "When a bundle was last activated; 0: never.",
            registry=r,
        )
        self.max_staleness = Gauge(
            "llm_router_policy_bundle_max_staleness_seconds",
            "policy.bundle.max_staleness_s: older than this, the bundle is stale.",
            registry=r,
        )


class Metrics:
    """Collectors on a registry of their own, so several sidecars can live in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self._reliability_collectors(r)
        self.requests = Counter(
            "llm_router_requests",
            "Requests handled, by API, outcome route and decision.",
            ["api", "route_kind", "provider", "decision", "level", "model"],
            registry=r,
        )
        self.sent_to_aggregator = Counter(
            "llm_router_sent_to_aggregator",
            "Requests whose body was sent to an aggregator route (served or failed over), by "
            "classification level. For level=regulated this must stay 0.",
            ["level"],
            registry=r,
        )
        for level in ("public", "internal", "confidential", "regulated"):
            self.sent_to_aggregator.labels(level=level)
        self.denials = Counter(
            "llm_router_denials",
            "Requests the policy denied or could not decide (fail closed), by the policy's "
            "first reason (bounded: `other` past 50 distinct reasons).",
            ["reason"],
            registry=r,
        )
        self.denial_reason = BoundedLabel()
        self.upstream_ttfb = Histogram(
            "llm_router_upstream_ttfb_seconds",
            "Time from sending a request to the route that served it until its first byte "
            "the sidecar could forward (first event of a stream, the whole body otherwise).",
            ["provider", "route_kind"],
            buckets=TTFB_BUCKETS,
            registry=r,
        )
        self.request_duration = Histogram(
            "llm_router_request_duration_seconds",
            "Time from request arrival to the last byte of the response.",
            ["provider", "route_kind"],
            buckets=UPSTREAM_BUCKETS,
            registry=r,
        )
        self.overhead = Histogram(
            "llm_router_overhead_seconds",
            "Time spent in the sidecar itself (parse, classify, decide, translate), "
            "excluding waiting for upstreams.",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.policy_evaluation = Histogram(
            "llm_router_policy_evaluation_seconds",
            "Time to evaluate the routing policy.",
            ["engine"],
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.classification = Histogram(
            "llm_router_classification_seconds",
            "Time to extract and classify a request payload.",
            buckets=FAST_BUCKETS,
            registry=r,
        )
        self.findings = Counter(
            "llm_router_findings", "Validated detector findings, by tag.", ["tag"], registry=r
        )
        self.unscanned = Counter(
            "llm_router_unscanned",
            "Requests that carried content the sidecar forwards without scanning it, by API "
            "and kind (image, audio, remote_url, file_ref, tokens, pdf, binary, encrypted).",
            ["api", "kind"],
            registry=r,
        )
        self.upstream_attempts = Counter(
            "llm_router_upstream_attempts",
            "Upstream attempts by provider and outcome (ok, client_error, rate_limited, "
            "server_error, timeout, connect_error, unavailable).",
            ["provider", "outcome"],
            registry=r,
        )
        self.failovers = Counter(
            "llm_router_failovers",
            "Times a request moved on to its next allowed route.",
            registry=r,
        )
        self.tokens = Counter(
            "llm_router_tokens",
            "Tokens reported by upstreams, by provider, logical model and type "
            "(prompt, completion).",
            ["provider", "model", "type"],
            registry=r,
        )
        self.inflight = Gauge(
            "llm_router_inflight_requests", "Requests currently in the sidecar.", registry=r
        )
        self.build = Info("llm_router_build", "Build information.", registry=r)
        self.build.info(
            {
                "version": sidecar.__version__,
                "python": platform.python_version(),
                "audit_schema": AUDIT_SCHEMA,
            }
        )
        self.config_info = Gauge(
            "llm_router_config_info",
            "The loaded configuration's revision (a digest of the validated config; value 1).",
            ["revision"],
            registry=r,
        )
        self.config_reloads = Counter(
            "llm_router_config_reloads",
            "Config file revisions applied after start (validated and built, then swapped).",
            registry=r,
        )
        self.config_reload_errors = Counter(
            "llm_router_config_reload_errors",
            "Config file revisions rejected (unreadable, invalid YAML or schema, a key that "
            "would be lost, a detector that does not compile); the running config kept serving.",
            registry=r,
        )
        self.config_restart_required = Counter(
            "llm_router_config_restart_required",
            "Changed config keys that only take effect at the next start (listen, admin, "
            "audit, policy, passthrough, some limits), by key, when first seen in the file.",
            ["key"],
            registry=r,
        )
        self.policy_revision = Gauge(
            "llm_router_policy_revision_info",
            "The active policy revision (value 1).",
            ["engine", "revision"],
            registry=r,
        )

        self.policy_reloads = Counter(
            "llm_router_policy_reloads",
            "Policy revisions activated after start (compiled and passed their own tests).",
            registry=r,
        )
        self.policy_reload_errors = Counter(
            "llm_router_policy_reload_errors",
            "Policy revisions rejected (compile error, undefined decision, failing tests, "
            "unreadable files or bundles); the last good revision kept serving.",
            registry=r,
        )

        self.break_glass = Counter(
            "llm_router_break_glass",
            "Requests decided under a break-glass exception, by exception id (policy data).",
            ["id"],
            registry=r,
        )
        self.break_glass_id = BoundedLabel()
        self._audit(r)

    def _audit(self, r: CollectorRegistry) -> None:
        self.audit_records = Counter(
            "llm_router_audit_records",
            "Audit records written to the sink (sealed into the hash chain), by sink.",
            ["sink"],
            registry=r,
        )
        self.audit_dropped = Counter(
            "llm_router_audit_dropped",
            "Audit records lost, by reason: queue_full (the buffer or the HTTP queue was "
            "full), write_error (the sink refused the line) or shutdown (still buffered when "
            "audit.flush_timeout_s ran out). The next record's dropped_before says how many.",
            ["reason"],
            registry=r,
        )
        self.audit_queue_full = Counter(
            "llm_router_audit_queue_full",
            "Times the audit buffer or the HTTP sink's queue was full, by the action taken "
            "(block: the request waited; drop: a record was dropped; refuse: the request got "
            "503 audit_unavailable).",
            ["action"],
            registry=r,
        )
        self.audit_blocked_seconds = Counter(
            "llm_router_audit_blocked_seconds",
            "Time requests spent waiting for room in a full audit queue (on_full: block).",
            registry=r,
        )
        self.audit_delivered = Counter(
            "llm_router_audit_delivered",
            "Audit records the collector acknowledged (HTTP sink).",
            registry=r,
        )
        self.audit_delivery_errors = Counter(
            "llm_router_audit_delivery_errors",
            "Failed batch posts to the collector, by reason (timeout, connect_error, "
            "http_4xx, http_5xx, queue_error: the queue's files failed); each is retried "
            "with backoff.",
            ["reason"],
            registry=r,
        )
        self.audit_queue_bytes = Gauge(
            "llm_router_audit_queue_bytes",
            "Bytes of audit records on disk not yet acknowledged by the collector.",
            registry=r,
        )
        self.audit_queue_records = Gauge(
            "llm_router_audit_queue_records",
            "Audit records on disk not yet acknowledged by the collector.",
            registry=r,
        )
        self.audit_queue_capacity = Gauge(
            "llm_router_audit_queue_capacity_bytes",
            "The queue's bound (audit.http.max_queue_bytes); 0 without an HTTP sink.",
            registry=r,
        )
        self.audit_buffer_bytes = Gauge(
            "llm_router_audit_buffer_bytes",
            "Bytes of audit records waiting in memory for the sink's writer thread.",
            registry=r,
        )
        self.audit_buffer_records = Gauge(
            "llm_router_audit_buffer_records",
            "Audit records waiting in memory for the sink's writer thread (or being written).",
            registry=r,
        )
        self.audit_buffer_capacity = Gauge(
            "llm_router_audit_buffer_capacity_bytes",
            "The in-memory buffer's bound (audit.buffer_bytes).",
            registry=r,
        )
        self.audit_sink_stalled = Gauge(
            "llm_router_audit_sink_stalled",
            "1 while a write to the audit sink has taken longer than audit.stalled_after_s.",
            registry=r,
        )
        # Known label values start at zero, so rates and alerts have a series to work on.
        for reason in ("queue_full", "write_error", "shutdown"):
            self.audit_dropped.labels(reason=reason)
        for action in ("block", "drop", "refuse"):
            self.audit_queue_full.labels(action=action)
        for reason in ("timeout", "connect_error", "http_4xx", "http_5xx", "queue_error"):
            self.audit_delivery_errors.labels(reason=reason)

        for metric in (
            self.requests,
            self.request_duration,
            self.policy_evaluation,
            self.findings,
            self.upstream_attempts,
            self.tokens,
            self.break_glass,
        ):
            _memoize_labels(metric)

    @functools.cached_property
    def bundle(self) -> BundleCollectors:
        """Registered when a sidecar starts polling a bundle server, not before: one without
        a bundle server exports none of them, so no alert reads its timestamps as 0."""
        return BundleCollectors(self.registry)

    def set_policy_revision(self, engine: str, revision: str) -> None:
        self.policy_revision.clear()
        self.policy_revision.labels(engine=engine, revision=revision).set(1)

    def set_config_revision(self, revision: str) -> None:
        self.config_info.clear()
        self.config_info.labels(revision=revision).set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)

    # ---- reliability: circuit breakers, admission, streams, shutdown ---------------------

    def _reliability_collectors(self, r: CollectorRegistry) -> None:
        self.circuit_state = Gauge(
            "llm_router_circuit_state",
            "Circuit breaker state per route: 0 closed, 1 half-open, 2 open.",
            ["route"],
            registry=r,
        )
        self.circuit_transitions = Counter(
            "llm_router_circuit_transitions",
            "Circuit breaker state changes per route, by the state entered.",
            ["route", "state"],
            registry=r,
        )
        self.circuit_skips = Counter(
            "llm_router_circuit_open_skips",
            "Allowed routes skipped because their circuit was open.",
            ["route"],
            registry=r,
        )
        self.rejected = Counter(
            "llm_router_rejected_requests",
            "Requests refused before any processing, by reason (too_many_requests, "
            "shutting_down, unknown_endpoint: a path or method the sidecar does not serve, "
            "audit_unavailable: the audit buffer is full and audit.on_full is fail_closed).",
            ["reason"],
            registry=r,
        )
        self.in_flight_limit = Gauge(
            "llm_router_in_flight_limit",
            "The configured limits.max_in_flight.",
            registry=r,
        )
        self.http_connections = Gauge(
            "llm_router_http_connections",
            "Open HTTP connections, by listener (app, admin).",
            ["listener"],
            registry=r,
        )
        self.http_connections_refused = Counter(
            "llm_router_http_connections_refused",
            "Connections closed at once because the listener had its max_connections open.",
            ["listener"],
            registry=r,
        )
        self.invalid_http = Counter(
            "llm_router_invalid_http_requests",
            "Requests that were not valid HTTP/1.1 (aiohttp's parser error class, e.g. "
            "BadStatusLine, BadHttpMessage, LineTooLong), by listener; none was forwarded.",
            ["listener", "error"],
            registry=r,
        )
        self.stream_failures = Counter(
            "llm_router_stream_failures",
            "Streams that failed after their first byte reached the app, by provider and "
            "error code (upstream_stream_cut, upstream_stream_timeout, upstream_malformed, "
            "upstream_stream_error, shutting_down).",
            ["provider", "code"],
            registry=r,
        )
        self.draining = Gauge(
            "llm_router_draining",
            "1 while the sidecar drains after SIGTERM (readiness is false).",
            registry=r,
        )
