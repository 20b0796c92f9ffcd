"""The HTTP sink: audit lines go to an on-disk queue first, and a background task posts them
to a collector in batches, with retry and exponential backoff, acknowledging a batch only
on a 2xx answer.

A collector outage therefore costs disk space, not records. When the queue reaches
`max_queue_bytes` the configured behaviour applies, and is counted:

- `block`: new requests wait (before anything is read, classified or sent upstream) until
  the sender has made room; requests already admitted still write their record, so the
  bound may be exceeded by at most the records of requests in flight. Nothing is lost, and
  the app sees latency instead: the sidecar fails closed on auditing.
- `drop_and_count`: records that do not fit are dropped and counted
  (`llm_router_audit_dropped_total{reason="queue_full"}`); the next record written carries
  `dropped_before`, so the trail itself says how many are missing, and where.

Batches are newline-delimited JSON (`application/x-ndjson`) or a JSON array, which log
collectors' HTTP inputs accept (Vector, Fluent Bit, Logstash, OpenTelemetry Collector).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING

import aiohttp
import structlog

from sidecar.audit.queue import Batch, DiskQueue
from sidecar.credentials import load_credential

if TYPE_CHECKING:
    from sidecar.config import HttpSinkConfig
    from sidecar.metrics import Metrics

log = structlog.get_logger("llm_router.audit")


class HttpSink:
    name = "http"

    def __init__(
        self, cfg: HttpSinkConfig, metrics: Metrics, environ: Mapping[str, str] | None = None
    ) -> None:
        self.cfg = cfg
        self.metrics = metrics
        self.queue = DiskQueue(cfg.queue_dir, cfg.max_queue_bytes, fsync=cfg.fsync)
        self._token = load_credential("audit", cfg.token_env, cfg.token_file, environ)
        self._wake = asyncio.Event()
        self._room = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None

    # ---- producer side (called by AuditLog on the loop thread) -----------------------

    def has_room(self, size: int) -> bool:
        return self.queue.has_room(size)

    def write(self, line: bytes) -> None:
        self.queue.append(line)
        self._gauges()
        self._wake.set()

    async def wait_for_room(self) -> None:
        """`block` mode: wait until the queue is below its bound again."""
        if self.queue.pending_bytes < self.queue.max_bytes:
            return
        self.metrics.audit_queue_full.labels(action="block").inc()
        started = time.perf_counter()
        while not self._stopping and self.queue.pending_bytes >= self.queue.max_bytes:
            self._room.clear()
            await self._room.wait()
        self.metrics.audit_blocked_seconds.inc(time.perf_counter() - started)

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self.queue.open()
        self.metrics.audit_queue_capacity.set(self.queue.max_bytes)
        self._gauges()
        if self.queue.recovered_records:
            log.info("audit_queue_recovered", records=self.queue.recovered_records)
        if self.queue.truncated_bytes:
            log.warning("audit_queue_partial_line_removed", bytes=self.queue.truncated_bytes)
        self._session = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=self.cfg.timeout_s),
            headers={**self.cfg.headers, "content-type": _CONTENT_TYPES[self.cfg.encoding]},
        )
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def close(self) -> None:
        """Give the sender `drain_timeout_s` to deliver what is queued; what remains stays
        on disk and is sent by the next start with the same `queue_dir`."""
        self._stopping = True
        self._room.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), self.cfg.drain_timeout_s)
            except TimeoutError:
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
        if self.queue.pending_records:
            log.warning("audit_queue_not_drained", records=self.queue.pending_records)
        if self._session is not None:
            await self._session.close()
        self.queue.close()

    # ---- sender --------------------------------------------------------------------------

    async def _run(self) -> None:
        delay = self.cfg.backoff_min_s
        while True:
            try:
                batch = self.queue.peek(self.cfg.batch_max_records, self.cfg.batch_max_bytes)
                if batch is None:
                    if self._stopping:
                        return
                    self._wake.clear()
                    await self._wake.wait()
                    continue
                error = await self._post(batch)
                if error is None:
                    self.queue.ack(batch)
                    self.metrics.audit_delivered.inc(len(batch.lines))
                    self._gauges()
                    self._room.set()
                    delay = self.cfg.backoff_min_s
                    continue
            except OSError as exc:  # the queue's files: keep trying, never die silently
                error = "queue_error"
                log.error("audit_queue_error", error=exc.strerror or type(exc).__name__)
            self.metrics.audit_delivery_errors.labels(reason=error).inc()
            log.warning("audit_delivery_failed", reason=error, retry_in_s=round(delay, 3))
            await asyncio.sleep(delay * random.uniform(0.5, 1.0))  # jittered
            delay = min(delay * 2, self.cfg.backoff_max_s)

    async def _post(self, batch: Batch) -> str | None:
        """None when the collector acknowledged the batch, else a bounded reason label."""
        assert self._session is not None
        if self.cfg.encoding == "json":
            body = b"[" + b",".join(line.rstrip(b"\n") for line in batch.lines) + b"]"
        else:
            body = b"".join(batch.lines)
        headers = {}
        token = self._token.current()
        if token:
            headers["authorization"] = f"Bearer {token}"
        try:
            async with self._session.post(self.cfg.url, data=body, headers=headers) as response:
                await response.read()
                if 200 <= response.status < 300:
                    return None
                return f"http_{response.status // 100}xx"
        except TimeoutError:
            return "timeout"
        except (aiohttp.ClientError, OSError):
            return "connect_error"

    def _gauges(self) -> None:
        self.metrics.audit_queue_bytes.set(self.queue.pending_bytes)
        self.metrics.audit_queue_records.set(self.queue.pending_records)


_CONTENT_TYPES = {"ndjson": "application/x-ndjson", "json": "application/json"}
