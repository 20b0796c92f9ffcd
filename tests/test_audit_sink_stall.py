"""A stuck audit sink against a real sidecar: with `audit.sink: stdout` writing into a pipe
nobody drains, `llm-router serve` keeps answering requests, `/healthz` and `/readyz`
(degraded), counts what it drops, declares the gap in the trail once the pipe moves again,
and exits 0 on SIGTERM in time. With `audit.on_full: fail_closed` the app gets a 503 in its
own format and nothing reaches an upstream while the sink cannot take records."""

from __future__ import annotations

import asyncio
import fcntl
import os
import signal
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO, cast

import aiohttp
import anthropic
import openai
import orjson
import pytest
import yaml

from sidecar.app import Sidecar
from sidecar.audit.verify import verify
from sidecar.config import Config
from sidecar.serve import Running
from tests.audit_support import GatedStream
from tests.conftest import APP_KEY, TAP, Emulator, config_dict, key_environ
from tests.serve_process import spawn_serve, wait_started
from tests.test_routing import user

PIPE_BYTES = 4096
"""The stdout pipe is shrunk to one page: a few records fill it."""
STUCK_AUDIT = {
    "sink": "stdout",
    "buffer_bytes": 16384,
    "flush_timeout_s": 0.5,
    "stalled_after_s": 0.2,
}
GRACE_S = 1.0
CHAT = {"model": "gpt-4o", "messages": user("a public question about the weather")}


async def chat(session: aiohttp.ClientSession, listen: str) -> tuple[int, str]:
    """One request with a deadline: a sidecar whose loop is blocked fails the test."""
    async with session.post(
        listen + "/v1/chat/completions",
        json=CHAT,
        headers={"authorization": f"Bearer {APP_KEY}"},
        timeout=aiohttp.ClientTimeout(total=5),
    ) as resp:
        await resp.read()
        return resp.status, resp.headers["x-llm-router-decision-id"]


async def metric(session: aiohttp.ClientSession, admin: str, name: str, **labels: str) -> float:
    async with session.get(admin + "/metrics", timeout=aiohttp.ClientTimeout(total=5)) as resp:
        text = (await resp.read()).decode()
    want = ",".join(f'{k}="{v}"' for k, v in labels.items())
    series = f"{name}{{{want}}}" if want else name
    for line in text.splitlines():
        if line.startswith(series + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{series} not exported")


async def admin_json(session: aiohttp.ClientSession, url: str) -> tuple[int, dict[str, Any]]:
    async with session.get(url, timeout=aiohttp.ClientTimeout(total=5)) as resp:
        return resp.status, orjson.loads(await resp.read())


class PipeReader:
    """The read end of the sidecar's stdout: untouched until `start`, paused by `pause`."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.reader = asyncio.StreamReader(limit=1 << 20)
        self.transport: asyncio.ReadTransport | None = None
        self.lines: list[bytes] = []

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        protocol = asyncio.StreamReaderProtocol(self.reader)
        pipe = os.fdopen(self.fd, "rb", buffering=0)
        self.transport, _ = await loop.connect_read_pipe(lambda: protocol, pipe)

    async def read_until(self, decision_id: str) -> None:
        while not any(decision_id.encode() in line for line in self.lines):
            line = await asyncio.wait_for(self.reader.readline(), 5)
            assert line, "stdout closed before the record arrived"
            self.lines.append(line)

    def pause(self) -> None:
        assert self.transport is not None
        self.transport.pause_reading()

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
        else:
            os.close(self.fd)


async def test_serve_keeps_answering_while_stdout_is_a_pipe_nobody_reads(
    upstreams: dict[str, Emulator], tmp_path: Path
) -> None:
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    cfg = config_dict(urls, audit=STUCK_AUDIT, shutdown_grace_s=GRACE_S)
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    read_fd, write_fd = os.pipe()
    fcntl.fcntl(write_fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
    pipe = PipeReader(read_fd)
    proc = await spawn_serve(cfg_file, stdout=write_fd)
    os.close(write_fd)
    stderr: list[bytes] = []
    try:
        started = await wait_started(proc, stderr)
        listen, admin = started["listen"], started["admin"]
        stderr_task = asyncio.create_task(_read_rest(proc, stderr))
        async with aiohttp.ClientSession() as session:
            # 1. Far more records than the pipe and the buffer hold: every request answered.
            for _ in range(60):
                status, _ = await chat(session, listen)
                assert status == 200
            status, alive = await admin_json(session, admin + "/healthz")
            assert status == 200 and alive == {"status": "alive"}
            deadline = time.monotonic() + 5
            while True:  # stalled once a write has taken longer than stalled_after_s
                status, ready = await admin_json(session, admin + "/readyz")
                assert status == 200 and ready["ready"] is True
                if ready["audit"]["state"] == "stalled" or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.05)
            assert ready["audit"]["degraded"] is True and ready["audit"]["state"] == "stalled"
            assert ready["audit"]["on_full"] == "drop_and_count"
            dropped = await metric(
                session, admin, "llm_router_audit_dropped_total", reason="queue_full"
            )
            assert dropped > 0
            assert await metric(session, admin, "llm_router_audit_sink_stalled") == 1
            assert await metric(session, admin, "llm_router_audit_buffer_capacity_bytes") == 16384

            # 2. The pipe moves again: what was buffered is written, and the next record
            # declares every record dropped before it.
            await pipe.start()
            status, last = await chat(session, listen)
            assert status == 200
            await pipe.read_until(last)
            written = [line for line in pipe.lines if line.startswith(b"{")]
            report = verify(("stdout", n, line) for n, line in enumerate(written, 1))
            assert report.ok, report.problem
            assert report.records + report.dropped == 61 and report.dropped == dropped
            assert orjson.loads(written[-1])["dropped_before"] == dropped
            TAP.add_lines(written)
            status, ready = await admin_json(session, admin + "/readyz")
            assert ready["audit"]["degraded"] is False

            # 3. Stuck again, then SIGTERM: exits 0 within the grace period and the flush
            # timeout, and says how many records it could not write.
            pipe.pause()
            for _ in range(30):
                status, _ = await chat(session, listen)
                assert status == 200
        proc.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(proc.wait(), GRACE_S + STUCK_AUDIT["flush_timeout_s"] + 10)
        assert code == 0
        await asyncio.wait_for(stderr_task, 5)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
        pipe.close()
    events = [orjson.loads(line) for line in stderr if line.startswith(b"{")]
    [stuck] = [e for e in events if e.get("event") == "audit_writer_stuck"]
    assert stuck["dropped"] > 0 and stuck["sink"] == "stdout"
    text = b"".join(stderr).decode("utf-8", "replace")
    assert "Traceback" not in text and "Fatal Python error" not in text


async def _read_rest(proc: asyncio.subprocess.Process, lines: list[bytes]) -> None:
    assert proc.stderr is not None
    while line := await proc.stderr.readline():
        lines.append(line)


# ---- fail_closed -------------------------------------------------------------------------


@pytest.fixture
async def stuck_sidecar(upstreams: dict[str, Emulator]) -> AsyncIterator[tuple[Any, ...]]:
    """A sidecar whose stdout sink blocks until `stream.gate` is set; fail_closed."""
    stream = GatedStream()
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    audit = {"on_full": "fail_closed", "buffer_bytes": 1, "flush_timeout_s": 0.2}
    config = Config.model_validate(config_dict(urls, audit=audit))
    sidecar = Sidecar.build(config, audit_stream=cast(BinaryIO, stream), environ=key_environ())
    running = await Running(sidecar).start()
    try:
        yield sidecar, running, stream
    finally:
        stream.gate.set()
        await running.stop()


async def test_fail_closed_refuses_in_the_apps_format_and_forwards_nothing(
    upstreams: dict[str, Emulator], stuck_sidecar: tuple[Any, ...]
) -> None:
    sidecar, running, stream = stuck_sidecar
    oai = openai.AsyncOpenAI(base_url=running.app_url + "/v1", api_key=APP_KEY, max_retries=0)
    ant = anthropic.AsyncAnthropic(base_url=running.app_url, api_key=APP_KEY, max_retries=0)
    try:
        await oai.chat.completions.create(model="gpt-4o", messages=user("first question"))
        assert await asyncio.to_thread(stream.entered.wait, 5)  # its record is stuck
        sent = {name: len(emu.received) for name, emu in upstreams.items()}

        with pytest.raises(openai.InternalServerError) as refused:
            await oai.chat.completions.create(model="gpt-4o", messages=user("second question"))
        assert refused.value.status_code == 503 and refused.value.code == "audit_unavailable"
        assert refused.value.response.headers["retry-after"] == "1"
        assert refused.value.type == "api_error"

        with pytest.raises(anthropic.InternalServerError) as refused_too:
            await ant.messages.create(
                model="claude-sonnet-5", max_tokens=16, messages=user("third question")
            )
        body = cast(dict[str, Any], refused_too.value.body)
        assert refused_too.value.status_code == 503 and body["type"] == "error"
        assert body["error"]["code"] == "audit_unavailable"
        assert refused_too.value.response.headers["retry-after"] == "1"

        assert {name: len(emu.received) for name, emu in upstreams.items()} == sent
        async with aiohttp.ClientSession() as session:
            status, ready = await admin_json(session, running.admin_url + "/readyz")
        assert status == 200 and ready["ready"] is True
        assert ready["audit"]["degraded"] is True and ready["audit"]["on_full"] == "fail_closed"
        m = sidecar.metrics.registry.get_sample_value
        assert m("llm_router_rejected_requests_total", {"reason": "audit_unavailable"}) == 2

        stream.gate.set()  # the sink takes records again: so does the sidecar
        assert sidecar.audit.wait_written()
        await oai.chat.completions.create(model="gpt-4o", messages=user("fourth question"))
        assert sidecar.audit.wait_written()
    finally:
        await oai.close()
        await ant.close()
    dropped = m("llm_router_audit_dropped_total", {"reason": "queue_full"})
    docs = [orjson.loads(line) for line in stream.lines]
    assert [(d["outcome"]["status"], d["dropped_before"]) for d in docs] == [(200, 0), (200, 2)]
    assert dropped == 2  # the records of the two refusals: no room, and nothing was sent
    report = verify(("stdout", n, line) for n, line in enumerate(stream.lines, 1))
    assert report.ok and report.dropped == 2
