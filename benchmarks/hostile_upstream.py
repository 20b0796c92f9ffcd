"""Rows of the hostile-conditions benchmark about upstreams: streams that break after their
first event (against the circuit breaker), and upstreams whose errors echo the request and
the credentials they were sent."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import orjson
from hostile_support import (
    EMAIL,
    KEYS,
    Row,
    Sidecar,
    chat,
    config,
    emulators,
    leaks,
    started,
    stopped,
    workdir,
)

from sidecar.emulators.chaos import Chaos
from sidecar.emulators.echo import ECHO_CODE, EchoUpstream

CUT_EVERY_STREAM = Chaos(seed=16, rate=1.0, mix=(("cut_stream", 1.0),))


async def broken_streams(streams: int, failures: int) -> Row:
    """Every stream of the aggregator route is cut after its first event or later."""
    emus = emulators()
    emus["openrouter"].chaos = CUT_EVERY_STREAM
    await started(emus.values())
    with workdir() as tmp:
        cfg = config({n: e.base_url for n, e in emus.items()}, Path(tmp))
        for provider in cfg["providers"].values():
            provider["circuit_breaker"] = {"failures": failures, "cooldown_s": 600}
        side = await Sidecar(cfg, Path(tmp)).start()
        outcomes: list[str] = []
        async with aiohttp.ClientSession() as session:
            for i in range(streams):
                async with session.post(
                    side.listen + "/v1/chat/completions",
                    data=chat(text=f"Summarise the quarterly report, part {i}.", stream=True),
                    headers={"content-type": "application/json"},
                ) as resp:
                    raw = await resp.read()
                    served_by = resp.headers.get("x-llm-router-route", "")
                outcomes.append("broken" if b'"error"' in raw else served_by)
        await side.stop()
        records = side.audit_records()
        skipped = sum(
            1 for r in records if any(a["outcome"] == "circuit_open" for a in r["attempts"])
        )
        broken = outcomes.count("broken")
        row = Row(
            "broken streams vs the breaker",
            f"{streams} streams on a route whose every stream is cut after its first event "
            f"(circuit_breaker.failures {failures})",
            streams,
            f"circuit opened after {broken} cut streams; the next {skipped} skipped the route "
            f"and were served by the direct one: "
            f"{sum(1 for o in outcomes if o.startswith('openai'))}/{streams - broken}",
            leaked=leaks(side.stderr),
            lost=streams - len(records),
            crashed=side.crashed() + int(broken != failures),
        )
    await stopped(emus.values())
    return row


async def echoing_upstreams(rounds: int) -> Row:
    """Both routes answer every request with an error that quotes the key header, every
    provider key the upstream knows of, a prompt fragment and the whole raw body."""
    emus = emulators()
    echoes = {
        "openrouter": EchoUpstream(
            "openai", stream_errors=True, known_keys=(KEYS["anthropic"], KEYS["openai"])
        ),
        "anthropic": EchoUpstream("anthropic", stream_errors=True, known_keys=(KEYS["openai"],)),
    }
    for echo in echoes.values():
        await echo.start()
    await started([emus["openai"]])
    urls = {"openai": emus["openai"].base_url, **{n: e.base_url for n, e in echoes.items()}}
    answers: list[bytes] = []
    kept_code = 0
    with workdir() as tmp:
        side = await Sidecar(config(urls, Path(tmp)), Path(tmp)).start()
        async with aiohttp.ClientSession() as session:
            for i in range(rounds):
                for path, model, text, stream in (
                    ("/v1/chat/completions", "gpt-4o", "secret prompt on sales", False),
                    ("/v1/chat/completions", "gpt-4o", "secret prompt on sales", True),
                    ("/v1/messages", "claude-sonnet-5", f"secret prompt for {EMAIL}", False),
                    ("/v1/messages", "claude-sonnet-5", f"secret prompt for {EMAIL}", True),
                ):
                    body = orjson.loads(chat(model, f"{text} #{i}", stream=stream))
                    body["max_tokens"] = 64
                    async with session.post(
                        side.listen + path,
                        data=orjson.dumps(body),
                        headers={"content-type": "application/json"},
                    ) as resp:
                        answer = await resp.read()
                    answers.append(answer)
                    kept_code += ECHO_CODE.encode() in answer or b"invalid_request_error" in answer
        await side.stop()
        records = side.audit_records()
        row = Row(
            "echoing upstreams",
            "an aggregator and a direct route whose errors (status 400, and error events "
            "mid-stream) quote the key header, other providers' keys, the prompt and the raw "
            "body; both formats, streamed and not",
            len(answers),
            f"the app got the upstream's error type and code, without the echoed parts: "
            f"{kept_code}/{len(answers)}",
            leaked=leaks(*answers, side.stderr, side.audit_bytes()),
            lost=len(answers) - len(records),
            crashed=side.crashed(),
        )
    for echo in echoes.values():
        await echo.stop()
    await stopped([emus["openai"]])
    return row
