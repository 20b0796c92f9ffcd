"""One regression test per leak class of the allow-list extraction, through the real SDKs:
a regulated value in an ordinary field of an ordinary request must be scanned, so the
request never reaches the aggregator. And the other half: valid Anthropic requests with
newer blocks are accepted, not refused with a 400."""

from __future__ import annotations

import base64
import json
from typing import Any

import anthropic
import pytest

from tests.conftest import APP_KEY, Harness
from tests.coverage.media import PDF_B64, PNG_B64, _pdf
from tests.test_routing import EMAIL, SSN

ANSWERED_BY_DIRECT = {"openai", "google", "anthropic"}


def served(h: Harness) -> dict[str, int]:
    return {name: len(emu.received) for name, emu in h.upstreams.items() if emu.received}


def last_record(h: Harness) -> dict[str, Any]:
    return h.audit_records()[-1]


def assert_kept_off_the_aggregator(h: Harness, tag: str = "pii.ssn") -> dict[str, Any]:
    record = last_record(h)
    assert record["outcome"]["status"] == 200, record["outcome"]
    assert "openrouter" not in served(h), "regulated data reached the aggregator"
    assert set(served(h)) <= ANSWERED_BY_DIRECT
    assert tag in record["classification"]["tags"], record["classification"]
    return record


def user(text: str = "hello") -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


@pytest.mark.parametrize(
    "extra",
    [
        {"user": SSN},
        {"safety_identifier": f"customer {SSN}"},
        {"prompt_cache_key": SSN},
        {"metadata": {"customer": SSN}},
        {"metadata": {f"ssn {SSN}": "x"}},  # a key
        {"stop": [f"stop at {SSN}"]},
        {"prediction": {"type": "content", "content": f"draft for {SSN}"}},
        {
            "response_format": {
                "type": "json_schema",
                "json_schema": {
                    "name": "claim",
                    "schema": {
                        "type": "object",
                        "properties": {f"ssn_{SSN}": {"type": "string"}},
                        # (not an example.com address: after "e.g." that is a placeholder)
                        "description": "e.g. jane.roe@northwind-mail.com",
                    },
                },
            }
        },
        {"some_future_field": {"deep": [f"{SSN}"]}},  # unknown top-level field
    ],
    ids=lambda e: next(iter(e)),
)
async def test_openai_chat_fields_are_scanned(harness: Harness, extra: dict[str, Any]) -> None:
    await harness.client.chat.completions.create(model="gpt-4o", messages=user(), extra_body=extra)
    assert_kept_off_the_aggregator(
        harness, "pii.email" if "response_format" in extra else "pii.ssn"
    )


@pytest.mark.parametrize(
    "part",
    [
        {"type": "text", "text": "see the file"},
        {"type": "file", "file": {"filename": f"{SSN}.txt", "file_id": "file-abc123"}},
        {
            "type": "file",
            "file": {
                "filename": "notes.txt",
                "file_data": "data:text/plain;base64,"
                + base64.b64encode(f"customer ssn {SSN}".encode()).decode(),
            },
        },
        {
            "type": "file",
            "file": {
                "filename": "claim.pdf",
                "file_data": "data:application/pdf;base64,"
                + base64.b64encode(_pdf(f"ssn {SSN}")).decode(),
            },
        },
        {"type": "image_url", "image_url": {"url": f"https://img.example.com/a.png?ssn={SSN}"}},
    ],
    ids=["text", "file-name", "text-file", "pdf", "url"],
)
async def test_openai_parts_are_scanned(harness: Harness, part: dict[str, Any]) -> None:
    extra = {"user": SSN} if part["type"] == "text" else {}
    messages = [{"role": "user", "content": [part]}]
    await harness.client.chat.completions.create(
        model="gpt-4o", messages=messages, extra_body=extra
    )
    assert_kept_off_the_aggregator(harness)


async def test_refusal_parts_and_escaped_tool_arguments_are_scanned(harness: Harness) -> None:
    arguments = json.dumps({"note": f"mail {EMAIL}"}).replace("@", "\\u0040")
    messages: list[Any] = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": [{"type": "refusal", "refusal": f"no, {SSN}"}]},
        {"role": "user", "content": "again"},
        {
            "role": "assistant",
            "tool_calls": [
                {
                    "id": "call_1",
                    "type": "function",
                    "function": {"name": "f", "arguments": arguments},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "ok"},
    ]
    await harness.client.chat.completions.create(model="gpt-4o", messages=messages)
    record = assert_kept_off_the_aggregator(harness)
    assert record["classification"]["tags"]["pii.email"] == 1


async def test_embeddings_identity_field_is_scanned(harness: Harness) -> None:
    await harness.client.embeddings.create(model="embed-small", input="hello", user=SSN)
    assert_kept_off_the_aggregator(harness)


@pytest.mark.parametrize(
    "extra",
    [
        {"metadata": {"user_id": f"customer {SSN}"}},
        {"stop_sequences": [SSN]},
        {"a_field_from_next_month": {"note": SSN}},
    ],
    ids=lambda e: next(iter(e)),
)
async def test_anthropic_fields_are_scanned(harness: Harness, extra: dict[str, Any]) -> None:
    ant = anthropic.AsyncAnthropic(base_url=harness.running.app_url, api_key=APP_KEY)
    await ant.messages.create(
        model="claude-sonnet-5", max_tokens=50, messages=user(), extra_body=extra
    )
    assert_kept_off_the_aggregator(harness)


VALID_ANTHROPIC_BLOCKS: list[dict[str, Any]] = [
    {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": f"ssn {SSN}"},
        "title": "claim",
        "context": "from the claims desk",
        "citations": {"enabled": True},
    },
    {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_B64},
        "title": f"claim of {SSN}",
    },
    {
        "type": "document",
        "source": {"type": "content", "content": [{"type": "text", "text": f"ssn {SSN}"}]},
    },
    {
        "type": "search_result",
        "source": "https://kb.example.com/claims",
        "title": "claims kb",
        "content": [{"type": "text", "text": f"record for {SSN}"}],
        "citations": {"enabled": True},
    },
]


@pytest.mark.parametrize(
    "block", VALID_ANTHROPIC_BLOCKS, ids=["text-doc", "pdf", "content", "search"]
)
async def test_valid_anthropic_blocks_are_accepted_and_scanned(
    harness: Harness, block: dict[str, Any]
) -> None:
    ant = anthropic.AsyncAnthropic(base_url=harness.running.app_url, api_key=APP_KEY)
    content = [block, {"type": "text", "text": "summarise"}]
    await ant.messages.create(
        model="claude-sonnet-5", max_tokens=50, messages=[{"role": "user", "content": content}]
    )
    assert_kept_off_the_aggregator(harness)


async def test_mcp_servers_are_accepted_and_declared_remote(harness: Harness) -> None:
    ant = anthropic.AsyncAnthropic(base_url=harness.running.app_url, api_key=APP_KEY)
    await ant.beta.messages.create(
        model="claude-sonnet-5",
        max_tokens=50,
        messages=user("what is open?"),
        mcp_servers=[{"type": "url", "url": "https://mcp.example.com/sse", "name": "tickets"}],
        betas=["mcp-client-2025-04-04"],
    )
    record = last_record(harness)
    assert record["outcome"]["status"] == 200
    assert record["classification"]["unscanned"] == ["remote_url"]
    assert "openrouter" not in served(harness)


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (
            [{"type": "image_url", "image_url": {"url": "data:image/png;base64," + PNG_B64}}],
            "image",
        ),
        (
            [{"type": "image_url", "image_url": {"url": "https://img.example.com/cat.png"}}],
            "remote_url",
        ),
        ([{"type": "file", "file": {"file_id": "file-abc123"}}], "file_ref"),
        (
            [
                {
                    "type": "file",
                    "file": {"file_data": "data:application/zip;base64,UEsDBBQAAAAIAA=="},
                }
            ],
            "binary",
        ),
    ],
)
async def test_unscanned_kinds_keep_public_data_off_the_aggregator(
    harness: Harness, content: list[dict[str, Any]], kind: str
) -> None:
    await harness.client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": content}]
    )
    record = last_record(harness)
    assert record["classification"]["level"] == "public"
    assert record["classification"]["unscanned"] == [kind]
    assert not any(r.startswith("openrouter:") for r in record["policy"]["routes"])
    assert "openrouter" not in served(harness)
    assert harness.metric("llm_router_unscanned_total", api="openai.chat_completions", kind=kind)


async def test_token_ids_are_declared(harness: Harness) -> None:
    await harness.client.embeddings.create(model="embed-small", input=[[1, 2, 3]])
    record = last_record(harness)
    assert record["classification"]["unscanned"] == ["tokens"]
    assert "openrouter" not in served(harness)


async def test_encrypted_reasoning_is_declared(harness: Harness) -> None:
    ant = anthropic.AsyncAnthropic(base_url=harness.running.app_url, api_key=APP_KEY)
    messages: list[Any] = [
        {"role": "user", "content": "think"},
        {
            "role": "assistant",
            "content": [{"type": "redacted_thinking", "data": "RWs0ZW5jcnlwdGVk"}],
        },
        {"role": "user", "content": "go on"},
    ]
    await ant.messages.create(model="claude-sonnet-5", max_tokens=50, messages=messages)
    record = last_record(harness)
    assert "encrypted" in record["classification"]["unscanned"]
    assert "openrouter" not in served(harness)


async def test_the_same_bodies_without_planted_values_still_reach_the_aggregator(
    harness: Harness,
) -> None:
    """Controls: scanning everything does not over-block."""
    await harness.client.chat.completions.create(
        model="gpt-4o",
        messages=user(),
        extra_body={"user": "customer-42", "metadata": {"team": "claims"}, "stop": ["END"]},
    )
    assert served(harness) == {"openrouter": 1}
    ant = anthropic.AsyncAnthropic(base_url=harness.running.app_url, api_key=APP_KEY)
    await ant.messages.create(
        model="claude-sonnet-5",
        max_tokens=50,
        messages=user(),
        metadata={"user_id": "user-7"},
    )
    assert served(harness) == {"openrouter": 2}


async def test_declared_public_over_a_detected_ssn_is_still_regulated(harness: Harness) -> None:
    await harness.client.chat.completions.create(
        model="gpt-4o",
        messages=user(f"ssn {SSN}"),
        extra_headers={"X-LLM-Data-Class": "public"},
    )
    record = assert_kept_off_the_aggregator(harness)
    assert record["classification"]["level"] == "regulated"
    assert record["classification"]["declared"] == "public"
    assert record["classification"]["content_level"] == "regulated"


async def test_a_forwarded_header_is_scanned(harness: Harness) -> None:
    await harness.client.chat.completions.create(
        model="gpt-4o", messages=user(), extra_headers={"X-Title": f"claims for {SSN}"}
    )
    assert_kept_off_the_aggregator(harness)


async def test_a_header_holding_a_redacted_finding_is_not_forwarded(harness: Harness) -> None:
    """Card data with no PCI DSS route is redacted by the default policy, and the request
    may then use the aggregator: the attribution header holding the card number must not."""
    await harness.client.chat.completions.create(
        model="gpt-4o",
        messages=user("card 4111 1111 1111 1111"),
        extra_headers={
            "X-Title": "card 4111 1111 1111 1111",
            "HTTP-Referer": "https://app.example",
        },
    )
    [sent] = harness.upstreams["openrouter"].received
    headers = {k.lower(): v for k, v in sent.headers.items()}
    assert "x-title" not in headers
    assert headers["http-referer"] == "https://app.example"
    assert b"4111" not in sent.body
