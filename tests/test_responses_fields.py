"""The Responses API's exemption tree: what the whole-body walk skips in a POST /v1/responses
body (only validated constants), what it decodes (JSON arguments, inline files) or declares
(images, remote URLs, file ids, encrypted reasoning), and that everything else, hosted-tool
definitions and their secrets included, is scanned."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from sidecar.api.base import ParsedRequest
from sidecar.api.fields_responses import DOCUMENTED, RESPONSES
from sidecar.classify import Classifier
from sidecar.classify.model import BASE64, DUMP, JSON, KEY, NUMBER, TEXT, Segment
from sidecar.classify.walk import walk
from tests.coverage.media import PDF, PNG_B64, _pdf

CLASSIFIER = Classifier()
SSN = "536-22-8457"
TOKEN = "ghp_" + "A1b2" * 9
"""A GitHub token: what an MCP server's authorization or headers carry."""


def parsed(**fields: Any) -> ParsedRequest:
    body = {"model": "gpt-4o", "input": "hello", **fields}
    return ParsedRequest.walked(body, "gpt-4o", bool(body.get("stream")), RESPONSES)


def texts(**fields: Any) -> list[tuple[str, str]]:
    """(text, form) of every segment beyond the top-level `input: "hello"`."""
    return [(s.text, s.form) for s in parsed(**fields).segments if s.path != ("input",)]


def item(**fields: Any) -> list[tuple[str, str]]:
    return texts(input=[fields])


def tags(segments: list[Segment]) -> set[str]:
    return set(CLASSIFIER.classify(segments).tags)


def test_a_plain_request_scans_its_input_and_nothing_else() -> None:
    request = parsed(
        store=False,
        stream=True,
        stream_options={"include_obfuscation": False},
        background=False,
        parallel_tool_calls=True,
        temperature=0.7,
        top_p=0.9,
        top_logprobs=5,
        max_output_tokens=1024,
        max_tool_calls=8,
        truncation="auto",
        service_tier="flex",
        reasoning={"effort": "high", "summary": "auto"},
        text={"verbosity": "low", "format": {"type": "json_object"}},
        include=["reasoning.encrypted_content", "message.output_text.logprobs"],
        previous_response_id="resp_AbCdEf",
        conversation={"id": "conv_XyZ"},
        tool_choice="auto",
    )
    assert [(s.path, s.text) for s in request.segments] == [(("input",), "hello")]
    assert request.unscanned == frozenset()


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"model": "gpt 4o"}, [("gpt 4o", TEXT)]),  # no model name has a space
        ({"temperature": 9}, [("9", NUMBER)]),
        ({"max_output_tokens": 4111111111111111}, [("4111111111111111", NUMBER)]),
        ({"top_logprobs": 536228457}, [("536228457", NUMBER)]),
        ({"truncation": f"auto {SSN}"}, [(f"auto {SSN}", TEXT)]),
        ({"include": [f"note {SSN}"]}, [(f"note {SSN}", TEXT)]),
        ({"previous_response_id": f"resp_{SSN}"}, [(f"resp_{SSN}", TEXT)]),
        ({"previous_response_id": "resp_5362284570"}, [("resp_5362284570", TEXT)]),
        ({"conversation": "conv 536"}, [("conv 536", TEXT)]),
        ({"reasoning": {"effort": "extreme"}}, [("extreme", TEXT)]),
    ],
    ids=lambda v: next(iter(v)) if isinstance(v, dict) else "",
)
def test_an_exemption_holds_only_while_its_validator_passes(
    fields: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert texts(**fields) == expected


@pytest.mark.parametrize(
    "fields",
    [
        {"instructions": f"the customer is {SSN}"},
        {"input": f"my SSN is {SSN}"},
        {"user": SSN},
        {"safety_identifier": SSN},
        {"prompt_cache_key": SSN},
        {"metadata": {"customer": SSN}},
        {"metadata": {f"ssn {SSN}": "x"}},
        {"text": {"format": {"type": "json_schema", "name": "c", "schema": {"title": SSN}}}},
        {"prompt": {"id": "pmpt_Ab", "variables": {"who": SSN}}},
        {"prompt": {"id": "pmpt_Ab", "variables": {"who": {"type": "input_text", "text": SSN}}}},
        {"some_future_field": {"deep": [SSN]}},
        {"tool_choice": {"type": "function", "name": f"lookup {SSN}"}},
    ],
    ids=lambda f: next(iter(f)),
)
def test_free_text_fields_are_scanned(fields: dict[str, Any]) -> None:
    assert tags(parsed(**fields).segments) == {"pii.ssn"}


@pytest.mark.parametrize(
    "tool",
    [
        {"type": "function", "name": "f", "description": f"for {SSN}", "parameters": None},
        {"type": "function", "name": "f", "strict": True, "parameters": {"default": SSN}},
        {"type": "custom", "name": "c", "format": {"type": "grammar", "definition": SSN}},
        {"type": "web_search", "user_location": {"type": "approximate", "city": SSN}},
        {"type": "file_search", "vector_store_ids": [f"vs_A {SSN}"]},
        {"type": "file_search", "vector_store_ids": ["vs_A"], "filters": {"value": SSN}},
        {"type": "code_interpreter", "container": f"cntr {SSN}"},
        {"type": "image_generation", "model": f"gpt-image-1 {SSN}"},
        {"type": "mcp", "server_label": "crm", "server_description": SSN},
        {"type": "mcp", "server_label": "crm", "allowed_tools": [SSN]},
    ],
    ids=lambda t: t["type"],
)
def test_tool_definitions_are_scanned(tool: dict[str, Any]) -> None:
    assert tags(parsed(tools=[tool]).segments) == {"pii.ssn"}


@pytest.mark.parametrize(
    "secret",
    [
        {"authorization": TOKEN},
        {"authorization": f"Bearer {TOKEN}"},
        {"headers": {"Authorization": f"Bearer {TOKEN}"}},
        {"headers": {"X-Api-Key": TOKEN}},
        {"server_url": f"https://mcp.example.com/sse?token={TOKEN}"},
    ],
    ids=lambda s: next(iter(s)),
)
def test_mcp_urls_headers_and_authorization_are_scanned_for_secrets(
    secret: dict[str, Any],
) -> None:
    tool = {"type": "mcp", "server_label": "crm", "require_approval": "never", **secret}
    request = parsed(tools=[tool])
    assert "secret.github_token" in tags(request.segments)
    assert TOKEN in "".join(s.text for s in request.segments)


def test_an_mcp_tool_exempts_only_its_constants_and_declares_its_server() -> None:
    tool = {
        "type": "mcp",
        "server_label": "crm",
        "server_url": "https://mcp.example.com/sse",
        "require_approval": {"never": {"read_only": True}},
        "allowed_tools": {"tool_names": ["lookup"]},
    }
    request = parsed(tools=[tool])
    assert [(s.text, s.form) for s in request.segments[1:]] == [
        ("crm", TEXT),
        ("https://mcp.example.com/sse", TEXT),
        ('["lookup"]', DUMP),
    ]
    assert request.unscanned == {"remote_url"}


def test_connector_and_hosted_tool_options_are_exempt() -> None:
    tools = [
        {"type": "mcp", "server_label": "drive", "connector_id": "connector_googledrive"},
        {"type": "web_search_preview", "search_context_size": "low"},
        {"type": "file_search", "vector_store_ids": ["vs_AbCd"], "max_num_results": 5},
        {"type": "code_interpreter", "container": {"type": "auto", "memory_limit": "4g"}},
        {"type": "image_generation", "model": "gpt-image-1", "size": "1024x1024"},
        {
            "type": "computer_use_preview",
            "display_width": 1024,
            "display_height": 768,
            "environment": "browser",
        },
    ]
    assert texts(tools=tools) == [("drive", TEXT)]


def test_message_parts_scan_text_and_decode_inline_files() -> None:
    text_file = base64.b64encode(f"patient {SSN}".encode()).decode()
    content = [
        {"type": "input_text", "text": "see attached"},
        {"type": "input_image", "detail": "auto", "image_url": f"data:image/png;base64,{PNG_B64}"},
        {
            "type": "input_file",
            "filename": "a.txt",
            "file_data": f"data:text/plain;base64,{text_file}",
        },
        {"type": "input_file", "file_id": "file-AbCdEf"},
        {"type": "input_file", "file_url": "https://files.example.com/report.pdf"},
    ]
    request = parsed(input=[{"role": "user", "content": content}])
    assert [(s.text, s.form) for s in request.segments] == [
        ("see attached", TEXT),
        ("a.txt", TEXT),
        (f"patient {SSN}", BASE64),
        ("https://files.example.com/report.pdf", TEXT),
    ]
    assert request.unscanned == {"image", "file_ref", "remote_url"}
    assert tags(request.segments) == {"pii.ssn"}


def test_an_inline_pdf_is_read() -> None:
    pdf = base64.b64encode(_pdf(f"claim for {SSN}")).decode()
    part = {"type": "input_file", "file_data": f"data:application/pdf;base64,{pdf}"}
    request = parsed(input=[{"role": "user", "content": [part]}])
    assert tags(request.segments) == {"pii.ssn"}
    assert PDF.startswith(b"%PDF-")


def test_a_function_call_round_trip() -> None:
    call = {
        "type": "function_call",
        "id": "fc_AbC",
        "call_id": "call_XyZ",
        "name": "lookup",
        "arguments": '{"ssn": "536-22-8457"}',
        "status": "completed",
    }
    answer = {"type": "function_call_output", "call_id": "call_XyZ", "output": f"found {SSN}"}
    request = parsed(input=[call, answer])
    assert [(s.path[1:], s.form) for s in request.segments] == [
        ((0, "name"), TEXT),
        ((0, "arguments"), JSON),
        ((1, "output"), TEXT),
    ]
    assert tags(request.segments[1:2]) == tags(request.segments[2:]) == {"pii.ssn"}


def test_a_function_output_made_of_parts() -> None:
    output = [
        {"type": "input_text", "text": f"found {SSN}"},
        {"type": "input_image", "image_url": "https://img.example.com/x.png"},
    ]
    assert item(type="function_call_output", call_id="call_A", output=output) == [
        (f"found {SSN}", TEXT),
        ("https://img.example.com/x.png", TEXT),
    ]


def test_an_assistant_message_scans_text_refusals_and_citations() -> None:
    content = [
        {
            "type": "output_text",
            "text": "answer",
            "annotations": [
                {
                    "type": "url_citation",
                    "url": "https://a.example.com",
                    "title": "a source",
                    "start_index": 0,
                    "end_index": 6,
                },
                {"type": "file_citation", "file_id": "file-Ab", "filename": "x.pdf", "index": 2},
            ],
        },
        {"type": "refusal", "refusal": "no"},
    ]
    message = {
        "type": "message",
        "id": "msg_Ab",
        "role": "assistant",
        "status": "completed",
        "phase": "final_answer",
        "content": content,
    }
    assert texts(input=[message]) == [
        ("answer", TEXT),
        ("https://a.example.com", TEXT),
        ("a source", TEXT),
        ("x.pdf", TEXT),
        ("no", TEXT),
    ]


def test_reasoning_summaries_are_scanned_and_encrypted_content_declared() -> None:
    blob = base64.b64encode(b"\x00\x01opaque").decode()
    reasoning = {
        "type": "reasoning",
        "id": "rs_Ab",
        "encrypted_content": blob,
        "summary": [{"type": "summary_text", "text": f"user gave {SSN}"}],
        "content": [{"type": "reasoning_text", "text": "thinking"}],
    }
    request = parsed(input=[reasoning])
    assert [s.text for s in request.segments] == [f"user gave {SSN}", "thinking"]
    assert request.unscanned == {"encrypted"}


def test_encrypted_content_that_is_not_opaque_is_scanned() -> None:
    assert item(type="compaction", encrypted_content=f"ssn {SSN}") == [(f"ssn {SSN}", TEXT)]


def test_item_references_and_ids_are_exempt_while_id_shaped() -> None:
    assert texts(input=[{"type": "item_reference", "id": "msg_AbCd"}, {"id": "fc_Xy"}]) == []
    assert item(type="item_reference", id=f"msg {SSN}") == [(f"msg {SSN}", TEXT)]


def hosted(kind: str, **fields: Any) -> dict[str, Any]:
    return {"type": kind, "status": "completed", **fields}


EXIT = {"type": "exit", "exit_code": 0}
CLICK = {"type": "click", "button": "left", "x": 10, "y": 20}
IMAGE_RESULT = base64.b64encode(SSN.encode()).decode()


HOSTED_CALLS = [
    (hosted("web_search_call", id="ws_A", action={"type": "search", "query": SSN}), [SSN]),
    (hosted("file_search_call", id="fs_A", queries=[SSN]), [f'["{SSN}"]']),
    (hosted("computer_call", id="cu_A", call_id="call_A", action={"type": "type", "text": SSN},
          pending_safety_checks=[]), [SSN]),
    (hosted("computer_call", id="cu_A", call_id="call_A", action=CLICK,
          pending_safety_checks=[]), []),
    (hosted("code_interpreter_call", id="ci_A", container_id="cntr_A", code=f"print('{SSN}')",
          outputs=[{"type": "logs", "logs": SSN}]), [f"print('{SSN}')", SSN]),
    (hosted("local_shell_call", id="lsh_A", call_id="call_A",
          action={"type": "exec", "command": ["echo", SSN], "env": {"SSN": SSN}}),
     [f'["echo","{SSN}"]', f'{{"SSN":"{SSN}"}}']),
    (hosted("shell_call_output", call_id="call_A",
          output=[{"stdout": SSN, "stderr": "", "outcome": EXIT}]), [SSN]),
    (hosted("apply_patch_call", call_id="call_A",
          operation={"type": "update_file", "path": "a.md", "diff": SSN}), ["a.md", SSN]),
    (hosted("mcp_call", id="mcp_A", server_label="crm", name="lookup", arguments="{}",
          output=SSN), ["crm", "lookup", "{}", SSN]),
    (hosted("mcp_approval_response", approval_request_id="mcpr_A", approve=True, reason=SSN),
     [SSN]),
    (hosted("custom_tool_call", call_id="call_A", name="sql", input=SSN), ["sql", SSN]),
    (hosted("image_generation_call", id="ig_A", result=IMAGE_RESULT), [SSN]),
]  # fmt: skip
"""Hosted-tool and shell call items, and the texts their walk must scan."""


@pytest.mark.parametrize(
    ("call", "scanned"), HOSTED_CALLS, ids=lambda v: v["type"] if isinstance(v, dict) else ""
)
def test_hosted_tool_calls_scan_their_text(call: dict[str, Any], scanned: list[str]) -> None:
    assert [text for text, _ in item(**call)] == scanned


def test_a_generated_image_is_declared() -> None:
    request = parsed(input=[{"type": "image_generation_call", "id": "ig_A", "result": PNG_B64}])
    assert request.segments[1:] == []
    assert request.unscanned == {"image"}


def test_every_string_of_a_body_is_scanned_exempt_or_declared() -> None:
    """A body touching most shapes: no string leaves the walk unaccounted for."""
    body = {
        "model": "gpt-4o",
        "instructions": "be brief",
        "input": [
            {"role": "developer", "content": "rules"},
            {"role": "user", "content": [{"type": "input_text", "text": "hi"}]},
            {"type": "function_call", "call_id": "call_A", "name": "f", "arguments": "{}"},
            {"type": "function_call_output", "call_id": "call_A", "output": "ok"},
        ],
        "tools": [{"type": "function", "name": "f", "parameters": None, "strict": None}],
        "metadata": {"team": "claims"},
    }
    found = walk(body, RESPONSES)
    accounted = {s.text for s in found.segments} | set(found.exempt) | set(found.declared)
    dumped = "\n".join(s.text for s in found.segments)
    strings = {
        "gpt-4o",
        "be brief",
        "developer",
        "rules",
        "user",
        "input_text",
        "hi",
        "function_call",
        "call_A",
        "f",
        "{}",
        "function_call_output",
        "ok",
        "function",
        "claims",
    }
    assert all(s in accounted or s in dumped for s in strings)
    assert [s.form for s in found.segments].count(KEY) == 0


def test_documented_names_are_field_names_only() -> None:
    assert {
        "input",
        "instructions",
        "previous_response_id",
        "server_url",
        "authorization",
        "encrypted_content",
        "call_id",
        "arguments",
        "store",
    } <= DOCUMENTED
    assert "customer" not in DOCUMENTED
