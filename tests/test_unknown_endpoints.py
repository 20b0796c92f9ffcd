"""Endpoints the sidecar does not implement get a 404 in the app's API format, and nothing
is forwarded anywhere: through both SDKs, and raw for other methods and prefixes."""

from __future__ import annotations

import aiohttp
import anthropic
import openai
import orjson
import pytest

from tests.conftest import APP_KEY, KEYS, Harness
from tests.test_routing import EMAIL, SSN

REJECTED = "llm_router_rejected_requests_total"


def nothing_forwarded(h: Harness) -> None:
    assert {name: h.received_by(name) for name in KEYS} == dict.fromkeys(KEYS, 0)


def openai_shape(body: object) -> dict[str, object]:
    assert isinstance(body, dict)
    assert body["type"] == "invalid_request_error"
    assert body["code"] == "unknown_endpoint"
    assert body["param"] is None
    assert isinstance(body["message"], str) and isinstance(body["decision_id"], str)
    return body


async def test_openai_images_generate_is_not_forwarded(harness: Harness) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await harness.client.images.generate(model="gpt-image-1", prompt=f"a cat for {EMAIL}")
    body = openai_shape(caught.value.body)
    assert caught.value.response.headers["x-llm-router-decision-id"] == body["decision_id"]
    assert EMAIL not in str(body)
    nothing_forwarded(harness)
    assert harness.metric(REJECTED, reason="unknown_endpoint") == 1


async def test_openai_conversations_create_is_not_forwarded(harness: Harness) -> None:
    """The Responses API is served; its companion Conversations API is not."""
    with pytest.raises(openai.NotFoundError) as caught:
        await harness.client.conversations.create(
            items=[{"type": "message", "role": "user", "content": f"SSN {SSN}"}]
        )
    openai_shape(caught.value.body)
    nothing_forwarded(harness)


async def test_openai_files_list_is_not_forwarded(harness: Harness) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await harness.client.files.list()
    openai_shape(caught.value.body)
    nothing_forwarded(harness)


async def test_anthropic_batches_create_is_not_forwarded(harness: Harness) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=harness.running.app_url, api_key=APP_KEY, max_retries=0
    )
    request = {
        "custom_id": "one",
        "params": {
            "model": "claude-sonnet-5",
            "max_tokens": 10,
            "messages": [{"role": "user", "content": f"Email {EMAIL}"}],
        },
    }
    with pytest.raises(anthropic.NotFoundError) as caught:
        await client.messages.batches.create(requests=[request])  # type: ignore[list-item]
    body = caught.value.body
    assert isinstance(body, dict) and body["type"] == "error"
    assert body["error"]["type"] == "not_found_error"
    assert body["error"]["code"] == "unknown_endpoint"
    decision_id = caught.value.response.headers["x-llm-router-decision-id"]
    assert body["error"]["decision_id"] == decision_id
    nothing_forwarded(harness)
    await client.close()


async def raw(
    h: Harness, method: str, path: str, headers: dict[str, str] | None = None
) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
    async with (
        aiohttp.ClientSession() as session,
        session.request(
            method,
            h.running.app_url + path,
            data=orjson.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": SSN}]}),
            headers={"Content-Type": "application/json", **(headers or {})},
        ) as resp,
    ):
        return resp.status, orjson.loads(await resp.read()), dict(resp.headers)


@pytest.mark.parametrize(
    ("method", "path", "headers", "anthropic_format"),
    [
        ("GET", "/v1/chat/completions", None, False),
        ("PUT", "/v1/embeddings", None, False),
        ("POST", "/v2/anything", None, False),
        ("POST", "/v1/chat/completions/", None, False),
        ("POST", "/", None, False),
        ("DELETE", "/v1/models", None, False),
        ("GET", "/v1/messages", None, True),
        ("POST", "/v1/messages/batches", None, True),
        ("POST", "/v1/complete", {"anthropic-version": "2023-06-01"}, True),
        ("PATCH", "/v1/files/536-22-8457", None, False),
    ],
)
async def test_other_paths_and_methods_are_refused(
    harness: Harness,
    method: str,
    path: str,
    headers: dict[str, str] | None,
    anthropic_format: bool,
) -> None:
    status, body, reply_headers = await raw(harness, method, path, headers)
    assert status == 404
    decision_id = reply_headers["x-llm-router-decision-id"]
    if anthropic_format:
        assert body["type"] == "error"
        assert body["error"]["type"] == "not_found_error"
        assert body["error"]["code"] == "unknown_endpoint"
        assert body["error"]["decision_id"] == decision_id
    else:
        assert openai_shape(body.get("error"))["decision_id"] == decision_id
    assert SSN not in str(body)  # the path's shape only, never its content
    nothing_forwarded(harness)
    assert harness.metric(REJECTED, reason="unknown_endpoint") == 1


async def test_known_endpoints_still_work(harness: Harness) -> None:
    page = await harness.client.models.list()
    assert page.data
    done = await harness.client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}]
    )
    assert done.choices
    assert harness.metric(REJECTED, reason="unknown_endpoint") == 0
