"""Bundle failures are visible: every refused bundle and failed poll is counted by reason,
the time of the last activation and of the last confirmation are exported, and a bundle
that has not been confirmed for `max_staleness_s` makes /readyz say degraded (still 200:
the last good policy keeps serving)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import aiohttp
import pydantic
import pytest

from sidecar.config import BundleConfig
from sidecar.emulators.bundles import BundleServer, build_bundle
from sidecar.metrics import Metrics
from sidecar.policy.bundle.errors import FAILURE_REASONS
from sidecar.policy.bundle.health import STALE_AFTER_POLLS, BundleHealth
from sidecar.policy.bundle.poller import BundlePoller
from sidecar.policy.embedded import EmbeddedEngine
from sidecar.policy.reload import PolicyManager
from tests.conftest import HarnessFactory
from tests.policy.bundle_support import (
    MINIMAL,
    policy_files,
    raw_tar_gz,
    regular,
    revision_bundle,
)
from tests.policy.support import POLICIES

FAILURES = "llm_router_policy_bundle_failures_total"
LAST_SUCCESS = "llm_router_policy_bundle_last_success_timestamp_seconds"
LAST_ACTIVATION = "llm_router_policy_bundle_last_activation_timestamp_seconds"
CONSECUTIVE = "llm_router_policy_bundle_consecutive_poll_failures"
MAX_STALENESS = "llm_router_policy_bundle_max_staleness_seconds"


class Clock:
    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class World:
    """A bundle server, and a poller feeding a real PolicyManager, on one Metrics."""

    def __init__(self, server: BundleServer, clock: Clock, **poller: Any) -> None:
        self.server = server
        self.clock = clock
        self.metrics = Metrics()
        engine = EmbeddedEngine.load(POLICIES, 50)
        self.manager = PolicyManager(engine, self.metrics, 50, awaiting_bundle=True)
        self.health = BundleHealth(
            server.url, 0.02, 10, collectors=self.metrics.bundle, clock=clock
        )
        self.poller = BundlePoller(
            server.url,
            apply=self.manager.apply,
            refused=self.manager.reject,
            health=self.health,
            min_delay=0.01,
            max_delay=0.02,
            timeout=poller.pop("timeout", 2),
            **poller,
        )

    def sample(self, name: str, **labels: str) -> float | None:
        return self.metrics.registry.get_sample_value(name, labels)

    def failures(self, reason: str) -> float:
        return self.sample(FAILURES, reason=reason) or 0.0


@pytest.fixture
async def world() -> AsyncIterator[World]:
    async with BundleServer() as server:
        server.publish(revision_bundle("v1"))
        w = World(server, Clock())
        yield w
        await w.poller.stop()


def with_module(name: str, text: str, revision: str) -> bytes:
    return build_bundle({**policy_files("policies/"), name: text}, {"revision": revision})


# The seven kinds of bad bundle of the review that found them uncounted.
BAD_BUNDLES: list[tuple[str, Callable[[], bytes]]] = [
    ("not_gzip", lambda: b"<html>502 Bad Gateway</html>"),
    ("truncated", lambda: revision_bundle("cut")[:1500]),
    (
        "unsafe_member",
        lambda: raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("../p.rego", b"x")),
    ),
    (
        "too_large",
        lambda: raw_tar_gz(regular("p.rego", MINIMAL.encode()), regular("bomb", bytes(64 << 20))),
    ),
    (
        "invalid_data",
        lambda: build_bundle({**policy_files("policies/"), "data.json": '{"a": 1,'}),
    ),
    (
        "compile_error",
        lambda: with_module("policies/zz.rego", "package llm_router\n\ndecision := {\n", "ce"),
    ),
    (
        "test_failure",
        lambda: with_module(
            "policies/zz_test.rego",
            "package llm_router_more_test\n\nimport rego.v1\n\ntest_fails if { 1 == 2 }\n",
            "tf",
        ),
    ),
]


async def test_every_kind_of_bad_bundle_is_counted_by_reason(world: World) -> None:
    assert await world.poller.poll_once() == "updated"
    assert world.manager.revision == "v1"
    for reason in FAILURE_REASONS:  # every series exists from the start, at 0
        assert world.sample(FAILURES, reason=reason) == 0.0
    for n, (reason, make) in enumerate(BAD_BUNDLES, start=1):
        world.server.publish(make())
        assert await world.poller.poll_once() == "rejected", reason
        assert world.failures(reason) == 1.0, reason
        assert world.sample("llm_router_policy_reload_errors_total") == n, reason
        assert world.manager.rejected is not None, reason
        assert world.health.last_failure is not None
        assert world.health.last_failure.reason == reason
        # Remembered: the same bad bundle is neither fetched nor counted again.
        assert await world.poller.poll_once() == "not_modified"
        assert world.failures(reason) == 1.0
        assert world.manager.revision == "v1", "the last good policy keeps serving"
    assert dict(world.health.failures) == {reason: 1 for reason, _ in BAD_BUNDLES}
    assert world.sample(CONSECUTIVE) == 0.0, "the server answered every time"


async def test_poll_failures_are_counted_by_reason(world: World) -> None:
    world.server.fail_status = 500
    assert await world.poller.poll_once() == "error"
    assert await world.poller.poll_once() == "error"
    assert world.failures("http_status") == 2.0
    assert world.sample(CONSECUTIVE) == 2.0
    world.server.fail_status = None
    world.server.delay_s = 1.0
    stalled = World(world.server, world.clock, timeout=0.2)
    try:
        assert await stalled.poller.poll_once() == "error"
        assert stalled.failures("timeout") == 1.0
    finally:
        await stalled.poller.stop()
    world.server.delay_s = 0.0
    assert await world.poller.poll_once() == "updated"
    assert world.sample(CONSECUTIVE) == 0.0
    await world.server.stop()
    assert await world.poller.poll_once() == "error"
    assert world.failures("connect_error") == 1.0
    assert world.sample(CONSECUTIVE) == 1.0


async def test_activation_and_confirmation_times_are_exported(world: World) -> None:
    clock = world.clock
    assert world.sample(LAST_ACTIVATION) == 0.0 and world.sample(LAST_SUCCESS) == 0.0
    assert world.sample(MAX_STALENESS) == 10.0
    start = clock.now
    assert await world.poller.poll_once() == "updated"
    assert world.sample(LAST_ACTIVATION) == start == world.sample(LAST_SUCCESS)
    clock.now += 3
    assert await world.poller.poll_once() == "not_modified"  # 304 for the active bundle
    assert world.sample(LAST_SUCCESS) == start + 3
    assert world.sample(LAST_ACTIVATION) == start


async def test_a_bundle_goes_stale_without_confirmation_and_fresh_again(world: World) -> None:
    health, clock, server = world.health, world.clock, world.server
    assert health.stale and health.degraded() == "policy bundle stale: no bundle received yet"
    assert await world.poller.poll_once() == "updated"
    assert not health.stale and health.degraded() is None

    server.fail_status = 500
    clock.now += 6
    assert await world.poller.poll_once() == "error"
    assert not health.stale, "6 s without confirmation, 10 allowed"
    clock.now += 5
    assert health.stale
    assert health.degraded() == (
        "policy bundle stale: no current bundle for 11 s (max_staleness_s 10); "
        "last failure: http_status (HTTP 500)"
    )
    status = health.status()
    assert status["stale"] is True and status["age_s"] == 11.0
    assert status["last_failure"]["reason"] == "http_status"

    server.fail_status = None
    assert await world.poller.poll_once() == "not_modified"  # the server still has v1
    assert not health.stale

    # A refused bundle keeps being offered: the server answers, but not with what serves.
    server.serve_corrupt = True
    assert await world.poller.poll_once() == "rejected"
    for _ in range(3):
        clock.now += 4
        assert await world.poller.poll_once() == "not_modified"  # 304 for the refused one
    assert health.stale and health.consecutive_poll_failures == 0
    reason = health.degraded()
    assert reason is not None and "last failure: truncated" in reason
    server.serve_corrupt = False
    assert await world.poller.poll_once() == "not_modified"
    assert not health.stale


def test_health_defaults_and_arguments() -> None:
    assert BundleHealth("u", 60).max_staleness_s == STALE_AFTER_POLLS * 60 == 600
    assert BundleHealth("u", 60, 120).max_staleness_s == 120
    with pytest.raises(ValueError, match="positive"):
        BundleHealth("u", 60, -1)
    assert BundleConfig(url="http://b/x.tar.gz", max_delay_s=60).max_staleness_s is None
    with pytest.raises(pydantic.ValidationError, match="max_staleness_s must exceed"):
        BundleConfig(url="http://b/x.tar.gz", max_delay_s=60, max_staleness_s=30)


# ---- a running sidecar --------------------------------------------------------------------


async def readyz(url: str) -> tuple[int, dict[str, Any]]:
    async with aiohttp.ClientSession() as s, s.get(url + "/readyz") as r:
        return r.status, await r.json()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    for _ in range(250):
        if await check():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"timed out waiting for {what}")


async def test_readyz_says_degraded_but_stays_ready_while_the_bundle_server_fails(
    make_harness: HarnessFactory,
) -> None:
    async with BundleServer() as server:
        server.publish(revision_bundle("2026.12.01-1"))
        h = await make_harness(
            policy={
                "path": str(POLICIES),
                "bundle": {
                    "url": server.url,
                    "min_delay_s": 0.05,
                    "max_delay_s": 0.1,
                    "max_staleness_s": 0.4,
                },
            }
        )
        admin = h.running.admin_url

        async def policy() -> dict[str, Any]:
            return (await readyz(admin))[1]["policy"]

        async def active() -> bool:
            return (await policy())["revision"] == "2026.12.01-1"

        await eventually(active, "the first bundle")
        status, body = await readyz(admin)
        assert status == 200 and body["ready"] is True
        assert body["policy"]["degraded"] is False and body["policy"]["degraded_reason"] is None
        assert body["policy"]["bundle"]["stale"] is False
        assert h.metric(LAST_ACTIVATION) > 0 and h.metric(MAX_STALENESS) == 0.4

        server.fail_status = 503

        async def degraded() -> bool:
            return bool((await policy())["degraded"])

        await eventually(degraded, "a stale bundle")
        status, body = await readyz(admin)
        assert status == 200 and body["ready"] is True, "stale is degraded, not unready"
        reason = body["policy"]["degraded_reason"]
        assert reason.startswith("policy bundle stale: no current bundle for ")
        assert reason.endswith("last failure: http_status (HTTP 503)")
        assert body["policy"]["bundle"]["consecutive_poll_failures"] >= 1
        assert h.metric(FAILURES, reason="http_status") >= 1
        assert h.metric(CONSECUTIVE) >= 1
        # Requests are still decided by the last good bundle.
        await h.client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
        )
        assert h.audit_records()[-1]["policy"]["revision"] == "2026.12.01-1"

        server.fail_status = None

        async def fresh() -> bool:
            return not (await policy())["degraded"]

        await eventually(fresh, "the bundle confirmed again")
        assert h.metric(CONSECUTIVE) == 0


async def test_a_sidecar_without_a_bundle_server_exports_no_bundle_metrics(
    make_harness: HarnessFactory,
) -> None:
    h = await make_harness()
    exposition = h.sidecar.metrics.exposition().decode()
    assert "llm_router_policy_bundle_" not in exposition
    status, body = await readyz(h.running.admin_url)
    assert status == 200
    assert body["policy"]["degraded"] is False and body["policy"]["bundle"] is None
