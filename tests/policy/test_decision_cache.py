"""Decision caching: a cached decision is the decision the policy would have made, from the
revision that made it, and only for policies that declared themselves cacheable."""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
import regorus

from sidecar.metrics import Metrics
from sidecar.policy import EmbeddedEngine
from sidecar.policy.cache import CacheDeclaration, DecisionCache, rfc3339_ns
from sidecar.policy.loader import read_policy_dir
from sidecar.policy.model import Decision, Obligations
from sidecar.policy.reload import PolicyManager
from tests.policy.support import POLICIES, VECTORS, load_vector, policy_dir, routes_input


def verdict(d: Decision) -> tuple[Any, ...]:
    """Everything the sidecar acts on or records, without timing and cache flags."""
    return (
        d.allow,
        d.routes,
        d.reasons,
        d.obligations,
        d.engine,
        d.revision,
        d.error,
        d.engine_decision_id,
        d.annotations,
    )


def vary_ignored(policy_input: dict[str, Any], n: int) -> dict[str, Any]:
    """The same input with other values in the paths the default policy ignores."""
    varied = copy.deepcopy(policy_input)
    varied["request"]["id"] = f"request-{n}"
    varied["request"]["time"] = f"2026-11-25T10:{n % 60:02d}:00.{n % 1000:03d}Z"
    varied["classification"]["tags"] = {f"pii.t{n}": n}
    return varied


@pytest.fixture(scope="module")
def cached() -> EmbeddedEngine:
    return EmbeddedEngine.load(POLICIES, timeout_ms=1000)


@pytest.fixture(scope="module")
def uncached() -> EmbeddedEngine:
    engine = EmbeddedEngine.load(POLICIES, timeout_ms=1000, cache_size=0)
    assert engine.cache is None
    return engine


async def test_cached_decisions_equal_uncached(
    cached: EmbeddedEngine, uncached: EmbeddedEngine
) -> None:
    assert cached.cache is not None
    for path in VECTORS:
        base = load_vector(path)["input"]
        for n in range(4):
            policy_input = vary_ignored(base, n)
            got = await cached.decide(policy_input)
            assert got.cached is (n > 0), path.stem
            assert verdict(got) == verdict(await uncached.decide(policy_input)), path.stem
    assert cached.cache.hits >= 3 * len(VECTORS)


async def test_decision_relevant_input_is_never_shared() -> None:
    cached = EmbeddedEngine.load(POLICIES, timeout_ms=1000)
    base = next(load_vector(p)["input"] for p in VECTORS if "pii_direct" in p.stem)
    pii = await cached.decide(base)
    public = copy.deepcopy(base)
    public["classification"].update(level="public", categories=[])
    answer = await cached.decide(public)
    assert not answer.cached and answer.routes != pii.routes
    eu = copy.deepcopy(base)
    eu["workload"]["labels"] = {"llm-router.io/residency": "eu"}
    assert (await cached.decide(eu)).routes == ("google:gemini-2.5-flash",)


def test_rfc3339_matches_rego() -> None:
    engine = regorus.Engine()
    times = [
        "2026-12-01T00:00:00Z",
        "2026-12-01T00:00:00.123456789Z",
        "2026-12-01T01:30:00+01:30",
        "2026-11-25T09:29:29.123-05:00",
        "1999-12-31T23:59:59.5z",
    ]
    for value in times:
        rego = engine.eval_query(f"x := time.parse_rfc3339_ns({json.dumps(value)})")
        assert rfc3339_ns(value) == rego["result"][0]["bindings"]["x"], value
    for bad in ["2026-12-01", "2026-12-01T00:00:00", "2026-12-01 00:00:00Z", "tomorrow", 5]:
        assert rfc3339_ns(bad) is None


@pytest.mark.parametrize(
    "raw",
    [
        None,
        {"cacheable": False},
        {"cacheable": "true"},
        {"cacheable": True, "ignore": "request.id"},
        {"cacheable": True, "ignore": ["request..id"]},
        {"cacheable": True, "time_boundaries": ["next tuesday"]},
        {"cacheable": True, "ignore": ["routes"]},
        {"cacheable": True, "ignore": ["alternatives.claude"]},
    ],
)
def test_anything_but_a_clear_declaration_means_no_caching(raw: Any) -> None:
    assert CacheDeclaration.parse(raw) is None


def test_policy_without_declaration_is_not_cached(tmp_path: Path) -> None:
    engine = EmbeddedEngine.load(policy_dir(tmp_path, 'decision := {"allow": false}'), 50)
    assert engine.cache is None


def test_declaration_cannot_depend_on_input(tmp_path: Path) -> None:
    rego = (
        'decision := {"allow": false}\n'
        'decision_cache := {"cacheable": true, "ignore": [input.request.id]}'
    )
    assert EmbeddedEngine.load(policy_dir(tmp_path, rego), 50).cache is None


def break_glass_policy(tmp_path: Path, expires: str) -> Path:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    data = json.loads((target / "data.json").read_text())
    data["llm_router_config"]["break_glass"] = [
        {
            "id": "BG-1",
            "namespace": "claims",
            "waive": ["dpa"],
            "reason": "provider outage",
            "approver": "ciso@example.com",
            "expires": expires,
        }
    ]
    (target / "data.json").write_text(json.dumps(data))
    return target


async def test_time_boundaries_split_the_cache(tmp_path: Path) -> None:
    """Break-glass reads the request time: a decision is reused only on the same side of
    an expiry, and each side gets what an uncached evaluation says."""
    path = break_glass_policy(tmp_path, "2026-12-01T00:00:00Z")
    cached = EmbeddedEngine.load(path, 1000)
    uncached = EmbeddedEngine.load(path, 1000, cache_size=0)
    assert cached.cache is not None
    assert cached.cache.declaration.time_boundaries == (rfc3339_ns("2026-12-01T00:00:00Z"),)
    base = next(load_vector(p)["input"] for p in VECTORS if "pii_direct" in p.stem)
    times = [
        "2026-11-30T23:59:59.998Z",
        "2026-11-30T23:59:59.999Z",
        "2026-12-01T00:00:00.000Z",
        "2026-12-01T00:00:00.001Z",
        "2026-11-30T12:00:00.000Z",
    ]
    for t in times:
        policy_input = {**base, "request": {**base["request"], "time": t}}
        got, want = await cached.decide(policy_input), await uncached.decide(policy_input)
        assert verdict(got) == verdict(want), t
        assert bool(got.annotations.get("break_glass")) is (t < "2026-12-01"), t
    assert cached.cache.hits == 3 and cached.cache.misses == 2
    no_time = {**base, "request": {k: v for k, v in base["request"].items() if k != "time"}}
    assert cached.cache.key(no_time) is None, "without a time, a time-bound policy is evaluated"


def test_cache_is_a_bounded_lru() -> None:
    cache = DecisionCache(CacheDeclaration((), ()), size=2)
    decision = Decision(True, ("a:m",), ("ok",), Obligations(), "embedded", "r", 0.001)
    keys = [cache.key(routes_input(f"{n}:m")) for n in range(3)]
    assert None not in keys
    a, b, c = (k for k in keys if k is not None)
    cache.put(a, decision)
    cache.put(b, decision)
    assert cache.get(a, 0.0) is not None  # a is now the most recently used
    cache.put(c, decision)
    assert len(cache) == 2 and cache.get(b, 0.0) is None and cache.get(a, 0.0) is not None


async def test_failures_are_not_cached(tmp_path: Path) -> None:
    engine = EmbeddedEngine.load(POLICIES, timeout_ms=0.000001)
    vector = load_vector(VECTORS[0])["input"]
    assert (await engine.decide(vector)).error == "timeout"
    assert engine.cache is not None and len(engine.cache) == 0


async def test_reload_starts_a_new_cache_and_changes_decisions(tmp_path: Path) -> None:
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target, ignore=shutil.ignore_patterns("*_test.rego"))
    manager = PolicyManager(EmbeddedEngine.load(target, 1000), Metrics(), 1000)
    vector = next(load_vector(p)["input"] for p in VECTORS if "pii_direct" in p.stem)
    before = await manager.decide(vector)
    assert (await manager.decide(vector)).cached
    data = json.loads((target / "data.json").read_text())
    data["llm_router_config"]["requirements"]["pii"] = ["dpa", "baa"]
    (target / "data.json").write_text(json.dumps(data))
    assert manager.activate(read_policy_dir(target))
    after = await manager.decide(vector)
    assert not after.cached and after.revision != before.revision
    assert after.routes == ("google:gemini-2.5-flash",) != before.routes
    fresh = await EmbeddedEngine.load(target, 1000, cache_size=0).decide(vector)
    assert verdict(after) == verdict(fresh)


def test_config_can_turn_caching_off() -> None:
    from sidecar.config import PolicyConfig
    from sidecar.policy.runtime import build_policy

    on = build_policy(PolicyConfig(path=POLICIES, watch=False), Metrics())
    off = build_policy(PolicyConfig(path=POLICIES, watch=False, decision_cache_size=0), Metrics())
    assert on.manager is not None and on.manager.engine.cache is not None
    assert off.manager is not None and off.manager.engine.cache is None
