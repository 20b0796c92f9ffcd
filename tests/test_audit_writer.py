"""The audit buffer and writer thread against a sink that blocks: emitting never waits for
the sink, a full buffer drops (and declares) or refuses as configured, the chain of what
was written verifies with every gap accounted for, and closing never hangs."""

from __future__ import annotations

import asyncio
import io
import threading
from collections.abc import Iterable
from typing import Any, BinaryIO, cast

import orjson
import pytest
import structlog
from pydantic import ValidationError

from sidecar.audit.chain import Chain
from sidecar.audit.log import AuditLog
from sidecar.audit.record import AuditRecord
from sidecar.audit.sinks import StreamSink
from sidecar.audit.verify import verify
from sidecar.audit.writer import AuditWriter
from sidecar.config import AuditConfig
from sidecar.errors import RouterError
from sidecar.metrics import Metrics
from tests.audit_support import GatedStream, body_size, sample_record


def metric(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def emit_off_thread(log: AuditLog, records: Iterable[AuditRecord], within: float = 5.0) -> None:
    """Emit from a thread of its own, so that an emit that blocks fails the test instead of
    hanging it."""
    done = threading.Event()

    def run() -> None:
        for record in records:
            log.emit(record)
        done.set()

    threading.Thread(target=run, daemon=True).start()
    assert done.wait(within), "emit waited for the blocked sink"


def check(lines: list[bytes]) -> Any:
    return verify(("stream", n, line) for n, line in enumerate(lines, 1))


def gated_log(stream: GatedStream, metrics: Metrics, **cfg: Any) -> AuditLog:
    return AuditLog(AuditConfig(**cfg), cast(BinaryIO, stream), metrics=metrics)


def test_emit_never_waits_for_a_blocked_stream_and_declares_what_it_dropped() -> None:
    stream, metrics = GatedStream(), Metrics()
    size = body_size(sample_record())
    log = gated_log(stream, metrics, buffer_bytes=size * 3 + size // 2)  # room for three
    try:
        emit_off_thread(log, [sample_record() for _ in range(20)])
        assert stream.entered.wait(5)
        assert metric(metrics, "llm_router_audit_dropped_total", reason="queue_full") == 17
        assert metric(metrics, "llm_router_audit_queue_full_total", action="drop") == 17
        assert metric(metrics, "llm_router_audit_buffer_records") == 3
        assert metric(metrics, "llm_router_audit_buffer_capacity_bytes") == size * 3 + size // 2
        assert log.health()["degraded"] and log.health()["state"] == "full"
    finally:
        stream.gate.set()
    assert log.wait_written()
    log.emit(sample_record())  # the first record after the gap says how big it was
    assert log.wait_written()
    docs = [orjson.loads(line) for line in stream.lines]
    assert [d["seq"] for d in docs] == [0, 1, 2, 3]
    assert [d["dropped_before"] for d in docs] == [0, 0, 0, 17]
    report = check(stream.lines)
    assert report.ok and report.dropped == 17
    assert metric(metrics, "llm_router_audit_records_total", sink="stdout") == 4
    assert metric(metrics, "llm_router_audit_buffer_bytes") == 0
    assert not log.health()["degraded"]


def test_records_are_written_in_emission_order_from_a_daemon_thread() -> None:
    stream, metrics = GatedStream(), Metrics()
    stream.gate.set()
    log = gated_log(stream, metrics)
    records = [sample_record() for _ in range(200)]
    emit_off_thread(log, records)
    assert log.wait_written()
    docs = [orjson.loads(line) for line in stream.lines]
    assert [d["decision_id"] for d in docs] == [r.decision_id for r in records]
    assert check(stream.lines).ok
    [writer] = stream.threads  # one thread, never the caller's, and one that exits with it
    assert writer.daemon and writer.name == "audit-writer-stdout"


async def test_fail_closed_refuses_while_full_and_keeps_records_of_forwarded_requests() -> None:
    stream, metrics = GatedStream(), Metrics()
    size = body_size(sample_record())
    log = gated_log(stream, metrics, on_full="fail_closed", buffer_bytes=size * 2)
    assert log.gated
    try:
        await log.admit()  # room: admitted
        forwarded = [sample_record() for _ in range(6)]  # each reached an upstream
        emit_off_thread(log, forwarded)
        assert metric(metrics, "llm_router_audit_buffer_records") == 6  # past the bound
        with pytest.raises(RouterError) as refused:
            await log.admit()
        err = refused.value
        assert (err.status, err.code, err.headers["Retry-After"]) == (503, "audit_unavailable", "1")
        assert metric(metrics, "llm_router_rejected_requests_total", reason="audit_unavailable")
        assert metric(metrics, "llm_router_audit_queue_full_total", action="refuse") == 1
        emit_off_thread(log, [sample_record(attempts=[], decision="rejected")])  # nothing sent
        assert metric(metrics, "llm_router_audit_dropped_total", reason="queue_full") == 1
    finally:
        stream.gate.set()
    assert log.wait_written()
    await log.admit()  # room again
    log.emit(sample_record())
    assert log.wait_written()
    docs = [orjson.loads(line) for line in stream.lines]
    assert [d["decision_id"] for d in docs[:6]] == [r.decision_id for r in forwarded]
    assert docs[-1]["dropped_before"] == 1
    report = check(stream.lines)
    assert report.ok and report.records == 7 and report.dropped == 1


async def test_close_gives_up_on_a_stuck_stream_and_counts_what_was_left() -> None:
    stream, metrics = GatedStream(), Metrics()
    log = gated_log(stream, metrics, flush_timeout_s=0.05)
    emit_off_thread(log, [sample_record() for _ in range(5)])
    assert stream.entered.wait(5)
    with structlog.testing.capture_logs() as logs:
        await asyncio.wait_for(log.close(), 5)
    # four buffered and the one stuck in its write: nothing confirmed written goes uncounted
    assert metric(metrics, "llm_router_audit_dropped_total", reason="shutdown") == 5
    [stuck] = [e for e in logs if e["event"] == "audit_writer_stuck"]
    assert stuck["dropped"] == 5 and stuck["writing"] == 1 and stuck["log_level"] == "error"
    log.emit(sample_record())  # after close: counted, never buffered
    assert metric(metrics, "llm_router_audit_dropped_total", reason="shutdown") == 6
    stream.gate.set()  # the write it was stuck in completes; nothing else is written
    assert log.wait_written()
    assert len(stream.lines) == 1 and check(stream.lines).ok


async def test_close_writes_everything_buffered_when_the_sink_keeps_up() -> None:
    stream = io.BytesIO()
    log = AuditLog(AuditConfig(), stream)
    for _ in range(50):
        log.emit(sample_record())
    await log.close()
    lines = stream.getvalue().splitlines(keepends=True)
    assert len(lines) == 50 and check(lines).ok


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_a_write_that_takes_too_long_marks_the_sink_stalled() -> None:
    stream, metrics, clock = GatedStream(), Metrics(), Clock()
    sink = StreamSink(cast(BinaryIO, stream))
    writer = AuditWriter(
        sink, Chain(), metrics, capacity_bytes=1 << 20, stalled_after_s=1.0, clock=clock
    )
    writer.offer(orjson.dumps(sample_record().to_dict()))
    assert stream.entered.wait(5)
    assert not writer.stalled() and writer.health()["state"] == "ok"
    clock.now += 1.5
    assert writer.stalled() and writer.health()["state"] == "stalled"
    assert metric(metrics, "llm_router_audit_sink_stalled") == 1
    stream.gate.set()
    assert writer.wait_written(5)
    assert metric(metrics, "llm_router_audit_sink_stalled") == 0


# ---- configuration -----------------------------------------------------------------------

HTTP = {"url": "http://127.0.0.1:9/ingest", "queue_dir": "/var/lib/llm-router/q"}


@pytest.mark.parametrize(
    ("audit", "policy"),
    [
        ({}, "drop_and_count"),
        ({"on_full": "fail_closed"}, "fail_closed"),
        ({"sink": "http", "http": HTTP}, "block"),  # what an HTTP sink always did
        ({"sink": "http", "http": {**HTTP, "on_full": "block"}}, "block"),  # configs as before
        ({"sink": "http", "http": {**HTTP, "on_full": "drop_and_count"}}, "drop_and_count"),
        ({"sink": "http", "on_full": "fail_closed", "http": HTTP}, "fail_closed"),
    ],
)
def test_on_full_resolution(audit: dict[str, Any], policy: str) -> None:
    assert AuditConfig.model_validate(audit).full_policy == policy


def test_on_full_set_twice_differently_is_an_error() -> None:
    http = {**HTTP, "on_full": "drop_and_count"}
    with pytest.raises(ValidationError, match="disagree"):
        AuditConfig.model_validate({"sink": "http", "on_full": "fail_closed", "http": http})
    same = {"sink": "http", "on_full": "drop_and_count", "http": http}
    assert AuditConfig.model_validate(same).full_policy == "drop_and_count"
