"""Property-based tests (hypothesis, derandomized so every run is the same): arbitrary bytes
and structurally valid but odd JSON never crash the sidecar and never get forwarded
unparsed; the SSE parsers and the relay guard never release anything malformed."""

from __future__ import annotations

import itertools
from typing import Any

import aiohttp
import orjson
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from sidecar.api.anthropic import COUNT_TOKENS, MESSAGES
from sidecar.api.base import ParsedRequest
from sidecar.api.openai import CHAT_COMPLETIONS, EMBEDDINGS
from sidecar.classify import Classifier
from sidecar.config import ClassificationConfig
from sidecar.dispatch import _translate_body
from sidecar.errors import RouterError
from sidecar.providers.anthropic_anthropic import AnthropicToAnthropic
from sidecar.providers.anthropic_openai import AnthropicToOpenAI
from sidecar.providers.base import SSEParser, UnsupportedFeature
from sidecar.providers.openai_anthropic import OpenAIToAnthropic
from sidecar.providers.openai_openai import OpenAIToOpenAI
from sidecar.relay import EventGuard, MalformedResponse, translate
from tests.conftest import KEYS, Harness
from tests.reliability.support import check_anthropic, check_openai, sse_events

FUZZ = settings(derandomize=True, deadline=None, max_examples=300)
E2E = settings(
    derandomize=True,
    deadline=None,
    max_examples=120,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
PARSERS = [CHAT_COMPLETIONS, EMBEDDINGS, MESSAGES, COUNT_TOKENS]
CLASSIFIER = Classifier.from_config(ClassificationConfig())

# ---- strategies -----------------------------------------------------------------------------

KEYS_SEEN = st.sampled_from(
    [
        "model",
        "messages",
        "role",
        "content",
        "type",
        "text",
        "tool_calls",
        "function",
        "arguments",
        "name",
        "tools",
        "tool_choice",
        "stream",
        "stream_options",
        "include_usage",
        "max_tokens",
        "system",
        "input",
        "image_url",
        "url",
        "source",
        "tool_use_id",
        "response_format",
        "metadata",
        "stop",
        "n",
    ]
)
LEAVES = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.sampled_from(["user", "assistant", "system", "tool", "text", "image_url", "tool_use"])
)
JSON = st.recursive(
    LEAVES,
    lambda kids: (
        st.lists(kids, max_size=4)
        | st.dictionaries(KEYS_SEEN | st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=16,
)
ROLE = st.sampled_from(["user", "assistant", "system", "developer", "tool"]) | JSON
PART = st.fixed_dictionaries(
    {"type": st.sampled_from(["text", "image_url", "image", "tool_result", "tool_use"]) | JSON},
    optional={
        "text": st.text(max_size=20) | JSON,
        "image_url": JSON,
        "source": JSON,
        "input": JSON,
        "content": JSON,
        "id": JSON,
        "name": JSON,
    },
)
CONTENT = st.text(max_size=40) | st.lists(PART, max_size=3) | JSON
MESSAGE = st.fixed_dictionaries(
    {"role": ROLE},
    optional={"content": CONTENT, "tool_calls": JSON, "tool_call_id": JSON, "name": JSON},
)
ODD_BODY = st.fixed_dictionaries(
    {
        "model": st.sampled_from(["gpt-4o", "claude-sonnet-5", "claude-via-aggregator"]) | JSON,
        "messages": st.lists(MESSAGE, min_size=1, max_size=4) | JSON,
    },
    optional={
        "max_tokens": st.integers(min_value=-2, max_value=100) | JSON,
        "stream": st.booleans() | JSON,
        "system": CONTENT,
        "tools": JSON,
        "tool_choice": JSON,
        "response_format": JSON,
        "stream_options": JSON,
        "stop": JSON,
        "temperature": JSON,
        "metadata": JSON,
        "top_k": JSON,
    },
)

TEXT_PARTS = st.lists(
    st.fixed_dictionaries({"type": st.just("text"), "text": st.text(max_size=20)}),
    min_size=1,
    max_size=3,
)
ODD_TURN = st.fixed_dictionaries(
    {"role": st.sampled_from(["assistant", "tool", "system", "user"])},
    optional={
        "content": st.text(max_size=10) | TEXT_PARTS | JSON,
        "tool_calls": st.lists(
            st.fixed_dictionaries(
                {"id": JSON, "type": JSON, "function": JSON | st.just({"name": "f"})}
            ),
            max_size=2,
        ),
        "tool_call_id": JSON,
    },
)
NEAR_VALID = st.builds(
    lambda model, text, turns, extra, stream: {
        "model": model,
        "max_tokens": 16,
        "messages": [*turns, {"role": "user", "content": text}],
        **extra,
        **({"stream": True} if stream else {}),
    },
    st.sampled_from(["gpt-4o", "claude-sonnet-5", "claude-via-aggregator"]),
    st.text(max_size=40) | TEXT_PARTS,
    st.lists(ODD_TURN, max_size=2),
    st.dictionaries(
        st.sampled_from(
            [
                "temperature",
                "stop",
                "user",
                "metadata",
                "tools",
                "tool_choice",
                "response_format",
                "n",
                "top_k",
                "stream_options",
                "system",
                "x_unknown",
            ]
        ),
        JSON,
        max_size=2,
    ),
    st.booleans(),
)
"""Valid requests with one or two odd turns or fields: these reach the translators and
upstreams, where unparsed or half-translated bodies could slip through."""


def json_bytes(value: Any) -> bytes:
    return orjson.dumps(value)


# ---- parsers --------------------------------------------------------------------------------


def parse_or_4xx(api: Any, raw: bytes) -> ParsedRequest | None:
    try:
        parsed: ParsedRequest = api.parse(raw, 64)
    except RouterError as err:
        assert 400 <= err.status < 500, err.status
        return None
    assert isinstance(parsed.body, dict) and isinstance(parsed.model, str) and parsed.model
    CLASSIFIER.classify(parsed.segments)  # whatever parsed can be classified
    return parsed


@FUZZ
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_parse_or_are_refused_with_a_4xx(raw: bytes) -> None:
    for api in PARSERS:
        parse_or_4xx(api, raw)


@FUZZ
@given(body=ODD_BODY | NEAR_VALID | JSON)
def test_odd_json_parses_or_is_refused_and_translates_or_is_skipped(body: Any) -> None:
    raw = json_bytes(body)
    for api in PARSERS:
        parsed = parse_or_4xx(api, raw)
        if parsed is None or api.endpoint not in ("chat_completions", "messages"):
            continue
        for translator in (
            [OpenAIToOpenAI(api.endpoint), OpenAIToAnthropic(api.endpoint)]
            if api.schema == "openai"
            else [AnthropicToAnthropic(api.endpoint), AnthropicToOpenAI(api.endpoint)]
        ):
            try:
                out = translator.request_body(parsed.body, "m")
            except UnsupportedFeature:
                continue
            except (TypeError, ValueError, KeyError, AttributeError, IndexError):
                continue  # the pipeline skips the route with a reason (never forwards)
            assert isinstance(orjson.loads(orjson.dumps(out)), dict)


# ---- SSE: parser, guard, translators on upstream bytes --------------------------------------

SSE_PIECES = st.lists(
    st.sampled_from(
        [
            b"data: {}\n\n",
            b'data: {"a": 1}\n',
            b"data: [DONE]\n\n",
            b"event: ping\n",
            b": keep-alive\n\n",
            b"\r\n",
            b"\n",
            b"\r",
            b"data: {",
            b"garbage",
            b"id: 7\n",
            b'event: message_stop\ndata: {"type": "message_stop"}\n\n',
        ]
    )
    | st.binary(max_size=12),
    max_size=12,
)


def splits(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    edges = [0, *points, len(data)]
    return [data[a:b] for a, b in itertools.pairwise(edges)]


@FUZZ
@given(pieces=SSE_PIECES, cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=6))
def test_sse_parser_gives_the_same_events_however_the_bytes_are_split(
    pieces: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(pieces)
    whole = SSEParser().feed(data)
    parser = SSEParser()
    split = [event for part in splits(data, cuts) for event in parser.feed(part)]
    assert split == whole


@FUZZ
@given(pieces=SSE_PIECES, cuts=st.lists(st.integers(min_value=0, max_value=500), max_size=6))
def test_event_guard_releases_only_complete_well_formed_events(
    pieces: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(pieces)
    guard = EventGuard()
    released = b""
    try:
        for part in splits(data, cuts):
            released += guard.feed(part)[0]
    except MalformedResponse:
        pass
    sse_events(released)  # raises if anything released is incomplete or not JSON


UPSTREAM_EVENTS = st.lists(
    st.one_of(
        st.builds(
            lambda e, d: b"event: " + e.encode() + b"\ndata: " + orjson.dumps(d) + b"\n\n",
            st.sampled_from(
                [
                    "message_start",
                    "content_block_start",
                    "content_block_delta",
                    "content_block_stop",
                    "message_delta",
                    "message_stop",
                    "error",
                    "ping",
                ]
            ),
            JSON,
        ),
        st.builds(lambda d: b"data: " + orjson.dumps(d) + b"\n\n", JSON),
        st.just(b"data: [DONE]\n\n"),
        st.binary(max_size=16),
    ),
    max_size=8,
)


@FUZZ
@given(events=UPSTREAM_EVENTS, cuts=st.lists(st.integers(min_value=0, max_value=800), max_size=5))
def test_translated_upstream_streams_are_well_formed_or_refused(
    events: list[bytes], cuts: list[int]
) -> None:
    data = b"".join(events)
    for translator in (
        OpenAIToOpenAI("chat_completions"),
        OpenAIToAnthropic("chat_completions"),
        AnthropicToAnthropic("messages"),
        AnthropicToOpenAI("messages"),
    ):
        guard = EventGuard()
        released = b""
        try:
            for part in splits(data, cuts):
                released += translate(translator, guard, part)[0]
        except MalformedResponse:
            pass
        sse_events(released)


@FUZZ
@given(body=st.binary(max_size=64) | JSON.map(json_bytes))
def test_non_streamed_upstream_bodies_translate_or_count_as_malformed(body: bytes) -> None:
    for translator in (
        OpenAIToOpenAI("chat_completions"),
        OpenAIToAnthropic("chat_completions"),
        AnthropicToAnthropic("messages"),
        AnthropicToOpenAI("messages"),
    ):
        try:
            out = _translate_body(translator, body)
        except MalformedResponse:
            continue
        assert isinstance(orjson.loads(out), dict)


# ---- end to end: the real sidecar -----------------------------------------------------------


async def _post(h: Harness, path: str, raw: bytes) -> tuple[int, Any, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            h.running.app_url + path, data=raw, headers={"Content-Type": "application/json"}
        ) as resp,
    ):
        return resp.status, resp.headers, await resp.read()


def _forwarded_since(h: Harness, before: dict[str, int]) -> list[Any]:
    return [r for name in KEYS for r in h.upstreams[name].received[before[name] :]]


@pytest.mark.parametrize(
    ("path", "check"),
    [("/v1/chat/completions", check_openai), ("/v1/messages", check_anthropic)],
    ids=["openai", "anthropic"],
)
@E2E
@given(
    request=st.one_of(
        st.binary(max_size=200),
        JSON.map(json_bytes),
        ODD_BODY.map(json_bytes),
        NEAR_VALID.map(json_bytes),
        NEAR_VALID.map(json_bytes),
    )
)
async def test_the_sidecar_answers_odd_requests_in_format_and_forwards_only_parsed_json(
    harness: Harness, path: str, check: Any, request: bytes
) -> None:
    before = {name: len(harness.upstreams[name].received) for name in KEYS}
    status, headers, raw = await _post(harness, path, request)
    assert status < 500 or status in (502, 503, 504), (status, raw[:200])
    try:
        stream = orjson.loads(request).get("stream") is True
    except (orjson.JSONDecodeError, AttributeError):
        stream = False
    check(status, headers, raw, stream and status == 200)
    event(f"status {status}")
    for received in _forwarded_since(harness, before):
        assert isinstance(received.json, dict)  # valid JSON that the sidecar serialised
        assert received.body == orjson.dumps(received.json)
