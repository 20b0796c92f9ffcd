"""`llm-router serve` as a child process, for tests that need a real process (signals,
restarts, exit codes): started with the test keys in its environment, and read until its
`started` log event says where it listens."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import orjson

from tests.conftest import key_environ


async def spawn_serve(cfg_file: Path, *, stdout: int = asyncio.subprocess.DEVNULL) -> Any:
    """The process, its stderr piped (the structured log)."""
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sidecar.cli",
        "serve",
        "--config",
        str(cfg_file),
        env={**os.environ, **key_environ()},
        stdout=stdout,
        stderr=asyncio.subprocess.PIPE,
    )


async def wait_started(proc: asyncio.subprocess.Process, lines: list[bytes]) -> dict[str, Any]:
    """The `started` event (with `listen` and `admin`); every stderr line read on the way is
    kept in `lines`, and shown if the process exits first."""
    assert proc.stderr is not None
    while True:
        line = await asyncio.wait_for(proc.stderr.readline(), timeout=60)
        if not line:
            raise AssertionError(b"".join(lines).decode("utf-8", "replace"))
        lines.append(line)
        try:
            event = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(event, dict) and event.get("event") == "started":
            return event
