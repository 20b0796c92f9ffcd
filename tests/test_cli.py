"""The `llm-router` command as an operator runs it: a real process, real signals."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import openai
import pytest
import yaml

from tests.conftest import (
    APP_KEY,
    KEYS,
    POLICIES,
    config_dict,
    make_emulators,
    run_cli,
)
from tests.serve_process import spawn_serve, wait_started
from tests.test_routing import EMAIL, user


def test_policy_test_command_passes_on_shipped_policies() -> None:
    proc = run_cli("policy", "test", str(POLICIES))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "PASS" in proc.stdout and "FAIL" not in proc.stdout.replace("0 failed", "")


def test_policy_test_command_fails_on_a_failing_test(tmp_path: Path) -> None:
    for f in POLICIES.iterdir():
        if f.is_file():
            (tmp_path / f.name).write_bytes(f.read_bytes())
    (tmp_path / "extra_test.rego").write_text(
        "package llm_router_extra_test\n\nimport rego.v1\n\ntest_always_fails if {\n  1 == 2\n}\n"
    )
    proc = run_cli("policy", "test", str(tmp_path))
    assert proc.returncode == 1
    assert "FAIL" in proc.stdout and "test_always_fails" in proc.stdout


async def test_serve_process_routes_logs_no_secrets_and_stops_on_sigterm(tmp_path: Path) -> None:
    emulators = make_emulators()
    for emu in emulators.values():
        await emu.start()
    try:
        cfg = config_dict({n: e.base_url for n, e in emulators.items()})
        cfg["audit"] = {"sink": "file", "path": str(tmp_path / "audit.jsonl")}
        cfg_file = tmp_path / "config.yaml"
        cfg_file.write_text(yaml.safe_dump(cfg))
        proc = await spawn_serve(cfg_file, stdout=asyncio.subprocess.PIPE)
        lines: list[bytes] = []
        started = await wait_started(proc, lines)
        client = openai.AsyncOpenAI(
            base_url=started["listen"] + "/v1", api_key=APP_KEY, max_retries=0
        )
        public = await client.chat.completions.create(model="gpt-4o", messages=user("hi"))
        private = await client.chat.completions.create(model="gpt-4o", messages=user(f"to {EMAIL}"))
        await client.close()
        assert "openrouter" in (public.choices[0].message.content or "")
        assert "openai" in (private.choices[0].message.content or "")
        proc.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(proc.communicate(), timeout=30)
        assert proc.returncode == 0
        everything = out + b"".join(lines) + err + (tmp_path / "audit.jsonl").read_bytes()
        for secret in [*KEYS.values(), APP_KEY, EMAIL]:
            assert secret.encode() not in everything
        assert len((tmp_path / "audit.jsonl").read_bytes().splitlines()) == 2
    finally:
        for emu in emulators.values():
            await emu.stop()


@pytest.mark.parametrize("argv", [["--help"], ["policy", "--help"]])
def test_help(argv: list[str]) -> None:
    proc = run_cli(*argv)
    assert proc.returncode == 0 and "usage" in proc.stdout
