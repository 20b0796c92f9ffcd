"""Hot reload under load: five policy changes, one of them broken, while requests flow."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
from pathlib import Path

import aiohttp
import openai

from sidecar.metrics import Metrics
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.reload import DirectoryWatcher, PolicyManager
from tests.conftest import POLICIES, HarnessFactory
from tests.test_routing import user


def write_revision(directory: Path, marker: str) -> None:
    """A revision whose decisions say which revision made them: an OpenRouter `order` for
    the alias the load uses (no policy test looks at that model, so its tests still pass)."""
    data = json.loads((POLICIES / "data.json").read_text())
    data["llm_router_config"]["model_preferences"] = {"openai/gpt-4o": {"order": [marker]}}
    tmp = directory / ".data.json.tmp"
    tmp.write_text(json.dumps(data))
    os.replace(tmp, directory / "data.json")


def revision_dir(tmp_path: Path, marker: str, broken: bool = False) -> Path:
    directory = tmp_path / marker
    shutil.copytree(POLICIES, directory)
    write_revision(directory, marker)
    if broken:  # compiles, but one of its own tests fails: it must never serve
        (directory / "broken_test.rego").write_text(
            "package llm_router_broken_test\n\nimport rego.v1\n\ntest_fails if {\n\t1 == 2\n}\n"
        )
    return directory


async def test_reload_under_load(make_harness: HarnessFactory, tmp_path: Path) -> None:
    policies = tmp_path / "mount"
    policies.mkdir()
    _configmap(policies, "rev-0", revision_dir(tmp_path, "rev-0"))
    h = await make_harness(policy={"path": str(policies), "watch_interval_s": 0.02})
    manager = h.sidecar.engine
    markers = {manager.revision: "rev-0"}
    stop = asyncio.Event()
    failures: list[BaseException] = []

    async def load() -> int:
        sent = 0
        while not stop.is_set():
            try:
                await h.client.chat.completions.create(
                    model="openai/gpt-4o",
                    messages=user("internal planning note"),
                    extra_headers={"X-LLM-Data-Class": "internal"},
                )
            except openai.APIError as exc:
                failures.append(exc)
            sent += 1
        return sent

    async def wait_for(predicate: object) -> None:
        for _ in range(500):
            if predicate():  # type: ignore[operator]
                return
            await asyncio.sleep(0.01)
        raise AssertionError("the watcher did not react")

    workers = [asyncio.create_task(load()) for _ in range(4)]
    broken_revision = None
    for step in range(1, 6):
        await asyncio.sleep(0.1)
        if step == 3:
            errors = h.metric("llm_router_policy_reload_errors_total")
            _configmap(policies, "rev-broken", revision_dir(tmp_path, "rev-broken", broken=True))
            await wait_for(lambda e=errors: h.metric("llm_router_policy_reload_errors_total") > e)
            broken_revision = manager.rejected
            continue
        before = manager.revision
        _configmap(policies, f"rev-{step}", revision_dir(tmp_path, f"rev-{step}"))
        await wait_for(lambda b=before: manager.revision != b)
        markers[manager.revision] = f"rev-{step}"
    await asyncio.sleep(0.1)
    stop.set()
    sent = sum(await asyncio.gather(*workers))

    assert failures == []
    records = h.audit_records()
    assert len(records) == sent > 40
    assert broken_revision is not None and broken_revision not in markers
    seen = set()
    for record in records:
        revision = record["policy"]["revision"]
        seen.add(revision)
        # One revision decided the whole request: its obligations carry that revision's marker.
        assert record["policy"]["obligations"]["provider_preferences"]["order"] == [
            markers[revision]
        ]
    assert broken_revision not in seen
    assert len(seen) >= 3
    assert h.metric("llm_router_policy_reloads_total") == 4
    assert h.metric("llm_router_policy_reload_errors_total") == 1
    assert (
        h.metric("llm_router_policy_revision_info", engine="embedded", revision=manager.revision)
        == 1
    )
    async with aiohttp.ClientSession() as s, s.get(h.running.admin_url + "/readyz") as r:
        body = await r.json()
    assert body["policy"]["revision"] == manager.revision


def _configmap(root: Path, version: str, source: Path) -> None:
    """Lay out files as the kubelet does: a timestamped dir, `..data` -> it (swapped
    atomically with a rename), and each file a link through ..data."""
    versioned = root / f"..{version}"
    shutil.copytree(source, versioned)
    tmp_link = root / "..data_tmp"
    tmp_link.symlink_to(versioned.name)
    os.replace(tmp_link, root / "..data")
    for f in versioned.iterdir():
        link = root / f.name
        if not link.is_symlink():
            link.symlink_to(Path("..data") / f.name)
    for stale in root.iterdir():  # files of the old version that the new one no longer has
        if stale.is_symlink() and not stale.name.startswith("..") and not stale.exists():
            stale.unlink()


def test_configmap_symlink_swap_is_picked_up(tmp_path: Path) -> None:
    v1, v2 = tmp_path / "v1", tmp_path / "v2"
    shutil.copytree(POLICIES, v1)
    shutil.copytree(POLICIES, v2)
    write_revision(v2, "rev-2")
    mount = tmp_path / "mount"
    mount.mkdir()
    _configmap(mount, "2026_11_25_a", v1)
    manager = PolicyManager(EmbeddedEngine.load(mount, 50), Metrics(), 50)
    watcher = DirectoryWatcher(mount, manager)
    first = manager.revision
    assert watcher.check() is None
    _configmap(mount, "2026_11_25_b", v2)
    assert watcher.check() is True
    assert manager.revision != first
    # A broken ConfigMap update never activates; the last good revision keeps serving.
    broken = tmp_path / "v3"
    shutil.copytree(v2, broken)
    (broken / "router.rego").write_text("package llm_router\n\ndecision := {\n")
    good = manager.revision
    _configmap(mount, "2026_11_25_c", broken)
    assert watcher.check() is False
    assert manager.revision == good and manager.rejected is not None
