"""Finds every piece of text the model will read in a request body, with its JSON path.

Scanning only `messages[].content` would miss what leaks most often: tool-call arguments,
tool results, tool descriptions. Paths let redaction write back to exactly that string.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.classify.model import JsonPath, Segment

SCHEMA_SUFFIX = "parameters"
SCHEMA_SUFFIXES = frozenset({"parameters", "input_schema"})
"""Segments whose path ends here are tool schemas: scanned, never rewritten."""


def _content(segments: list[Segment], content: Any, path: JsonPath) -> None:
    if isinstance(content, str):
        if content:
            segments.append(Segment(path, content))
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if isinstance(part, dict) and isinstance(part.get("text"), str) and part["text"]:
                segments.append(Segment((*path, j, "text"), part["text"]))


def _function(segments: list[Segment], fn: Any, path: JsonPath) -> None:
    """A tool/function definition: its description and its JSON schema."""
    if not isinstance(fn, dict):
        return
    if isinstance(fn.get("description"), str) and fn["description"]:
        segments.append(Segment((*path, "description"), fn["description"]))
    params = fn.get("parameters")
    if isinstance(params, dict) and params:
        text = orjson.dumps(params, option=orjson.OPT_SORT_KEYS).decode()
        segments.append(Segment((*path, SCHEMA_SUFFIX), text))


def _arguments(segments: list[Segment], fn: Any, path: JsonPath) -> None:
    if isinstance(fn, dict) and isinstance(fn.get("arguments"), str) and fn["arguments"]:
        segments.append(Segment((*path, "arguments"), fn["arguments"]))


def extract_openai_chat(body: dict[str, Any]) -> list[Segment]:
    segments: list[Segment] = []
    messages = body.get("messages")
    for i, msg in enumerate(messages if isinstance(messages, list) else []):
        if not isinstance(msg, dict):
            continue
        _content(segments, msg.get("content"), ("messages", i, "content"))
        calls = msg.get("tool_calls")
        for k, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                _arguments(
                    segments, call.get("function"), ("messages", i, "tool_calls", k, "function")
                )
        _arguments(segments, msg.get("function_call"), ("messages", i, "function_call"))
    tools = body.get("tools")
    for t, tool in enumerate(tools if isinstance(tools, list) else []):
        if isinstance(tool, dict):
            _function(segments, tool.get("function"), ("tools", t, "function"))
    functions = body.get("functions")
    for f, fn in enumerate(functions if isinstance(functions, list) else []):
        _function(segments, fn, ("functions", f))
    return segments


def _strings(segments: list[Segment], value: Any, path: JsonPath) -> None:
    """Every string leaf of a JSON value (Anthropic tool inputs are objects, not strings)."""
    stack: list[tuple[Any, JsonPath]] = [(value, path)]
    while stack:
        node, where = stack.pop()
        if isinstance(node, str):
            if node:
                segments.append(Segment(where, node))
        elif isinstance(node, dict):
            stack.extend((v, (*where, k)) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend((v, (*where, i)) for i, v in reversed(list(enumerate(node))))


def _anthropic_blocks(segments: list[Segment], content: Any, path: JsonPath) -> None:
    if isinstance(content, str):
        if content:
            segments.append(Segment(path, content))
        return
    for j, block in enumerate(content if isinstance(content, list) else []):
        if not isinstance(block, dict):
            continue
        kind, where = block.get("type"), (*path, j)
        if kind == "text" and isinstance(block.get("text"), str):
            segments.append(Segment((*where, "text"), block["text"]))
        elif kind == "thinking" and isinstance(block.get("thinking"), str):
            segments.append(Segment((*where, "thinking"), block["thinking"]))
        elif kind == "tool_use":
            _strings(segments, block.get("input"), (*where, "input"))
        elif kind == "tool_result":
            _anthropic_blocks(segments, block.get("content"), (*where, "content"))
        elif kind == "document":
            source = block.get("source")
            if isinstance(source, dict) and source.get("type") == "text":
                _strings(segments, source.get("data"), (*where, "source", "data"))
            _anthropic_blocks(
                segments,
                source.get("content") if isinstance(source, dict) else None,
                (*where, "source", "content"),
            )


def extract_anthropic_messages(body: dict[str, Any]) -> list[Segment]:
    segments: list[Segment] = []
    _anthropic_blocks(segments, body.get("system"), ("system",))
    messages = body.get("messages")
    for i, msg in enumerate(messages if isinstance(messages, list) else []):
        if isinstance(msg, dict):
            _anthropic_blocks(segments, msg.get("content"), ("messages", i, "content"))
    tools = body.get("tools")
    for t, tool in enumerate(tools if isinstance(tools, list) else []):
        if not isinstance(tool, dict):
            continue
        if isinstance(tool.get("description"), str) and tool["description"]:
            segments.append(Segment(("tools", t, "description"), tool["description"]))
        schema = tool.get("input_schema")
        if isinstance(schema, dict) and schema:
            text = orjson.dumps(schema, option=orjson.OPT_SORT_KEYS).decode()
            segments.append(Segment(("tools", t, "input_schema"), text))
    return segments


def extract_openai_embeddings(body: dict[str, Any]) -> list[Segment]:
    value = body.get("input")
    if isinstance(value, str):
        return [Segment(("input",), value)] if value else []
    if isinstance(value, list):
        return [Segment(("input", i), v) for i, v in enumerate(value) if isinstance(v, str) and v]
    return []
