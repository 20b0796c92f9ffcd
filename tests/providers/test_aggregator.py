"""The merge of the app's OpenRouter `provider` object with the policy's preferences: the app
may only narrow them; and the routing fields taken out of every body."""

from __future__ import annotations

from typing import Any

import pytest

from sidecar.providers.aggregator import (
    NO_ROUTING,
    finish_body,
    merge_provider,
    take_routing_fields,
)

POLICY = {"data_collection": "deny", "zdr": True}


@pytest.mark.parametrize(
    ("app", "policy", "expected", "dropped"),
    [
        (None, POLICY, POLICY, []),
        ("openai", POLICY, POLICY, ["provider"]),
        (
            {"zdr": False, "data_collection": "allow"},
            POLICY,
            POLICY,
            ["provider.data_collection", "provider.zdr"],
        ),
        (
            {"zdr": True, "data_collection": "deny"},
            {},
            {"zdr": True, "data_collection": "deny"},
            [],
        ),
        ({"zdr": 1}, {}, {}, ["provider.zdr"]),  # 1 is not true
        (
            {"allow_fallbacks": True},
            {"allow_fallbacks": False},
            {"allow_fallbacks": False},
            ["provider.allow_fallbacks"],
        ),
        ({"allow_fallbacks": False}, {}, {"allow_fallbacks": False}, []),
        ({"allow_fallbacks": False}, {"allow_fallbacks": True}, {"allow_fallbacks": False}, []),
        (
            {"require_parameters": True, "enforce_distillable_text": True},
            {},
            {"require_parameters": True, "enforce_distillable_text": True},
            [],
        ),
        ({"only": ["a", "b"]}, {}, {"only": ["a", "b"]}, []),
        ({"only": ["a", "b"]}, {"only": ["b"]}, {"only": ["b"]}, ["provider.only"]),
        ({"only": ["c"]}, {"only": ["b"]}, {"only": ["b"]}, ["provider.only"]),
        ({"only": ["B/fp8"]}, {"only": ["b"]}, {"only": ["B/fp8"]}, []),
        ({"only": ["b"]}, {"only": ["b/fp8"]}, {"only": ["b/fp8"]}, ["provider.only"]),
        ({"only": []}, {}, {}, ["provider.only"]),  # an empty list would mean: any host
        ({"only": ["a b"]}, {}, {}, ["provider.only"]),
        ({"only": "a"}, {}, {}, ["provider.only"]),
        (
            {"only": ["a", "x"], "ignore": ["x"]},
            {},
            {"only": ["a"], "ignore": ["x"]},
            ["provider.only"],
        ),
        ({"only": ["x"]}, {"ignore": ["x"]}, {"ignore": ["x"]}, ["provider.only"]),
        ({"order": ["a"]}, {"order": ["b"]}, {"order": ["b"]}, ["provider.order"]),
        (
            {"order": ["a", "b"]},
            {"only": ["b"]},
            {"only": ["b"], "order": ["b"]},
            ["provider.order"],
        ),
        ({"ignore": ["a"]}, {"ignore": ["b"]}, {"ignore": ["b", "a"]}, []),
        ({"quantizations": ["fp8", "int4"]}, {}, {"quantizations": ["fp8", "int4"]}, []),
        (
            {"quantizations": ["fp8", "int4"]},
            {"quantizations": ["fp8"]},
            {"quantizations": ["fp8"]},
            ["provider.quantizations"],
        ),
        (
            {"max_price": {"prompt": 1, "completion": 5}},
            {"max_price": {"prompt": 2}},
            {"max_price": {"prompt": 1, "completion": 5}},
            [],
        ),
        (
            {"max_price": {"prompt": 3}},
            {"max_price": {"prompt": 2}},
            {"max_price": {"prompt": 2}},
            ["provider.max_price"],
        ),
        ({"max_price": {"prompt": -1}}, {}, {}, ["provider.max_price"]),
        ({"max_price": {"anything": 1}}, {}, {}, ["provider.max_price"]),
        ({"sort": "throughput"}, {}, {"sort": "throughput"}, []),
        (
            {"sort": {"by": "latency", "partition": "none"}},
            {},
            {"sort": {"by": "latency", "partition": "none"}},
            [],
        ),
        ({"sort": "random"}, {}, {}, ["provider.sort"]),
        ({"sort": "price"}, {"sort": "latency"}, {"sort": "latency"}, ["provider.sort"]),
        ({"sort": "latency"}, {"sort": "latency"}, {"sort": "latency"}, []),
        (
            {"preferred_min_throughput": {"p90": 50}},
            {},
            {"preferred_min_throughput": {"p90": 50}},
            [],
        ),
        ({"preferred_max_latency": 2}, {}, {"preferred_max_latency": 2}, []),
        ({"preferred_max_latency": {"p42": 2}}, {}, {}, ["provider.preferred_max_latency"]),
        ({"data_retention": "forever", "x-evil": 1}, {}, {}, ["provider.other"]),
    ],
)
def test_merge_provider(
    app: Any, policy: dict[str, Any], expected: dict[str, Any], dropped: list[str]
) -> None:
    assert merge_provider(app, policy) == (expected, dropped)


def test_the_policy_is_never_weakened() -> None:
    strict = {
        "only": ["b"],
        "ignore": ["c"],
        "allow_fallbacks": False,
        "data_collection": "deny",
        "zdr": True,
        "require_parameters": True,
        "quantizations": ["fp8"],
        "max_price": {"prompt": 1},
    }
    widest = {
        "only": ["a", "c"],
        "order": ["a"],
        "ignore": [],
        "allow_fallbacks": True,
        "data_collection": "allow",
        "zdr": False,
        "require_parameters": False,
        "quantizations": ["fp4"],
        "max_price": {"prompt": 100},
    }
    merged, _ = merge_provider(widest, strict)
    assert merged == strict


def test_take_routing_fields_copies_only_when_needed() -> None:
    plain = {"model": "m", "messages": []}
    assert take_routing_fields(plain) == (plain, NO_ROUTING)
    assert take_routing_fields(plain)[0] is plain
    body = {"model": "m", "models": ["x"], "provider": {"zdr": True}, "plugins": []}
    clean, routing = take_routing_fields(body)
    assert clean == {"model": "m"} and body["models"] == ["x"]  # the original is untouched
    assert routing.dropped == ("models", "plugins")
    assert routing.has_provider and routing.provider == {"zdr": True}


def test_finish_body_on_a_direct_route() -> None:
    clean, routing = take_routing_fields({"model": "m", "transforms": [], "provider": {}})
    assert finish_body(clean, {"zdr": True}, routing, aggregator=False) == [
        "transforms",
        "provider",
    ]
    assert clean == {"model": "m"}  # the policy's aggregator preferences are not sent either


def test_finish_body_sets_the_policy_preferences_on_an_aggregator() -> None:
    body: dict[str, Any] = {"model": "m"}
    assert finish_body(body, {"zdr": True}, NO_ROUTING, aggregator=True) == []
    assert body == {"model": "m", "provider": {"zdr": True}}
    empty: dict[str, Any] = {"model": "m"}
    finish_body(empty, {}, NO_ROUTING, aggregator=True)
    assert empty == {"model": "m"}


def test_server_tools_go_with_their_tool_choice() -> None:
    body: dict[str, Any] = {
        "tools": [{"type": "openrouter:web_search"}, {"type": "openrouter:web_fetch"}],
        "tool_choice": {"type": "openrouter:web_search"},
        "parallel_tool_calls": False,
    }
    assert finish_body(body, {}, NO_ROUTING, aggregator=False) == ["tools.openrouter"]
    assert body == {}
    kept: dict[str, Any] = {"tools": [{"type": "function", "function": {"name": "f"}}]}
    assert finish_body(kept, {}, NO_ROUTING, aggregator=True) == []
    assert kept["tools"] == [{"type": "function", "function": {"name": "f"}}]
