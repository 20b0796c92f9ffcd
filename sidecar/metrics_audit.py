"""The audit pipeline's collectors: what was written, dropped, queued and delivered.

A base of `Metrics` (sidecar/metrics.py), so the request path keeps one object to count on
and each family of collectors has a module of its own.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge


class AuditCollectors:
    """Registered by `Metrics.__init__` through `_audit`."""

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
