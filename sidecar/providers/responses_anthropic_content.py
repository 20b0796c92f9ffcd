"""The input items of a Responses request as Anthropic Messages turns and blocks.

Messages and function calls go through the same helpers as an OpenAI chat request
(openai_anthropic_content.py): images, tool-use blocks with their arguments checked as a
JSON object, and one turn per run of a role, so parallel tool results share a user turn.
What only this pair adds: PDF files become document blocks, function_call_output items
tool_result blocks, and a reasoning item that carries Anthropic's own thinking signature
(as `encrypted_content`, see ResponsesToAnthropic) becomes its thinking block again, which
Anthropic needs back to continue a tool-use turn. Any other reasoning item is left out: it
is another model's private state.
"""

from __future__ import annotations

from typing import Any

from sidecar.providers.base import UnsupportedFeature
from sidecar.providers.openai_anthropic_content import append_turn, assistant_blocks, image
from sidecar.providers.responses_input import (
    content_parts,
    image_url,
    input_items,
    item_type,
    plain_text,
)

PDF_DATA = "data:application/pdf;base64,"


def _document(part: dict[str, Any]) -> dict[str, Any]:
    data, url = part.get("file_data"), part.get("file_url")
    if isinstance(data, str) and data.startswith(PDF_DATA):
        source = {"type": "base64", "media_type": "application/pdf", "data": data[len(PDF_DATA) :]}
    elif isinstance(url, str) and url.startswith(("http://", "https://")):
        source = {"type": "url", "url": url}
    else:
        raise UnsupportedFeature(
            "input_file other than a PDF data URL or an http(s) file_url (a file_id, say)"
        )
    block: dict[str, Any] = {"type": "document", "source": source}
    if part.get("filename"):
        block["title"] = part["filename"]
    return block


def block(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "input_text":
        return {"type": "text", "text": part.get("text") or ""}
    if kind == "input_image":
        return image({"image_url": {"url": image_url(part)}})
    if kind == "input_file":
        return _document(part)
    raise UnsupportedFeature(f"content part of type {kind!r}")


def _assistant_text(parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """An earlier answer's text; its refusal is what the assistant said, so text too."""
    texts = []
    for part in parts:
        kind = part.get("type")
        if kind in ("output_text", "input_text"):
            texts.append(part.get("text") or "")
        elif kind == "refusal":
            texts.append(part.get("refusal") or "")
        else:
            raise UnsupportedFeature(f"assistant content part of type {kind!r}")
    text = "".join(texts)
    return [{"type": "text", "text": text}] if text else []


def _thinking(item: dict[str, Any]) -> list[dict[str, Any]]:
    signature = item.get("encrypted_content")
    text = "".join(
        c.get("text") or "" for c in item.get("content") or [] if c.get("type") == "reasoning_text"
    )
    if not isinstance(signature, str) or not signature or not text:
        return []
    return [{"type": "thinking", "thinking": text, "signature": signature}]


def _tool_result(item: dict[str, Any]) -> dict[str, Any]:
    output = item.get("output")
    content = output if isinstance(output, str) else [block(p) for p in content_parts(output)]
    return {"type": "tool_result", "tool_use_id": item.get("call_id"), "content": content}


def anthropic_turns(body: dict[str, Any], system: list[str]) -> list[dict[str, Any]]:
    """The request's input as Anthropic messages; system and developer text joins `system`."""
    messages: list[dict[str, Any]] = []
    for item in input_items(body):
        kind = item_type(item)
        if kind == "message":
            role = item.get("role")
            parts = content_parts(item.get("content"))
            if role in ("system", "developer"):
                system.append(plain_text(parts, str(role)))
            elif role == "user":
                append_turn(messages, "user", [block(p) for p in parts])
            elif role == "assistant":
                append_turn(messages, "assistant", _assistant_text(parts))
            else:
                raise UnsupportedFeature(f"messages with role {role!r}")
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "function": {"name": item.get("name"), "arguments": item.get("arguments")},
            }
            append_turn(messages, "assistant", assistant_blocks({"tool_calls": [call]}))
        elif kind == "function_call_output":
            append_turn(messages, "user", [_tool_result(item)])
        elif kind == "reasoning":
            append_turn(messages, "assistant", _thinking(item))
        elif kind == "item_reference":
            raise UnsupportedFeature("item_reference: the item is stored at OpenAI")
        else:
            raise UnsupportedFeature(f"input items of type {kind!r}")
    return messages
