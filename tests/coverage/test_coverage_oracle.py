"""The property that keeps "everything that leaves was scanned" true as providers add
fields: valid request bodies of every supported API, drawn from the providers' documented
request schemas (rare fields and unknown extra fields included), each with a marker planted
in one random string position or key, go through a real sidecar to loopback upstreams; the
oracle then checks every string the upstreams received against what was scanned."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st

from sidecar.api import fields_anthropic, fields_openai, fields_responses
from sidecar.classify.walk import Field, walk
from tests.conftest import Harness
from tests.coverage import bodies_anthropic, bodies_openai, bodies_responses
from tests.coverage.oracle import Seen, instrument, leaf_problems, marker_problems
from tests.coverage.sites import HOWS, Site, plant, planted_site, string_sites

MARKERS = [f"qzv mark{chr(97 + i)} qzv" for i in range(6)]
"""Lower-case letters and spaces: no detector fires on them, so a planted body stays public
and the policy sends it to the aggregator first (through a translator where one is
needed); and the spaces fit no exempt shape (enum, id, number), so a marker a validator
waved through is caught. Up to six per body, each at a different random site."""
PROPERTY = settings(
    derandomize=True,
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
Strategy = Callable[..., st.SearchStrategy[dict[str, Any]]]
APIS: dict[str, tuple[str, Strategy, list[str]]] = {
    "chat": ("/v1/chat/completions", bodies_openai.openai_chat, ["gpt-4o", "openai/gpt-4o"]),
    "completions": ("/v1/completions", bodies_openai.openai_completions, ["gpt-4o"]),
    "embeddings": ("/v1/embeddings", bodies_openai.openai_embeddings, ["embed-small"]),
    "responses": (
        "/v1/responses",
        # A continuation of a response this sidecar never saw created is a 404 by design.
        partial(bodies_responses.openai_responses, continuations=False),
        ["gpt-4o", "openai/gpt-4o"],
    ),
    "messages": (
        "/v1/messages",
        bodies_anthropic.anthropic_messages,
        ["claude-sonnet-5", "anthropic/claude-sonnet-5"],
    ),
    "count_tokens": (
        "/v1/messages/count_tokens",
        bodies_anthropic.anthropic_count_tokens,
        ["claude-sonnet-5"],
    ),
}
EXTRAS_REFUSED = frozenset({"responses"})
"""APIs whose upstreams refuse unknown parameters (OpenAI's Responses API answers a 400
`unknown_parameter`): the acceptance test draws their bodies without unknown fields. The
coverage test keeps them: what an upstream received is checked whatever it answered."""
TREES = {
    "chat": fields_openai.CHAT,
    "completions": fields_openai.COMPLETIONS,
    "embeddings": fields_openai.EMBEDDINGS,
    "responses": fields_responses.RESPONSES,
    "messages": fields_anthropic.MESSAGES,
    "count_tokens": fields_anthropic.MESSAGES,
}
"""Each API's exemption tree, for the oracle run over the walk alone."""
ROUTE_MODELS = [
    "gpt-4o",
    "openai/gpt-4o",
    "gemini-2.5-pro",
    "claude-sonnet-5",
    "anthropic/claude-sonnet-5",
    "text-embedding-3-small",
    "openai/text-embedding-3-small",
]


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> Seen:
    return instrument(monkeypatch)


def _received(h: Harness) -> list[bytes]:
    return [r.body for emu in h.upstreams.values() for r in emu.received]


def _reset(h: Harness, seen: Seen) -> None:
    for emu in h.upstreams.values():
        emu.received.clear()
    seen.reset()


async def _post(h: Harness, path: str, body: dict[str, Any]) -> int:
    headers = {"content-type": "application/json", "anthropic-version": "2023-06-01"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.running.app_url + path, data=orjson.dumps(body), headers=headers) as resp,
    ):
        await resp.read()
        return resp.status


@st.composite
def several_planted(
    draw: st.DrawFn, bodies: st.SearchStrategy[dict[str, Any]]
) -> tuple[dict[str, Any], list[Site]]:
    """A body with markers planted at up to six distinct sites, the deepest first and a
    value before its own key (renaming a key changes the paths at and below it, never
    those beside or above it)."""
    body = draw(bodies)
    sites = string_sites(body)
    picked = draw(st.lists(st.sampled_from(sites), min_size=1, max_size=6, unique=True))
    picked.sort(key=lambda site: (len(site.path), not site.is_key), reverse=True)
    hows = st.sampled_from(["replace", "prefix", "suffix", "middle"])
    where = []
    for marker, site in zip(MARKERS, picked, strict=False):
        how = draw(hows)
        body = plant(body, site, marker, how)
        where.append(planted_site(site, marker, how))
    return body, where


@pytest.mark.parametrize("api", list(APIS))
@PROPERTY
@given(data=st.data())
async def test_every_forwarded_string_was_scanned(
    harness: Harness, seen: Seen, api: str, data: st.DataObject
) -> None:
    path, strategy, models = APIS[api]
    body, sites = data.draw(several_planted(strategy(models)))
    note(f"markers at {sites}")
    _reset(harness, seen)
    status = await _post(harness, path, body)
    received = _received(harness)
    assert status < 500, f"{status} for a valid {api} body"
    problems = [p for marker in MARKERS for p in marker_problems(seen, received, marker)]
    problems += leaf_problems(seen, received, ROUTE_MODELS)
    if problems:
        note(orjson.dumps(body).decode()[:3000])
        note(repr(received)[:3000])
    assert not problems, problems


def _letters(n: int) -> str:
    out = ""
    while True:
        n, digit = divmod(n, 26)
        out += chr(97 + digit)
        if not n:
            return out


def _planted_everywhere(
    draw: st.DrawFn, body: dict[str, Any], keys: bool
) -> tuple[dict[str, Any], list[str]]:
    """`body` with a marker of its own in every string value, or in every key. Never both:
    a renamed key is unknown to the tree, so everything below it would be scanned anyway
    and an exemption there never put to the test."""
    sites = [s for s in string_sites(body) if s.is_key == keys]
    sites.sort(key=lambda site: len(site.path), reverse=True)  # the deepest keys first
    markers = [f"qzv mark{_letters(i)} qzv" for i in range(len(sites))]
    for marker, site in zip(markers, sites, strict=True):
        body = plant(body, site, marker, draw(st.sampled_from(HOWS)))
    return body, markers


@pytest.mark.parametrize("api", list(APIS))
@settings(PROPERTY, max_examples=40)
@given(data=st.data())
def test_the_walk_alone_accounts_for_a_marker_in_every_string(
    api: str, data: st.DataObject
) -> None:
    """The oracle over the exemption tree alone, as if the body were forwarded as it is,
    with a marker of its own in every string value (then in every key) at once: the
    end-to-end test can only afford six per request, and a marker in `model` is a 400
    before any walk. Every marker must be scanned, and the unplanted body must leave no
    string unaccounted for."""
    _, strategy, models = APIS[api]
    body = data.draw(strategy(models))
    clean = walk(body, TREES[api])
    seen = Seen(walks=[clean], scanned=list(clean.segments))
    assert not leaf_problems(seen, [orjson.dumps(body)], ROUTE_MODELS)
    for keys in (False, True):
        planted, markers = _planted_everywhere(data.draw, body, keys)
        found = walk(planted, TREES[api])
        seen = Seen(walks=[found], scanned=list(found.segments))
        forwarded = [orjson.dumps(planted)]
        assert not [p for marker in markers for p in marker_problems(seen, forwarded, marker)]


@pytest.mark.parametrize("api", list(APIS))
@settings(PROPERTY, max_examples=25)
@given(data=st.data())
async def test_valid_bodies_without_planted_values_are_accepted_and_reach_the_aggregator(
    harness: Harness, seen: Seen, api: str, data: st.DataObject
) -> None:
    """No over-blocking: a valid body with nothing regulated in it is answered (2xx), and
    the policy puts the aggregator first, unless the body carries content that cannot be
    scanned: then no aggregator route is allowed at all."""
    path, strategy, models = APIS[api]
    body = data.draw(strategy(models, extras=api not in EXTRAS_REFUSED))
    _reset(harness, seen)
    status = await _post(harness, path, body)
    assert status == 200, f"{status} for a valid {api} body"
    record = harness.audit_records()[-1]
    routes = record["policy"]["routes"]
    unscanned = record["classification"]["unscanned"]
    assert unscanned == sorted(set().union(*(w.unscanned for w in seen.walks)))
    if not unscanned:
        assert record["classification"]["level"] == "public"
        assert routes[0].startswith("openrouter:"), routes
    else:
        assert not any(r.startswith("openrouter:") for r in routes), (unscanned, routes)


async def test_the_oracle_fails_when_a_field_is_exempted_without_a_real_validator(
    harness: Harness, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The oracle itself can fail: with `metadata` exempted by a validator that accepts
    anything (the mistake an allow-list makes), a marker there is reported."""
    fields = dict(fields_openai.CHAT.fields or {})
    fields["metadata"] = Field(values=Field(check=lambda value: True))
    monkeypatch.setattr(fields_openai.CHAT, "fields", fields)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
    body["metadata"] = {"note": MARKERS[0]}
    assert await _post(harness, "/v1/chat/completions", body) == 200
    problems = marker_problems(seen, _received(harness), MARKERS[0])
    assert any("a validator exempted" in p for p in problems), problems
    assert any("forwarded unscanned" in p for p in problems), problems


async def test_the_oracle_fails_when_a_responses_item_field_is_exempted_blindly(
    harness: Harness, seen: Seen, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same for the Responses tree: with a tool call's `output` waved through, a marker
    there is reported, on its way to the aggregator's Responses endpoint."""
    item = fields_responses.ITEM
    monkeypatch.setattr(item, "fields", {**(item.fields or {}), "output": Field(check=bool)})
    call = {"type": "function_call", "call_id": "call_AbC", "name": "f", "arguments": "{}"}
    answer = {"type": "function_call_output", "call_id": "call_AbC", "output": MARKERS[0]}
    body = {"model": "gpt-4o", "input": [{"role": "user", "content": "hi"}, call, answer]}
    assert await _post(harness, "/v1/responses", body) == 200
    problems = marker_problems(seen, _received(harness), MARKERS[0])
    assert any("a validator exempted" in p for p in problems), problems
    assert any("forwarded unscanned" in p for p in problems), problems
