"""The processes a load run measures, and what /proc says about them.

Every process under test runs on its own core (the sidecar or the peer proxy on one, the
upstream and the load generator on the other), its CPU time is read from
`/proc/<pid>/stat` (user + system, all threads, summed over its process tree since a proxy
may fork workers) and its memory from `/proc/<pid>/status`. Start-up is the time from spawn
to the first 200 of the readiness endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from rawhttp import get_status

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
PROXY_CPU = 0
"""The core of the proxy under test; the load generator and the upstream take the other."""
LOAD_CPU = 1


PINNABLE = hasattr(os, "sched_setaffinity") and {PROXY_CPU, LOAD_CPU} <= os.sched_getaffinity(0)
"""Decided once, before this process pins itself to the load generator's core."""


def pinning_possible() -> bool:
    return PINNABLE


def pin_self() -> None:
    if pinning_possible():
        os.sched_setaffinity(0, {LOAD_CPU})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out += [int(c) for c in f.read().split()]
    return out


def process_tree(pid: int) -> list[int]:
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo += _children(p)
    return pids


def cpu_seconds(pid: int) -> float:
    """User + system CPU of the process tree (all threads, dead ones included)."""
    ticks = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
    return ticks / TICK


def memory_mb(pid: int, field: str = "VmRSS") -> float:
    """VmRSS (now) or VmHWM (peak) of the process tree, in MiB."""
    kb = 0
    for p in process_tree(pid):
        with contextlib.suppress(OSError), open(f"/proc/{p}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    kb += int(line.split()[1])
    return round(kb / 1024, 1)


def core_busy_seconds(cpu: int) -> float:
    """Non-idle time of one core, from /proc/stat: what else ran on the proxy's core."""
    with open("/proc/stat") as f:
        for line in f:
            if line.startswith(f"cpu{cpu} "):
                v = [int(x) for x in line.split()[1:]]
                return (sum(v[:8]) - v[3] - v[4]) / TICK
    return 0.0


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen[bytes]
    spawned_at: float
    host: str = "127.0.0.1"
    port: int = 0
    ready_seconds: float = 0.0

    @property
    def pid(self) -> int:
        return self.popen.pid

    def cpu(self) -> float:
        return cpu_seconds(self.pid)

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait()


def spawn(name: str, cmd: list[str], cpu: int, env: dict[str, str], log: Path) -> Proc:
    def pin() -> None:
        if pinning_possible():
            os.sched_setaffinity(0, {cpu})

    with open(log, "ab") as out:
        popen = subprocess.Popen(
            cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, preexec_fn=pin
        )
    return Proc(name, popen, time.perf_counter())


def _tail(log: Path) -> str:
    return log.read_text(errors="replace")[-2000:]


async def wait_ready(proc: Proc, port: int, path: str, limit: float, log: Path) -> float:
    """Seconds from spawn to the first 200 on `path`."""
    deadline = proc.spawned_at + limit
    while time.perf_counter() < deadline:
        if proc.popen.poll() is not None:
            raise RuntimeError(f"{proc.name} exited with {proc.popen.returncode}:\n{_tail(log)}")
        if await get_status("127.0.0.1", port, path) == 200:
            proc.ready_seconds = time.perf_counter() - proc.spawned_at
            return proc.ready_seconds
        await asyncio.sleep(0.005)
    proc.stop()
    raise RuntimeError(f"{proc.name} was not ready within {limit} s:\n{_tail(log)}")


def start_upstream(gap_ms: float) -> Proc:
    """The loopback upstream on the load generator's core; it prints its port when ready."""
    cmd = [sys.executable, str(ROOT / "benchmarks" / "upstream.py"), "--gap-ms", str(gap_ms)]
    popen = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.PIPE, preexec_fn=pin_self)
    assert popen.stdout is not None
    line = popen.stdout.readline()
    if not line:
        raise RuntimeError("the upstream did not start")
    return Proc("upstream", popen, time.perf_counter(), port=int(line))


SIDECAR_KEYS = {"BENCH_OPENROUTER_KEY": "bench-or-key", "BENCH_OPENAI_KEY": "bench-oa-key"}


def sidecar_config(upstream_port: int, workdir: Path, decision_cache: bool) -> Path:
    """Two providers on the same loopback upstream: an aggregator for public prompts, a
    direct provider with a DPA that the default policy requires for personal data."""
    base = f"http://127.0.0.1:{upstream_port}"
    config: dict[str, Any] = {
        "listen": {"host": "127.0.0.1", "port": free_port()},
        "admin": {"host": "127.0.0.1", "port": free_port()},
        "providers": {
            "openrouter": {
                "kind": "aggregator",
                "base_url": base + "/openrouter/v1",
                "api_key_env": "BENCH_OPENROUTER_KEY",
            },
            "openai": {
                "kind": "direct",
                "base_url": base + "/openai/v1",
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
        "classification": {"compiled_cache_dir": str(workdir / "hyperscan")},
    }
    if not decision_cache:
        config["policy"]["decision_cache_size"] = 0
    path = workdir / "sidecar.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _spawn_sidecar(config: Path, workdir: Path) -> tuple[Proc, int]:
    cfg = yaml.safe_load(config.read_text())
    env = {**os.environ, **SIDECAR_KEYS}
    cmd = [sys.executable, "-m", "sidecar.cli", "serve", "--config", str(config)]
    proc = spawn(
        "sidecar", [*cmd, "--log-level", "warning"], PROXY_CPU, env, workdir / "sidecar.log"
    )
    proc.port = cfg["listen"]["port"]
    return proc, cfg["admin"]["port"]


async def start_floor(upstream_port: int, workdir: Path) -> Proc:
    """The bare aiohttp pass-through (benchmarks/floor.py) on the proxy core."""
    port = free_port()
    cmd = [sys.executable, str(ROOT / "benchmarks" / "floor.py"), "--port", str(port)]
    cmd += ["--upstream", f"http://127.0.0.1:{upstream_port}/floor/v1"]
    proc = spawn("floor", cmd, PROXY_CPU, dict(os.environ), workdir / "floor.log")
    proc.port = port
    await wait_ready(proc, port, "/ready", 30, workdir / "floor.log")
    return proc


async def start_sidecar(config: Path, workdir: Path) -> Proc:
    """`llm-router serve` on the proxy core; ready when the admin `/readyz` answers 200."""
    proc, admin_port = _spawn_sidecar(config, workdir)
    await wait_ready(proc, admin_port, "/readyz", 60, workdir / "sidecar.log")
    return proc
