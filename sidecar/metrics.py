"""Every Prometheus collector the sidecar exports, in one place.

Label values come only from the configuration and policy vocabulary (API names, provider
names, route kinds, levels, tags of the detector catalogue), never from request data, so the
number of series is bounded by the config, not by traffic.
"""

from __future__ import annotations

import functools

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, Info
from prometheus_client.exposition import generate_latest
from prometheus_client.metrics import MetricWrapperBase

import sidecar

# Sub-millisecond buckets: the sidecar's own work is measured in microseconds.
FAST_BUCKETS = (0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1)
UPSTREAM_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)


def _memoize_labels(metric: MetricWrapperBase) -> None:
    """`labels(...)` checks and formats its arguments and takes a lock on every call
    (~1.7 us; a request makes about eight such calls); the child for a given set of
    values never changes, so it is looked up once. The label space is bounded by the
    configuration (see above), and none of these collectors is ever cleared."""
    metric.labels = functools.lru_cache(maxsize=None)(metric.labels)  # type: ignore[method-assign]


class Metrics:
    """Collectors on a registry of their own, so several sidecars can live in one process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "llm_router_requests",
            "Requests handled, by API, outcome route and decision.",
            ["api", "route_kind", "provider", "decision", "level"],
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
            "Tokens reported by upstreams, by provider and type (prompt, completion).",
            ["provider", "type"],
            registry=r,
        )
        self.inflight = Gauge(
            "llm_router_inflight_requests", "Requests currently in the sidecar.", registry=r
        )
        self.build = Info("llm_router_build", "Build information.", registry=r)
        self.build.info({"version": sidecar.__version__})
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

    def set_policy_revision(self, engine: str, revision: str) -> None:
        self.policy_revision.clear()
        self.policy_revision.labels(engine=engine, revision=revision).set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
