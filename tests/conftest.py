"""Shared fixtures: loopback providers speaking the providers' wire formats, and a real sidecar.

The providers mirror a typical deployment: an aggregator with no DPA (OpenRouter), a direct
provider with a DPA (OpenAI), a direct provider with a DPA and a BAA (Google), all in
OpenAI's format, and Anthropic (DPA and BAA) in its own Messages format. Each test gets
fresh ones, so recorded bodies belong to that test alone.
"""

from __future__ import annotations

import atexit
import io
import shutil
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import openai
import orjson
import pytest

from sidecar.app import Sidecar
from sidecar.config import Config
from sidecar.demo import PROVIDERS as DEMO_PROVIDERS
from sidecar.demo import ROUTES as DEMO_ROUTES
from sidecar.emulators.anthropic import AnthropicEmulator
from sidecar.emulators.openai import OpenAIEmulator
from sidecar.serve import Running
from tests.audit_tap import AuditTap

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "policies"
KEYS = {
    "openrouter": "sk-or-test-7f3a9c1d2e",
    "openai": "sk-openai-test-4b8e6d0f1a",
    "google": "gm-test-9c2d7e5b3f",
    "anthropic": "sk-ant-test-0a1b2c3d4e",
}
APP_KEY = "sk-app-must-never-be-forwarded-31337"
COMPILED_CACHE = Path(tempfile.mkdtemp(prefix="llm-router-hs-"))
atexit.register(shutil.rmtree, COMPILED_CACHE, ignore_errors=True)
TAP = AuditTap()
"""Every audit line of the session; checked when the session ends (see audit_tap.py)."""
TAP.plant(*KEYS.values(), APP_KEY)
# The same three-provider topology as `llm-router demo`.
PROVIDERS = DEMO_PROVIDERS
ROUTES = DEMO_ROUTES


def config_dict(urls: dict[str, str], **overrides: Any) -> dict[str, Any]:
    providers = {
        name: {
            **spec,
            "base_url": urls[name],
            "api_key_env": f"TEST_{name.upper()}_KEY",
            "timeouts": {"connect": 2, "first_byte": 2, "total": 5},
        }
        for name, spec in PROVIDERS.items()
    }
    providers["anthropic"] = {
        "api": "anthropic",
        "kind": "direct",
        "base_url": urls["anthropic"],
        "api_key_env": "TEST_ANTHROPIC_KEY",
        "compliance": {"dpa": True, "baa": True, "regions": ["us"]},
        "timeouts": {"connect": 2, "first_byte": 2, "total": 5},
    }
    data: dict[str, Any] = {
        "listen": {"host": "127.0.0.1", "port": 0},
        "admin": {"host": "127.0.0.1", "port": 0},
        "providers": providers,
        "models": {
            "gpt-4o": {"aliases": ["openai/gpt-4o"], "routes": ROUTES},
            "claude-sonnet-5": {
                "aliases": ["anthropic/claude-sonnet-5"],
                "routes": [
                    {"provider": "openrouter", "model": "anthropic/claude-sonnet-5"},
                    {"provider": "anthropic", "model": "claude-sonnet-5"},
                ],
            },
            "claude-via-aggregator": {
                "routes": [{"provider": "openrouter", "model": "anthropic/claude-haiku-4-5"}]
            },
            "embed-small": {
                "routes": [
                    {"provider": "openrouter", "model": "openai/text-embedding-3-small"},
                    {"provider": "openai", "model": "text-embedding-3-small"},
                ]
            },
        },
        "policy": {"path": str(POLICIES)},
        "workload": {"namespace": "claims", "pod": "claims-api-1", "service_account": "claims"},
        # Hyperscan's compiler takes ~3 s per sidecar; the suite compiles once and loads the
        # databases from here (the start-up cache operators use too, see dbcache.py).
        "classification": {"compiled_cache_dir": str(COMPILED_CACHE)},
    }
    data.update(overrides)
    return data


@pytest.fixture(scope="session", autouse=True)
def audit_tap() -> Iterator[AuditTap]:
    with pytest.MonkeyPatch.context() as mp:
        TAP.install(mp)
        yield TAP


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """The whole suite's audit output: schema, hash chains, and no planted value."""
    if not TAP.lines:
        return
    problems = TAP.check()
    session.config.stash[_TAP_PROBLEMS] = problems
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    problems = terminalreporter.config.stash.get(_TAP_PROBLEMS, None)
    if problems is None:
        return
    terminalreporter.write_sep("-", "audit output of the whole session")
    terminalreporter.write_line(
        f"{len(TAP.lines)} audit lines from {TAP.instances()} sidecar instances; "
        f"{len(TAP.planted)} planted values ({TAP.prompts} prompt segments, "
        f"{TAP.values} matched values, test keys)"
    )
    if problems:
        for problem in problems[:50]:
            terminalreporter.write_line("FAIL " + problem, red=True)
    else:
        terminalreporter.write_line(
            "valid against the schema, every chain verifies, no planted value found"
        )


_TAP_PROBLEMS = pytest.StashKey[list[str]]()


def key_environ() -> dict[str, str]:
    return {f"TEST_{name.upper()}_KEY": key for name, key in KEYS.items()}


Emulator = OpenAIEmulator | AnthropicEmulator


def make_emulators() -> dict[str, Emulator]:
    return {
        name: AnthropicEmulator(name, key)
        if name == "anthropic"
        else OpenAIEmulator(name, key, responses=name != "google")  # Gemini: chat only
        for name, key in KEYS.items()
    }


@dataclass
class Harness:
    upstreams: dict[str, Any]
    sidecar: Sidecar
    running: Running
    audit: io.BytesIO
    client: openai.AsyncOpenAI

    @property
    def base_url(self) -> str:
        return self.running.app_url + "/v1"

    def audit_records(self) -> list[dict[str, Any]]:
        """Every record so far: the writer thread is given time to write what is buffered."""
        assert self.sidecar.audit.wait_written(), "the audit writer did not catch up"
        return [orjson.loads(line) for line in self.audit.getvalue().splitlines()]

    def received_by(self, name: str) -> int:
        return len(self.upstreams[name].received)

    def metric(self, name: str, **labels: str) -> float:
        value = self.sidecar.metrics.registry.get_sample_value(name, labels)
        return value or 0.0


@pytest.fixture
async def upstreams() -> AsyncIterator[dict[str, Emulator]]:
    emulators = make_emulators()
    for emu in emulators.values():
        await emu.start()
    yield emulators
    for emu in emulators.values():
        await emu.stop()


HarnessFactory = Callable[..., Any]


@pytest.fixture
async def make_harness(
    upstreams: dict[str, Emulator],
) -> AsyncIterator[HarnessFactory]:
    started: list[Harness] = []

    async def factory(environ: dict[str, str] | None = None, **overrides: Any) -> Harness:
        urls = {name: emu.base_url for name, emu in upstreams.items()}
        config = Config.model_validate(config_dict(urls, **overrides))
        audit = io.BytesIO()
        env = key_environ() if environ is None else environ
        sidecar = Sidecar.build(config, audit_stream=audit, environ=env)
        running = await Running(sidecar).start()
        client = openai.AsyncOpenAI(
            base_url=running.app_url + "/v1", api_key=APP_KEY, max_retries=0, timeout=10
        )
        harness = Harness(upstreams, sidecar, running, audit, client)
        started.append(harness)
        return harness

    yield factory
    for harness in started:
        await harness.client.close()
        await harness.running.stop()


@pytest.fixture
async def harness(make_harness: HarnessFactory) -> Harness:
    h: Harness = await make_harness()
    return h


def run_cli(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """Run `llm-router` as an operator would, in a separate process."""
    return subprocess.run(
        [sys.executable, "-m", "sidecar.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
