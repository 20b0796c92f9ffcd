"""The Responses API through the real sidecar with the real openai SDK, on native routes
(loopback emulators of OpenRouter and OpenAI that speak the Responses wire format):
routing by content, `store: false` for regulated data, continuations and the stored-response
endpoints, hosted tools in the policy's view."""

from __future__ import annotations

from typing import Any

import openai
import pytest

from tests.conftest import KEYS, Harness, HarnessFactory

SSN_TEXT = "Patient SSN 536-22-8457 needs a follow-up appointment."
PUBLIC_TEXT = "Write a haiku about autumn leaves."
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


def sent(h: Harness, name: str) -> list[dict[str, Any]]:
    """The Responses bodies an upstream received."""
    return [r.json for r in h.upstreams[name].responses.received if r.method == "POST"]


def record(h: Harness, api: str = "openai.responses") -> dict[str, Any]:
    [last] = [r for r in h.audit_records() if r["api"] == api][-1:]
    return last


async def test_public_request_goes_to_the_aggregator_and_is_read_by_the_sdk(
    harness: Harness,
) -> None:
    response = await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT)
    assert response.status == "completed" and response.output_text
    [body] = sent(harness, "openrouter")
    assert body["model"] == "openai/gpt-4o" and body["input"] == PUBLIC_TEXT
    assert "store" not in body  # the app's choice, untouched for public data
    assert sent(harness, "openai") == []
    rec = record(harness)
    assert rec["outcome"]["route_kind"] == "aggregator"
    usage = rec["outcome"]["usage"]
    assert usage["prompt_tokens"] == response.usage.input_tokens  # type: ignore[union-attr]
    assert usage["completion_tokens"] == response.usage.output_tokens  # type: ignore[union-attr]
    headers = harness.upstreams["openrouter"].responses.received[0].headers
    assert headers["Authorization"] == f"Bearer {KEYS['openrouter']}"


@pytest.mark.parametrize(
    "where",
    ["input", "instructions", "message_part", "function_call_output", "tool_description"],
)
async def test_regulated_data_anywhere_goes_direct_and_is_not_stored(
    harness: Harness, where: str
) -> None:
    request: dict[str, Any] = {"model": "gpt-4o", "input": PUBLIC_TEXT}
    if where == "input":
        request["input"] = SSN_TEXT
    elif where == "instructions":
        request["instructions"] = "Context: " + SSN_TEXT
    elif where == "message_part":
        request["input"] = [{"role": "user", "content": [{"type": "input_text", "text": SSN_TEXT}]}]
    elif where == "function_call_output":
        request["tools"] = [WEATHER]
        request["input"] = [
            {"role": "user", "content": PUBLIC_TEXT},
            {
                "type": "function_call",
                "call_id": "call_1",
                "name": "get_weather",
                "arguments": '{"city": "Paris"}',
            },
            {"type": "function_call_output", "call_id": "call_1", "output": SSN_TEXT},
        ]
    else:
        request["tools"] = [{**WEATHER, "description": SSN_TEXT}]
    response = await harness.client.responses.create(**request)
    assert response.status == "completed"
    assert sent(harness, "openrouter") == []
    [body] = sent(harness, "openai")
    assert body["store"] is False  # the obligation, written into the body
    rec = record(harness)
    assert rec["outcome"]["route"] == "openai:gpt-4o"
    assert rec["policy"]["obligations"]["store"] is False


async def test_streamed_responses_through_the_sdk_helper(harness: Harness) -> None:
    async with harness.client.responses.stream(model="gpt-4o", input=PUBLIC_TEXT) as stream:
        kinds = [event.type async for event in stream]
        final = await stream.get_final_response()
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert "response.output_text.delta" in kinds
    assert final.output_text
    rec = record(harness)
    assert rec["stream"] is True and rec["outcome"]["status"] == 200
    assert rec["outcome"]["usage"]["completion_tokens"] > 0


async def test_streamed_regulated_request_with_create(harness: Harness) -> None:
    stream = await harness.client.responses.create(model="gpt-4o", input=SSN_TEXT, stream=True)
    numbers = [event.sequence_number async for event in stream]
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)
    assert sent(harness, "openrouter") == [] and sent(harness, "openai")[0]["store"] is False


async def test_a_public_continuation_goes_to_the_route_that_stored_the_response(
    harness: Harness,
) -> None:
    first = await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT)
    second = await harness.client.responses.create(
        model="gpt-4o", input="And one about winter.", previous_response_id=first.id
    )
    assert second.previous_response_id == first.id
    assert [b["previous_response_id"] for b in sent(harness, "openrouter")[1:]] == [first.id]


async def test_a_regulated_follow_up_to_an_aggregator_response_is_refused(
    harness: Harness,
) -> None:
    first = await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await harness.client.responses.create(
            model="gpt-4o", input=SSN_TEXT, previous_response_id=first.id
        )
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "continuation_not_allowed"
    assert len(sent(harness, "openrouter")) == 1 and sent(harness, "openai") == []
    rec = record(harness)
    assert rec["outcome"]["status"] == 403 and rec["attempts"] == []


async def test_a_regulated_conversation_is_not_continuable(harness: Harness) -> None:
    """store: false was enforced, so the provider keeps nothing to continue from."""
    first = await harness.client.responses.create(model="gpt-4o", input=SSN_TEXT)
    with pytest.raises(openai.NotFoundError) as caught:
        await harness.client.responses.create(
            model="gpt-4o", input="Thanks.", previous_response_id=first.id
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "response_not_found"
    assert len(sent(harness, "openai")) == 1


async def test_unknown_previous_response_id_is_a_404_and_nothing_is_sent(
    harness: Harness,
) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await harness.client.responses.create(
            model="gpt-4o", input=PUBLIC_TEXT, previous_response_id="resp_nobody_made_this"
        )
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["param"] == "previous_response_id"
    assert "resp_nobody_made_this" not in caught.value.response.text
    assert sent(harness, "openrouter") == [] and sent(harness, "openai") == []


async def test_stored_response_endpoints_go_to_the_creating_route(harness: Harness) -> None:
    created = await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT)
    got = await harness.client.responses.retrieve(created.id)
    assert got.id == created.id and got.output_text == created.output_text
    items = await harness.client.responses.input_items.list(created.id)
    assert items.data
    deleted = await harness.client.responses.delete(created.id)
    assert deleted is None  # the SDK returns nothing for a successful delete
    with pytest.raises(openai.NotFoundError):
        await harness.client.responses.retrieve(created.id)  # forgotten at the sidecar
    aggregator = harness.upstreams["openrouter"]
    paths = [(r.method, r.path) for r in aggregator.responses.received]
    stored = f"{aggregator.base_path}/responses/{created.id}"
    assert paths[1:] == [("GET", stored), ("GET", stored + "/input_items"), ("DELETE", stored)]
    assert harness.upstreams["openai"].received == []
    apis = [r["api"] for r in harness.audit_records()]
    assert apis == [
        "openai.responses",
        "openai.responses_get",
        "openai.responses_input_items",
        "openai.responses_delete",
        "openai.responses_get",
    ]
    assert [r["outcome"]["status"] for r in harness.audit_records()] == [200, 200, 200, 200, 404]


async def test_retrieving_an_unknown_id_is_a_404_in_openais_format(harness: Harness) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        await harness.client.responses.retrieve("resp_unknown")
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "response_not_found"
    assert all(emu.received == [] for emu in harness.upstreams.values())


async def test_a_secret_in_an_mcp_tool_blocks_the_request(harness: Harness) -> None:
    mcp = {
        "type": "mcp",
        "server_label": "crm",
        "server_url": "https://mcp.example.com/sse",
        "authorization": "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8",
        "require_approval": "never",
    }
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT, tools=[mcp])
    body = caught.value.body
    assert isinstance(body, dict) and body["code"] == "policy_denied"
    assert "secret in an mcp tool definition: blocked" in body["reasons"]
    assert all(emu.received == [] for emu in harness.upstreams.values())


async def test_hosted_tools_without_secrets_are_allowed(harness: Harness) -> None:
    response = await harness.client.responses.create(
        model="gpt-4o", input=PUBLIC_TEXT, tools=[{"type": "web_search"}]
    )
    assert response.status == "completed"
    assert sent(harness, "openrouter")[0]["tools"] == [{"type": "web_search"}]


async def test_malformed_responses_requests_are_400(harness: Harness) -> None:
    for bad in (
        {"model": "gpt-4o"},
        {"model": "gpt-4o", "input": []},
        {"model": "gpt-4o", "input": [{"role": "robot", "content": "x"}]},
        {"model": "gpt-4o", "input": "x", "store": "no"},
        {"model": "gpt-4o", "input": "x", "instructions": 3},
        {"model": "gpt-4o", "input": "x", "tools": [{"name": "no type"}]},
    ):
        with pytest.raises(openai.BadRequestError):
            await harness.client.post("/responses", body=bad, cast_to=object)
    assert all(emu.received == [] for emu in harness.upstreams.values())


async def test_store_obligation_holds_on_failover(make_harness: HarnessFactory) -> None:
    """Regulated data never reaches the aggregator, and every direct attempt has store off."""
    h: Harness = await make_harness()
    from sidecar.emulators.openai import Fault

    h.upstreams["openai"].faults.append(Fault("status", status=503))
    response = await h.client.responses.create(model="gpt-4o", input=SSN_TEXT)
    assert response.status == "completed"
    assert sent(h, "openrouter") == []
    google = [r.json for r in h.upstreams["google"].received]
    assert google and all(b.get("store") is not True for b in google)


async def test_a_stream_cut_after_its_first_event_ends_with_an_error_the_sdk_raises(
    harness: Harness,
) -> None:
    from sidecar.emulators.openai import Fault

    harness.upstreams["openrouter"].faults.append(Fault("cut_stream", after=3))
    stream = await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT, stream=True)
    seen: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        async for event in stream:
            seen.append(event.type)
    assert seen and seen[0] == "response.created"
    assert isinstance(caught.value.body, dict)
    assert caught.value.body["code"] == "upstream_stream_cut"
    assert record(harness)["outcome"]["error_code"] == "upstream_stream_cut"


async def test_an_upstream_error_event_is_relayed_cleaned(harness: Harness) -> None:
    from sidecar.emulators.openai import Fault

    harness.upstreams["openrouter"].faults.append(Fault("stream_error"))
    stream = await harness.client.responses.create(model="gpt-4o", input=PUBLIC_TEXT, stream=True)
    kinds: list[str] = []
    with pytest.raises(openai.APIError) as caught:
        async for event in stream:
            kinds.append(event.type)
    assert kinds[0] == "response.created"
    error = caught.value.body
    assert isinstance(error, dict) and error["message"] and error["code"]
    assert record(harness)["outcome"]["error_code"] == "upstream_error_event"
