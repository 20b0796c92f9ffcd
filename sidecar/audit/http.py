"""The HTTP sink: audit lines go to an on-disk queue first, and a background task posts them
to a collector in batches, with retry and exponential backoff, acknowledging a batch only
on a 2xx answer.

A collector outage therefore costs disk space, not records. Lines are appended by the
audit writer thread (`writer.py`); the sender runs on the event loop. When the queue
reaches `max_queue_bytes`, this sink's `on_full` (or `audit.on_full`) applies, and is
counted (see `log.py`): `block` (this sink's default) holds new requests until the sender
has made room, `fail_closed` refuses them, and in both the records of requests already
forwarded are still appended, so the bound may be exceeded by at most the records of
requests in flight; `drop_and_count` drops what does not fit
(`llm_router_audit_dropped_total{reason="queue_full"}`) and the next record written
carries `dropped_before`, so the trail itself says how many are missing, and where.

Batches are newline-delimited JSON (`application/x-ndjson`) or a JSON array, which log
collectors' HTTP inputs accept (Vector, Fluent Bit, Logstash, OpenTelemetry Collector).
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Mapping
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
        self._room: list[Callable[[], None]] = []
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # ---- producer side (the audit writer thread) ---------------------------------------

    def has_room(self, size: int) -> bool:
        return self.queue.has_room(size)

    def on_room(self, callback: Callable[[], None]) -> None:
        self._room.append(callback)

    def write(self, line: bytes) -> None:
        self.queue.append(line)
        self._gauges()
        if self._loop is not None:  # wake the sender, which lives on the loop
            with contextlib.suppress(RuntimeError):  # the loop has closed
                self._loop.call_soon_threadsafe(self._wake.set)

    # ---- lifecycle ---------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
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
                    for callback in self._room:
                        callback()
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
