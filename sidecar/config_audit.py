"""The `audit` section: which sink records go to, and what a full buffer does."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from sidecar.config_base import Strict as _Strict


class HttpSinkConfig(_Strict):
    """Batches to a collector, through a bounded on-disk queue (see sidecar/audit/http.py)."""

    url: str
    queue_dir: Path
    """Unacknowledged records live here; keep it on a volume that survives restarts."""
    max_queue_bytes: int = Field(64 << 20, gt=0)
    on_full: Literal["block", "drop_and_count", "fail_closed"] | None = None
    """Kept from before `audit.on_full` existed, and still honoured: set, it decides for
    this sink (`block` only exists here); unset, `audit.on_full` does if set, else `block`."""
    encoding: Literal["ndjson", "json"] = "ndjson"
    batch_max_records: int = Field(500, gt=0)
    batch_max_bytes: int = Field(1 << 20, gt=0)
    timeout_s: float = Field(5.0, gt=0)
    backoff_min_s: float = Field(0.5, gt=0)
    backoff_max_s: float = Field(30.0, gt=0)
    drain_timeout_s: float = Field(5.0, ge=0)
    """On shutdown, time to deliver what is queued; the rest is sent after the restart."""
    fsync: bool = False
    token_env: str | None = None
    token_file: Path | None = None
    headers: dict[str, str] = Field(default_factory=dict)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> HttpSinkConfig:
        if self.backoff_min_s > self.backoff_max_s:
            raise ValueError("backoff_min_s must not exceed backoff_max_s")
        if self.token_env and self.token_file:
            raise ValueError("set token_env or token_file, not both")
        return self


class AuditConfig(_Strict):
    sink: Literal["stdout", "file", "http"] = "stdout"
    format: Literal["llm-router", "opa_decision_log"] = "llm-router"
    path: Path | None = None
    """File sink: the file records are appended to."""
    max_bytes: int = Field(100 << 20, ge=0)
    """File sink: rotate past this size (0: never)."""
    backups: int = Field(5, ge=0)
    """File sink: rotated files kept (path.1 … path.N)."""
    http: HttpSinkConfig | None = None
    on_full: Literal["drop_and_count", "fail_closed"] = "drop_and_count"
    """When the buffer in front of the sink is full (see sidecar/audit/writer.py)."""
    buffer_bytes: int = Field(8 << 20, gt=0)
    """Records waiting for the writer thread, at most (their JSON size)."""
    flush_timeout_s: float = Field(2.0, ge=0)
    """On shutdown, time the writer gets to write what is buffered; the rest is counted."""
    stalled_after_s: float = Field(1.0, gt=0)
    """A write taking longer marks the sink stalled (/readyz, llm_router_audit_sink_stalled)."""

    @model_validator(mode="after")
    def _sink_settings(self) -> AuditConfig:
        if self.sink == "file" and self.path is None:
            raise ValueError("sink 'file' needs a path")
        if self.sink == "http" and self.http is None:
            raise ValueError("sink 'http' needs an http section")
        legacy = self.http.on_full if self.http is not None else None
        if legacy is not None and "on_full" in self.model_fields_set and legacy != self.on_full:
            raise ValueError("audit.on_full and audit.http.on_full disagree: set one of them")
        return self

    @property
    def full_policy(self) -> Literal["block", "drop_and_count", "fail_closed"]:
        """What a full buffer does: `audit.http.on_full` if set for the HTTP sink, else
        `audit.on_full`. An HTTP sink with neither keeps the `block` it always had: configs
        written before `audit.on_full` existed must not start dropping records."""
        if self.sink == "http" and self.http is not None:
            if self.http.on_full is not None:
                return self.http.on_full
            if "on_full" not in self.model_fields_set:
                return "block"
        return self.on_full
