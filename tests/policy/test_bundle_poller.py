"""Polling a bundle server (the loopback one) with conditional GETs, rejection memory and
back-off."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from typing import Any

import pytest

from sidecar.emulators.bundles import BundleServer, build_bundle
from sidecar.policy import EmbeddedEngine
from sidecar.policy.bundle.poller import BundlePoller, backoff_delay, redact_url
from sidecar.policy.loader import PolicySource
from tests.policy.bundle_support import TOKEN, Applier, revision_bundle

# ---- the poller --------------------------------------------------------------------------


@pytest.fixture
async def server() -> AsyncIterator[BundleServer]:
    async with BundleServer() as s:
        s.publish(revision_bundle("v1"))
        yield s


def poller_for(url: str, apply: Applier, **kwargs: Any) -> BundlePoller:
    return BundlePoller(url, apply=apply, min_delay=0.01, max_delay=0.02, timeout=2, **kwargs)


async def test_conditional_polling(server: BundleServer) -> None:
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "updated"
        assert "If-None-Match" not in server.received[0].headers
        assert (poller.revision, poller.etag, apply.offered) == ("v1", server.etag, ["v1"])
        assert apply.engine is not None and apply.engine.revision == "v1"

        assert await poller.poll_once() == "not_modified"
        assert server.received[1].headers["If-None-Match"] == server.etag
        assert server.statuses() == [200, 304]
        assert apply.offered == ["v1"]

        v2 = server.publish(revision_bundle("v2"))
        assert await poller.poll_once() == "updated"
        assert (poller.revision, poller.etag, apply.offered) == ("v2", v2, ["v1", "v2"])
        assert (poller.polls, poller.updates, poller.errors, poller.rejections) == (3, 2, 0, 0)


async def test_a_corrupt_bundle_is_rejected_once_and_not_activated(server: BundleServer) -> None:
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "updated"
        active = poller.etag
        server.serve_corrupt = True
        assert await poller.poll_once() == "rejected"
        assert apply.offered == ["v1"], "a bundle that does not parse never reaches apply"
        assert (poller.revision, poller.etag) == ("v1", active)
        assert poller.rejected_etag == server.etag
        assert poller.last_error is not None and "corrupt gzip data" in poller.last_error

        # Still broken: both ETags are offered, the server answers 304, nothing is re-read.
        assert await poller.poll_once() == "not_modified"
        assert server.received[-1].headers["If-None-Match"] == f"{active}, {server.etag}"
        assert server.statuses()[-1] == 304
        assert poller.rejections == 1

        server.serve_corrupt = False  # a roll-back to the active bundle clears the rejection
        assert await poller.poll_once() == "not_modified"
        assert poller.rejected_etag is None and poller.revision == "v1"

        server.publish(revision_bundle("v3"))
        assert await poller.poll_once() == "updated"
        assert poller.revision == "v3" and apply.offered == ["v1", "v3"]


async def test_a_bundle_refused_by_verification_is_not_retried(server: BundleServer) -> None:
    apply = Applier(accept=False)
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "rejected"
        assert (poller.etag, poller.revision, poller.rejected_revision) == (None, None, "v1")
        assert await poller.poll_once() == "not_modified"
        assert server.received[-1].headers["If-None-Match"] == server.etag
        assert apply.offered == ["v1"], "the same broken bundle is verified once"

        apply.accept = True
        server.publish(revision_bundle("v2"))
        assert await poller.poll_once() == "updated"
        assert poller.revision == "v2" and poller.rejected_etag is None


async def test_apply_raising_policy_load_error_is_a_rejection(server: BundleServer) -> None:
    server.publish(
        build_bundle({"p.rego": "package llm_router\n\nother := 1\n"}, {"revision": "bad"})
    )

    async def apply(source: PolicySource) -> bool:
        EmbeddedEngine.from_source(source, 50)
        return True

    async with BundlePoller(server.url, apply=apply) as poller:
        assert await poller.poll_once() == "rejected"
        assert poller.rejected_revision == "bad" and poller.revision is None
        assert poller.last_error is not None and "data.llm_router.decision" in poller.last_error


async def test_a_server_ignoring_if_none_match_is_compared_by_content(
    server: BundleServer,
) -> None:
    server.honor_if_none_match = False
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        assert await poller.poll_once() == "updated"
        assert await poller.poll_once() == "not_modified"
        assert server.statuses() == [200, 200]
        assert apply.offered == ["v1"]


async def test_server_errors_and_recovery(server: BundleServer) -> None:
    apply = Applier()
    async with poller_for(server.url, apply) as poller:
        server.fail_status = 500
        assert await poller.poll_once() == "error"
        assert await poller.poll_once() == "error"
        assert (poller.errors, poller.consecutive_errors, poller.last_error) == (2, 2, "HTTP 500")
        assert poller.revision is None and apply.offered == []
        server.fail_status = None
        assert await poller.poll_once() == "updated"
        assert poller.consecutive_errors == 0 and poller.last_error is None


async def test_bearer_token() -> None:
    async with BundleServer(token=TOKEN) as server:
        server.publish(revision_bundle("v1"))
        async with poller_for(server.url, Applier(), token=TOKEN) as poller:
            assert await poller.poll_once() == "updated"
            assert server.received[-1].headers["Authorization"] == f"Bearer {TOKEN}"
        async with poller_for(server.url, Applier()) as anonymous:
            assert await anonymous.poll_once() == "error"
            assert anonymous.last_error == "HTTP 401"
        async with poller_for(server.url, Applier(), token="wrong") as wrong:
            assert await wrong.poll_once() == "error"


async def test_unreachable_server_is_an_error() -> None:
    server = BundleServer()
    url = await server.start()
    await server.stop()
    async with poller_for(url, Applier()) as poller:
        assert await poller.poll_once() == "error"
        assert poller.last_error == "cannot connect"


async def test_an_oversized_download_is_rejected(server: BundleServer) -> None:
    async with poller_for(server.url, Applier(), max_bytes=1024) as poller:
        assert await poller.poll_once() == "rejected"
        assert poller.last_error is not None and "larger than 1024 bytes" in poller.last_error
        assert await poller.poll_once() == "not_modified"


async def test_credentials_in_the_url_stay_out_of_messages(server: BundleServer) -> None:
    server.serve_corrupt = True
    url = server.url + "?X-Amz-Signature=presigned-secret-77"
    async with poller_for(url, Applier()) as poller:
        assert await poller.poll_once() == "rejected"
        assert poller.last_error is not None and "presigned-secret-77" not in poller.last_error
        assert poller.last_error.startswith(server.url + ": ")
    assert redact_url("https://user:pw@h.example:8443/b.tar.gz?sig=s#f") == (
        "https://h.example:8443/b.tar.gz"
    )


def test_backoff_doubles_from_min_to_max() -> None:
    assert [backoff_delay(n, 10, 60) for n in range(1, 6)] == [10, 20, 40, 60, 60]
    assert backoff_delay(10_000, 10, 60) == 60
    assert backoff_delay(0, 10, 60) == 10


async def test_next_delay_backs_off_after_errors_and_jitters_after_success(
    server: BundleServer,
) -> None:
    rng = random.Random(7)
    async with BundlePoller(
        server.url, apply=Applier(), min_delay=10, max_delay=60, rng=rng
    ) as poller:
        server.fail_status = 503
        delays = []
        for _ in range(4):
            delays.append(poller.next_delay(await poller.poll_once()))
        assert delays == [10, 20, 40, 60]
        server.fail_status = None
        assert await poller.poll_once() == "updated"
        jittered = {poller.next_delay("updated") for _ in range(20)}
        assert all(10 <= d <= 60 for d in jittered) and len(jittered) > 1


def test_poller_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="http or https"):
        BundlePoller("ftp://bundles.example/b.tar.gz", apply=Applier())
    with pytest.raises(ValueError, match="min_delay"):
        BundlePoller("http://127.0.0.1/b", apply=Applier(), min_delay=5, max_delay=1)


async def test_start_and_stop(server: BundleServer) -> None:
    apply = Applier()
    poller = poller_for(server.url, apply)
    poller.start()
    for _ in range(200):
        # `polls` counts a poll when it starts: wait until the server has answered two.
        if poller.polls >= 2 and len(server.statuses()) >= 2:
            break
        await asyncio.sleep(0.01)
    await poller.stop()
    assert poller.updates == 1 and poller.polls >= 2
    assert server.statuses()[:2] == [200, 304]
    polls = poller.polls
    await asyncio.sleep(0.05)
    assert poller.polls == polls, "stopped means stopped"
