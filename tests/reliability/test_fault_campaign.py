"""Fault campaign: thousands of requests through a real `llm-router serve` process against
loopback upstreams that, at random (seeded), reset connections, answer 5xx and 429, stall
before or during a stream, cut streams, send malformed JSON or SSE, or are slow.

The prompts carry planted regulated values. Asserted:
(a) no planted value ever reaches an upstream the decision did not allow (nor one the
    compliance facts forbid), on any retry or failover; redacted and blocked values reach
    none, and bad input is never forwarded;
(b) exactly one audit record per request, agreeing with what the app got;
(c) no unhandled exception or error event in the sidecar's log;
(d) the app always gets a complete response or a well-formed error in its API's format,
    checked on the wire and, for a share of the requests, through the real SDKs;
(e) the sidecar's memory and file descriptors return to their level after warm-up.
"""

from __future__ import annotations

import asyncio
import os
import random
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import anthropic
import openai
import orjson

from sidecar.emulators.chaos import Chaos
from tests.conftest import APP_KEY, Emulator, config_dict, make_emulators
from tests.reliability.campaign import (
    EXPECTED_REFUSAL,
    MARKER,
    MAX_BODY_BYTES,
    MAX_MESSAGES,
    MAY_GO_TO,
    Case,
    make_case,
)
from tests.reliability.support import (
    Outcome,
    SidecarProcess,
    WireError,
    anthropic_error,
    check_anthropic,
    check_openai,
    openai_error,
)

SEED = int(os.environ.get("LLM_ROUTER_CAMPAIGN_SEED", "20261125"))
REQUESTS = int(os.environ.get("LLM_ROUTER_CAMPAIGN_REQUESTS", "4000"))
WARMUP = REQUESTS // 10
CONCURRENCY = 24
MAX_IN_FLIGHT = 22
SDK_SHARE = 0.1
RSS_TOLERANCE = 10 * 1024 * 1024
"""Growth allowed between the end of warm-up and the end of the campaign. A leak of one
request's body (a few KB) per request would exceed it; allocator noise (about 1 MB
measured) does not."""


def campaign_config(emulators: dict[str, Emulator]) -> dict[str, Any]:
    cfg = config_dict({name: emu.base_url for name, emu in emulators.items()})
    for provider in cfg["providers"].values():
        provider["timeouts"] = {"connect_s": 1, "first_byte_s": 0.6, "idle_s": 0.4, "total_s": 4}
        provider["circuit_breaker"] = {"failures": 4, "cooldown_s": 0.25}
    cfg["limits"] = {
        "max_body_bytes": MAX_BODY_BYTES,
        "max_messages": MAX_MESSAGES,
        "max_in_flight": MAX_IN_FLIGHT,
        "body_timeout_s": 5,
    }
    cfg["policy"]["watch"] = False
    cfg["shutdown_grace_s"] = 5
    return cfg


async def send_raw(session: aiohttp.ClientSession, base: str, case: Case) -> Outcome:
    async with session.post(base + case.path, data=case.body, headers=case.headers) as resp:
        raw = await resp.read()
        check = check_openai if case.api == "openai" else check_anthropic
        outcome = check(resp.status, resp.headers, raw, case.stream)
        retry = outcome.error_code in ("too_many_requests", "circuit_open", "upstream_rate_limited")
        if retry and not resp.headers.get("Retry-After", "").isdigit():
            raise WireError(f"{outcome.error_code} without a Retry-After")
        return outcome


async def send_sdk(oai: openai.AsyncOpenAI, ant: anthropic.AsyncAnthropic, case: Case) -> Outcome:
    """Through the real SDK: anything but a result or the SDK's own APIError fails (d)."""
    body = case.json()
    extra = {k: v for k, v in case.headers.items() if k != "Content-Type"}
    if case.api == "openai":
        try:
            raw = await oai.chat.completions.with_raw_response.create(**body, extra_headers=extra)
        except openai.APIStatusError as err:
            error = openai_error({"error": err.body})
            return Outcome(err.status_code, False, error.get("code"), None, _id(err.response))
        decision, route = _id(raw), raw.headers.get("x-llm-router-route")
        if not case.stream:
            completion = raw.parse()
            return Outcome(200, True, None, route, decision, completion.choices[0].message.content)
        text = ""
        try:
            async for chunk in raw.parse():
                text += "".join(c.delta.content or "" for c in chunk.choices)
        except openai.APIError as err:
            code = err.body.get("code") if isinstance(err.body, dict) else None
            return Outcome(200, False, code, route, decision)
        return Outcome(200, True, None, route, decision, text)
    try:
        araw = await ant.messages.with_raw_response.create(**body, extra_headers=extra)
    except anthropic.APIStatusError as err:
        if err.status_code == 200:  # a stream error event surfaces at parse time
            raise
        error = anthropic_error(err.body)
        return Outcome(err.status_code, False, error.get("code"), None, _id(err.response))
    decision, route = _id(araw), araw.headers.get("x-llm-router-route")
    if not case.stream:
        message = await araw.parse()
        text = "".join(getattr(b, "text", "") for b in message.content)
        return Outcome(200, True, None, route, decision, text)
    text = ""
    try:
        async for event in await araw.parse():
            if event.type == "content_block_delta" and event.delta.type == "text_delta":
                text += event.delta.text
    except anthropic.APIStatusError as err:
        return Outcome(200, False, anthropic_error(err.body).get("code"), route, decision)
    return Outcome(200, True, None, route, decision, text)


def _id(response: Any) -> str | None:
    value = response.headers.get("x-llm-router-decision-id")
    return str(value) if value is not None else None


async def run_cases(sidecar: SidecarProcess, cases: list[Case]) -> dict[int, Outcome]:
    results: dict[int, Outcome] = {}
    queue = list(reversed(cases))
    connector = aiohttp.TCPConnector(limit=CONCURRENCY)
    timeout = aiohttp.ClientTimeout(total=60)
    async with (
        aiohttp.ClientSession(connector=connector, timeout=timeout) as session,
        openai.AsyncOpenAI(
            base_url=sidecar.listen + "/v1", api_key=APP_KEY, max_retries=0, timeout=60
        ) as oai,
        anthropic.AsyncAnthropic(
            base_url=sidecar.listen, api_key=APP_KEY, max_retries=0, timeout=60
        ) as ant,
    ):

        async def worker() -> None:
            while queue:
                case = queue.pop()
                try:
                    if case.via_sdk:
                        results[case.index] = await send_sdk(oai, ant, case)
                    else:
                        results[case.index] = await send_raw(session, sidecar.listen, case)
                except Exception as exc:
                    raise AssertionError(
                        f"(d) {case.marker} ({case.api}, stream={case.stream}, "
                        f"kind={case.kind}, sdk={case.via_sdk}): {type(exc).__name__}: {exc}"
                    ) from exc

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return results


async def settle(sidecar: SidecarProcess, expected_records: int) -> None:
    """Wait, event by event, until nothing is in flight and every record is written."""
    async with aiohttp.ClientSession() as session:
        for _ in range(600):
            _, ready = await sidecar.readyz(session)
            if ready["in_flight"] == 0 and len(sidecar.audit_records()) >= expected_records:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the sidecar did not settle")


async def test_fault_campaign(tmp_path: Path) -> None:
    rng = random.Random(SEED)
    cases = [make_case(i, rng, SDK_SHARE) for i in range(REQUESTS)]
    emulators = make_emulators()
    for emu in emulators.values():
        emu.chaos = Chaos(seed=SEED, rate=0.35, stall_s=1.2, slow_s=0.003)
        await emu.start()
    sidecar = SidecarProcess(campaign_config(emulators), tmp_path)
    try:
        await sidecar.start()
        outcomes = await run_cases(sidecar, cases[:WARMUP])
        await settle(sidecar, WARMUP)
        rss_warm, fds_warm = sidecar.rss_bytes(), sidecar.open_fds()
        outcomes.update(await run_cases(sidecar, cases[WARMUP:]))
        await settle(sidecar, REQUESTS)
        rss_end, fds_end = sidecar.rss_bytes(), sidecar.open_fds()
        async with aiohttp.ClientSession() as session:
            in_flight_gauge = await sidecar.metric(session, "llm_router_inflight_requests")
            circuit_skips = await sidecar.metric(session, "llm_router_circuit_open_skips_total")
        sidecar.terminate()
        assert await sidecar.wait() == 0
    finally:
        await sidecar.stop()
        for emu in emulators.values():
            await emu.stop()

    records = sidecar.audit_records()
    by_id = {r["decision_id"]: r for r in records}

    # (b) exactly one audit record per request, with the outcome the app saw
    assert len(outcomes) == REQUESTS
    assert len(records) == REQUESTS and len(by_id) == REQUESTS
    ids = [o.decision_id for o in outcomes.values()]
    assert None not in ids and len(set(ids)) == REQUESTS
    assert set(ids) == set(by_id)
    record_of: dict[int, dict[str, Any]] = {}
    for index, got in outcomes.items():
        case, record = cases[index], by_id[got.decision_id]
        record_of[index] = record
        assert record["outcome"]["status"] == got.status, (case.marker, record["outcome"], got)
        assert record["outcome"]["error_code"] == got.error_code, (case.marker, record, got)
        if got.status == 200:
            assert record["outcome"]["route"] == (got.route or record["outcome"]["route"])
        if got.complete:
            provider = record["outcome"]["route"].split(":", 1)[0]
            assert f"served by {provider}" in got.text, (case.marker, got)
        if case.kind in EXPECTED_REFUSAL and got.error_code != "too_many_requests":
            assert (got.status, got.error_code) == EXPECTED_REFUSAL[case.kind], case.marker

    # (a) where every body an upstream received came from, and what it may carry
    forwarded: Counter[str] = Counter()
    for name, emu in emulators.items():
        for received in emu.received:
            found = MARKER.search(received.body)
            assert found is not None, f"{name} received a body without a marker"
            index = int(found.group(1))
            case, record = cases[index], record_of[index]
            route = f"{name}:{received.json['model']}"
            forwarded[case.kind] += 1
            assert case.kind in MAY_GO_TO, f"{case.marker} ({case.kind}) reached {name}"
            assert route in record["policy"]["routes"], (case.marker, route, record["policy"])
            assert record["policy"]["allow"] is True
            for value in case.never_forwarded:
                assert value.encode() not in received.body, f"{case.marker}: {name} got it"
            if any(value.encode() in received.body for value in case.planted.values()):
                assert name in MAY_GO_TO[case.kind], f"{case.marker} ({case.kind}) at {name}"

    # (c) nothing unhandled in the sidecar's own log
    assert sidecar.log_problems() == []

    # (e) back to the warm level
    assert in_flight_gauge == 0
    assert rss_end - rss_warm < RSS_TOLERANCE, (rss_warm, rss_end)
    assert fds_end <= fds_warm + 16, (fds_warm, fds_end)

    # The campaign exercised what it claims to (not a test that cannot fail).
    statuses = Counter(o.status for o in outcomes.values())
    codes = Counter(o.error_code for o in outcomes.values() if o.error_code)
    attempts = Counter(a["outcome"] for r in records for a in r["attempts"])
    print(
        "\ncampaign:",
        orjson.dumps(
            {
                "requests": REQUESTS,
                "statuses": statuses,
                "codes": codes,
                "attempts": attempts,
                "forwarded_by_kind": forwarded,
                "circuit_open_skips": circuit_skips,
                "rss_warm_mb": round(rss_warm / 2**20, 1),
                "rss_end_mb": round(rss_end / 2**20, 1),
                "fds_warm": fds_warm,
                "fds_end": fds_end,
            },
            option=orjson.OPT_NON_STR_KEYS,
        ).decode(),
    )
    assert statuses[200] > REQUESTS // 5
    for outcome in ("timeout", "connect_error", "malformed", "server_error", "rate_limited"):
        assert attempts[outcome] > 0, outcome
    assert attempts["circuit_open"] > 0 and circuit_skips > 0
    assert codes["upstream_stream_cut"] > 0 and codes["upstream_stream_timeout"] > 0
    assert codes["upstream_malformed"] > 0
    assert forwarded["pii"] > 0 and forwarded["phi"] > 0 and forwarded["pci"] > 0
    assert sum(1 for c in cases if c.via_sdk) > REQUESTS // 20
