"""Normalisation against evasion, levels and sources, extraction paths and redaction."""

from __future__ import annotations

import copy

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.classify import (
    Classifier,
    Segment,
    parse_declared,
    redact,
)
from tests.classify.extraction import anthropic_segments, chat_segments, embedding_segments

CLASSIFIER = Classifier()


@pytest.mark.parametrize(
    ("text", "value", "tag"),
    [
        ("ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ", "pii.email"),
        ("ssn 536\u200b-22-\u200d8457 end", "536\u200b-22-\u200d8457", "pii.ssn"),
        (
            "card ４１１１ １１１１ １１１１ １１１１",
            "４１１１ １１１１ １１１１ １１１１",
            "pci.pan",
        ),
        ("mail \u202ejane@example.com\u202c", "jane@example.com", "pii.email"),
    ],
)
def test_evasions_are_found_with_original_offsets(text: str, value: str, tag: str) -> None:
    [finding] = CLASSIFIER.scan([Segment(("t",), text)])
    assert finding.tag == tag
    assert text[finding.start : finding.end] == value


def test_levels_and_sources() -> None:
    seg = [Segment(("t",), "hello")]
    assert CLASSIFIER.classify(seg).level == "public"
    internal = CLASSIFIER.classify(seg, declared="internal")
    assert internal.level == "internal" and internal.sources == ("content", "declared")
    phi = CLASSIFIER.classify(seg, declared="phi")
    assert phi.level == "regulated" and phi.categories == ("phi",)
    floor = CLASSIFIER.classify(seg, floor="confidential")
    assert floor.level == "confidential" and "workload" in floor.sources
    pii = [Segment(("t",), "mail jane@example.com")]
    lowered = CLASSIFIER.classify(pii, declared="public")
    assert lowered.level == "regulated"  # a declaration never lowers


def test_parse_declared_rejects_unknown() -> None:
    assert parse_declared(" PHI ") == "phi"
    with pytest.raises(ValueError):
        parse_declared("top-secret")


CHAT = {
    "model": "m",
    "messages": [
        {"role": "system", "content": "be nice"},
        {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url"}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "c1",
                    "type": "function",
                    "function": {"name": "f", "arguments": '{"ssn": "536-22-8457"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "c1", "content": "result jane@example.com"},
    ],
    "tools": [
        {
            "type": "function",
            "function": {"name": "f", "description": "lookup", "parameters": {"type": "object"}},
        }
    ],
}


def test_extract_chat_paths() -> None:
    """Every string is scanned but the exempt ones: roles, types, temperatures; ids
    that fail their validator ("c1" is no tool-call id shape) are scanned too."""
    paths = [s.path for s in chat_segments(CHAT)]
    assert paths == [
        ("messages", 0, "content"),
        ("messages", 1, "content", 0, "text"),
        ("messages", 2, "tool_calls", 0, "id"),
        ("messages", 2, "tool_calls", 0, "function", "name"),
        ("messages", 2, "tool_calls", 0, "function", "arguments"),
        ("messages", 3, "tool_call_id"),
        ("messages", 3, "content"),
        ("tools", 0, "function", "name"),
        ("tools", 0, "function", "description"),
        ("tools", 0, "function", "parameters"),  # the schema, whole, as JSON
    ]


def test_extract_embeddings() -> None:
    assert [s.text for s in embedding_segments({"input": ["a", "b"]})] == ["a", "b"]
    assert embedding_segments({"input": [[1, 2, 3]]}) == []


def test_redaction_keeps_json_and_does_not_mutate() -> None:
    original = copy.deepcopy(CHAT)
    segments = chat_segments(CHAT)
    result = CLASSIFIER.classify(segments)
    out = redact(CHAT, segments, result.findings, {"pii"})
    assert original == CHAT
    args = out["messages"][2]["tool_calls"][0]["function"]["arguments"]
    assert orjson.loads(args) == {"ssn": "[REDACTED:pii.ssn]"}
    assert out["messages"][3]["content"] == "result [REDACTED:pii.email]"
    assert out["tools"] == CHAT["tools"]


def test_redaction_only_touches_requested_categories() -> None:
    segments = [Segment(("content",), "card 4111 1111 1111 1111 mail jane@example.com")]
    result = CLASSIFIER.classify(segments)
    out = redact({"content": segments[0].text}, segments, result.findings, {"pci"})
    assert out["content"] == "card [REDACTED:pci.pan] mail jane@example.com"


def _luhn_complete(prefix: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(prefix)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d * 2 > 9 else d * 2
        total += d
    return prefix + str((10 - total % 10) % 10)


@settings(max_examples=150, deadline=None)
@given(
    before=st.text(alphabet=st.characters(whitelist_categories=("Ll", "Zs")), max_size=60),
    after=st.text(alphabet=st.characters(whitelist_categories=("Ll", "Zs")), max_size=60),
    body=st.text(alphabet="0123456789", min_size=14, max_size=14),
)
def test_planted_card_is_found_at_its_offsets(before: str, after: str, body: str) -> None:
    pan = _luhn_complete("4" + body)
    text = f"{before} {pan} {after}"
    findings = [f for f in CLASSIFIER.scan([Segment(("t",), text)]) if f.tag == "pci.pan"]
    assert [(text[f.start : f.end]) for f in findings] == [pan]


@settings(max_examples=100, deadline=None)
@given(
    user=st.from_regex(r"[a-z][a-z0-9]{0,10}", fullmatch=True),
    domain=st.from_regex(r"[a-z]{2,10}", fullmatch=True),
    noise=st.text(alphabet=st.characters(whitelist_categories=("Lu", "Ll", "Zs")), max_size=80),
)
def test_planted_email_is_found(user: str, domain: str, noise: str) -> None:
    email = f"{user}@{domain}.com"
    text = f"{noise} {email}."
    assert ("pii.email", email) in [
        (f.tag, text[f.start : f.end]) for f in CLASSIFIER.scan([Segment(("t",), text)])
    ]


ANTHROPIC = {
    "model": "m",
    "max_tokens": 5,
    "system": [{"type": "text", "text": "sys"}],
    "messages": [
        {
            "role": "user",
            "content": [
                {
                    "type": "image",
                    "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"},
                },
                {"type": "text", "text": "caption: card 4111 1111 1111 1111"},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {
                    "type": "tool_use",
                    "id": "t1",
                    "name": "f",
                    "input": {"who": {"ssn": "536-22-8457"}},
                }
            ],
        },
        {
            "role": "user",
            "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "mail jane@example.com"}
            ],
        },
    ],
    "tools": [{"name": "f", "description": "lookup", "input_schema": {"type": "object"}}],
}


def test_extract_anthropic_paths_and_redact_tool_input() -> None:
    segments = anthropic_segments(ANTHROPIC)
    assert [(s.path, s.form) for s in segments] == [
        (("system", 0, "text"), "text"),
        (("messages", 0, "content", 0, "source", "data"), "text"),  # no image: noise, scanned
        (("messages", 0, "content", 1, "text"), "text"),
        (("messages", 1, "content", 0, "id"), "text"),
        (("messages", 1, "content", 0, "name"), "text"),
        (("messages", 1, "content", 0, "input"), "dump"),  # the app's JSON, whole
        (("messages", 2, "content", 0, "tool_use_id"), "text"),
        (("messages", 2, "content", 0, "content"), "text"),
        (("tools", 0, "name"), "text"),
        (("tools", 0, "description"), "text"),
        (("tools", 0, "input_schema"), "dump"),
    ]
    result = CLASSIFIER.classify(segments)
    assert result.tags == {"pci.pan": 1, "pii.email": 1, "pii.ssn": 1}
    out = redact(ANTHROPIC, segments, result.findings, {"pii", "pci"})
    assert out["messages"][1]["content"][0]["input"] == {"who": {"ssn": "[REDACTED:pii.ssn]"}}
    assert out["messages"][0]["content"][1]["text"] == "caption: card [REDACTED:pci.pan]"
    assert out["messages"][0]["content"][0] == ANTHROPIC["messages"][0]["content"][0]
