"""Soak: a bounded run at a steady request rate through the real sidecar, reporting its
memory (RSS) and open file descriptors over time.

Starts four loopback providers (OpenAI format: an aggregator and two direct providers;
Anthropic format: one direct provider) that misbehave now and then (seeded), the sidecar
as a separate `llm-router serve` process, and an open-loop load generator: requests start
on schedule whatever the previous ones are doing, streaming and non-streaming, OpenAI and
Anthropic format, public and personal data mixed. Every `--sample-every` seconds it records
the sidecar's RSS, file descriptors and requests in flight; at the end it stops the
sidecar with SIGTERM and prints JSON, including the RSS trend after warm-up (a leak shows
as a steady slope) and whether every request left exactly one audit record.

    python benchmarks/soak.py [--seconds 300] [--rate 40] [--fault-rate 0.05]

Linux only (reads /proc). Not part of `make test`; `make soak` runs the default 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import signal
import statistics
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

from sidecar.emulators.anthropic import AnthropicEmulator
from sidecar.emulators.chaos import Chaos
from sidecar.emulators.openai import OpenAIEmulator

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "openrouter": "soak-or-key",
    "openai": "soak-oa-key",
    "google": "soak-gm-key",
    "anthropic": "soak-an-key",
}
COMPLIANCE = {
    "openrouter": ("aggregator", {"regions": ["us"]}),
    "openai": ("direct", {"dpa": True, "regions": ["us"]}),
    "google": ("direct", {"dpa": True, "baa": True, "regions": ["us"]}),
    "anthropic": ("direct", {"dpa": True, "baa": True, "regions": ["us"]}),
}


def sidecar_config(urls: dict[str, str], workdir: Path) -> dict[str, Any]:
    providers: dict[str, Any] = {}
    for name, (kind, compliance) in COMPLIANCE.items():
        providers[name] = {
            "api": "anthropic" if name == "anthropic" else "openai",
            "kind": kind,
            "base_url": urls[name],
            "api_key_env": f"SOAK_{name.upper()}_KEY",
            "compliance": compliance,
            "timeouts": {"connect_s": 2, "first_byte_s": 2, "idle_s": 1, "total_s": 20},
            "circuit_breaker": {"failures": 5, "cooldown_s": 2},
        }
    return {
        "listen": {"host": "127.0.0.1", "port": 0},
        "admin": {"host": "127.0.0.1", "port": 0},
        "providers": providers,
        "models": {
            "gpt-4o": {
                "routes": [
                    {"provider": "openrouter", "model": "openai/gpt-4o"},
                    {"provider": "openai", "model": "gpt-4o"},
                    {"provider": "google", "model": "gemini-2.5-flash"},
                ]
            },
            "claude-sonnet-5": {
                "routes": [
                    {"provider": "openrouter", "model": "anthropic/claude-sonnet-5"},
                    {"provider": "anthropic", "model": "claude-sonnet-5"},
                ]
            },
        },
        "policy": {"path": str(ROOT / "policies"), "watch": False},
        "audit": {"sink": "file", "path": str(workdir / "audit.jsonl")},
        "limits": {"max_in_flight": 512},
        "shutdown_grace_s": 20,
    }


def request_body(rng: random.Random, i: int) -> tuple[str, bytes, bool]:
    api = rng.choice(("openai", "anthropic"))
    stream = rng.random() < 0.5
    text = f"Request {i}: summarise the quarterly report in three bullet points."
    if rng.random() < 0.3:
        text = f"Request {i}: remind jane.doe@example.com that her invoice is overdue."
    body: dict[str, Any] = {
        "model": rng.choice(("gpt-4o", "claude-sonnet-5")),
        "messages": [{"role": "user", "content": text}],
        "stream": stream,
    }
    if api == "anthropic":
        body["max_tokens"] = 128
        return "/v1/messages", orjson.dumps(body), stream
    return "/v1/chat/completions", orjson.dumps(body), stream


class Process:
    """The sidecar's footprint, from /proc."""

    def __init__(self, pid: int) -> None:
        self.pid = pid

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value), per minute."""
    if len(points) < 2:
        return 0.0
    xs, ys = [p[0] for p in points], [p[1] for p in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return 0.0 if den == 0 else 60 * sum((x - mx) * (y - my) for x, y in points) / den


async def start_sidecar(config: dict[str, Any], workdir: Path) -> tuple[Any, str, str]:
    cfg = workdir / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    env = {**os.environ, **{f"SOAK_{n.upper()}_KEY": k for n, k in KEYS.items()}}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidecar.cli",
        "serve",
        "--config",
        str(cfg),
        "--log-level",
        "info",
        env=env,
        cwd=ROOT,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert proc.stderr is not None
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
        if not line:
            raise RuntimeError("the sidecar exited before it started")
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if event.get("event") == "started":
            return proc, str(event["listen"]), str(event["admin"])


async def run(
    seconds: float, rate: float, fault_rate: float, sample_every: float
) -> dict[str, Any]:
    rng = random.Random(7)
    emulators: dict[str, OpenAIEmulator | AnthropicEmulator] = {
        name: AnthropicEmulator(name, key, chunks=8)
        if name == "anthropic"
        else OpenAIEmulator(name, key, chunks=8)
        for name, key in KEYS.items()
    }
    for emu in emulators.values():
        if fault_rate > 0:
            emu.chaos = Chaos(seed=7, rate=fault_rate, stall_s=3.0, slow_s=0.01)
        await emu.start()
    statuses: Counter[str] = Counter()
    latencies: list[float] = []
    samples: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        config = sidecar_config({n: e.base_url for n, e in emulators.items()}, workdir)
        proc, listen, admin = await start_sidecar(config, workdir)
        stderr_task = asyncio.create_task(proc.stderr.read())
        footprint = Process(proc.pid)
        sent = 0
        tasks: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0), timeout=aiohttp.ClientTimeout(total=60)
        ) as session:

            async def one(i: int) -> None:
                path, body, stream = request_body(rng, i)
                t0 = time.perf_counter()
                try:
                    async with session.post(
                        listen + path, data=body, headers={"Content-Type": "application/json"}
                    ) as resp:
                        raw = await resp.read()
                        ok = resp.status == 200 and not (stream and b'"error"' in raw[-400:])
                        statuses[str(resp.status) if ok or resp.status != 200 else "200+error"] += 1
                except aiohttp.ClientError as exc:
                    statuses[type(exc).__name__] += 1
                latencies.append(time.perf_counter() - t0)

            async def sample(elapsed: float) -> None:
                async with session.get(admin + "/readyz") as resp:
                    in_flight = (await resp.json())["in_flight"]
                samples.append(
                    {
                        "t_s": round(elapsed, 1),
                        "rss_mb": footprint.rss_mb(),
                        "fds": footprint.fds(),
                        "in_flight": in_flight,
                        "requests_sent": sent,
                    }
                )

            start = time.monotonic()
            next_sample = 0.0
            while (elapsed := time.monotonic() - start) < seconds:
                if elapsed >= next_sample:
                    await sample(elapsed)
                    next_sample += sample_every
                task = asyncio.create_task(one(sent))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
                sent += 1
                await asyncio.sleep(max(0.0, start + sent / rate - time.monotonic()))
            await asyncio.gather(*tasks)
            await sample(time.monotonic() - start)
        proc.send_signal(signal.SIGTERM)
        exit_code = await asyncio.wait_for(proc.wait(), timeout=60)
        stderr = await stderr_task
        records = len((workdir / "audit.jsonl").read_bytes().splitlines())
    for emu in emulators.values():
        await emu.stop()
    warm = [s for s in samples if s["t_s"] >= min(30.0, seconds / 5)]
    ordered = sorted(latencies)
    return {
        "benchmark": "soak",
        "seconds": seconds,
        "rate_per_s": rate,
        "fault_rate": fault_rate,
        "requests": sent,
        "statuses": dict(statuses),
        "latency_ms": {
            "p50": round(ordered[len(ordered) // 2] * 1000, 2),
            "p99": round(ordered[int(len(ordered) * 0.99)] * 1000, 2),
        },
        "audit_records": records,
        "one_record_per_request": records == sent,
        "exit_code": exit_code,
        "stderr_errors": sum(
            1 for line in stderr.splitlines() if b'"level":"error"' in line or b"Traceback" in line
        ),
        "rss_mb": {
            "start": samples[0]["rss_mb"],
            "end": samples[-1]["rss_mb"],
            "max": max(s["rss_mb"] for s in samples),
            "slope_after_warmup_mb_per_min": round(
                slope_per_minute([(s["t_s"], s["rss_mb"]) for s in warm]), 3
            ),
        },
        "fds": {
            "start": samples[0]["fds"],
            "end": samples[-1]["fds"],
            "max": max(s["fds"] for s in samples),
        },
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=300)
    parser.add_argument("--rate", type=float, default=40, help="requests started per second")
    parser.add_argument("--fault-rate", type=float, default=0.05, help="share of upstream faults")
    parser.add_argument("--sample-every", type=float, default=5)
    args = parser.parse_args()
    report = asyncio.run(run(args.seconds, args.rate, args.fault_rate, args.sample_every))
    print(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode())
    healthy = report["exit_code"] == 0 and report["one_record_per_request"]
    sys.exit(0 if healthy and report["stderr_errors"] == 0 else 1)


if __name__ == "__main__":
    main()
