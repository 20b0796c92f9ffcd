"""Every Prometheus collector the sidecar exports, on one `Metrics` object (the audit and
reliability families live in metrics_audit.py and metrics_reliability.py).

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
from sidecar.metrics_audit import AuditCollectors
from sidecar.metrics_reliability import BundleCollectors, ReliabilityCollectors

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


class Metrics(ReliabilityCollectors, AuditCollectors):
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
            "(prompt, completion; cached and reasoning: the parts of prompt and completion "
            "tokens the provider reports as such).",
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
