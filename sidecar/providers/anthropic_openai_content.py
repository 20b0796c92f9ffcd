"""The blocks of an Anthropic Messages request that become OpenAI chat messages and parts:
text, images, tool use and results, tool choice. A block OpenAI's format cannot express
raises UnsupportedFeature: the route is skipped, never silently degraded."""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.providers.base import UnsupportedFeature


def plain_text(content: Any, where: str) -> str:
    if isinstance(content, str):
        return content
    texts = []
    for block in content or []:
        if block.get("type") != "text":
            raise UnsupportedFeature(f"{where} block of type {block.get('type')!r}")
        texts.append(block["text"])
    return "\n".join(texts)


def part(block: dict[str, Any]) -> dict[str, Any]:
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": block["text"]}
    if kind == "image":
        source = block.get("source") or {}
        if source.get("type") == "base64":
            url = f"data:{source.get('media_type')};base64,{source.get('data')}"
        elif source.get("type") == "url":
            url = source.get("url", "")
        else:
            raise UnsupportedFeature(f"image source {source.get('type')!r}")
        return {"type": "image_url", "image_url": {"url": url}}
    raise UnsupportedFeature(f"content block of type {kind!r}")


def user_messages(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"role": "user", "content": content}]
    out: list[dict[str, Any]] = []
    parts: list[dict[str, Any]] = []
    for block in content:
        if block.get("type") == "tool_result":
            if block.get("is_error"):
                text = "[tool error] " + plain_text(block.get("content"), "tool_result")
            else:
                text = plain_text(block.get("content"), "tool_result")
            out.append({"role": "tool", "tool_call_id": block.get("tool_use_id"), "content": text})
        else:
            parts.append(part(block))
    if parts:
        only_text = len(parts) == 1 and parts[0]["type"] == "text"
        out.append({"role": "user", "content": parts[0]["text"] if only_text else parts})
    return out


def assistant_message(content: Any) -> dict[str, Any]:
    if isinstance(content, str):
        return {"role": "assistant", "content": content}
    texts, calls = [], []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            texts.append(block["text"])
        elif kind == "tool_use":
            calls.append(
                {
                    "id": block.get("id"),
                    "type": "function",
                    "function": {
                        "name": block.get("name"),
                        "arguments": orjson.dumps(block.get("input", {})).decode(),
                    },
                }
            )
        else:
            raise UnsupportedFeature(f"assistant block of type {kind!r}")
    msg: dict[str, Any] = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        msg["tool_calls"] = calls
    return msg


def tool_choice(choice: dict[str, Any]) -> tuple[Any, bool | None]:
    kind = choice.get("type")
    mapped: Any = {"auto": "auto", "any": "required", "none": "none"}.get(kind or "")
    if kind == "tool":
        mapped = {"type": "function", "function": {"name": choice.get("name")}}
    if mapped is None:
        raise UnsupportedFeature(f"tool_choice type {kind!r}")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    return mapped, parallel
