"""What the sidecar costs, measured against a direct call and, optionally, other proxies.

One run starts a loopback OpenAI-format upstream, the sidecar (`llm-router serve` with the
full pipeline: classification, the default Rego policy, a file audit sink, metrics) and,
with `--peer litellm`, the LiteLLM proxy, with `--peer floor`, a bare aiohttp pass-through
(the floor of the sidecar's own stack). Each proxy is pinned to core 0, the upstream and
this load generator to core 1. With 4 KB prompts, half of them carrying personal data, it
measures for every proxy:

- added latency (proxy minus direct, same requests, same run) at p50 and p99 at
  concurrency 1 (interleaved pairs), 16 and 64, and the throughput each reached;
- CPU seconds per request of the proxy process (from /proc), at every concurrency;
- streaming: added time to first byte, CPU per streamed chunk (the CPU difference between
  long and short streams, divided by the extra chunks) and streams per CPU-second;
- RSS after the load (and peak), and start-up time from spawn to a ready endpoint;
- for the sidecar, Responses API requests (`POST /v1/responses`, a native route) next to
  chat completions: added latency at p50 and p99 and CPU per request at concurrency 1,
  non-streamed and streamed, and the ratio Responses / chat of each.

JSON goes to stdout, a Markdown table to stderr. Not a test: numbers depend on the machine,
and on a shared machine `foreign_cpu_share` says how much else ran on the proxy's core.

    python benchmarks/load.py [--quick] [--peer litellm] [--peer floor] [--no-decision-cache]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

import orjson
from loadgen import CHAT, RESPONSES, Api, Batch, Target, prompt, run_batch, run_pairs, summary
from peer import MASTER_KEY, PeerUnavailable, ensure_litellm, start_litellm
from procs import (
    Proc,
    memory_mb,
    pin_self,
    pinning_possible,
    sidecar_config,
    start_floor,
    start_sidecar,
    start_upstream,
)
from rawhttp import loop_factory
from report import API_FIGURES, evaluate, table

SIZES = {
    "full": {"c1": 1000, "c16": 3000, "c64": 6000, "ttfb": 300, "short": 256, "long": 96}
    | {"api_c1": 1000, "api_stream": 300},
    "quick": {"c1": 300, "c16": 800, "c64": 2000, "ttfb": 100, "short": 96, "long": 32}
    | {"api_c1": 400, "api_stream": 96},
}
"""Requests per phase; `api_*`: per API and mode in the Responses-vs-chat comparison."""
SHORT_STREAM, LONG_STREAM = 21, 201
"""SSE events per stream; per-chunk cost = CPU difference / (LONG - SHORT)."""
STREAM_CONCURRENCY = 8
CHUNK_ROUNDS = 3
API_ROUNDS = 4
"""Rounds of the Responses-vs-chat comparison; the order of the two APIs swaps each round."""
API_MODES = {"non_streamed": None, "streamed": SHORT_STREAM}
"""Mode -> SSE events per stream (None: not streamed)."""


def workload(n: int, pii_share: float, seed: int, api: Api = CHAT, **kw: Any) -> list[bytes]:
    """`n` requests of `api`; the same seed gives the same prompts whatever the API."""
    rng = random.Random(seed)
    texts = [prompt(rng, rng.random() < pii_share) for _ in range(64)]
    return [api.body(texts[i % len(texts)], **kw) for i in range(n)]


def _added(direct: Batch, through: Batch, key: str = "latency") -> dict[str, Any]:
    d = summary(direct.latencies() if key == "latency" else direct.ttfbs())
    t = summary(through.latencies() if key == "latency" else through.ttfbs())
    return {
        "direct": d,
        "through": t,
        "added_p50_ms": round(t["p50_ms"] - d["p50_ms"], 3),
        "added_p99_ms": round(t["p99_ms"] - d["p99_ms"], 3),
    }


def _load(batch: Batch) -> dict[str, Any]:
    return {
        "requests": len(batch.responses),
        "requests_per_s": round(batch.rps, 1),
        "cpu_ms_per_request": round(batch.cpu_per_request * 1000, 4),
        "foreign_cpu_share": round(batch.foreign_cpu / batch.wall, 3) if batch.wall else 0.0,
    }


async def measure(proxy: Target, direct: Target, sizes: dict[str, int], pii: float) -> dict:
    """Every measurement of one proxy; the direct calls are repeated alongside it."""
    out: dict[str, Any] = {"latency": {}, "errors": []}
    await run_batch(proxy, workload(300, pii, 7), 4)  # warm-up: connections, caches, JIT-free
    batches: list[Batch] = []
    for c in (1, 16, 64):
        bodies = workload(sizes[f"c{c}"], pii, c)
        if c == 1:
            d, t = await run_pairs(direct, proxy, bodies)
        else:
            d = await run_batch(direct, bodies, c)
            t = await run_batch(proxy, bodies, c)
        out["latency"][f"c{c}"] = {**_added(d, t), **_load(t)}
        batches += [d, t]
    peak = max(out["latency"].values(), key=lambda v: v["requests_per_s"])
    out["throughput_rps"] = peak["requests_per_s"]
    out["cpu_ms_per_request"] = out["latency"]["c64"]["cpu_ms_per_request"]
    cpu = out["cpu_ms_per_request"]
    out["capacity_rps"] = round(1000 / cpu) if cpu else None
    out["rss_mb"] = memory_mb(proxy.proc.pid) if proxy.proc else 0.0

    ttfb_bodies = workload(sizes["ttfb"], pii, 21, stream_events=21)
    d, t = await run_pairs(direct, proxy, ttfb_bodies, stream=True)
    streaming: dict[str, Any] = {"ttfb": _added(d, t, "ttfb"), "latency": _added(d, t)}
    streaming["http_chunks_per_stream"] = statistics.fmean(r.chunks for r in t.responses)
    streaming.update(await stream_cost(proxy, sizes, pii))
    out["streaming"] = streaming
    batches += [d, t]
    out["rss_mb"] = max(out["rss_mb"], memory_mb(proxy.proc.pid) if proxy.proc else 0.0)
    out["peak_rss_mb"] = memory_mb(proxy.proc.pid, "VmHWM") if proxy.proc else 0.0
    failed = streaming.pop("failed")
    for b in batches:
        out["errors"] += b.errors[:3]
    out["errors"] += failed[:3]
    out["failed_requests"] = sum(len(b.errors) for b in batches) + len(failed)
    return out


async def stream_cost(proxy: Target, sizes: dict[str, int], pii: float) -> dict[str, Any]:
    """CPU per chunk: the CPU difference between long and short streams, divided by the
    extra chunks; measured in several rounds and the median kept, since one round that
    another process shares the core with costs more per chunk (cache, context switches)."""
    short_bodies = workload(sizes["short"], pii, 22, stream_events=SHORT_STREAM)
    long_bodies = workload(sizes["long"], pii, 23, stream_events=LONG_STREAM)
    per_chunk, per_short, foreign, wall, failed = [], [], 0.0, 0.0, []
    for _ in range(CHUNK_ROUNDS):
        short = await run_batch(proxy, short_bodies, STREAM_CONCURRENCY, stream=True)
        long = await run_batch(proxy, long_bodies, STREAM_CONCURRENCY, stream=True)
        extra = LONG_STREAM - SHORT_STREAM
        per_chunk.append((long.cpu_per_request - short.cpu_per_request) / extra * 1e6)
        per_short.append(short.cpu_per_request)
        foreign += short.foreign_cpu + long.foreign_cpu
        wall += short.wall + long.wall
        failed += short.errors + long.errors
    stream_21 = statistics.median(per_short)
    return {
        "cpu_us_per_chunk": round(statistics.median(per_chunk), 2),
        "cpu_us_per_chunk_rounds": [round(x, 2) for x in per_chunk],
        "cpu_ms_per_stream_21": round(stream_21 * 1000, 3),
        "streams_21_per_cpu_second": round(1 / stream_21, 1) if stream_21 else None,
        "foreign_cpu_share": round(foreign / wall, 3) if wall else 0.0,
        "failed": failed,
    }


async def compare_apis(
    proxy: Target, direct: Target, sizes: dict[str, int], pii: float
) -> dict[str, Any]:
    """Responses API requests next to chat completions, measured the same way: the same
    prompts at concurrency 1 in interleaved pairs (direct, then through the proxy), not
    streamed and streamed. The APIs alternate in rounds, their order swapped every round,
    so that the machine's drift falls on both alike; figures pool the rounds."""
    apis = (CHAT, RESPONSES)
    for api in apis:  # warm-up: the Responses path has not run yet
        await run_batch(proxy.speaking(api), workload(100, pii, 5, api), 4)
        streams = workload(16, pii, 6, api, stream_events=SHORT_STREAM)
        await run_batch(proxy.speaking(api), streams, 4, stream=True)
    pairs: dict[tuple[str, str], list[tuple[Batch, Batch]]] = {}
    for r in range(API_ROUNDS):
        for mode, events in API_MODES.items():
            n = sizes["api_c1" if events is None else "api_stream"] // API_ROUNDS
            for api in apis if r % 2 == 0 else apis[::-1]:
                bodies = workload(n, pii, 40 + r, api, stream_events=events)
                pair = await run_pairs(
                    direct.speaking(api), proxy.speaking(api), bodies, stream=events is not None
                )
                pairs.setdefault((api.name, mode), []).append(pair)
    out: dict[str, Any] = {
        "rounds": API_ROUNDS,
        "stream_events": SHORT_STREAM,
        "requests_per_api": {"non_streamed": sizes["api_c1"], "streamed": sizes["api_stream"]},
    }
    for api in apis:
        out[api.name] = {
            mode: _api_figures(pairs[api.name, mode], events is not None)
            for mode, events in API_MODES.items()
        }
    out["ratio_responses_to_chat"] = _ratios(out["responses"], out["chat"])
    errors = Batch.pooled([b for mode in pairs.values() for pair in mode for b in pair]).errors
    out["failed_requests"], out["errors"] = len(errors), errors[:3]
    out["rss_mb_after"] = memory_mb(proxy.proc.pid) if proxy.proc else 0.0
    return out


def _api_figures(pairs: list[tuple[Batch, Batch]], streamed: bool) -> dict[str, Any]:
    direct = Batch.pooled([d for d, _ in pairs])
    through = Batch.pooled([t for _, t in pairs])
    out = {**_added(direct, through), **_load(through)}
    if streamed:
        ttfb = _added(direct, through, "ttfb")
        out.update(added_ttfb_p50_ms=ttfb["added_p50_ms"], added_ttfb_p99_ms=ttfb["added_p99_ms"])
    return out


def _ratios(responses: dict[str, Any], chat: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Responses / chat of every reported figure; None where chat's is not positive (an
    added latency within the noise)."""
    out: dict[str, dict[str, Any]] = {mode: {} for mode in API_MODES}
    for _, mode, key, _ in API_FIGURES:
        theirs, ours = chat[mode].get(key), responses[mode].get(key)
        ratio = round(ours / theirs, 3) if ours is not None and theirs and theirs > 0 else None
        out[mode][key] = ratio
    return out


async def startups(start: Any, n: int) -> tuple[Proc, list[float]]:
    """Start `n` times to time it, keep the last instance running. The first start is cold
    (for the sidecar: no compiled Hyperscan databases cached yet), the others warm."""
    times = []
    for i in range(n):
        proc: Proc = await start()
        times.append(round(proc.ready_seconds, 3))
        if i < n - 1:
            proc.stop()
    return proc, times


def startup_times(times: list[float]) -> dict[str, Any]:
    warm = times[1:] or times
    return {
        "startup_s": statistics.median(warm),
        "startup_cold_s": times[0],
        "startup_runs_s": times,
    }


def audit_overhead(path: Path, api: Api) -> dict[str, float]:
    """The sidecar's own accounting (audit `overhead_ms`) of one API's non-streamed requests."""
    values = []
    for line in path.read_bytes().splitlines():
        rec = orjson.loads(line)
        if rec.get("api") != api.audit_api or rec.get("stream"):
            continue
        if rec.get("outcome", {}).get("overhead_ms") is not None:
            values.append(rec["outcome"]["overhead_ms"] / 1000)
    return summary(values)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    pin_self()
    sizes = SIZES["quick" if args.quick else "full"]
    result: dict[str, Any] = {
        "benchmark": "llm-router load",
        "command": "python benchmarks/load.py " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "pinning": "proxy under test on cpu 0; upstream and load generator on cpu 1"
        if pinning_possible()
        else "none: fewer than 2 cpus available",
        "prompt_bytes": 4096,
        "pii_share": args.pii_share,
        "sizes": sizes,
        "stream_events": [SHORT_STREAM, LONG_STREAM],
        "decision_cache": not args.no_decision_cache,
        "proxies": {},
    }
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        upstream = start_upstream(args.gap_ms)
        direct = Target("direct", upstream.port, "bench-direct-key")
        try:
            cfg = sidecar_config(upstream.port, work, not args.no_decision_cache)
            proc, times = await startups(lambda: start_sidecar(cfg, work), args.startups)
            try:
                sidecar = Target("llm-router", proc.port, "app", proc)
                res = await measure(sidecar, direct, sizes, args.pii_share)
                apis = await compare_apis(sidecar, direct, sizes, args.pii_share)
                res["responses_vs_chat"] = apis
                res["failed_requests"] += apis["failed_requests"]
                res["errors"] += apis["errors"]
                res.update(startup_times(times))
            finally:
                proc.stop()
            res["audit_overhead"] = audit_overhead(work / "audit.jsonl", CHAT)
            res["audit_overhead_responses"] = audit_overhead(work / "audit.jsonl", RESPONSES)
            result["proxies"]["llm-router"] = res
            for name in dict.fromkeys(args.peer):
                run_peer = run_litellm if name == "litellm" else run_floor
                result["proxies"][name] = await run_peer(args, work, upstream, direct, sizes)
        finally:
            upstream.stop()
    result["targets"] = evaluate(result["proxies"]["llm-router"])
    return result


async def run_litellm(
    args: argparse.Namespace, work: Path, upstream: Proc, direct: Target, sizes: dict[str, int]
) -> dict[str, Any]:
    try:
        exe, version = ensure_litellm()
        start = lambda: start_litellm(exe, upstream.port, work)  # noqa: E731
        proc, times = await startups(start, min(args.startups, 2))
    except (PeerUnavailable, RuntimeError) as exc:
        return {"unavailable": str(exc)}
    try:
        target = Target("litellm", proc.port, MASTER_KEY, proc)
        res = await measure(target, direct, sizes, args.pii_share)
    finally:
        proc.stop()
    return {"version": version, **res, **startup_times(times)}


async def run_floor(
    args: argparse.Namespace, work: Path, upstream: Proc, direct: Target, sizes: dict[str, int]
) -> dict[str, Any]:
    proc, times = await startups(lambda: start_floor(upstream.port, work), 2)
    try:
        target = Target("floor", proc.port, "floor", proc)
        res = await measure(target, direct, sizes, args.pii_share)
    finally:
        proc.stop()
    return {**res, **startup_times(times)}


def machine() -> dict[str, Any]:
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next(
                (ln.split(":", 1)[1].strip() for ln in f if ln.startswith("model name")), ""
            )
    except OSError:
        pass
    return {
        "cpu": model,
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": list(os.getloadavg()),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests (make bench)")
    parser.add_argument(
        "--peer",
        action="append",
        default=[],
        choices=["litellm", "floor"],
        help="also measure the LiteLLM proxy, or the bare aiohttp pass-through (repeatable)",
    )
    parser.add_argument("--pii-share", type=float, default=0.5)
    parser.add_argument("--gap-ms", type=float, default=1.0, help="between streamed events")
    parser.add_argument("--startups", type=int, default=3, help="start-ups to time (median)")
    parser.add_argument("--no-decision-cache", action="store_true")
    parser.add_argument("--json", type=Path, help="also write the JSON here")
    args = parser.parse_args()
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        result = runner.run(run(args))
    result["machine"]["loadavg_at_end"] = list(os.getloadavg())
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")
    print(table(result), file=sys.stderr)


if __name__ == "__main__":
    main()
