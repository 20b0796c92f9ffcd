"""The audit record (schema `llm-router.audit/v1`) and the structlog set-up that writes it.

Exactly one record is written per request, whatever happened, from the pipeline's `finally`.
Records hold tags, counts, digests and sizes: never prompt text, matched values or keys.
Diagnostic logs go to stderr; audit records to their own sink (stdout by default), so a log
pipeline can ship them separately.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import orjson
import structlog

from sidecar.config import AuditConfig

SCHEMA = "llm-router.audit/v1"


@dataclass(slots=True)
class Attempt:
    route: str
    provider: str
    kind: str
    outcome: str
    status: int | None
    latency_ms: float


@dataclass(slots=True)
class AuditRecord:
    decision_id: str
    api: str
    workload: dict[str, Any]
    time: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="milliseconds"))
    model_requested: str | None = None
    model: str | None = None
    stream: bool = False
    classification: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    outcome: dict[str, Any] = field(default_factory=dict)
    content: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        """A shallow view: the JSON renderer (orjson) serialises the nested attempts itself,
        which costs a fraction of `dataclasses.asdict`'s deep copy of every value."""
        data = {name: getattr(self, name) for name in _RECORD_FIELDS}
        data["schema"] = SCHEMA
        return data


_RECORD_FIELDS = tuple(f.name for f in fields(AuditRecord))


def _render(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> bytes:
    return orjson.dumps(event_dict, option=orjson.OPT_NON_STR_KEYS)


class AuditLog:
    """Writes one JSON line per record through structlog, flushed per record."""

    def __init__(self, cfg: AuditConfig, stream: BinaryIO | None = None) -> None:
        self._owned: BinaryIO | None = None
        if stream is None:
            if cfg.sink == "file":
                assert cfg.path is not None
                Path(cfg.path).parent.mkdir(parents=True, exist_ok=True)
                stream = self._owned = open(cfg.path, "ab")  # noqa: SIM115 - closed in close()
            else:
                stream = sys.stdout.buffer
        # Own wrapper class: the diagnostic log level must never filter audit records out.
        self._logger = structlog.wrap_logger(
            structlog.BytesLogger(stream),
            processors=[_render],
            wrapper_class=structlog.make_filtering_bound_logger(logging.NOTSET),
            context_class=dict,
            cache_logger_on_first_use=True,
        )
        self.count = 0

    def emit(self, record: AuditRecord) -> None:
        self._logger.info("audit", **record.to_dict())
        self.count += 1

    def close(self) -> None:
        if self._owned is not None:
            self._owned.close()


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
