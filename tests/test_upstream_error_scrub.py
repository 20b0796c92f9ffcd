"""Upstream errors that quote the request, end to end: loopback upstreams that echo the
key header, the static headers, other providers' keys, a prompt fragment and the whole
body, in OpenAI's and Anthropic's formats, on same-format and translated routes, as error
responses and as error events mid-stream, and on a pass-through endpoint. The app, through
the real SDKs, gets the status, the provider's error type and code, and none of it; nor do
the audit record and the logs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import aiohttp
import anthropic
import openai
import pytest
import structlog

from sidecar.emulators.echo import ECHO_CODE, EchoUpstream
from sidecar.scrub import PLACEHOLDER
from tests.conftest import APP_KEY, KEYS, Emulator, Harness, HarnessFactory, config_dict
from tests.reliability.support import check_anthropic, check_openai, providers_with
from tests.test_routing import EMAIL, user

STATIC = "org-static-header-secret-5519"
"""A static header the operator configured for OpenRouter: sent upstream, never shown."""
PROMPT = (
    "Summarise the quarterly planning memo about the Zephyr launch for the board, "
    "in three short bullet points, keeping the tone upbeat"
)
REGULATED = PROMPT + f" and send it to {EMAIL}"
"""PII: only the Anthropic direct route (DPA and BAA) is allowed."""
AGGREGATOR = "openrouter"


def leaks(text: str) -> list[str]:
    """Every key, the static header, the email and any 16 characters of the prompt."""
    found = [s for s in (*KEYS.values(), STATIC, APP_KEY, EMAIL) if s in text]
    found += [
        s[i : i + 12] for s in KEYS.values() for i in range(len(s) - 11) if s[i : i + 12] in text
    ]
    found += [
        REGULATED[i : i + 16] for i in range(len(REGULATED) - 15) if REGULATED[i : i + 16] in text
    ]
    return found


@pytest.fixture
async def echoes() -> AsyncIterator[dict[str, EchoUpstream]]:
    stubs = {
        "openrouter": EchoUpstream("openai", known_keys=(KEYS["anthropic"], KEYS["openai"])),
        "anthropic": EchoUpstream("anthropic", known_keys=(KEYS["openrouter"],)),
    }
    for stub in stubs.values():
        await stub.start()
    yield stubs
    for stub in stubs.values():
        await stub.stop()


async def echo_harness(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    echoes: dict[str, EchoUpstream],
    **overrides: Any,
) -> Harness:
    providers = providers_with(upstreams)
    for name, stub in echoes.items():
        providers[name]["base_url"] = stub.base_url
    providers["openrouter"]["headers"] = {"X-Org-Token": STATIC}
    h: Harness = await make_harness(providers=providers, **overrides)
    return h


@pytest.fixture
async def echoed(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    echoes: dict[str, EchoUpstream],
) -> Harness:
    """A sidecar whose every provider is an echoing upstream."""
    return await echo_harness(make_harness, upstreams, echoes)


def anthropic_client(h: Harness) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=h.running.app_url, api_key=APP_KEY, max_retries=0)


async def anthropic_refusal(h: Harness, model: str, text: str) -> tuple[dict[str, Any], str]:
    """The error body an Anthropic app got for one Messages request, and the raw response."""
    client = anthropic_client(h)
    try:
        with pytest.raises(anthropic.BadRequestError) as caught:
            await client.messages.create(model=model, max_tokens=64, messages=user(text))
    finally:
        await client.close()
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    return body, caught.value.response.text


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Iterator[Callable[[], str]]:
    """Everything the sidecar logged so far, through structlog or the standard library."""
    with structlog.testing.capture_logs() as events:
        yield lambda: repr(events) + caplog.text


def quiet(h: Harness, logged: Callable[[], str]) -> None:
    """Nothing of the request in the audit records, nor in what the sidecar logged."""
    assert not leaks(h.audit.getvalue().decode())
    assert not leaks(logged())


async def post_raw(h: Harness, body: dict[str, Any], path: str) -> tuple[int, Any, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.running.app_url + path, json=body, headers={"anthropic-version": "1"}) as r,
    ):
        return r.status, r.headers, await r.read()


# ---- error responses ----------------------------------------------------------------------


async def test_openai_app_same_format_route(
    echoed: Harness, echoes: dict[str, EchoUpstream], logged: Callable[[], str]
) -> None:
    h = echoed
    with pytest.raises(openai.BadRequestError) as caught:
        await h.client.chat.completions.create(model="gpt-4o", messages=user(PROMPT))
    err = caught.value
    assert err.status_code == 400
    body = err.body
    assert isinstance(body, dict)
    assert body["type"] == "invalid_request_error" and body["code"] == ECHO_CODE
    assert body["param"] is None  # it held the key
    assert PLACEHOLDER in body["message"] and "Invalid request with credentials" in body["message"]
    assert "metadata" not in body
    assert not leaks(err.response.text)
    [sent] = echoes["openrouter"].received
    assert KEYS["openrouter"] in sent.headers["Authorization"]  # it was echoed, then removed
    assert h.audit_records()[0]["outcome"]["error_code"] == "upstream_client_error"
    quiet(h, logged)


async def test_anthropic_app_translated_to_an_openai_format_route(
    echoed: Harness, logged: Callable[[], str]
) -> None:
    h = echoed
    body, raw = await anthropic_refusal(h, "claude-via-aggregator", PROMPT)
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["code"] == ECHO_CODE
    assert PLACEHOLDER in body["error"]["message"]
    assert not leaks(raw)
    quiet(h, logged)


async def test_openai_app_translated_to_anthropic(
    echoed: Harness, echoes: dict[str, EchoUpstream], logged: Callable[[], str]
) -> None:
    h = echoed
    with pytest.raises(openai.BadRequestError) as caught:
        await h.client.chat.completions.create(model="claude-sonnet-5", messages=user(REGULATED))
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error"
    assert PLACEHOLDER in body["message"]
    assert not leaks(caught.value.response.text)
    [sent] = echoes["anthropic"].received
    assert sent.headers["x-api-key"] == KEYS["anthropic"]
    quiet(h, logged)


async def test_anthropic_app_same_format_route(echoed: Harness, logged: Callable[[], str]) -> None:
    h = echoed
    body, raw = await anthropic_refusal(h, "claude-sonnet-5", REGULATED)
    assert set(body) == {"type", "error"}  # no `request` echo
    assert body["error"]["type"] == "invalid_request_error" and "echo" not in body["error"]
    assert PLACEHOLDER in body["error"]["message"]
    assert not leaks(raw)
    quiet(h, logged)


async def test_a_pass_through_endpoint(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    echoes: dict[str, EchoUpstream],
    logged: Callable[[], str],
) -> None:
    base = config_dict({n: "http://127.0.0.1:1" for n in KEYS})
    moderation = {
        "routes": [
            {"provider": "openrouter", "model": "openai/omni-moderation-latest"},
            {"provider": "openai", "model": "omni-moderation-latest"},
        ]
    }
    endpoint = {
        "path": "/v1/moderations",
        "format": "openai",
        "upstream_path": "/moderations",
        "model": "moderation",
    }
    h = await echo_harness(
        make_harness,
        upstreams,
        echoes,
        models={**base["models"], "moderation": moderation},
        passthrough=[endpoint],
    )
    with pytest.raises(openai.BadRequestError) as caught:
        await h.client.moderations.create(input=PROMPT, model="moderation")
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == ECHO_CODE
    assert not leaks(caught.value.response.text)
    assert echoes["openrouter"].received[0].path == "/v1/moderations"
    quiet(h, logged)


# ---- error events in streams --------------------------------------------------------------


async def test_mid_stream_error_events_on_every_kind_of_route(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    echoes: dict[str, EchoUpstream],
    logged: Callable[[], str],
) -> None:
    for stub in echoes.values():
        stub.stream_errors = True
    h = await echo_harness(make_harness, upstreams, echoes)

    # OpenAI app, OpenAI-format route: the SDK raises with the provider's type and code.
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user(PROMPT), stream=True
    )
    with pytest.raises(openai.APIError) as caught:
        async for _ in stream:
            pass
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error"
    assert body["code"] == ECHO_CODE and not leaks(str(body))

    # OpenAI app, Anthropic route (translated).
    stream = await h.client.chat.completions.create(
        model="claude-sonnet-5", messages=user(REGULATED), stream=True
    )
    with pytest.raises(openai.APIError) as caught:
        async for _ in stream:
            pass
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "invalid_request_error"
    assert not leaks(str(body))

    # Anthropic app, Anthropic route, and an OpenAI-format route (translated).
    client = anthropic_client(h)
    for model, text, kind in (
        ("claude-sonnet-5", REGULATED, "invalid_request_error"),
        ("claude-via-aggregator", PROMPT, "api_error"),
    ):
        with pytest.raises(anthropic.APIStatusError) as failed:
            async with client.messages.stream(
                model=model, max_tokens=64, messages=user(text)
            ) as events:
                async for _ in events:
                    pass
        error = failed.value.body
        assert isinstance(error, dict) and error["error"]["type"] == kind
        assert not leaks(str(error))
    await client.close()

    # On the wire: one last error event, well-formed, nothing of the request in it.
    for path, body_sent, check in (
        ("/v1/chat/completions", {"model": "gpt-4o", "stream": True}, check_openai),
        ("/v1/messages", {"model": "claude-via-aggregator", "stream": True}, check_anthropic),
    ):
        payload = {**body_sent, "max_tokens": 64, "messages": user(PROMPT)}
        status, headers, raw = await post_raw(h, payload, path)
        outcome = check(status, headers, raw, stream=True)
        assert status == 200 and not outcome.complete and outcome.error_code == ECHO_CODE
        assert not leaks(raw.decode())

    records = h.audit_records()
    assert {r["outcome"]["error_code"] for r in records} == {"upstream_error_event"}
    labels = {"provider": AGGREGATOR, "code": "upstream_error_event"}
    assert h.metric("llm_router_stream_failures_total", **labels) == 4
    quiet(h, logged)


async def test_an_error_event_before_any_data_fails_over(
    make_harness: HarnessFactory,
    upstreams: dict[str, Emulator],
    echoes: dict[str, EchoUpstream],
    logged: Callable[[], str],
) -> None:
    echoes["openrouter"].stream_errors = True
    echoes["openrouter"].events_before = 0
    h = await echo_harness(make_harness, upstreams, echoes)
    stream = await h.client.chat.completions.create(
        model="gpt-4o", messages=user(PROMPT), stream=True
    )
    text = "".join([c.choices[0].delta.content or "" async for c in stream if c.choices])
    assert "served by openai" in text
    [record] = h.audit_records()
    attempts = [(a["provider"], a["outcome"]) for a in record["attempts"]]
    assert attempts == [(AGGREGATOR, "error_event"), ("openai", "ok")]
    quiet(h, logged)
