"""Collectors of the sidecar's defences and dependencies: circuit breakers, admission,
listeners, streams, the drain after SIGTERM, and a polled policy bundle.

`ReliabilityCollectors` is a base of `Metrics` (sidecar/metrics.py); `BundleCollectors` is
registered only by a sidecar that polls a bundle server (`Metrics.bundle`).
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


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


class ReliabilityCollectors:
    """Registered by `Metrics.__init__` through `_reliability_collectors`."""

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
