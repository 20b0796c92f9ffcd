"""Rows of the hostile-conditions benchmark at the HTTP level: requests aiohttp's parser
rejects, integers beyond 64 bits, half-open connections to the admin port, and clients
trickling their bodies while others need service."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
from hostile_support import (
    AWS_KEY,
    EMAIL,
    PROMPT,
    Row,
    Sidecar,
    chat,
    config,
    emulators,
    leaks,
    post_chat,
    started,
    stopped,
    workdir,
)

BODY = chat()
BAD_HTTP = {
    "bare-lf": b"POST /v1/chat/completions HTTP/1.1\nHost: x\nContent-Type: application/json\n"
    b"Content-Length: %d\n\n%s" % (len(BODY), BODY),
    "chunk-size": b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
    b"application/json\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n%s\r\n0\r\n\r\n"
    % (EMAIL.encode(), BODY),
    "chunk-framing": b"POST /v1/messages HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
    b"\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%sXX\r\n" % (len(BODY) - 2, BODY),
    "header-token": b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Note %s\r\n\r\n"
    % PROMPT.encode(),
    "method": b"P\x01ST /v1/chat/completions?%s HTTP/1.1\r\nHost: x\r\n\r\n" % AWS_KEY.encode(),
    "line-too-long": b"POST /v1/chat/completions?q=%s HTTP/1.1\r\nHost: x\r\n\r\n"
    % (AWS_KEY.encode() * 800),
    "integer-beyond-64-bits": b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
    b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
    % (len(BODY) + 37, BODY[:-1] + b', "max_tokens": 1180591620717411303424}'),
}


def metric(exposition: str, name: str) -> float:
    """The sum of a metric's samples in a Prometheus text exposition."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith(name + "{") or line.startswith(name + " ")
    )


async def _exchange(url: str, raw: bytes) -> bytes:
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(raw)
    await writer.drain()
    try:
        return await asyncio.wait_for(reader.read(), 10)
    finally:
        writer.close()


async def bad_http(rounds: int) -> Row:
    """Every kind of request aiohttp's parser rejects, `rounds` times each."""
    emus = emulators()
    await started(emus.values())
    with workdir() as tmp:
        side = await Sidecar(
            config({n: e.base_url for n, e in emus.items()}, Path(tmp)), Path(tmp)
        ).start()
        answers: list[bytes] = []
        for _ in range(rounds):
            for raw in BAD_HTTP.values():
                answers.append(await _exchange(side.listen, raw))
        await side.stop()
        records = side.audit_records()
        forwarded = sum(len(e.received) for e in emus.values())
        got_400 = sum(1 for a in answers if a.startswith((b"HTTP/1.1 400", b"HTTP/1.0 400")))
        row = Row(
            "HTTP-level bad input",
            "bare-LF framing, bad chunk sizes and framing, a bad header token, a bad method, "
            "a 25 KB request line, an integer beyond 64 bits; prompt, e-mail and key inside",
            len(answers),
            f"400 in the API's error format: {got_400}/{len(answers)}; forwarded: {forwarded}",
            leaked=leaks(*answers, side.stderr, side.audit_bytes()) + forwarded,
            lost=len(answers) - len(records),
            crashed=side.crashed(),
        )
    await stopped(emus.values())
    return row


async def half_open_admin(connections: int, header_timeout_s: float) -> Row:
    """Connections to the admin port that never send a request."""
    emus = emulators()
    await started(emus.values())
    with workdir() as tmp:
        cfg = config({n: e.base_url for n, e in emus.items()}, Path(tmp))
        cfg["limits"] = {"header_timeout_s": header_timeout_s}
        side = await Sidecar(cfg, Path(tmp)).start()
        fds_before, rss_before = side.fds(), side.rss_mb()
        parts = urlsplit(side.admin)
        held = []
        for _ in range(connections):
            held.append(await asyncio.open_connection(parts.hostname, parts.port))
        await asyncio.sleep(0.2)
        fds_peak, rss_peak = side.fds(), side.rss_mb()
        t0 = time.monotonic()
        closed = 0
        for reader, _ in held:  # each read ends when the sidecar closes the connection
            try:
                if await asyncio.wait_for(reader.read(), header_timeout_s + 10) == b"":
                    closed += 1
            except (TimeoutError, ConnectionError):
                pass
        closed_after = round(time.monotonic() - t0, 2)
        for _, writer in held:
            writer.close()
        await asyncio.sleep(0.2)
        fds_after = side.fds()
        async with aiohttp.ClientSession() as session:
            async with session.get(side.admin + "/healthz") as resp:
                healthy = resp.status == 200
            async with session.get(side.admin + "/metrics") as resp:
                refused = metric(await resp.text(), "llm_router_http_connections_refused_total")
        await side.stop()
        row = Row(
            "half-open admin connections",
            f"{connections} connections to the admin port that never send a request "
            f"(header timeout {header_timeout_s:g} s, admin.max_connections 64)",
            connections,
            f"all closed within {closed_after} s: {closed}/{connections} ({refused:.0f} at once, "
            f"past the cap); file descriptors "
            f"{fds_before} -> {fds_peak} -> {fds_after}; /healthz {'200' if healthy else 'failed'}",
            crashed=side.crashed() + int(not healthy),
            figures={
                "fds": [fds_before, fds_peak, fds_after],
                "rss_mb": [rss_before, rss_peak],
                "closed_after_s": closed_after,
            },
        )
    await stopped(emus.values())
    return row


async def slow_bodies(slow: int, fast: int, body_timeout_s: float) -> Row:
    """`slow` clients send headers and part of a body, then nothing; meanwhile `fast`
    ordinary requests must be served."""
    emus = emulators()
    await started(emus.values())
    with workdir() as tmp:
        cfg = config({n: e.base_url for n, e in emus.items()}, Path(tmp))
        cfg["limits"] = {"max_in_flight": slow, "body_timeout_s": body_timeout_s}
        side = await Sidecar(cfg, Path(tmp)).start()
        parts = urlsplit(side.listen)
        trickling = []
        for _ in range(slow):
            reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
            writer.write(
                b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: "
                b"application/json\r\nContent-Length: 4000\r\n\r\n" + BODY[:20]
            )
            await writer.drain()
            trickling.append((reader, writer))
        await asyncio.sleep(0.5)
        statuses: list[int] = []
        async with aiohttp.ClientSession() as session:
            for _ in range(fast):
                status = await post_chat(session, side.listen, "summarise the quarterly report")
                statuses.append(status)
        timed_out = 0
        for reader, writer in trickling:
            try:
                answer = await asyncio.wait_for(reader.read(), body_timeout_s + 10)
                timed_out += answer.startswith(b"HTTP/1.1 408")
            except (TimeoutError, ConnectionError):
                pass
            writer.close()
        await side.stop()
        ok = statuses.count(200)
        records = side.audit_records()
        row = Row(
            "slow-body clients",
            f"{slow} clients (= limits.max_in_flight) sending part of a body and then "
            f"nothing, while {fast} ordinary requests arrive",
            slow + fast,
            f"ordinary requests served: {ok}/{fast} (429s: {statuses.count(429)}); slow "
            f"ones got 408 after {body_timeout_s:g} s: {timed_out}/{slow}",
            leaked=leaks(side.stderr),
            lost=(slow + fast) - len(records),
            crashed=side.crashed(),
        )
    await stopped(emus.values())
    return row
