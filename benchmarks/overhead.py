"""Sidecar overhead for one non-streaming chat request with a 4 KB prompt, on loopback.

Runs a loopback OpenAI-format upstream and a load generator in this process, and the real
sidecar (`llm-router serve`) as a separate process pinned to its own core where possible.
Sends the same requests directly to the upstream and through the sidecar, interleaved, at
concurrency 1, and prints JSON: added latency (through minus direct) and the sidecar's own
accounting of its overhead (audit `overhead_ms`), median and p99.

    python benchmarks/overhead.py [--requests 500] [--pii-share 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

from sidecar.emulators.openai import OpenAIEmulator

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"openrouter": "bench-or-key", "openai": "bench-oa-key"}
WORDS = (
    "the quarterly report shows steady growth in subscriptions while churn fell slightly after "
    "the onboarding redesign and support response times improved across regions"
).split(" ")


def prompt_4kb(rng: random.Random, pii: bool) -> str:
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < 4000:
        words.append(rng.choice(WORDS))
    if pii:
        words.insert(len(words) // 2, "contact jane.doe@example.com about DE89370400440532013000")
    return " ".join(words)[:4096]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 3),
        "p99_ms": round(percentile(values, 0.99) * 1000, 3),
        "mean_ms": round(statistics.fmean(values) * 1000, 3),
    }


async def start_sidecar(urls: dict[str, str], workdir: Path) -> tuple[subprocess.Popen[bytes], str]:
    config = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "admin": {"host": "127.0.0.1", "port": 0},
        "providers": {
            "openrouter": {
                "kind": "aggregator",
                "base_url": urls["openrouter"],
                "api_key_env": "BENCH_OPENROUTER_KEY",
            },
            "openai": {
                "kind": "direct",
                "base_url": urls["openai"],
                "api_key_env": "BENCH_OPENAI_KEY",
                "compliance": {"dpa": True},
            },
        },
        "models": {
            "gpt-4o": {
                "routes": [
                    {"provider": "openrouter", "model": "openai/gpt-4o"},
                    {"provider": "openai", "model": "gpt-4o"},
                ]
            }
        },
        "policy": {"path": str(ROOT / "policies")},
        "audit": {"sink": "file", "path": str(workdir / "audit.jsonl")},
    }
    cfg = workdir / "config.yaml"
    cfg.write_text(yaml.safe_dump(config))
    env = {
        **os.environ,
        "BENCH_OPENROUTER_KEY": KEYS["openrouter"],
        "BENCH_OPENAI_KEY": KEYS["openai"],
    }
    cmd = [
        sys.executable,
        "-m",
        "sidecar.cli",
        "serve",
        "--config",
        str(cfg),
        "--log-level",
        "info",
    ]
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        cmd = ["taskset", "-c", "0", *cmd]
        os.sched_setaffinity(0, {1})
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.PIPE, cwd=ROOT)  # noqa: ASYNC220
    assert proc.stderr is not None
    loop = asyncio.get_running_loop()
    while True:
        line = await loop.run_in_executor(None, proc.stderr.readline)
        if not line:
            raise RuntimeError("sidecar exited before it started")
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if event.get("event") == "started":
            return proc, str(event["listen"])


async def timed_post(session: aiohttp.ClientSession, url: str, body: bytes, key: str) -> float:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {key}"}
    t0 = time.perf_counter()
    async with session.post(url, data=body, headers=headers) as resp:
        await resp.read()
        if resp.status != 200:
            raise RuntimeError(f"status {resp.status}")
    return time.perf_counter() - t0


async def run(requests: int, pii_share: float) -> dict[str, Any]:
    rng = random.Random(42)
    emulators = {name: OpenAIEmulator(name, key) for name, key in KEYS.items()}
    for emu in emulators.values():
        await emu.start()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        proc, sidecar_url = await start_sidecar(
            {n: e.base_url for n, e in emulators.items()}, workdir
        )
        try:
            direct: list[float] = []
            through: list[float] = []
            async with aiohttp.ClientSession() as session:
                bodies = []
                for _ in range(requests):
                    pii = rng.random() < pii_share
                    text = prompt_4kb(rng, pii)
                    bodies.append(
                        (
                            pii,
                            orjson.dumps(
                                {"model": "gpt-4o", "messages": [{"role": "user", "content": text}]}
                            ),
                        )
                    )
                for _pii, body in bodies[:50]:  # warm-up: connections, caches
                    await timed_post(session, sidecar_url + "/v1/chat/completions", body, "app")
                for pii, body in bodies:
                    target = emulators["openai" if pii else "openrouter"]
                    key = KEYS["openai" if pii else "openrouter"]
                    direct.append(
                        await timed_post(session, target.base_url + "/chat/completions", body, key)
                    )
                    through.append(
                        await timed_post(session, sidecar_url + "/v1/chat/completions", body, "app")
                    )
        finally:
            proc.terminate()
            proc.wait(timeout=30)
        records = [orjson.loads(x) for x in (workdir / "audit.jsonl").read_bytes().splitlines()]
    for emu in emulators.values():
        await emu.stop()
    overhead = [r["outcome"]["overhead_ms"] / 1000 for r in records[50:]]
    added = [t - d for t, d in zip(through, direct, strict=True)]
    return {
        "benchmark": "sidecar_overhead_non_streaming",
        "requests": requests,
        "prompt_bytes": 4096,
        "pii_share": pii_share,
        "concurrency": 1,
        "pinning": "sidecar on cpu 0, load generator and upstream on cpu 1"
        if (os.cpu_count() or 1) > 1
        else "none (single core)",
        "direct": summary(direct),
        "through_sidecar": summary(through),
        "added_latency": summary(added),
        "sidecar_reported_overhead": summary(overhead),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--pii-share", type=float, default=0.5)
    args = parser.parse_args()
    result = asyncio.run(run(args.requests, args.pii_share))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
