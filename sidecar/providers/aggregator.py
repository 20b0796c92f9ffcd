"""Body fields that would let an app choose what serves its request: they belong to the policy.

OpenRouter reads several top-level fields that pick models or providers, or call further
services. Another translator may forward unknown fields, so on every route the app's values
of these fields never reach the upstream as sent:

- `models`, `fallbacks` (dropped everywhere): models the policy never saw, which OpenRouter
  tries on any error (`fallbacks` is that list on its Messages API).
- `route` (dropped everywhere): `"fallback"`, the older switch for `models`.
- `preset` (dropped everywhere): a stored configuration that may set the model, provider
  routing, a system prompt and server tools.
- `plugins` (dropped everywhere): run by OpenRouter on each request; `web` hands the prompt
  to a search engine, `file-parser` may send files to an OCR service.
- `transforms` (dropped everywhere): `middle-out` may move the request to another model with
  a longer context, besides cutting the prompt.
- `provider`: picks the hosts that serve. On aggregator routes it is narrowed and the
  policy's preferences win (`merge_provider`); direct routes never receive it.
- tools of type `openrouter:*` (dropped everywhere): server tools, web search or fetch run
  by OpenRouter on the model's queries; a `tool_choice` naming one goes with them.

Field names only (`provider.<key>` for a preference key, `provider.other` for an unknown
one) are recorded in the audit record's `outcome.dropped_fields`: never their values.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

ROUTING_FIELDS = ("models", "fallbacks", "route", "preset", "plugins", "transforms", "provider")
_ROUTING = frozenset(ROUTING_FIELDS)
SERVER_TOOL_PREFIX = "openrouter:"

_SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,63}")
_QUANTIZATION = re.compile(r"[a-z0-9]{1,16}")
SORTS = frozenset({"price", "throughput", "latency"})
PARTITIONS = frozenset({"model", "none"})
PRICE_KEYS = frozenset({"prompt", "completion", "image", "audio", "request"})
PERCENTILES = frozenset({"p50", "p75", "p90", "p99"})
MAX_LIST = 32

_DROP: Any = object()


@dataclass(frozen=True, slots=True)
class AppRouting:
    """The routing fields an app sent, taken out of its body before any translation (a
    translator would refuse them as unknown, and skip a route for a field never sent)."""

    dropped: tuple[str, ...] = ()
    """Top-level fields no route receives."""
    provider: Any = None
    has_provider: bool = False


NO_ROUTING = AppRouting()


def take_routing_fields(body: dict[str, Any]) -> tuple[dict[str, Any], AppRouting]:
    """The body without the routing fields, and what they were. The body is only copied
    (shallowly) when it has one."""
    present = [name for name in ROUTING_FIELDS if name in body]
    if not present:
        return body, NO_ROUTING
    clean = {k: v for k, v in body.items() if k not in _ROUTING}
    kept = tuple(name for name in present if name != "provider")
    return clean, AppRouting(kept, body.get("provider"), "provider" in body)


def finish_body(
    body: dict[str, Any], preferences: Mapping[str, Any], app: AppRouting, *, aggregator: bool
) -> list[str]:
    """Make one route's translated body final: no routing field of the app's, no server
    tool, and on an aggregator the `provider` object of `merge_provider`. Returns the names
    of what the app sent that this route does not receive as sent."""
    dropped = list(app.dropped)
    for name in ROUTING_FIELDS:  # a translator never adds them; the check costs nothing
        body.pop(name, None)
    dropped += _drop_server_tools(body)
    if aggregator:
        provider, lost = merge_provider(app.provider if app.has_provider else None, preferences)
        dropped += lost
        if provider:
            body["provider"] = provider
    elif app.has_provider:
        dropped.append("provider")
    return dropped


NOT_SENT = frozenset({"unavailable", "circuit_open"})
"""Attempt outcomes in which the body never left the sidecar."""


def dropped_fields(
    by_route: Mapping[str, list[str]], attempts: Iterable[tuple[str, str]]
) -> list[str]:
    """What the audit record names: the fields dropped on the routes whose body was sent,
    given (route, outcome) of each attempt."""
    sent = {route for route, outcome in attempts if outcome not in NOT_SENT}
    return sorted({name for route in sent for name in by_route.get(route, ())})


def _drop_server_tools(body: dict[str, Any]) -> list[str]:
    tools = body.get("tools")
    if not isinstance(tools, list):
        return []
    kept = [t for t in tools if not _server_tool(t)]
    choice = body.get("tool_choice")
    if len(kept) == len(tools) and not _server_tool(choice):
        return []
    if _server_tool(choice):
        del body["tool_choice"]
    if kept:
        body["tools"] = kept
    else:  # OpenAI refuses tool settings without tools
        for name in ("tools", "tool_choice", "parallel_tool_calls"):
            body.pop(name, None)
    return ["tools.openrouter"]


def _server_tool(value: Any) -> bool:
    return isinstance(value, dict) and str(value.get("type", "")).startswith(SERVER_TOOL_PREFIX)


# ---- OpenRouter's `provider` object ------------------------------------------------------


def merge_provider(app: Any, policy: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The `provider` object an aggregator receives: the policy's preferences, narrowed by
    the app's where the app's value can only narrow them, never widened.

    - `only`: the app's hosts, if the policy sets `only`, only those within it (a host
      `x/variant` is within `x`); `order`: kept unless the policy orders itself, filtered
      the same way. Hosts in `ignore` are removed from both; an empty list is never sent
      (OpenRouter would read it as no restriction).
    - `ignore`: the union of both lists.
    - `allow_fallbacks` only `false`; `data_collection` only `"deny"`; `zdr`,
      `require_parameters`, `enforce_distillable_text` only `true`.
    - `quantizations`: intersected with the policy's; `max_price`: the lower of the two per
      key; `sort`, `preferred_min_throughput`, `preferred_max_latency`: the policy's if it
      sets them. These choose among hosts that are allowed anyway.
    - Any other key, or a value of the wrong shape, is dropped.

    Returns the object and the app's keys that did not reach it as sent."""
    merged = dict(policy)
    if app is None:
        return merged, []
    if not isinstance(app, dict):
        return merged, ["provider"]
    dropped: set[str] = set()
    for key in sorted(app, key=lambda k: k != "ignore"):  # ignore first: only/order use it
        rule = _RULES.get(key)
        value, intact = rule(app[key], policy, merged) if rule else (_DROP, False)
        if value is not _DROP:
            merged[key] = value
        if not intact:
            dropped.add(f"provider.{key}" if rule else "provider.other")
    return merged, sorted(dropped)


Rule = Callable[[Any, Mapping[str, Any], dict[str, Any]], tuple[Any, bool]]


def _strings(value: Any, pattern: re.Pattern[str]) -> list[str] | None:
    if not isinstance(value, list) or not value or len(value) > MAX_LIST:
        return None
    if not all(isinstance(v, str) and pattern.fullmatch(v) for v in value):
        return None
    return list(dict.fromkeys(value))


def _lower(value: Any) -> list[str] | None:
    """A policy's list of strings, lower case (OpenRouter's slugs ignore case)."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        return None
    return [v.lower() for v in value]


def _within(slug: str, hosts: list[str]) -> bool:
    low = slug.lower()
    return any(low == h or low.startswith(h + "/") for h in hosts)


def _hosts(key: str) -> Rule:
    """`only` and `order`: lists of hosts, which must stay within the policy's `only`."""

    def rule(value: Any, policy: Mapping[str, Any], merged: dict[str, Any]) -> tuple[Any, bool]:
        slugs = _strings(value, _SLUG)
        if slugs is None or (key == "order" and "order" in policy):
            return _DROP, False
        ignored = _lower(merged.get("ignore")) or []
        kept = [s for s in slugs if not _within(s, ignored)]
        if "only" in policy:
            allowed = _lower(policy["only"])
            kept = [s for s in kept if allowed is not None and _within(s, allowed)]
        return (kept or _DROP), len(kept) == len(slugs)

    return rule


def _ignore(value: Any, policy: Mapping[str, Any], merged: dict[str, Any]) -> tuple[Any, bool]:
    slugs = _strings(value, _SLUG)
    base = policy.get("ignore", [])
    if slugs is None or not isinstance(base, list):
        return _DROP, False
    return list(dict.fromkeys([*base, *slugs])), True


def _only_value(wanted: Any) -> Rule:
    """A switch the app may only turn to its restrictive value."""

    def rule(value: Any, policy: Mapping[str, Any], merged: dict[str, Any]) -> tuple[Any, bool]:
        return (value, True) if value == wanted and type(value) is type(wanted) else (_DROP, False)

    return rule


def _policy_first(key: str, valid: Callable[[Any], bool]) -> Rule:
    """A preference among allowed hosts: the app's if valid, unless the policy sets one."""

    def rule(value: Any, policy: Mapping[str, Any], merged: dict[str, Any]) -> tuple[Any, bool]:
        if key in policy:
            return _DROP, value == policy[key]
        return (value, True) if valid(value) else (_DROP, False)

    return rule


def _quantizations(
    value: Any, policy: Mapping[str, Any], merged: dict[str, Any]
) -> tuple[Any, bool]:
    levels = _strings(value, _QUANTIZATION)
    if levels is None:
        return _DROP, False
    if "quantizations" in policy:
        allowed = _lower(policy["quantizations"]) or []
        kept = [q for q in levels if q in allowed]
        return (kept or _DROP), len(kept) == len(levels)
    return levels, True


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value >= 0


def _max_price(value: Any, policy: Mapping[str, Any], merged: dict[str, Any]) -> tuple[Any, bool]:
    if not isinstance(value, dict) or not value:
        return _DROP, False
    if not all(k in PRICE_KEYS and _number(v) for k, v in value.items()):
        return _DROP, False
    base = policy.get("max_price", {})
    if not isinstance(base, dict):
        return _DROP, False
    result, intact = dict(base), True
    for k, v in value.items():
        if _number(base.get(k)) and base[k] < v:
            intact = False
        else:
            result[k] = v
    return result, intact


def _sort(value: Any) -> bool:
    if isinstance(value, str):
        return value in SORTS
    return (
        isinstance(value, dict)
        and value.get("by") in SORTS
        and set(value) <= {"by", "partition"}
        and value.get("partition", "model") in PARTITIONS
    )


def _percentiles(value: Any) -> bool:
    if isinstance(value, dict):
        return bool(value) and all(k in PERCENTILES and _number(v) for k, v in value.items())
    return _number(value)


_RULES: dict[str, Rule] = {
    "only": _hosts("only"),
    "order": _hosts("order"),
    "ignore": _ignore,
    "allow_fallbacks": _only_value(False),
    "data_collection": _only_value("deny"),
    "zdr": _only_value(True),
    "require_parameters": _only_value(True),
    "enforce_distillable_text": _only_value(True),
    "quantizations": _quantizations,
    "max_price": _max_price,
    "sort": _policy_first("sort", _sort),
    "preferred_min_throughput": _policy_first("preferred_min_throughput", _percentiles),
    "preferred_max_latency": _policy_first("preferred_max_latency", _percentiles),
}

RECORDED_NAMES = frozenset(
    {*ROUTING_FIELDS, *(f"provider.{key}" for key in _RULES), "provider.other", "tools.openrouter"}
)
"""Every name `outcome.dropped_fields` can hold: a fixed vocabulary, never request text."""
