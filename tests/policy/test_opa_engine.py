"""The OPA engine against a loopback OPA (the emulator, evaluating with regorus or with OPA's
own Go engine), and against a real `opa` server when one is on PATH: what it sends,
fail-closed cases, health, revision, and engine parity on the decision vectors (the same
decisions as the embedded engine)."""

from __future__ import annotations

import asyncio
import dataclasses
import shutil
import socket
import subprocess
import time
import urllib.request
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.emulators.opa import DecideFn, OPAEmulator
from sidecar.emulators.openai import Fault
from sidecar.policy import EmbeddedEngine
from sidecar.policy.loader import PolicySource, compile_engine, read_policy_dir
from sidecar.policy.model import DECISION_QUERY, Decision, PolicyEngine
from sidecar.policy.opa import OPAEngine, bundle_revision
from tests.policy.support import (
    POLICIES,
    VECTORS,
    load_vector,
    routes_input,
    vector_data,
    vector_source,
)

ALLOW: dict[str, Any] = {
    "allow": True,
    "routes": ["a:m"],
    "reasons": ["a offers m"],
    "obligations": {"redact": ["secret"], "provider_preferences": {"zdr": True}},
}


@pytest.fixture
async def opa() -> AsyncIterator[OPAEmulator]:
    async with OPAEmulator(lambda _input: ALLOW) as emulator:
        yield emulator


@pytest.fixture
async def engine(opa: OPAEmulator) -> AsyncIterator[OPAEngine]:
    async with OPAEngine(opa.base_url, timeout_ms=1000, health_interval_s=0.02) as started:
        yield started


async def wait_until(condition: Callable[[], bool], seconds: float = 2.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.01)


def denied(decision: Decision, error: str) -> bool:
    return (
        decision.allow is False
        and decision.routes == ()
        and decision.error == error
        and decision.fail_closed
        and decision.engine == "opa"
    )


# ---- a defined decision -----------------------------------------------------------------


async def test_allowed_decision_carries_routes_obligations_and_decision_id(
    opa: OPAEmulator, engine: OPAEngine
) -> None:
    as_protocol: PolicyEngine = engine
    assert as_protocol.name == "opa" and engine.ready
    policy_input = routes_input("a:m", "b:m")
    decision = await engine.decide(policy_input)

    assert decision.allow and decision.error is None
    assert decision.routes == ("a:m",)
    assert decision.reasons == ("a offers m",)
    assert decision.obligations.redact == ("secret",)
    assert decision.obligations.provider_preferences == {"zdr": True}
    assert decision.engine == "opa" and decision.eval_seconds > 0
    assert decision.engine_decision_id is not None
    uuid.UUID(decision.engine_decision_id)  # OPA's id, not one made up by the engine
    port = opa.base_url.rsplit(":", 1)[1]
    assert decision.revision == engine.revision == f"opa:127.0.0.1:{port}"

    (sent,) = opa.data_requests
    assert sent.method == "POST" and sent.path == "/v1/data/llm_router/decision"
    assert sent.json == {"input": policy_input}
    assert sent.query["provenance"].lower() == "true"


async def test_opa_decision_id_wins_over_one_in_the_result(
    opa: OPAEmulator, engine: OPAEngine
) -> None:
    opa.decide = lambda _input: {**ALLOW, "decision_id": "made-up-by-the-policy"}
    decision = await engine.decide(routes_input())
    assert decision.allow
    assert decision.engine_decision_id not in (None, "made-up-by-the-policy")


async def test_results_go_through_the_shared_checks(opa: OPAEmulator, engine: OPAEngine) -> None:
    opa.decide = lambda _input: {**ALLOW, "allow": "yes"}
    assert denied(await engine.decide(routes_input()), "malformed_decision")

    opa.decide = lambda _input: {**ALLOW, "routes": ["not:offered"]}
    decision = await engine.decide(routes_input())
    assert decision.allow is False and decision.routes == ()
    assert any("not:offered" in r for r in decision.reasons)


# ---- fail closed ------------------------------------------------------------------------


@pytest.mark.parametrize("decision_ids", [True, False], ids=["with_decision_id", "empty_body"])
async def test_undefined_decision_denies(decision_ids: bool) -> None:
    async with (
        OPAEmulator(lambda _input: None, decision_ids=decision_ids) as opa,
        OPAEngine(opa.base_url, timeout_ms=1000) as engine,
    ):
        decision = await engine.decide(routes_input())
    assert denied(decision, "undefined_decision")
    # OPA with decision logging sends an id even for an undefined decision: keep it.
    assert (decision.engine_decision_id is not None) is decision_ids


@pytest.mark.parametrize("result", [True, ["a:m"], "allow", 1], ids=repr)
async def test_non_object_result_denies(opa: OPAEmulator, engine: OPAEngine, result: Any) -> None:
    opa.decide = lambda _input: result
    assert denied(await engine.decide(routes_input()), "undefined_decision")


@pytest.mark.parametrize("status", [400, 500])
async def test_opa_error_denies_without_retrying(
    opa: OPAEmulator, engine: OPAEngine, status: int
) -> None:
    opa.faults.append(Fault("status", status=status))
    assert denied(await engine.decide(routes_input()), f"opa_error_{status}")
    assert len(opa.data_requests) == 1, "a failed decision is not retried"
    assert (await engine.decide(routes_input())).allow  # the next one is asked afresh


async def test_slow_answer_beyond_the_timeout_denies(opa: OPAEmulator) -> None:
    async with OPAEngine(opa.base_url, timeout_ms=50) as engine:
        opa.faults.append(Fault("delay", seconds=0.5))
        started = time.perf_counter()
        decision = await engine.decide(routes_input())
        waited = time.perf_counter() - started
        assert denied(decision, "timeout")
        assert waited < 0.3, f"the deadline was not kept: {waited:.3f} s"
        assert (await engine.decide(routes_input())).allow  # the pool is still usable


async def test_connection_reset_denies(opa: OPAEmulator, engine: OPAEngine) -> None:
    opa.faults.append(Fault("reset"))
    assert denied(await engine.decide(routes_input()), "opa_unreachable")


async def test_connection_refused_denies_and_is_not_ready() -> None:
    opa = OPAEmulator(lambda _input: ALLOW)
    url = await opa.start()
    await opa.stop()  # nothing listens on that port any more
    async with OPAEngine(url, timeout_ms=1000) as engine:
        assert engine.ready is False
        assert denied(await engine.decide(routes_input()), "opa_unreachable")


async def test_decide_before_start_or_after_close_denies(opa: OPAEmulator) -> None:
    engine = OPAEngine(opa.base_url, timeout_ms=1000)
    assert engine.ready is False
    assert denied(await engine.decide(routes_input()), "not_started")
    await engine.start()
    assert (await engine.decide(routes_input())).allow
    await engine.close()
    assert engine.ready is False
    assert denied(await engine.decide(routes_input()), "not_started")
    await engine.close()  # idempotent


async def test_decide_never_raises(engine: OPAEngine) -> None:
    unencodable: dict[str, Any] = {**routes_input(), "routes": {object()}}
    assert denied(await engine.decide(unencodable), "opa_error")


# ---- connections, health, revision ------------------------------------------------------


async def test_one_connection_is_reused(opa: OPAEmulator, engine: OPAEngine) -> None:
    for _ in range(5):
        assert (await engine.decide(routes_input())).allow
    assert len({r.peer for r in opa.data_requests}) == 1


async def test_ready_follows_opa_health(opa: OPAEmulator, engine: OPAEngine) -> None:
    assert engine.ready
    opa.healthy = False
    await wait_until(lambda: not engine.ready)
    opa.healthy = True
    await wait_until(lambda: engine.ready)
    assert any(r.path == "/health" and r.query.get("bundles") for r in opa.received)


async def test_not_ready_until_bundles_are_activated() -> None:
    async with OPAEmulator(lambda _input: ALLOW, bundles={"llm_router": "r1"}) as opa:
        opa.bundles_activated = False
        async with OPAEngine(opa.base_url, 1000, health_interval_s=0.02) as engine:
            assert engine.ready is False
            opa.bundles_activated = True
            await wait_until(lambda: engine.ready)


async def test_close_stops_the_health_loop(opa: OPAEmulator) -> None:
    engine = OPAEngine(opa.base_url, timeout_ms=1000, health_interval_s=0.01)
    await engine.start()
    await wait_until(lambda: sum(r.path == "/health" for r in opa.received) >= 3)
    await engine.close()
    checks = sum(r.path == "/health" for r in opa.received)
    await asyncio.sleep(0.05)
    assert sum(r.path == "/health" for r in opa.received) == checks


async def test_revision_comes_from_the_bundle_provenance() -> None:
    async with (
        OPAEmulator(lambda _input: ALLOW, bundles={"llm_router": "2026-11-25.3"}) as opa,
        OPAEngine(opa.base_url, timeout_ms=1000) as engine,
    ):
        decision = await engine.decide(routes_input())
        assert decision.revision == engine.revision == "2026-11-25.3"
        opa.bundles = {"llm_router": "2026-11-26.1", "overrides": "o7"}
        decision = await engine.decide(routes_input())
        assert decision.revision == "llm_router=2026-11-26.1,overrides=o7"


def test_bundle_revision_reads_opa_provenance() -> None:
    assert bundle_revision({"version": "1.0.0", "bundles": {"b": {"revision": "r"}}}) == "r"
    assert bundle_revision({"version": "1.0.0", "revision": "legacy"}) == "legacy"
    assert bundle_revision({"version": "1.0.0", "bundles": {"b": {"revision": ""}}}) is None
    assert bundle_revision({"version": "1.0.0"}) is None
    assert bundle_revision(None) is None


@pytest.mark.parametrize(
    "url", ["ftp://opa:8181", "http://opa:8181/v1", "http://user:pw@opa:8181", "opa:8181", ""]
)
def test_urls_with_more_than_scheme_host_and_port_are_refused(url: str) -> None:
    with pytest.raises(ValueError, match="OPA URL"):
        OPAEngine(url, timeout_ms=50)


def test_revision_before_any_decision_names_the_server() -> None:
    assert OPAEngine("http://[::1]:8181/", 50).revision == "opa:[::1]:8181"
    assert OPAEngine("https://opa.example", 50).revision == "opa:opa.example:443"


# ---- engine parity on the decision vectors ----------------------------------------------


@pytest.fixture(scope="module")
def embedded() -> EmbeddedEngine:
    return EmbeddedEngine.load(POLICIES, timeout_ms=1000)


def regorus_decider(source: PolicySource) -> DecideFn:
    """The policy compiled by the embedded engine's loader, answering as OPA would: the raw
    document, before any of the sidecar's checks. The emulator runs on the test's event
    loop, so the regorus Engine stays on the thread that created it."""
    rego = compile_engine(source, source.without_tests())

    def decide(policy_input: Any) -> Any:
        rego.set_input_json(orjson.dumps(policy_input).decode())
        return orjson.loads(rego.eval_rule_as_json(DECISION_QUERY))

    return decide


@pytest.fixture(scope="module")
def shipped_policy() -> DecideFn:
    return regorus_decider(read_policy_dir(POLICIES))


def comparable(decision: Decision) -> Decision:
    """The decision without what names the engine, measures it or says it came from a cache."""
    return dataclasses.replace(
        decision, engine="", revision="", eval_seconds=0.0, engine_decision_id=None, cached=False
    )


async def assert_same_decisions(engine: OPAEngine, embedded: EmbeddedEngine, path: Path) -> None:
    vector = load_vector(path)
    if "data" in vector:
        embedded = EmbeddedEngine.from_source(vector_source(vector), timeout_ms=1000)
    via_opa = await engine.decide(vector["input"])
    via_embedded = await embedded.decide(vector["input"])
    assert via_opa.error is None and via_opa.engine == "opa"
    assert via_opa.allow is vector["expected"]["allow"]
    assert comparable(via_opa) == comparable(via_embedded)


@pytest.mark.parametrize("evaluator", ["shipped_policy", "reference_policy"])
@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_same_decisions_as_the_embedded_engine(
    evaluator: str, embedded: EmbeddedEngine, path: Path, request: pytest.FixtureRequest
) -> None:
    """Through OPA's REST API, with regorus or OPA's own Go engine evaluating behind it
    (with the vector's own settings when it has some)."""
    vector = load_vector(path)
    if "data" not in vector:
        decide: DecideFn = request.getfixturevalue(evaluator)
    elif evaluator == "shipped_policy":
        decide = regorus_decider(vector_source(vector))
    else:
        decide = reference_decider(vector_data(vector))
    async with (
        OPAEmulator(decide) as opa,
        OPAEngine(opa.base_url, timeout_ms=2000) as engine,
    ):
        await assert_same_decisions(engine, embedded, path)


@pytest.fixture(scope="module")
def reference_policy() -> DecideFn:
    """The shipped policy evaluated by OPA's own Go engine (opa-golib-python-bindings, which
    `make test` installs), answering as an OPA server would: the raw document, or None when
    it is undefined. No `opa` binary is published on the registries this project installs
    from, so this is how OPA-server mode meets real OPA evaluation in CI."""
    return reference_decider(orjson.loads((POLICIES / "data.json").read_bytes()))


def reference_decider(data: Any) -> DecideFn:
    """The shipped modules and `data` in OPA's own Go engine (skips where it is missing)."""
    opa_bindings = pytest.importorskip("opa_bindings")
    reference = opa_bindings.OpaEngine()
    for rego in sorted(POLICIES.glob("*.rego")):
        if not rego.name.endswith("_test.rego"):
            reference.add_policy(rego.name, rego.read_text())
    reference.add_data(data)

    def decide(policy_input: Any) -> Any:
        rows = reference.eval_query(f"x := {DECISION_QUERY}", input=policy_input)
        return rows[0]["x"] if rows else None

    return decide


@pytest.fixture(scope="module")
def opa_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real `opa run --server` serving policies/ on a free loopback port."""
    binary = shutil.which("opa")
    if binary is None:
        pytest.skip(
            "no `opa` binary on PATH: install OPA to run the decision vectors against a "
            "real OPA server (the emulator-backed parity test still runs)"
        )
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"http://127.0.0.1:{port}"
    log = tmp_path_factory.mktemp("opa") / "opa.log"
    command = [binary, "run", "--server", "--addr", f"127.0.0.1:{port}"]
    command += ["--disable-telemetry", "--log-level", "error", str(POLICIES)]
    with log.open("wb") as out:
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while True:
            if process.poll() is not None:
                pytest.fail(f"opa exited with {process.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(url + "/health", timeout=1) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"opa did not become healthy in 15 s: {log.read_text()[-2000:]}")
            time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.parametrize("path", VECTORS, ids=[p.stem for p in VECTORS])
async def test_same_decisions_from_a_real_opa_server(
    opa_server: str, embedded: EmbeddedEngine, path: Path
) -> None:
    if "data" in load_vector(path):
        pytest.skip("a vector with its own settings: the server serves the shipped data.json")
    async with OPAEngine(opa_server, timeout_ms=2000) as engine:
        assert engine.ready
        await assert_same_decisions(engine, embedded, path)
