"""The HTTP audit sink against a loopback collector that fails, stalls, loses
acknowledgements and recovers, with sidecar restarts (clean and SIGKILL) in the middle.

Every record must arrive exactly once (the collector keys on `hash`, as a de-duplicating
collector does) or be accounted for by the drop counter, and every chain must verify.
"""

from __future__ import annotations

import asyncio
import io
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from sidecar.app import Sidecar
from sidecar.audit.log import AuditLog
from sidecar.audit.queue import DiskQueue, QueueInUse
from sidecar.audit.verify import verify
from sidecar.config import AuditConfig, Config
from sidecar.metrics import Metrics
from sidecar.serve import Running
from tests.audit_support import Collector, sample_record
from tests.conftest import APP_KEY, TAP, HarnessFactory, config_dict, key_environ
from tests.serve_process import spawn_serve, wait_started
from tests.test_routing import EMAIL, user


async def wait_until(predicate: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)


def http_audit(url: str, queue_dir: Path, **overrides: Any) -> dict[str, Any]:
    http = {
        "url": url,
        "queue_dir": str(queue_dir),
        "timeout_s": 0.3,
        "backoff_min_s": 0.01,
        "backoff_max_s": 0.1,
        "drain_timeout_s": 0.5,
        **overrides,
    }
    return {"sink": "http", "http": http}


def metric(metrics: Metrics, name: str, **labels: str) -> float:
    return metrics.registry.get_sample_value(name, labels) or 0.0


def assert_complete(collector: Collector, expected: set[str], dropped: int = 0) -> None:
    """Each expected decision arrived once, or was dropped and counted; chains verify."""
    records = collector.records()
    ids = [r["decision_id"] for r in records]
    assert len(ids) == len(set(ids)), "a record was stored twice"
    assert set(ids) <= expected
    assert len(ids) + dropped == len(expected)
    lines = [("collector", n, line) for n, line in enumerate(collector.lines(), 1)]
    report = verify(lines)
    assert report.ok, report.problem
    assert report.dropped == dropped


# ---- the queue on its own ----------------------------------------------------------------


def test_queue_survives_reopen_and_frees_acknowledged_segments(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, max_bytes=10_000, segment_bytes=110)
    queue.open()
    lines = [b'{"n": %d, "pad": "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}\n' % i for i in range(10)]
    for line in lines:
        queue.append(line)
    assert queue.pending_records == 10 and len(list(tmp_path.glob("*.jsonl"))) >= 4
    batch = queue.peek(max_records=3, max_bytes=1 << 20)
    assert batch is not None and batch.lines == lines[:2]  # a batch stays in its segment
    queue.ack(batch)
    batch = queue.peek(max_records=3, max_bytes=1 << 20)
    assert batch is not None and batch.lines == lines[2:4]
    queue.close()  # not acknowledged: a restart must send it again

    reopened = DiskQueue(tmp_path, max_bytes=10_000, segment_bytes=110)
    reopened.open()
    assert reopened.recovered_records == 8
    seen = []
    while (batch := reopened.peek(max_records=100, max_bytes=1 << 20)) is not None:
        seen.extend(batch.lines)
        reopened.ack(batch)
    assert seen == lines[2:]
    assert reopened.pending_bytes == 0 and reopened.pending_records == 0
    assert len(list(tmp_path.glob("*.jsonl"))) == 1  # only the segment being written
    reopened.close()


def test_a_queue_directory_serves_one_process_at_a_time(tmp_path: Path) -> None:
    first = DiskQueue(tmp_path, max_bytes=1000)
    first.open()
    with pytest.raises(QueueInUse, match="in use by another process"):
        DiskQueue(tmp_path, max_bytes=1000).open()
    first.close()
    second = DiskQueue(tmp_path, max_bytes=1000)
    second.open()
    second.close()


def test_queue_drops_a_half_written_last_line_on_open(tmp_path: Path) -> None:
    queue = DiskQueue(tmp_path, max_bytes=10_000)
    queue.open()
    queue.append(b'{"n": 1}\n')
    queue.close()
    [segment] = tmp_path.glob("*.jsonl")
    with open(segment, "ab") as handle:
        handle.write(b'{"n": 2, "cut he')  # the process died mid-append
    reopened = DiskQueue(tmp_path, max_bytes=10_000)
    reopened.open()
    assert reopened.truncated_bytes == 16 and reopened.pending_records == 1
    reopened.append(b'{"n": 3}\n')
    batch = reopened.peek(10, 1 << 20)
    assert batch is not None and batch.lines == [b'{"n": 1}\n', b'{"n": 3}\n']
    reopened.close()


# ---- the sink against a misbehaving collector -------------------------------------------


async def test_collector_failing_stalling_and_recovering_loses_nothing(tmp_path: Path) -> None:
    collector = await Collector("fail").start()
    metrics = Metrics()
    log = AuditLog(
        AuditConfig.model_validate(http_audit(collector.url, tmp_path / "q")), metrics=metrics
    )
    await log.start()
    try:
        records = [sample_record() for _ in range(60)]
        for record in records[:30]:
            log.emit(record)
        await wait_until(
            lambda: (
                metric(metrics, "llm_router_audit_delivery_errors_total", reason="http_5xx") >= 3
            )
        )
        collector.mode = "stall"
        for record in records[30:45]:
            log.emit(record)
        await wait_until(
            lambda: metric(metrics, "llm_router_audit_delivery_errors_total", reason="timeout") >= 2
        )
        assert collector.stored == {}
        assert metric(metrics, "llm_router_audit_queue_records") == 45
        collector.mode = "ok"
        for record in records[45:]:
            log.emit(record)
        await wait_until(lambda: len(collector.stored) == 60)
        assert metric(metrics, "llm_router_audit_delivered_total") == 60
        assert metric(metrics, "llm_router_audit_queue_bytes") == 0
    finally:
        await log.close()
        await collector.stop()
    assert_complete(collector, {r.decision_id for r in records})
    assert collector.duplicates == 0
    assert [r["seq"] for r in collector.records()] == list(range(60))
    assert collector.headers[-1]["Content-Type"] == "application/x-ndjson"


async def test_lost_acknowledgements_are_resent_and_stored_once(tmp_path: Path) -> None:
    collector = await Collector("ack_lost").start()
    metrics = Metrics()
    cfg = http_audit(collector.url, tmp_path / "q", encoding="json", batch_max_records=4)
    log = AuditLog(AuditConfig.model_validate(cfg), metrics=metrics)
    await log.start()
    try:
        records = [sample_record() for _ in range(10)]
        for record in records:
            log.emit(record)
        await wait_until(lambda: len(collector.requests) >= 3)
        collector.mode = "ok"
        await wait_until(lambda: metric(metrics, "llm_router_audit_queue_records") == 0)
    finally:
        await log.close()
        await collector.stop()
    assert collector.duplicates >= 4  # stored, unacknowledged, sent again
    assert_complete(collector, {r.decision_id for r in records})
    assert collector.headers[0]["Content-Type"] == "application/json"


async def test_drop_and_count_when_the_queue_is_full(tmp_path: Path) -> None:
    collector = await Collector("fail").start()
    metrics = Metrics()
    probe = io.BytesIO()
    probing = AuditLog(AuditConfig(), probe)
    probing.emit(sample_record())
    assert probing.wait_written()
    size = len(probe.getvalue())
    cfg = http_audit(
        collector.url, tmp_path / "q", max_queue_bytes=size * 5 + 10, on_full="drop_and_count"
    )
    log = AuditLog(AuditConfig.model_validate(cfg), metrics=metrics)
    await log.start()
    try:
        records = [sample_record() for _ in range(20)]
        for record in records:
            log.emit(record)
        assert log.wait_written()
        assert metric(metrics, "llm_router_audit_dropped_total", reason="queue_full") == 15
        assert metric(metrics, "llm_router_audit_queue_full_total", action="drop") == 15
        collector.mode = "ok"
        await wait_until(lambda: len(collector.stored) == 5)
        after = sample_record()
        log.emit(after)  # the trail itself says how many are missing before it
        await wait_until(lambda: len(collector.stored) == 6)
    finally:
        await log.close()
        await collector.stop()
    assert collector.records()[-1]["dropped_before"] == 15
    assert_complete(collector, {r.decision_id for r in [*records, after]}, dropped=15)


# ---- a real sidecar ------------------------------------------------------------------


async def test_block_mode_holds_new_requests_until_the_collector_takes_records(
    make_harness: HarnessFactory, tmp_path: Path
) -> None:
    collector = await Collector("fail").start()
    try:
        h = await make_harness(
            audit=http_audit(collector.url, tmp_path / "q", max_queue_bytes=3000)
        )
        ids: set[str] = set()

        async def send(text: str) -> None:
            raw = await h.client.chat.completions.with_raw_response.create(
                model="gpt-4o", messages=user(text)
            )
            ids.add(raw.headers["x-llm-router-decision-id"])

        while metric(h.sidecar.metrics, "llm_router_audit_queue_bytes") < 3000:
            await send("a public question")
            assert h.sidecar.audit.wait_written()  # the writer thread has queued its record
        forwarded = h.received_by("openrouter")
        blocked = [asyncio.create_task(send(f"question {i}")) for i in range(3)]
        done, _ = await asyncio.wait(blocked, timeout=0.5)
        assert not done  # waiting before anything was read or forwarded
        assert h.received_by("openrouter") == forwarded
        assert metric(h.sidecar.metrics, "llm_router_audit_queue_full_total", action="block") >= 3
        collector.mode = "ok"
        await asyncio.wait_for(asyncio.gather(*blocked), timeout=10)
        await wait_until(lambda: len(collector.stored) == len(ids))
        m = h.sidecar.metrics
        assert metric(m, "llm_router_audit_blocked_seconds_total") >= 0.4
        assert metric(m, "llm_router_audit_dropped_total", reason="queue_full") == 0
    finally:
        await collector.stop()
    assert_complete(collector, ids)


async def test_clean_restart_resends_what_was_not_acknowledged(
    upstreams: dict[str, Any], tmp_path: Path
) -> None:
    collector = await Collector("fail").start()
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    audit = http_audit(collector.url, tmp_path / "q")
    ids: set[str] = set()
    instances = []
    try:
        for phase in ("collector down", "collector back"):
            config = Config.model_validate(config_dict(urls, audit=audit))
            sidecar = Sidecar.build(config, environ=key_environ())
            running = await Running(sidecar).start()
            instances.append(sidecar.audit.instance)
            client = openai.AsyncOpenAI(
                base_url=running.app_url + "/v1", api_key=APP_KEY, max_retries=0
            )
            for text in ("hello there", f"mail {EMAIL}", "a third one"):
                raw = await client.chat.completions.with_raw_response.create(
                    model="gpt-4o", messages=user(text)
                )
                ids.add(raw.headers["x-llm-router-decision-id"])
            await client.close()
            if phase == "collector down":
                assert collector.stored == {}
                await running.stop()  # drains for 0.5 s, then leaves the rest on disk
                collector.mode = "ok"
            else:
                assert sidecar.audit.sink.queue.recovered_records == 3  # type: ignore[attr-defined]
                await wait_until(lambda: len(collector.stored) == 6)
                await running.stop()
    finally:
        await collector.stop()
    assert_complete(collector, ids)
    assert {r["instance"] for r in collector.records()} == set(instances)


async def test_sigkill_restart_resends_what_was_not_acknowledged(
    upstreams: dict[str, Any], tmp_path: Path
) -> None:
    """A crashed sidecar (SIGKILL, no shutdown at all) resends its queue when it restarts."""
    collector = await Collector("stall", stall_seconds=30).start()
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    cfg = config_dict(urls, audit=http_audit(collector.url, tmp_path / "q", timeout_s=60))
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    ids: set[str] = set()
    try:
        for phase in ("crash", "restart"):
            proc = await spawn_serve(cfg_file)
            try:
                listen = (await wait_started(proc, []))["listen"]
                drain = asyncio.create_task(drain_stderr(proc))
                client = openai.AsyncOpenAI(base_url=listen + "/v1", api_key=APP_KEY, max_retries=0)
                for text in ("first question", f"reach {EMAIL} please"):
                    raw = await client.chat.completions.with_raw_response.create(
                        model="gpt-4o", messages=user(text)
                    )
                    ids.add(raw.headers["x-llm-router-decision-id"])
                await client.close()
                if phase == "crash":
                    await wait_until(lambda: len(collector.requests) >= 1)
                    assert collector.stored == {}  # the post is stalled: nothing acked
                    proc.send_signal(signal.SIGKILL)
                    await proc.wait()
                    collector.mode = "ok"
                else:
                    await wait_until(lambda: len(collector.stored) == 4, within=20)
            finally:
                if proc.returncode is None:
                    proc.send_signal(signal.SIGTERM)
                    await asyncio.wait_for(proc.wait(), timeout=30)
                await drain
    finally:
        await collector.stop()
    TAP.add_lines(collector.lines())
    TAP.plant(EMAIL, f"reach {EMAIL} please")
    assert_complete(collector, ids)
    assert len({r["instance"] for r in collector.records()}) == 2


async def drain_stderr(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass


@pytest.mark.parametrize("bad", [{"sink": "http"}, {"sink": "http", "http": {"url": "ftp://x"}}])
def test_http_sink_config_is_validated(bad: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        AuditConfig.model_validate(bad)
