"""Bad input gets a clear 4xx in OpenAI's error format, is audited, and is never forwarded."""

from __future__ import annotations

import aiohttp
import orjson
import pytest

from tests.conftest import KEYS, Harness


async def post(
    h: Harness,
    body: bytes,
    content_type: str = "application/json",
    path: str = "/chat/completions",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict, dict]:  # type: ignore[type-arg]
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            h.base_url + path, data=body, headers={"Content-Type": content_type, **(headers or {})}
        ) as resp,
    ):
        return resp.status, orjson.loads(await resp.read()), dict(resp.headers)


GOOD = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_json"),
        (b"[1, 2]", 400, "invalid_request"),
        (b"", 400, "invalid_request"),
        (orjson.dumps({"messages": GOOD["messages"]}), 400, "invalid_request"),
        (orjson.dumps({"model": "gpt-4o"}), 400, "invalid_request"),
        (orjson.dumps({"model": 5, "messages": GOOD["messages"]}), 400, "invalid_request"),
        (
            orjson.dumps({**GOOD, "messages": [{"role": "wizard", "content": "x"}]}),
            400,
            "invalid_request",
        ),
        (
            orjson.dumps({**GOOD, "messages": [{"role": "user", "content": 42}]}),
            400,
            "invalid_request",
        ),
        (orjson.dumps({**GOOD, "stream": "yes"}), 400, "invalid_request"),
        (orjson.dumps({**GOOD, "model": "no-such-model"}), 404, "model_not_found"),
    ],
    ids=[
        "malformed",
        "array",
        "empty",
        "no-model",
        "no-messages",
        "model-type",
        "role",
        "content-type",
        "stream-type",
        "unknown-model",
    ],
)
async def test_bad_requests(harness: Harness, body: bytes, status: int, code: str) -> None:
    got_status, payload, headers = await post(harness, body)
    assert got_status == status
    assert payload["error"]["code"] == code
    assert set(payload["error"]) >= {"message", "type", "code"}
    assert headers["x-llm-router-decision-id"] == payload["error"]["decision_id"]
    assert sum(len(e.received) for e in harness.upstreams.values()) == 0
    [record] = harness.audit_records()
    assert record["outcome"]["status"] == status


async def test_wrong_content_type_is_415(harness: Harness) -> None:
    status, payload, _ = await post(harness, orjson.dumps(GOOD), content_type="text/plain")
    assert status == 415 and payload["error"]["code"] == "unsupported_media_type"


async def test_oversized_body_is_413(make_harness: object) -> None:
    h: Harness = await make_harness(limits={"max_body_bytes": 2048})  # type: ignore[operator]
    big = orjson.dumps({**GOOD, "messages": [{"role": "user", "content": "x" * 4096}]})
    status, payload, _ = await post(h, big)
    assert status == 413 and payload["error"]["code"] == "request_too_large"
    assert len(h.audit_records()) == 1


async def test_deeply_nested_body_is_400(harness: Harness) -> None:
    nested: object = "x"
    for _ in range(200):
        nested = {"a": nested}
    status, payload, _ = await post(harness, orjson.dumps({**GOOD, "metadata": nested}))
    assert status == 400 and payload["error"]["code"] == "too_deep"


async def test_unknown_data_class_header_is_400(harness: Harness) -> None:
    status, payload, _ = await post(
        harness, orjson.dumps(GOOD), headers={"X-LLM-Data-Class": "top-secret-ish"}
    )
    assert status == 400 and payload["error"]["code"] == "invalid_data_class"


async def test_embeddings_bad_input_is_400(harness: Harness) -> None:
    status, payload, _ = await post(
        harness, orjson.dumps({"model": "embed-small", "input": [1.5]}), path="/embeddings"
    )
    assert status == 400 and payload["error"]["param"] == "input"


async def test_no_key_anywhere_means_503(make_harness: object) -> None:
    h: Harness = await make_harness(environ={})  # type: ignore[operator]
    status, payload, _ = await post(h, orjson.dumps(GOOD))
    assert status == 503 and payload["error"]["code"] == "no_route_available"
    assert not any(k in str(payload) for k in KEYS.values())
