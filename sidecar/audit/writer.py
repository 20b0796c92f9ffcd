"""The bounded buffer and the writer thread between the request path and an audit sink.

Why a thread: a sink's write can block for as long as whatever is behind it wants (a
stdout pipe nobody drains, a disk that stalls, a full HTTP queue in `block` mode). On the
event loop that would freeze every request, `/healthz`, `/readyz` and the SIGTERM
handler. Here the loop only serialises the record and appends it to an in-memory buffer
of at most `audit.buffer_bytes`; one daemon thread takes records in order, seals them into
the hash chain and writes them.

Why sealing happens in the thread, just before the write: a record is only part of the
chain once it has been written. A record dropped anywhere (the buffer was full, the sink
refused it, the HTTP queue was full in `drop_and_count`) never got a `seq`, so the chain
that was written has no hole, and the next record written says how many are missing
before it (`dropped_before`). Drops on the loop side travel with the next buffered record;
drops in the thread are added by the thread.

When the buffer is full, `audit.on_full` decides (see `AuditLog`): drop the record and
count it, or refuse new requests (`fail_closed`) or hold them (`block`) until there is
room. Records of requests that reached an upstream are never dropped for lack of room in
those two modes: they may exceed the bound by at most the requests in flight.

At shutdown the thread gets `audit.flush_timeout_s` to write what is buffered; whatever is
left after that, the record stuck in its write included, is counted as dropped
(`reason="shutdown"`) and logged, and the process exits anyway: the thread is a daemon and
never holds a lock the interpreter needs.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
import structlog

from sidecar.audit.chain import Chain
from sidecar.audit.sinks import Sink

if TYPE_CHECKING:
    from sidecar.metrics import Metrics

log = structlog.get_logger("llm_router.audit")

ROOM_POLL_S = 0.25
"""Waiters for room are woken by the writer; this is only a backstop against a missed
wake-up, never the normal path."""


class AuditWriter:
    """Owns the chain: the loop calls `offer`, the thread seals, writes and counts."""

    def __init__(
        self,
        sink: Sink,
        chain: Chain,
        metrics: Metrics,
        *,
        capacity_bytes: int,
        nested: bool = False,
        stalled_after_s: float = 1.0,
        write: Callable[[bytes], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`write` is the one place a sealed line leaves the process (default: the
        sink's `write`); it is called from the writer thread only."""
        self.sink = sink
        self.chain = chain
        self.metrics = metrics
        self.capacity_bytes = capacity_bytes
        self.nested = nested
        self.stalled_after_s = stalled_after_s
        self._write = write or sink.write
        self._clock = clock
        self._items: deque[tuple[bytes, int, bool]] = deque()
        """(record JSON without chain fields, records dropped just before it, keep)."""
        self._lock = threading.Lock()
        self._work = threading.Condition(self._lock)
        self._idle = threading.Condition(self._lock)
        self.pending_bytes = 0
        self.pending_records = 0
        """Buffered plus the one being written."""
        self.written = 0
        self._last_size = 0
        """Loop side: the size of the last record offered, the estimate of the next one's."""
        self._gap = 0
        """Loop side: records dropped since the last one buffered."""
        self._carry = 0
        """Thread side: records dropped since the last one written, declared by the next."""
        self._busy_since: float | None = None
        self._closing = False
        self._abandoned = False
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._room: asyncio.Event | None = None
        self._waiters = 0
        self._records = metrics.audit_records.labels(sink=sink.name)
        metrics.audit_buffer_capacity.set(capacity_bytes)
        metrics.audit_buffer_bytes.set_function(lambda: self.pending_bytes)
        metrics.audit_buffer_records.set_function(lambda: self.pending_records)
        metrics.audit_sink_stalled.set_function(lambda: 1.0 if self.stalled() else 0.0)

    # ---- the loop's side -------------------------------------------------------------

    def offer(self, body: bytes, keep: bool = False) -> bool:
        """Buffer one record (its JSON, chain fields not yet set). Without room it is
        dropped and counted, unless `keep`: then the bound is exceeded for it."""
        if self._closing:
            self.drop("shutdown")
            return False
        self._last_size = len(body)
        if not keep and not self._fits(len(body)):
            self.metrics.audit_queue_full.labels(action="drop").inc()
            self.drop("queue_full")
            return False
        with self._lock:
            self._items.append((body, self._gap, keep))
            self.pending_bytes += len(body)
            self.pending_records += 1
            self._work.notify()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name=f"audit-writer-{self.sink.name}", daemon=True
                )
                self._thread.start()
        self._gap = 0
        return True

    def drop(self, reason: str) -> None:
        """A record that will not be buffered: counted, and declared by the next one."""
        self._gap += 1
        self.metrics.audit_dropped.labels(reason=reason).inc()

    def full(self) -> bool:
        """No room for another record the size of the last one, in the buffer or in the
        sink's own queue."""
        return not self._fits(self._last_size) or not self.sink.has_room(1)

    def _fits(self, size: int) -> bool:
        """An empty buffer takes any one record, so a bound below a record's size means
        one record at a time, not none at all."""
        pending = self.pending_bytes
        return pending == 0 or pending + size <= self.capacity_bytes

    def stalled(self) -> bool:
        since = self._busy_since
        return since is not None and self._clock() - since > self.stalled_after_s

    async def wait_for_room(self) -> None:
        """Until `full()` is false (or the writer is closing)."""
        self._loop = asyncio.get_running_loop()
        if self._room is None:
            self._room = asyncio.Event()
        self._waiters += 1
        try:
            while self.full() and not self._closing:
                self._room.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._room.wait(), ROOM_POLL_S)
        finally:
            self._waiters -= 1

    def notify_room(self) -> None:
        """Wake waiters for room; any thread (the HTTP sink calls it after an ack)."""
        loop, room = self._loop, self._room
        if self._waiters and loop is not None and room is not None:
            with contextlib.suppress(RuntimeError):  # the loop has closed
                loop.call_soon_threadsafe(room.set)

    def wait_written(self, timeout: float) -> bool:
        """Block the caller until everything buffered so far has been handled (written or
        dropped). For in-process readers of a sink's output (tests, the demo)."""
        with self._lock:
            return self._idle.wait_for(
                lambda: not self._items and self._busy_since is None, timeout
            )

    async def close(self, wait_s: float) -> None:
        """Let the thread write what is buffered, for up to `wait_s` seconds; count what
        is left after that as dropped. Never waits longer, whatever the sink does."""
        with self._lock:
            self._closing = True
            self._work.notify()
        thread = self._thread
        if thread is not None and thread.is_alive():
            await asyncio.to_thread(thread.join, wait_s)
        if thread is None or not thread.is_alive():
            return
        with self._lock:
            self._abandoned = True
            left = len(self._items)
            self._items.clear()
            self.pending_bytes = 0
            self.pending_records -= left
            writing = self._busy_since is not None
        # The record inside the write that never returned is counted too: whether any of it
        # reached the sink is unknown, and the process is about to exit with it unconfirmed.
        lost = left + int(writing)
        if lost:
            self.metrics.audit_dropped.labels(reason="shutdown").inc(lost)
        log.error(
            "audit_writer_stuck",
            sink=self.sink.name,
            dropped=lost,
            writing=int(writing),
            waited_s=wait_s,
        )

    def health(self) -> dict[str, Any]:
        state = "stalled" if self.stalled() else "full" if self.full() else "ok"
        return {
            "state": state,
            "buffer_bytes": self.pending_bytes,
            "buffer_records": self.pending_records,
            "buffer_capacity_bytes": self.capacity_bytes,
        }

    # ---- the thread ------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            with self._lock:
                while not self._items and not self._closing:
                    self._work.wait()
                if not self._items or self._abandoned:
                    self._idle.notify_all()
                    return
                body, gap, keep = self._items.popleft()
                self._busy_since = self._clock()
            self._carry += gap
            self._write_one(body, keep)
            with self._lock:
                self._busy_since = None
                if self._abandoned:  # the rest was counted as dropped at close
                    self.pending_records -= 1
                    self._idle.notify_all()
                    return
                self.pending_bytes -= len(body)
                self.pending_records -= 1
                if not self._items:
                    self._idle.notify_all()
            self.notify_room()

    def _write_one(self, body: bytes, keep: bool) -> None:
        doc = orjson.loads(body)
        sealed = self.chain.seal(doc, self._carry, nested=self.nested)
        if not keep and not self.sink.has_room(len(sealed.line)):  # the HTTP sink's queue
            self.metrics.audit_queue_full.labels(action="drop").inc()
            self._failed("queue_full")
            return
        try:
            self._write(sealed.line)
        except OSError as exc:
            log.error("audit_write_failed", sink=self.sink.name, error=exc.strerror or str(exc))
            self._failed("write_error")
            return
        except Exception as exc:  # the thread must outlive any sink bug, and say so
            log.error("audit_write_failed", sink=self.sink.name, error=type(exc).__name__)
            self._failed("write_error")
            return
        self.chain.commit(sealed)
        self._carry = 0
        self.written += 1
        self._records.inc()

    def _failed(self, reason: str) -> None:
        self._carry += 1
        self.metrics.audit_dropped.labels(reason=reason).inc()
