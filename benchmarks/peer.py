"""The LiteLLM proxy as a peer, measured in the same run on the same upstream.

Installed on first use into its own virtual environment (`benchmarks/.peer-venv`, ignored
by git) so that its dependencies never meet the sidecar's. It gets one worker, a model
`gpt-4o` pointing at the loopback upstream through its `openai/` provider, and no database,
cache or callbacks: the cheapest configuration LiteLLM offers, so the ratio is fair to it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from procs import PROXY_CPU, ROOT, Proc, free_port, spawn, wait_ready

VENV = ROOT / "benchmarks" / ".peer-venv"
REQUIREMENT = "litellm[proxy]"
MASTER_KEY = "sk-bench-master"


class PeerUnavailable(Exception):
    """The peer could not be installed or started here; the report says why."""


def ensure_litellm() -> tuple[Path, str]:
    """The `litellm` executable and its version, installing it on first use."""
    exe, python = VENV / "bin" / "litellm", VENV / "bin" / "python"
    if not exe.exists():
        print(f"installing {REQUIREMENT} into {VENV.relative_to(ROOT)} ...", file=sys.stderr)
        try:
            subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", REQUIREMENT],
                check=True,
                capture_output=True,
            )
        except subprocess.CalledProcessError as exc:
            err = (exc.stderr or b"").decode(errors="replace")[-600:]
            raise PeerUnavailable(f"pip install {REQUIREMENT} failed: {err}") from None
    probe = "import importlib.metadata as m; print(m.version('litellm'))"
    done = subprocess.run([str(python), "-c", probe], capture_output=True, text=True)
    if done.returncode != 0 or not exe.exists():
        raise PeerUnavailable(f"{VENV.relative_to(ROOT)} has no working litellm")
    return exe, done.stdout.strip()


def litellm_config(upstream_port: int, workdir: Path) -> Path:
    config: dict[str, Any] = {
        "model_list": [
            {
                "model_name": "gpt-4o",
                "litellm_params": {
                    "model": "openai/gpt-4o",
                    "api_base": f"http://127.0.0.1:{upstream_port}/litellm/v1",
                    "api_key": "bench-litellm-key",
                },
            }
        ],
        "litellm_settings": {"drop_params": True, "telemetry": False},
        "general_settings": {"master_key": MASTER_KEY},
    }
    path = workdir / "litellm.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _spawn_litellm(exe: Path, upstream_port: int, workdir: Path) -> Proc:
    port = free_port()
    env = {
        **os.environ,
        "LITELLM_LOCAL_MODEL_COST_MAP": "True",  # no fetch from the internet at start-up
        "LITELLM_LOG": "ERROR",
        "LITELLM_TELEMETRY": "False",
        "DISABLE_ADMIN_UI": "True",
    }
    cmd = [str(exe), "--config", str(litellm_config(upstream_port, workdir))]
    cmd += ["--host", "127.0.0.1", "--port", str(port), "--num_workers", "1"]
    proc = spawn("litellm", cmd, PROXY_CPU, env, workdir / "litellm.log")
    proc.port = port
    return proc


async def start_litellm(exe: Path, upstream_port: int, workdir: Path) -> Proc:
    """One worker on the proxy core; ready when `/health/readiness` answers 200."""
    proc = _spawn_litellm(exe, upstream_port, workdir)
    await wait_ready(proc, proc.port, "/health/readiness", 120, workdir / "litellm.log")
    return proc
