"""What every row of the hostile-conditions benchmark shares: a real `llm-router serve`
process on loopback emulators, its stderr and audit file kept, and the three counts each
row reports.

- leaked: planted values (prompt text, e-mail addresses, AWS key ids, provider keys) found
  anywhere they must never be: in what the app got back, in the sidecar's log, in its audit
  records, or in an upstream the row says must not see them;
- lost: requests the app sent that left no audit record (nor a counted drop, where the row
  allows drops), or answers that never came;
- crashed: the process died, exited non-zero on SIGTERM, or logged an unhandled exception.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

from sidecar.emulators.anthropic import AnthropicEmulator
from sidecar.emulators.openai import OpenAIEmulator

ROOT = Path(__file__).resolve().parent.parent
KEYS = {
    "openrouter": "sk-or-v1-hostile0123456789abcdef0123456789abcdef",
    "openai": "sk-proj-hostileOA0123456789abcdefghijklmnop",
    "anthropic": "sk-ant-api03-hostileAN0123456789abcdefghijkl",
}
EMAIL = "jane.roe@example.com"
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"
PROMPT = f"secret prompt for {EMAIL} with {AWS_KEY}"
PLANTED = (EMAIL, AWS_KEY, "secret prompt", *KEYS.values())


@dataclass
class Row:
    attack: str
    tried: str
    times: int
    result: str
    leaked: int = 0
    lost: int = 0
    crashed: int = 0
    figures: dict[str, Any] = field(default_factory=dict)


def leaks(*texts: bytes | str) -> int:
    """How many planted values occur, summed over the texts."""
    found = 0
    for text in texts:
        raw = text.encode() if isinstance(text, str) else text
        found += sum(raw.count(value.encode()) for value in PLANTED)
    return found


def emulators(**options: Any) -> dict[str, OpenAIEmulator | AnthropicEmulator]:
    return {
        name: AnthropicEmulator(name, key, **options)
        if name == "anthropic"
        else OpenAIEmulator(name, key, **options)
        for name, key in KEYS.items()
    }


def config(urls: dict[str, str], workdir: Path, **overrides: Any) -> dict[str, Any]:
    compliance = {
        "openrouter": ("aggregator", {"regions": ["us"]}),
        "openai": ("direct", {"dpa": True, "regions": ["us"]}),
        "anthropic": ("direct", {"dpa": True, "baa": True, "regions": ["us"]}),
    }
    providers = {
        name: {
            "api": "anthropic" if name == "anthropic" else "openai",
            "kind": kind,
            "base_url": urls[name],
            "api_key_env": f"HOSTILE_{name.upper()}_KEY",
            "compliance": claims,
            "timeouts": {"connect_s": 2, "first_byte_s": 2, "idle_s": 1, "total_s": 10},
            "circuit_breaker": {"failures": 5, "cooldown_s": 30},
        }
        for name, (kind, claims) in compliance.items()
    }
    base: dict[str, Any] = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "admin": {"host": "127.0.0.1", "port": 0},
        "providers": providers,
        "models": {
            "gpt-4o": {
                "routes": [
                    {"provider": "openrouter", "model": "openai/gpt-4o"},
                    {"provider": "openai", "model": "gpt-4o"},
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
        "shutdown_grace_s": 10,
    }
    base.update(overrides)
    return base


class Sidecar:
    """`llm-router serve` as a child process; `stop()` sends SIGTERM and collects."""

    def __init__(self, cfg: dict[str, Any], workdir: Path, stdout: int | None = None) -> None:
        self.cfg = cfg
        self.workdir = workdir
        self.stdout = stdout if stdout is not None else asyncio.subprocess.DEVNULL
        self.proc: asyncio.subprocess.Process | None = None
        self.listen = self.admin = ""
        self.stderr = b""
        self.exit_code: int | None = None
        self.stop_seconds = 0.0
        self._lines: list[bytes] = []
        self._reader: asyncio.Task[None] | None = None

    @property
    def config_file(self) -> Path:
        return self.workdir / "config.yaml"

    async def start(self) -> Sidecar:
        self.config_file.write_text(yaml.safe_dump(self.cfg))
        env = {**os.environ, **{f"HOSTILE_{n.upper()}_KEY": k for n, k in KEYS.items()}}
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "sidecar.cli",
            "serve",
            "--config",
            str(self.config_file),
            env=env,
            cwd=ROOT,
            stdout=self.stdout,
            stderr=asyncio.subprocess.PIPE,
        )
        assert self.proc.stderr is not None
        while True:
            line = await asyncio.wait_for(self.proc.stderr.readline(), timeout=60)
            if not line:
                raise RuntimeError(b"".join(self._lines).decode("utf-8", "replace"))
            self._lines.append(line)
            event = _json(line)
            if event.get("event") == "started":
                self.listen, self.admin = str(event["listen"]), str(event["admin"])
                break
        self._reader = asyncio.create_task(self._read_rest())
        return self

    async def _read_rest(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self._lines.append(line)

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def alive(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def events(self) -> list[dict[str, Any]]:
        return [e for line in self._lines if (e := _json(line))]

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def rss_mb(self) -> float:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
        return 0.0

    async def stop(self, wait_s: float = 60) -> None:
        assert self.proc is not None
        loop = asyncio.get_running_loop()
        t0 = loop.time()
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = await asyncio.wait_for(self.proc.wait(), wait_s)
        except TimeoutError:
            self.proc.kill()
            self.exit_code = await self.proc.wait()
        self.stop_seconds = round(loop.time() - t0, 2)
        if self._reader is not None:
            await self._reader
        self.stderr = b"".join(self._lines)

    def crashed(self) -> int:
        """1 if the process died or exited non-zero, plus every unhandled exception logged."""
        bad_exit = int(self.exit_code != 0)
        tracebacks = self.stderr.count(b"Traceback")
        unhandled = sum(
            1 for e in self.events() if e.get("event") in ("internal_error", "http_error")
        )
        return bad_exit + tracebacks + unhandled

    def audit_records(self) -> list[dict[str, Any]]:
        path = self.workdir / "audit.jsonl"
        if not path.exists():
            return []
        return [orjson.loads(line) for line in path.read_bytes().splitlines()]

    def audit_bytes(self) -> bytes:
        path = self.workdir / "audit.jsonl"
        return path.read_bytes() if path.exists() else b""


def _json(line: bytes) -> dict[str, Any]:
    try:
        value = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return value if isinstance(value, dict) else {}


async def started(emus: Iterable[OpenAIEmulator | AnthropicEmulator]) -> None:
    for emu in emus:
        await emu.start()


async def stopped(emus: Iterable[OpenAIEmulator | AnthropicEmulator]) -> None:
    for emu in emus:
        await emu.stop()


def workdir() -> tempfile.TemporaryDirectory[str]:
    return tempfile.TemporaryDirectory(prefix="hostile-")


def chat(model: str = "gpt-4o", text: str = PROMPT, **extra: Any) -> bytes:
    return orjson.dumps({"model": model, "messages": [{"role": "user", "content": text}], **extra})


async def post_chat(session: aiohttp.ClientSession, listen: str, text: str) -> int:
    """One chat request as an app would send it; its status once the body has been read."""
    async with session.post(
        listen + "/v1/chat/completions",
        data=chat(text=text),
        headers={"content-type": "application/json"},
    ) as resp:
        await resp.read()
        return resp.status


def metric_sum(exposition: str, name: str) -> float:
    """The sum of a metric's samples over all its label sets (0 when it has none)."""
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in exposition.splitlines()
        if line.startswith((name + " ", name + "{"))
    )
