"""Redaction of a whole chat body: tool-call arguments stay valid JSON and lose the value,
schemas are redacted like any text, and the app's body is never mutated."""

from __future__ import annotations

import copy
import json
from typing import Any

import orjson
import pytest

from sidecar.classify import Classifier, Segment, redact
from tests.classify.extraction import chat_segments

CLASSIFIER = Classifier()
PAN = "4929173405812269"  # Luhn-valid; not a published test number ("e.g." 4111... is one)
EMAIL = "jane@northwind-mail.com"  # example.com after "e.g." is a placeholder


def chat(arguments: str, content: str = "hi") -> dict[str, Any]:
    return {
        "model": "m",
        "messages": [
            {"role": "user", "content": content},
            {
                "role": "assistant",
                "content": None,
                "tool_calls": [
                    {
                        "id": "c",
                        "type": "function",
                        "function": {"name": "f", "arguments": arguments},
                    }
                ],
            },
            {"role": "assistant", "function_call": {"name": "g", "arguments": arguments}},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "f",
                    "description": "look up a card",
                    "parameters": {"type": "object", "description": f"e.g. {PAN} or {EMAIL}"},
                },
            }
        ],
    }


def redacted(body: dict[str, Any], categories: set[str]) -> dict[str, Any]:
    original = copy.deepcopy(body)
    segments = chat_segments(body)
    findings = CLASSIFIER.classify(segments).findings
    out = redact(body, segments, findings, categories)
    assert body == original, "redaction mutated the app's body"
    return out


def arguments_of(out: dict[str, Any]) -> list[Any]:
    calls = out["messages"][1]["tool_calls"][0]["function"]["arguments"]
    legacy = out["messages"][2]["function_call"]["arguments"]
    return [orjson.loads(calls), orjson.loads(legacy)]


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"email": EMAIL}, {"email": "[REDACTED:pii.email]"}),
        ({"note": f"hi\n{EMAIL}"}, {"note": "hi\n[REDACTED:pii.email]"}),  # "\n" before it
        ({"note": f'say "{EMAIL}"'}, {"note": 'say "[REDACTED:pii.email]"'}),
        ({"card": int(PAN)}, {"card": "[REDACTED:pci.pan]"}),  # a JSON number
        ({"cards": [PAN, f"x {PAN}"]}, {"cards": ["[REDACTED:pci.pan]", "x [REDACTED:pci.pan]"]}),
        ({"é": f"\u00e9 {EMAIL}"}, {"é": "\u00e9 [REDACTED:pii.email]"}),
    ],
)
@pytest.mark.parametrize("ascii_only", [True, False])
def test_tool_arguments_stay_valid_json_without_the_value(
    arguments: dict[str, Any], expected: dict[str, Any], ascii_only: bool
) -> None:
    text = json.dumps(arguments, ensure_ascii=ascii_only)
    out = redacted(chat(text), {"pii", "pci"})
    assert arguments_of(out) == [expected, expected]


def test_schemas_are_scanned_and_redacted_like_any_text() -> None:
    """A value in a tool schema's description is sent to the provider too: left there, it
    would leak past a redaction obligation."""
    body = chat(json.dumps({"a": 1}))
    segments = chat_segments(body)
    result = CLASSIFIER.classify(segments)
    assert result.tags == {"pci.pan": 1, "pii.email": 1}  # both found in the schema
    out = redact(body, segments, result.findings, {"pii", "pci"})
    parameters = out["tools"][0]["function"]["parameters"]
    assert parameters == {
        "type": "object",
        "description": "e.g. [REDACTED:pci.pan] or [REDACTED:pii.email]",
    }


def test_only_requested_categories_are_redacted() -> None:
    out = redacted(chat(json.dumps({"e": EMAIL, "c": PAN}), content=f"{EMAIL} {PAN}"), {"pci"})
    assert out["messages"][0]["content"] == f"{EMAIL} [REDACTED:pci.pan]"
    assert arguments_of(out)[0] == {"e": EMAIL, "c": "[REDACTED:pci.pan]"}


def test_invalid_json_arguments_are_still_masked() -> None:
    out = redacted(chat('{"email": "' + EMAIL), {"pii"})
    assert out["messages"][1]["tool_calls"][0]["function"]["arguments"] == (
        '{"email": "[REDACTED:pii.email]'
    )


def test_untouched_parts_are_shared_not_copied() -> None:
    body = chat(json.dumps({"a": 1}), content=EMAIL)
    out = redacted(body, {"pii"})
    assert out["messages"][0]["content"] == "[REDACTED:pii.email]"
    assert out["messages"][1] is body["messages"][1]
    assert out["messages"][2] is body["messages"][2]


def test_overlapping_findings_in_one_segment_are_merged() -> None:
    text = "x 536-22-8457 y"
    segments = [Segment(("content",), text)]
    findings = CLASSIFIER.scan(segments)
    doubled = [*findings, *findings]
    out = redact({"content": text}, segments, doubled, {"pii"})
    assert out == {"content": "x [REDACTED:pii.ssn] y"}


@pytest.mark.parametrize("escaped", ["\t536-22-8457", "\n536-22-8457", "\u00e9536-22-8457"])
def test_values_behind_json_escapes_are_found(escaped: str) -> None:
    segments = [Segment(("arguments",), json.dumps({"note": escaped}))]
    assert CLASSIFIER.classify(segments).tags == {"pii.ssn": 1}
