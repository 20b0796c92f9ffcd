"""A run of bad bundles must not leave the sidecar bigger than it was.

A review served a sequence of bad bundles to `llm-router serve` and saw RSS rise from 84 to
197 MB. Three causes, each bounded now (see the README's "Changing the policy safely"):
the gzip bomb was decompressed up to the 32 MiB cap before the size check (now refused from
its member header, tests in test_bundle_archive.py); glibc kept the freed buffers of large
bundles resident (now one reader thread and `malloc_trim` after each bundle); and, with
`RUST_BACKTRACE=1` in the environment, the first regorus error loaded the library's debug
information, about 58 MB, to symbolise a backtrace nobody reads (now `RUST_LIB_BACKTRACE=0`).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import aiohttp
import pytest
import yaml

from sidecar.emulators.bundles import BundleServer, build_bundle
from tests.conftest import POLICIES, ROOT, config_dict, make_emulators
from tests.policy.bundle_support import BROKEN, bad_bundles, policy_files, served_and_processed
from tests.serve_process import spawn_serve, wait_started


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


@pytest.fixture
def rust_backtraces(monkeypatch: pytest.MonkeyPatch) -> None:
    """Child processes get RUST_BACKTRACE=1 and no RUST_LIB_BACKTRACE, whatever this
    process has (importing the sidecar sets it here too)."""
    monkeypatch.setenv("RUST_BACKTRACE", "1")
    monkeypatch.delenv("RUST_LIB_BACKTRACE", raising=False)


PROBE = f"""
import regorus
from pathlib import Path
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.errors import PolicyLoadError
from sidecar.policy.loader import PolicySource

def rss():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024

before = rss()
try:
    EmbeddedEngine.from_source(PolicySource(Path("b"), {{"b.rego": {BROKEN!r}}}, None), 50)
except PolicyLoadError:
    pass
grown = rss() - before
try:
    regorus.Engine().add_policy("b.rego", {BROKEN!r})
except Exception as exc:
    print("backtrace" if "Stack backtrace" in str(exc) else "none", grown)
"""


@pytest.mark.usefixtures("rust_backtraces")
def test_an_engine_error_captures_no_backtrace_even_with_rust_backtrace_set() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    captured, grown = proc.stdout.split()
    assert captured == "none"
    assert float(grown) < 20, f"the first compile error cost {grown} MB"


@pytest.mark.usefixtures("rust_backtraces")
async def test_rss_after_a_run_of_bad_bundles_stays_near_where_it_started(
    tmp_path: Path,
) -> None:
    emulators = make_emulators()
    for emu in emulators.values():
        await emu.start()
    try:
        async with BundleServer() as server:
            server.publish(build_bundle(policy_files("policies/"), {"revision": "good-0"}))
            cfg = config_dict(
                {n: e.base_url for n, e in emulators.items()},
                policy={
                    "path": str(POLICIES),
                    "bundle": {"url": server.url, "min_delay_s": 0.02, "max_delay_s": 0.05},
                },
            )
            cfg_file = tmp_path / "config.yaml"
            cfg_file.write_text(yaml.safe_dump(cfg))
            proc = await spawn_serve(cfg_file)
            lines: list[bytes] = []
            try:
                started = await wait_started(proc, lines)
                drain = asyncio.create_task(_drain(proc))
                await _wait_ready(started["admin"])
                start = rss_mb(proc.pid)
                peak = start
                for n in range(2):
                    for _kind, archive in bad_bundles(n):
                        before = len(server.received)
                        server.publish(archive)
                        await served_and_processed(server, before)
                        peak = max(peak, rss_mb(proc.pid))
                before = len(server.received)
                server.publish(build_bundle(policy_files("policies/"), {"revision": "good-1"}))
                await served_and_processed(server, before)
                end = rss_mb(proc.pid)
            finally:
                proc.terminate()
                await proc.wait()
            drain.cancel()
    finally:
        for emu in emulators.values():
            await emu.stop()
    # Before the fixes the same run ended 70 to 80 MB above its start.
    assert end - start < 10, f"RSS {start:.0f} MB -> {end:.0f} MB (peak {peak:.0f} MB)"


async def _drain(proc: asyncio.subprocess.Process) -> None:
    assert proc.stderr is not None
    while await proc.stderr.readline():
        pass


async def _wait_ready(admin: str) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(500):
            async with http.get(admin + "/readyz") as response:
                if response.status == 200:
                    return
            await asyncio.sleep(0.02)
    raise AssertionError("the first bundle never activated")
