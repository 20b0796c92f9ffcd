"""Rows of the hostile-conditions benchmark about control: config files rewritten under
the sidecar (good and broken ones in turn), and bad policy bundles."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import os
import signal
import time
from pathlib import Path
from typing import Any

import aiohttp
import yaml
from hostile_support import (
    Row,
    Sidecar,
    config,
    emulators,
    leaks,
    metric_sum,
    post_chat,
    started,
    stopped,
    workdir,
)

from sidecar.emulators.bundles import BundleServer, build_bundle

REPORT = "Summarise the quarterly report."
BROKEN: tuple[str, ...] = (
    "providers: [unclosed\n",  # not YAML
    "{}\n",  # no providers, no models
)


def _broken(good: dict[str, Any], n: int) -> str:
    if n % 3 == 0:
        return BROKEN[(n // 3) % len(BROKEN)]
    cfg = copy.deepcopy(good)
    if n % 3 == 1:  # a model routed to a provider that does not exist
        cfg["models"]["gpt-4o"]["routes"].append({"provider": "nowhere", "model": "x"})
    else:  # a misspelt key
        cfg["providers"]["openai"]["complaince"] = {"dpa": True}
    return yaml.safe_dump(cfg)


async def config_reloads(rewrites: int, requests_per_rewrite: int) -> Row:
    """The config file rewritten `rewrites` times (SIGHUP after each), in turn a valid file
    that moves personal data between direct providers and a broken one, while personal
    data keeps being sent. A valid file must govern the next request; a broken one must
    change nothing and be counted."""
    emus = emulators()
    await started(emus.values())
    with workdir() as tmp:
        cfg = config({n: e.base_url for n, e in emus.items()}, Path(tmp))
        cfg["reload"] = {"watch": False}  # SIGHUP only: each rewrite is applied at once
        side = await Sidecar(cfg, Path(tmp)).start()
        sent = wrong_route = errors_seen = 0
        statuses: dict[int, int] = {}
        last_expected = "openai"
        async with aiohttp.ClientSession() as session:
            for n in range(rewrites):
                good = n % 2 == 0
                expected = "openai"
                if good:  # even rewrites: withdraw or restore openai's DPA in turn
                    variant = copy.deepcopy(cfg)
                    if (n // 2) % 2 == 0:
                        variant["providers"]["openai"]["compliance"] = {"regions": ["us"]}
                        variant["models"]["gpt-4o"]["routes"].append(
                            {"provider": "anthropic", "model": "claude-sonnet-5"}
                        )
                        expected = "anthropic"
                    text = yaml.safe_dump(variant)
                else:
                    text = _broken(cfg, n)
                    expected = last_expected
                side.config_file.write_text(text)
                os.kill(side.pid, signal.SIGHUP)
                await _settled(session, side.admin, n + 1)
                last_expected = expected
                for _ in range(requests_per_rewrite):
                    before = {name: len(e.received) for name, e in emus.items()}
                    status = await post_chat(
                        session, side.listen, "Remind jane.roe@example.com of her appointment."
                    )
                    statuses[status] = statuses.get(status, 0) + 1
                    sent += 1
                    got = [name for name, e in emus.items() if len(e.received) > before[name]]
                    wrong_route += got != [expected]
            async with session.get(side.admin + "/metrics") as resp:
                exposition = await resp.text()
        errors_seen = metric_sum(exposition, "llm_router_config_reload_errors_total")
        reloads = metric_sum(exposition, "llm_router_config_reloads_total")
        await side.stop()
        records = side.audit_records()
        broken = rewrites // 2
        row = Row(
            "config reloads",
            f"{rewrites} rewrites of the config file (SIGHUP; requests after each), a valid file "
            "withdrawing or restoring a provider's DPA and a broken one (not YAML, schema "
            "errors, unknown provider) in turn",
            rewrites + sent,
            f"valid files applied: {reloads:.0f}/{rewrites - broken}; broken ones kept the "
            f"running config and were counted: {errors_seen:.0f}/{broken}; requests on the "
            f"route the current file allows: {sent - wrong_route}/{sent} "
            f"(statuses {statuses})",
            leaked=wrong_route + leaks(side.stderr),
            lost=sent - len(records),
            crashed=side.crashed(),
        )
    await stopped(emus.values())
    return row


async def _settled(session: aiohttp.ClientSession, admin: str, attempts: int) -> None:
    """Until the sidecar has tried `attempts` reloads (applied or rejected)."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        async with session.get(admin + "/metrics") as resp:
            text = await resp.text()
        done = metric_sum(text, "llm_router_config_reloads_total") + metric_sum(
            text, "llm_router_config_reload_errors_total"
        )
        if done >= attempts:
            return
        await asyncio.sleep(0.02)


async def bad_bundle_reloads(rounds: int) -> Row:
    """The seven kinds of bad bundle a review served (not gzip, truncated, a `../` member, a
    gzip bomb, invalid data.json, a compile error, a failing policy test), `rounds` times,
    then a good one, while requests keep being decided."""
    from tests.policy.bundle_support import bad_bundles, policy_files, served_and_processed

    emus = emulators()
    await started(emus.values())
    server = BundleServer()
    await server.start()
    server.publish(build_bundle(policy_files("policies/"), {"revision": "good-0"}))
    with workdir() as tmp:
        cfg = config({n: e.base_url for n, e in emus.items()}, Path(tmp))
        cfg["policy"] = {
            "path": cfg["policy"]["path"],
            "bundle": {"url": server.url, "min_delay_s": 0.02, "max_delay_s": 0.05},
        }
        side = await Sidecar(cfg, Path(tmp)).start()
        sent = 0
        statuses: dict[int, int] = {}
        async with aiohttp.ClientSession() as session:
            await _ready(session, side.admin)
            rss_start = side.rss_mb()
            kinds = 0
            for n in range(rounds):
                for _kind, archive in bad_bundles(n):
                    before = len(server.received)
                    server.publish(archive)
                    await served_and_processed(server, before)
                    kinds += 1
                    status = await post_chat(session, side.listen, REPORT)
                    statuses[status] = statuses.get(status, 0) + 1
                    sent += 1
            before = len(server.received)
            server.publish(build_bundle(policy_files("policies/"), {"revision": "good-1"}))
            await served_and_processed(server, before)
            rss_end = side.rss_mb()
            async with session.get(side.admin + "/metrics") as resp:
                exposition = await resp.text()
            async with session.get(side.admin + "/readyz") as resp:
                revision = (await resp.json())["policy"]["revision"]
        counted = metric_sum(exposition, "llm_router_policy_bundle_failures_total")
        await side.stop()
        await server.stop()
        records = side.audit_records()
        row = Row(
            "bad bundle reloads",
            f"the seven kinds of bad bundle, {rounds} rounds, then a good one; a request "
            "after each",
            kinds + sent,
            f"refused and counted by reason: {counted:.0f}/{kinds}; requests decided on the "
            f"last good policy: {statuses.get(200, 0)}/{sent}; the good one activated: "
            f"{revision == 'good-1'}; RSS {rss_start} -> {rss_end} MB",
            leaked=leaks(side.stderr),
            lost=sent - len(records),
            crashed=side.crashed() + int(revision != "good-1"),
            figures={"rss_mb": [rss_start, rss_end]},
        )
    await stopped(emus.values())
    return row


async def _ready(session: aiohttp.ClientSession, admin: str) -> None:
    for _ in range(500):
        async with session.get(admin + "/readyz") as resp:
            if resp.status == 200:
                return
        await asyncio.sleep(0.02)
    raise RuntimeError("the first bundle never activated")


async def stuck_sink(requests: int) -> Row:
    """The default sink (stdout) writing into a pipe nobody reads."""
    emus = emulators()
    await started(emus.values())
    read_end, write_end = os.pipe()
    with workdir() as tmp:
        cfg = config({n: e.base_url for n, e in emus.items()}, Path(tmp))
        cfg["audit"] = {"sink": "stdout"}
        side = await Sidecar(cfg, Path(tmp), stdout=write_end).start()
        os.close(write_end)
        statuses: dict[int, int] = {}
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
            for _ in range(requests):
                status = await post_chat(session, side.listen, REPORT)
                statuses[status] = statuses.get(status, 0) + 1
            async with session.get(side.admin + "/healthz") as resp:
                healthy = resp.status == 200
            async with session.get(side.admin + "/metrics") as resp:
                dropped = metric_sum(await resp.text(), "llm_router_audit_dropped_total")
        await side.stop()
        # What was still buffered at SIGTERM is counted then (audit_writer_stuck).
        dropped += sum(
            e.get("dropped", 0) for e in side.events() if e.get("event") == "audit_writer_stuck"
        )
        written = 0
        os.set_blocking(read_end, False)
        with contextlib.suppress(BlockingIOError):
            while chunk := os.read(read_end, 1 << 16):
                written += chunk.count(b"\n")
        os.close(read_end)
        ok = statuses.get(200, 0)
        row = Row(
            "stuck audit sink",
            f"audit.sink stdout into a pipe nobody reads; {requests} requests, then SIGTERM",
            requests,
            f"answered 200: {ok}/{requests}; /healthz {'200' if healthy else 'failed'}; "
            f"records written {written}, dropped and counted {dropped:.0f}; SIGTERM exit "
            f"{side.exit_code} in {side.stop_seconds} s",
            leaked=leaks(side.stderr),
            lost=requests - written - int(dropped),
            crashed=side.crashed() + int(not healthy) + (requests - ok),
        )
    await stopped(emus.values())
    return row
