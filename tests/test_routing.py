"""End to end through the real openai SDK: which upstream gets each request, and what it sees."""

from __future__ import annotations

import asyncio

import openai
import pytest

from tests.conftest import APP_KEY, KEYS, Harness

EMAIL = "jane.doe@example.com"
IBAN = "DE89 3704 0044 0532 0130 00"
SSN = "536-22-8457"
AWS_KEY = "AKIAZ4QJ7XK2MNB3PLRT"
PAN = "4111 1111 1111 1111"


def user(text: str) -> list[dict[str, str]]:
    return [{"role": "user", "content": text}]


async def chat(h: Harness, text: str, **kwargs: object) -> object:
    raw = await h.client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user(text), **kwargs
    )
    return raw


async def test_public_prompt_goes_to_the_aggregator(harness: Harness) -> None:
    raw = await chat(harness, "Write a haiku about autumn leaves.")
    completion = raw.parse()
    assert raw.headers["x-llm-router-route"] == "openrouter:openai/gpt-4o"
    assert "openrouter" in (completion.choices[0].message.content or "")
    assert harness.received_by("openrouter") == 1
    assert harness.received_by("openai") == harness.received_by("google") == 0
    sent = harness.upstreams["openrouter"].received[0].json
    assert sent["model"] == "openai/gpt-4o"
    assert "provider" not in sent  # public data: no preferences imposed


async def test_pii_goes_direct_and_never_reaches_the_aggregator(harness: Harness) -> None:
    raw = await chat(harness, f"Remind {EMAIL} about IBAN {IBAN}.")
    assert raw.headers["x-llm-router-route"] == "openai:gpt-4o"
    assert harness.received_by("openrouter") == 0
    assert EMAIL in harness.upstreams["openai"].received_bodies_text()
    [record] = harness.audit_records()
    assert record["classification"]["level"] == "regulated"
    assert record["classification"]["tags"] == {"pii.email": 1, "pii.iban": 1}
    assert record["policy"]["routes"][0] == "openai:gpt-4o"
    assert "openrouter:openai/gpt-4o" not in record["policy"]["routes"]


async def test_declared_phi_needs_a_baa(harness: Harness) -> None:
    raw = await chat(
        harness,
        f"Patient SSN {SSN} has type 2 diabetes.",
        extra_headers={"X-LLM-Data-Class": "phi"},
    )
    assert raw.headers["x-llm-router-route"] == "google:gemini-2.5-flash"
    assert harness.received_by("openrouter") == harness.received_by("openai") == 0
    [record] = harness.audit_records()
    assert "declared" in record["classification"]["sources"]
    assert set(record["classification"]["categories"]) >= {"phi", "pii"}


async def test_secret_is_blocked_with_reasons_and_decision_id(harness: Harness) -> None:
    with pytest.raises(openai.PermissionDeniedError) as caught:
        await chat(harness, f"Why is {AWS_KEY} rejected?")
    err = caught.value
    assert err.status_code == 403
    body = err.body
    assert isinstance(body, dict)
    assert body["code"] == "policy_denied" and body["type"] == "policy_denied"
    assert body["reasons"] and body["decision_id"]
    assert err.response.headers["x-llm-router-decision-id"] == body["decision_id"]
    assert AWS_KEY not in str(body)
    assert sum(harness.received_by(n) for n in KEYS) == 0


async def test_streaming_relays_chunks_and_usage(harness: Harness) -> None:
    stream = await harness.client.chat.completions.create(
        model="gpt-4o",
        messages=user("Tell me a story."),
        stream=True,
        stream_options={"include_usage": True},
    )
    text, usage, finish = "", None, None
    async for chunk in stream:
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            finish = chunk.choices[0].finish_reason or finish
        if chunk.usage:
            usage = chunk.usage
    assert "openrouter" in text
    assert finish == "stop"
    assert usage is not None and usage.total_tokens > 0
    [record] = harness.audit_records()
    assert record["stream"] is True
    assert record["outcome"]["usage"]["total_tokens"] == usage.total_tokens
    assert (
        harness.metric(
            "llm_router_tokens_total", provider="openrouter", model="gpt-4o", type="prompt"
        )
        > 0
    )


async def test_streaming_regulated_goes_direct(harness: Harness) -> None:
    stream = await harness.client.chat.completions.create(
        model="openai/gpt-4o", messages=user(f"Email {EMAIL} please"), stream=True
    )
    chunks = [c async for c in stream]
    assert chunks
    assert harness.received_by("openrouter") == 0
    assert harness.received_by("openai") == 1


async def test_sync_sdk_through_sidecar(harness: Harness) -> None:
    # The sync SDK runs in a worker thread while the sidecar serves on the test's loop.
    def call() -> str:
        with openai.OpenAI(base_url=harness.base_url, api_key=APP_KEY, max_retries=0) as client:
            completion = client.chat.completions.create(
                model="gpt-4o", messages=user(f"Contact {EMAIL}")
            )
            return completion.choices[0].message.content or ""

    content = await asyncio.to_thread(call)
    assert "openai" in content
    assert harness.received_by("openrouter") == 0


async def test_tool_call_arguments_are_classified(harness: Harness) -> None:
    messages = [
        {"role": "user", "content": "Look up the customer"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "lookup", "arguments": f'{{"ssn": "{SSN}"}}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "found"},
    ]
    await harness.client.chat.completions.create(model="gpt-4o", messages=messages)
    assert harness.received_by("openrouter") == 0
    [record] = harness.audit_records()
    assert record["classification"]["tags"].get("pii.ssn") == 1


async def test_embeddings_are_classified_and_routed(harness: Harness) -> None:
    public = await harness.client.embeddings.create(model="embed-small", input=["hello world"])
    assert len(public.data) == 1
    assert harness.received_by("openrouter") == 1
    await harness.client.embeddings.create(model="embed-small", input=["ok", f"mail {EMAIL}"])
    assert harness.received_by("openrouter") == 1
    assert harness.received_by("openai") == 1
    assert EMAIL not in harness.upstreams["openrouter"].received_bodies_text()


async def test_models_lists_logical_models_and_aliases(harness: Harness) -> None:
    page = await harness.client.models.list()
    ids = {m.id for m in page.data}
    assert {"gpt-4o", "openai/gpt-4o", "embed-small"} <= ids


async def test_app_authorization_is_replaced_by_provider_key(harness: Harness) -> None:
    await chat(harness, "hello")
    await chat(harness, f"hello {EMAIL}")
    for name, emu in harness.upstreams.items():
        for req in emu.received:
            auth = {k.lower(): v for k, v in req.headers.items()}["authorization"]
            assert auth == f"Bearer {KEYS[name]}"
            assert APP_KEY not in str(req.headers)


async def test_internal_data_carries_openrouter_preferences(harness: Harness) -> None:
    await chat(harness, "quarterly roadmap", extra_headers={"X-LLM-Data-Class": "internal"})
    sent = harness.upstreams["openrouter"].received[0].json
    assert sent["provider"]["data_collection"] == "deny"
    assert sent["provider"]["zdr"] is True


async def test_card_number_is_redacted_before_forwarding(harness: Harness) -> None:
    raw = await chat(harness, f"Card {PAN} was declined, why?")
    assert raw.status_code == 200
    text = "".join(emu.received_bodies_text() for emu in harness.upstreams.values())
    assert PAN not in text and "4111111111111111" not in text
    assert "[REDACTED:pci.pan]" in text
    [record] = harness.audit_records()
    assert "pci" in record["policy"]["obligations"]["redact"]
