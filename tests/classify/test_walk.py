"""The whole-body walk: exemptions only with a passing validator, decodings that map back,
declared kinds, and redaction written back in every segment form."""

from __future__ import annotations

import base64
from typing import Any

import orjson
import pytest

from sidecar.api import fields_anthropic, fields_openai
from sidecar.classify import Classifier, redact
from sidecar.classify.media import as_text, sniff
from sidecar.classify.pdftext import pdf_text
from sidecar.classify.redact import Unredactable
from sidecar.classify.unescape import unescape
from sidecar.classify.walk import walk
from tests.coverage.media import PDF, PNG, _pdf

CLASSIFIER = Classifier()
SSN = "536-22-8457"
EMAIL = "jane@example.com"


def chat(**extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], **extra}


def texts(body: dict[str, Any], tree: Any = fields_openai.CHAT) -> list[tuple[str, str]]:
    return [(s.text, s.form) for s in walk(body, tree).segments]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        ({"temperature": 0.5, "stream": True, "n": 1}, []),
        ({"temperature": 5}, [("5", "number")]),  # outside its range: scanned
        ({"max_tokens": 4111111111111111}, [("4111111111111111", "number")]),
        ({"seed": 42}, []),
        ({"service_tier": "flex"}, []),
        ({"service_tier": f"flex {SSN}"}, [(f"flex {SSN}", "text")]),  # not in the enum
        ({"future": "x"}, [("future", "key"), ("x", "text")]),
        ({"future": {"a": [1, "b"]}}, [("future", "key"), ('{"a":[1,"b"]}', "dump")]),
    ],
)
def test_exempt_only_when_the_validator_passes(
    extra: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert texts(chat(**extra))[1:] == expected


def test_a_role_or_type_outside_its_enum_is_scanned() -> None:
    body = {"messages": [{"role": "userx", "content": [{"type": f"text {SSN}", "text": "t"}]}]}
    assert ("userx", "text") in texts(body)
    assert (f"text {SSN}", "text") in texts(body)


def test_unescape_maps_findings_back_to_the_escapes() -> None:
    raw = '{"e": "john\\u0040example.com", "s": "\\n536-22-8457", "x": "\\ud83d\\ude00"}'
    decoded = unescape(raw)
    assert decoded is not None
    assert "john@example.com" in decoded.text and "\n536-22-8457" in decoded.text
    start = decoded.text.index("john@")
    assert decoded.span(start, start + len("john@example.com")) == (
        raw.index("john"),
        raw.index(".com") + 4,
    )
    at = decoded.text.index("@")
    assert decoded.span(at, at + 1) == (raw.index("\\u0040"), raw.index("\\u0040") + 6)
    assert "\U0001f600" in decoded.text  # a surrogate pair is one character


def test_json_inside_json_is_decoded_round_after_round() -> None:
    inner = orjson.dumps({"mail": EMAIL.replace("@", "\\u0040")}).decode()
    outer = orjson.dumps({"payload": inner}).decode()
    found = CLASSIFIER.classify(texts_as_segments(outer))
    assert found.tags == {"pii.email": 1}


def texts_as_segments(arguments: str) -> list[Any]:
    call = {"id": "call_1", "type": "function", "function": {"name": "f", "arguments": arguments}}
    body = {"messages": [{"role": "assistant", "tool_calls": [call]}]}
    return walk(body, fields_openai.CHAT).segments


def _file_part(data_url: str) -> dict[str, Any]:
    return chat(
        messages=[{"role": "user", "content": [{"type": "file", "file": {"file_data": data_url}}]}]
    )


def test_a_text_file_is_decoded_scanned_and_redacted_in_base64() -> None:
    url = "data:text/plain;base64," + base64.b64encode(f"ssn {SSN}".encode()).decode()
    body = _file_part(url)
    found = walk(body, fields_openai.CHAT)
    result = CLASSIFIER.classify(found.segments)
    assert result.tags == {"pii.ssn": 1} and not found.unscanned
    out = redact(body, found.segments, result.findings, {"pii"})
    sent = out["messages"][0]["content"][0]["file"]["file_data"]
    assert sent.startswith("data:text/plain;base64,")
    assert base64.b64decode(sent.split(",", 1)[1]) == b"ssn [REDACTED:pii.ssn]"


def test_the_bytes_decide_what_a_file_is_not_the_claimed_type() -> None:
    text_as_png = "data:image/png;base64," + base64.b64encode(f"BM {SSN}".encode()).decode()
    found = walk(_file_part(text_as_png), fields_openai.CHAT)
    assert not found.unscanned and CLASSIFIER.classify(found.segments).tags == {"pii.ssn": 1}
    png = "data:image/png;base64," + base64.b64encode(PNG).decode()
    assert walk(_file_part(png), fields_openai.CHAT).unscanned == {"image"}
    assert sniff(PNG) == "image" and as_text(PNG, "text/plain") is None


def test_a_pdf_is_extracted_and_cannot_be_redacted() -> None:
    url = "data:application/pdf;base64," + base64.b64encode(_pdf(f"ssn {SSN}")).decode()
    body = _file_part(url)
    found = walk(body, fields_openai.CHAT)
    result = CLASSIFIER.classify(found.segments)
    assert result.tags == {"pii.ssn": 1} and not found.unscanned
    with pytest.raises(Unredactable):
        redact(body, found.segments, result.findings, {"pii"})
    assert redact(body, found.segments, result.findings, {"pci"}) == body


def test_a_pdf_over_budget_is_declared() -> None:
    assert pdf_text(PDF, max_pages=0).complete is False
    assert pdf_text(PDF, max_bytes=10).complete is False
    assert pdf_text(b"%PDF-1.4 garbage").complete is False
    assert pdf_text(PDF).pages == ["hello from a tiny page"]
    assert pdf_text(_pdf("")).complete is False  # a page with no text: maybe an image


def test_binary_files_are_declared_and_short_ones_scanned_as_text() -> None:
    found = walk(_file_part("data:application/zip;base64,UEsDBBQAAAAIAA=="), fields_openai.CHAT)
    assert found.unscanned == {"binary"}
    assert [s.form for s in found.segments] == ["text"]


def test_anthropic_text_documents_are_text_and_base64_ones_decoded() -> None:
    text_doc = {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "Johnsmith1"},
    }
    body = {"model": "m", "max_tokens": 1, "messages": [{"role": "user", "content": [text_doc]}]}
    found = walk(body, fields_anthropic.MESSAGES)
    assert ("Johnsmith1", "text") in [(s.text, s.form) for s in found.segments]
    assert not found.unscanned


def test_redaction_renames_keys_and_replaces_numbers_and_dumps() -> None:
    body = chat(
        metadata={f"mail {EMAIL}": "x"},
        seed=4111111111111111,
        tools=[
            {"type": "function", "function": {"name": "f", "parameters": {"description": EMAIL}}}
        ],
    )
    found = walk(body, fields_openai.CHAT)
    result = CLASSIFIER.classify(found.segments)
    assert result.tags == {"pci.pan": 1, "pii.email": 2}
    out = redact(body, found.segments, result.findings, {"pii", "pci"})
    assert out["metadata"] == {"mail [REDACTED:pii.email]": "x"}
    assert out["seed"] == "[REDACTED:pci.pan]"
    assert out["tools"][0]["function"]["parameters"] == {"description": "[REDACTED:pii.email]"}
    assert body["seed"] == 4111111111111111  # the app's body is untouched


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ([1, 2, 3], "tokens"),
        ([[1, 2], [3]], "tokens"),
    ],
)
def test_token_ids_are_declared(value: Any, kind: str) -> None:
    found = walk({"model": "m", "input": value}, fields_openai.EMBEDDINGS)
    assert found.unscanned == {kind} and not found.segments
