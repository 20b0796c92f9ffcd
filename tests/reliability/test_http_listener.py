"""Both listeners under hostile HTTP: requests aiohttp's parser rejects get the sidecar's
own error (no request bytes in the body, the log or the audit record) and leave a record
and a metric; the admin listener has the app port's header timeout; both cap their
connections."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import orjson
import pytest
import yaml

from tests.conftest import KEYS, Harness, HarnessFactory, config_dict
from tests.serve_process import spawn_serve, wait_started

EMAIL = b"jane.roe@example.com"
AWS_KEY = b"AKIAIOSFODNN7EXAMPLE"
PROVIDER_KEY = b"sk-or-v1-0f1e2d3c4b5a69788796a5b4c3d2e1f0"
PLANTED = (EMAIL, AWS_KEY, PROVIDER_KEY, b"secret prompt")
BODY = b'{"model":"gpt-4o","messages":[{"role":"user","content":"secret prompt %s %s %s"}]}' % (
    EMAIL,
    AWS_KEY,
    PROVIDER_KEY,
)

BAD_REQUESTS = {
    # Bare LF line endings: the whole request, body included, used to be quoted back.
    "bare-lf": b"POST /v1/chat/completions HTTP/1.1\nHost: x\nContent-Type: application/json\n"
    b"Content-Length: %d\n\n%s" % (len(BODY), BODY),
    "chunk-size": b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"%s\r\n%s\r\n0\r\n\r\n" % (EMAIL, BODY),
    "chunk-framing": b"POST /v1/messages HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    b'5\r\n{"mod\r\n%x\r\n%sXX\r\n' % (len(BODY) - 2, BODY),
    "header-token": b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Note %s %s\r\n\r\n"
    % (EMAIL, AWS_KEY),
    "method": b"P\x01ST /v1/chat/completions?%s HTTP/1.1\r\nHost: x\r\n\r\n" % AWS_KEY,
    "line-too-long": b"POST /v1/chat/completions?q=%s HTTP/1.1\r\nHost: x\r\n\r\n"
    % (AWS_KEY * 800),
}


async def exchange(url: str, raw: bytes, wait_s: float = 10) -> bytes:
    """Send raw bytes on a fresh connection; everything the server sends until it closes."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), wait_s)
    finally:
        writer.close()


async def records(h: Harness, count: int) -> list[dict[str, Any]]:
    """The audit records, once `count` have been written (sinks write off the event loop)."""
    for _ in range(500):
        if len(found := h.audit_records()) >= count:
            return found
        await asyncio.sleep(0.01)
    return h.audit_records()


def split(response: bytes) -> tuple[int, dict[str, str], bytes]:
    head, _, body = response.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, body


@pytest.mark.parametrize("raw", BAD_REQUESTS.values(), ids=BAD_REQUESTS.keys())
async def test_invalid_http_gets_an_error_both_sdks_read_and_no_request_bytes(
    harness: Harness, raw: bytes, caplog: pytest.LogCaptureFixture
) -> None:
    response = await exchange(harness.running.app_url, raw)
    status, headers, body = split(response)
    assert status == 400, response[:200]
    for planted in PLANTED:
        assert planted not in response
    doc = orjson.loads(body)
    assert doc["type"] == "error"  # the anthropic SDK's shape ...
    error = doc["error"]
    assert error["type"] == "invalid_request_error"  # ... and the openai SDK's
    assert error["code"] == "invalid_http" and "param" in error and error["message"]
    assert headers["x-llm-router-decision-id"] == error["decision_id"]
    assert sum(harness.received_by(name) for name in KEYS) == 0
    [record] = await records(harness, 1)
    assert record["api"] == "http.invalid" and record["decision"] == "invalid"
    assert record["outcome"]["status"] == 400
    assert record["outcome"]["error_code"] == "invalid_http"
    assert record["decision_id"] == error["decision_id"]
    counted = harness.sidecar.metrics.registry.get_sample_value
    total = sum(
        counted("llm_router_invalid_http_requests_total", {"listener": "app", "error": name}) or 0
        for name in ("BadStatusLine", "BadHttpMessage", "BadHttpMethod", "LineTooLong", "other")
    )
    assert total == 1
    for planted in PLANTED:
        assert planted.decode() not in caplog.text


async def test_invalid_http_on_the_admin_port_is_answered_the_same_way(harness: Harness) -> None:
    response = await exchange(harness.running.admin_url, BAD_REQUESTS["bare-lf"])
    status, _, body = split(response)
    assert status == 400
    assert orjson.loads(body)["error"]["code"] == "invalid_http"
    for planted in PLANTED:
        assert planted not in response
    assert harness.audit_records() == []  # admin traffic is not app traffic
    assert (
        harness.metric("llm_router_invalid_http_requests_total", listener="admin", error="other")
        + harness.metric(
            "llm_router_invalid_http_requests_total", listener="admin", error="BadStatusLine"
        )
        == 1
    )


async def test_a_serve_process_logs_no_request_bytes_for_invalid_http(tmp_path: Path) -> None:
    cfg = config_dict({name: "http://127.0.0.1:9" for name in KEYS})
    cfg_file = tmp_path / "config.yaml"
    cfg_file.write_text(yaml.safe_dump(cfg))
    proc = await spawn_serve(cfg_file)
    lines: list[bytes] = []
    try:
        started = await wait_started(proc, lines)
        for raw in BAD_REQUESTS.values():
            status, _, _ = split(await exchange(started["listen"], raw))
            assert status == 400
        assert split(await exchange(started["admin"], BAD_REQUESTS["bare-lf"]))[0] == 400
    finally:
        proc.terminate()
        _, rest = await asyncio.wait_for(proc.communicate(), timeout=30)
    log = b"".join(lines) + rest
    assert proc.returncode == 0
    for planted in PLANTED:
        assert planted not in log
    events = [orjson.loads(line) for line in log.splitlines() if line.startswith(b"{")]
    invalid = [e for e in events if e.get("event") == "invalid_http"]
    assert len(invalid) == len(BAD_REQUESTS) + 1
    assert b"Traceback" not in log


async def test_the_admin_listener_closes_silent_connections_at_the_header_timeout(
    make_harness: HarnessFactory,
) -> None:
    h: Harness = await make_harness(limits={"header_timeout_s": 0.3})
    parts = urlsplit(h.running.admin_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")  # never finished
    await writer.drain()
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""
    writer.close()


@pytest.mark.parametrize("listener", ["app", "admin"])
async def test_connections_beyond_the_cap_are_closed_at_once_and_counted(
    make_harness: HarnessFactory, listener: str
) -> None:
    h: Harness = await make_harness(
        limits={"max_connections": 3},
        admin={"host": "127.0.0.1", "port": 0, "max_connections": 3},
    )
    url = h.running.app_url if listener == "app" else h.running.admin_url
    parts = urlsplit(url)
    held = [await asyncio.open_connection(parts.hostname, parts.port) for _ in range(3)]
    for _ in range(500):
        if h.metric("llm_router_http_connections", listener=listener) == 3:
            break
        await asyncio.sleep(0.01)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    assert await asyncio.wait_for(reader.read(), timeout=10) == b""  # closed, unanswered
    writer.close()
    assert h.metric("llm_router_http_connections_refused_total", listener=listener) == 1
    for _, held_writer in held:
        held_writer.close()
    for _ in range(500):  # room again once they are gone
        if h.metric("llm_router_http_connections", listener=listener) == 0:
            break
        await asyncio.sleep(0.01)
    async with aiohttp.ClientSession() as session:
        path = "/healthz" if listener == "admin" else "/v1/models"
        async with session.get(url + path) as resp:
            assert resp.status == 200
