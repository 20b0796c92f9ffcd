"""`AuditLog`: seals each request's record into the instance's hash chain and hands the
line to the configured sink; plus the diagnostic logging set-up.

Exactly one record is emitted per request, from the pipeline's `finally`. Emission never
awaits: with a bounded queue in `block` mode the waiting happens before the request is
admitted (`admit`), so a request that has been forwarded always gets its record written.
Diagnostic logs go to stderr; audit records to their own sink (stdout by default), so a
log pipeline can ship and retain them separately.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Mapping
from typing import TYPE_CHECKING, BinaryIO

import orjson
import structlog

from sidecar.audit.chain import Chain
from sidecar.audit.opa import to_opa_decision_log
from sidecar.audit.record import AuditRecord
from sidecar.audit.sinks import RotatingFileSink, Sink, StreamSink
from sidecar.config import AuditConfig

if TYPE_CHECKING:
    from sidecar.metrics import Metrics

log = structlog.get_logger("llm_router.audit")


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
    ) -> None:
        """`stream` replaces stdout for the stdout sink (tests, the demo)."""
        if metrics is None:
            from sidecar.metrics import Metrics

            metrics = Metrics()
        self.metrics = metrics
        self.config_revision = config_revision
        self.chain = Chain(instance)
        self.opa_format = cfg.format == "opa_decision_log"
        self.sink = _build_sink(cfg, stream, metrics, environ)
        self.drop_when_full = cfg.http is not None and cfg.http.on_full == "drop_and_count"
        self.gated = cfg.http is not None and cfg.http.on_full == "block"
        """Requests must pass `admit()` before they are handled."""
        self._gate = getattr(self.sink, "wait_for_room", None) if self.gated else None
        self._dropped = 0
        self._records = metrics.audit_records.labels(sink=self.sink.name)
        self.count = 0

    @property
    def instance(self) -> str:
        return self.chain.instance

    async def start(self) -> None:
        await self.sink.start()

    async def admit(self) -> None:
        """In `block` mode, wait while the audit queue is full."""
        if self._gate is not None:
            await self._gate()

    def emit(self, record: AuditRecord) -> None:
        doc = record.to_dict()
        doc["config_revision"] = self.config_revision
        if self.opa_format:
            doc = to_opa_decision_log(doc)
            doc["labels"]["id"] = self.chain.instance
        sealed = self.chain.seal(doc, self._dropped, nested=self.opa_format)
        if self.drop_when_full and not self.sink.has_room(len(sealed.line)):
            self.metrics.audit_queue_full.labels(action="drop").inc()
            self._drop("queue_full")
            return
        try:
            self._write(sealed.line)
        except OSError as exc:
            log.error("audit_write_failed", sink=self.sink.name, error=exc.strerror or str(exc))
            self._drop("write_error")
            return
        self.chain.commit(sealed)
        self._dropped = 0
        self._records.inc()
        self.count += 1

    def _write(self, line: bytes) -> None:
        """The one place a sealed line leaves the process (tests tap it)."""
        self.sink.write(line)

    def _drop(self, reason: str) -> None:
        self._dropped += 1
        self.metrics.audit_dropped.labels(reason=reason).inc()

    async def close(self) -> None:
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
