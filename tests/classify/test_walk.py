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


def _pdf_with(annotation: str | None = None, pages: int = 1) -> bytes:
    import io

    from pypdf import PdfWriter
    from pypdf.annotations import FreeText

    writer = PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(200, 100)
    if annotation is not None:
        writer.add_annotation(0, FreeText(text=annotation, rect=(10, 10, 190, 90)))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_pdf_annotations_are_scanned_and_empty_pdfs_declared() -> None:
    found = pdf_text(_pdf_with(f"Patient SSN {SSN}"))
    assert any(SSN in page for page in found.pages)
    assert pdf_text(_pdf_with(pages=0)).complete is False
    body = _file_part(
        "data:application/pdf;base64," + base64.b64encode(_pdf_with(pages=0)).decode()
    )
    assert walk(body, fields_openai.CHAT).unscanned == {"pdf"}


@pytest.mark.parametrize(
    "value",
    ["call-4111-1111-1111-1111", "tool-536-22-8457", "toolu_-536-22-8457", "call_4111111111111111"],
)
def test_an_id_that_can_hold_a_number_is_scanned(value: str) -> None:
    body = {"messages": [{"role": "tool", "tool_call_id": value, "content": "ok"}]}
    assert (value, "text") in texts(body)
    assert ("call_AbC9xYz2QwE8rTy", "text") not in texts(
        {"messages": [{"role": "tool", "tool_call_id": "call_AbC9xYz2QwE8rTy", "content": "ok"}]}
    )


def test_a_float_with_digits_hidden_after_the_point_is_scanned() -> None:
    assert texts(chat(temperature=0.7)) == [("hi", "text")]
    assert ("0.4111111111111111", "number") in texts(chat(temperature=0.4111111111111111))


def test_an_escaped_format_character_stays_for_normalisation() -> None:
    arguments = '{"a": "john\\u200b@example.com"}'
    assert CLASSIFIER.classify(texts_as_segments(arguments)).tags == {"pii.email": 1}


def test_skipped_route_reasons_keep_no_app_numbers() -> None:
    from sidecar.providers.base import UnsupportedFeature

    assert "4111" not in UnsupportedFeature("response_format 4111111111111111").audit


@pytest.mark.parametrize(
    ("value", "exempt"),
    [
        ("prompt-caching-2024-07-31, files-api-2025-04-14", True),
        ("assistants=v2", True),
        ("536-22-8457", False),
        ("prompt-caching-2024-07-31, 4111-1111-1111-1111", False),
        ("a-4111111111111111-2024-01-01", False),
    ],
)
def test_only_provider_shaped_beta_tokens_are_exempt(value: str, exempt: bool) -> None:
    from sidecar.headers import exempt as is_exempt

    assert is_exempt("anthropic-beta", value) is exempt


def test_a_value_split_across_text_blocks_with_a_tool_call_between_is_found() -> None:
    """The OpenAI-format translation joins an assistant's text blocks: the card number
    the two halves make there must be found here."""
    content = [
        {"type": "text", "text": "card 4111 1111"},
        {"type": "tool_use", "id": "toolu_AbCdEf", "name": "f", "input": {}},
        {"type": "text", "text": " 1111 1111", "unknown": "x"},
    ]
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "assistant", "content": content}]}
    found = walk(body, fields_anthropic.MESSAGES)
    assert "pci.pan" in CLASSIFIER.classify(found.segments).tags
