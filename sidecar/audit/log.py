"""`AuditLog`: turns each request's record into a line of the instance's hash chain and
hands it to the configured sink, through the bounded buffer and writer thread of
`writer.py`; plus the diagnostic logging set-up.

Exactly one record is emitted per request, from the pipeline's `finally`. Emission never
blocks and never awaits: it serialises the record and buffers it. What happens when the
buffer (or the HTTP sink's queue) is full is `audit.on_full`:

- `drop_and_count` (default): the record is dropped, counted in
  `llm_router_audit_dropped_total{reason="queue_full"}`, and the next record written
  declares it in `dropped_before`. Requests keep being served: a log pipeline that stalls
  must not take the pods it collects from down with it. The drop alert fires at once.
- `fail_closed`: while it is full, new requests are refused with 503 `audit_unavailable`
  before anything is read or forwarded (`admit`): what cannot be audited is not sent.
- `block` (`audit.http.on_full` only, and the HTTP sink's default when neither `on_full`
  is set, as before `audit.on_full` existed): new requests wait in `admit` until there is
  room.

In the last two modes the record of a request that reached an upstream is buffered even
past the bound (by at most the requests in flight); only records of requests that sent
nothing anywhere are dropped when full.

Diagnostic logs go to stderr; audit records to their own sink (stdout by default), so a
log pipeline can ship and retain them separately.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, BinaryIO

import orjson
import structlog

from sidecar.audit.chain import Chain
from sidecar.audit.opa import to_opa_decision_log
from sidecar.audit.record import AuditRecord
from sidecar.audit.sinks import RotatingFileSink, Sink, StreamSink
from sidecar.audit.writer import AuditWriter
from sidecar.config import AuditConfig
from sidecar.errors import RouterError

if TYPE_CHECKING:
    from sidecar.metrics import Metrics

log = structlog.get_logger("llm_router.audit")

RETRY_AFTER_S = 1


class AuditLog:
    def __init__(
        self,
        cfg: AuditConfig,
        stream: BinaryIO | None = None,
        *,
        metrics: Metrics | None = None,
        environ: Mapping[str, str] | None = None,
        config_revision: str = "0" * 12,
        instance: str | None = None,
        sink: Sink | None = None,
    ) -> None:
        """`stream` replaces stdout for the stdout sink (tests, the demo); `sink` replaces
        the configured sink altogether (tests of failing sinks)."""
        if metrics is None:
            from sidecar.metrics import Metrics

            metrics = Metrics()
        self.metrics = metrics
        self.config_revision = config_revision
        self.opa_format = cfg.format == "opa_decision_log"
        self.on_full = cfg.full_policy
        self.flush_timeout_s = cfg.flush_timeout_s
        self.sink = sink or _build_sink(cfg, stream, metrics, environ)
        self.writer = AuditWriter(
            self.sink,
            Chain(instance),
            metrics,
            capacity_bytes=cfg.buffer_bytes,
            nested=self.opa_format,
            stalled_after_s=cfg.stalled_after_s,
            write=self._write,
        )
        self.sink.on_room(self.writer.notify_room)
        self.gated = self.on_full != "drop_and_count"
        """Requests must pass `admit()` before they are handled."""

    @property
    def instance(self) -> str:
        return self.writer.chain.instance

    @property
    def count(self) -> int:
        """Records written so far."""
        return self.writer.written

    async def start(self) -> None:
        await self.sink.start()

    async def admit(self) -> None:
        """Before a request is read: while the buffer is full, wait (`block`) or refuse
        (`fail_closed`: 503 `audit_unavailable`, in the app's format, with Retry-After)."""
        if not self.writer.full():
            return
        if self.on_full == "fail_closed":
            self.metrics.audit_queue_full.labels(action="refuse").inc()
            self.metrics.rejected.labels(reason="audit_unavailable").inc()
            raise RouterError(
                503,
                "audit_unavailable",
                "the audit trail cannot take records right now; nothing was sent",
                kind="api_error",
                headers={"Retry-After": str(RETRY_AFTER_S)},
            )
        if self.on_full == "block":
            self.metrics.audit_queue_full.labels(action="block").inc()
            started = time.perf_counter()
            await self.writer.wait_for_room()
            self.metrics.audit_blocked_seconds.inc(time.perf_counter() - started)

    def emit(self, record: AuditRecord) -> None:
        doc = record.to_dict()
        doc["config_revision"] = record.config_revision or self.config_revision
        if self.opa_format:
            doc = to_opa_decision_log(doc)
            doc["labels"]["id"] = self.instance
        # Once a request has reached an upstream, its record is kept unless drops are the
        # configured answer to a full buffer.
        keep = self.gated and bool(record.attempts)
        self.writer.offer(orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS), keep)

    def _write(self, line: bytes) -> None:
        """The one place a sealed line leaves the process (tests tap it); writer thread."""
        self.sink.write(line)

    def wait_written(self, timeout: float = 5.0) -> bool:
        """Block until every record emitted so far has been written (or dropped)."""
        return self.writer.wait_written(timeout)

    def health(self) -> dict[str, Any]:
        """For /readyz: a stuck or full sink makes the sidecar degraded, not unready."""
        health = self.writer.health()
        return {
            "sink": self.sink.name,
            "on_full": self.on_full,
            "degraded": health["state"] != "ok",
            **health,
        }

    async def close(self) -> None:
        await self.writer.close(self.flush_timeout_s)
        await self.sink.close()


def _build_sink(
    cfg: AuditConfig,
    stream: BinaryIO | None,
    metrics: Metrics,
    environ: Mapping[str, str] | None,
) -> Sink:
    if cfg.sink == "file":
        assert cfg.path is not None
        return RotatingFileSink(cfg.path, cfg.max_bytes, cfg.backups)
    if cfg.sink == "http":
        from sidecar.audit.http import HttpSink

        assert cfg.http is not None
        return HttpSink(cfg.http, metrics, environ)
    return StreamSink(stream)


def configure_logging(level: str = "info") -> None:
    """Diagnostic logs: JSON lines on stderr, with no request content in any event."""
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(serializer=lambda o, **_: orjson.dumps(o).decode()),
        ],
        wrapper_class=structlog.make_filtering_bound_logger(
            logging.getLevelNamesMapping()[level.upper()]
        ),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
