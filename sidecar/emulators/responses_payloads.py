"""Payloads of the emulator's Responses API: request validation with OpenAI's messages, the
`response` object, input items as `input_items` lists them, and the typed stream events.

Pure functions of the request (and the text of the turns it continues), so responses.py
keeps only routing and the store.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson

from sidecar.emulators.openai_payloads import split, token_count

if TYPE_CHECKING:
    from sidecar.emulators.openai import Fault

CREATE_PARAMS = frozenset(
    """access_programs background background_options context_management conversation image
    include input instructions max_output_tokens max_tool_calls metadata model moderation
    parallel_tool_calls previous_response_id prompt prompt_cache_key prompt_cache_options
    prompt_cache_retention reasoning safety_identifier service_tier store stream
    stream_options temperature text tool_choice tools top_logprobs top_p truncation
    user""".split()
)
"""The body parameters OpenAI accepts; any other is refused as `unknown_parameter`."""

TOOL_ARGUMENTS = '{"city": "Paris"}'
REASONING_TOKENS = 10
"""Reported when the request asks for reasoning (`reasoning.effort` other than none)."""

FAILED = {"code": "server_error", "message": "The model failed to generate a response."}
SERVER_ERROR = "The server had an error while processing your request."
MALFORMED_JSON = b'{"id": "resp_broken", "object": "response", "output": [{"type": "message", '
MALFORMED_EVENT = (
    b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "del\n\n'
)

Refusal = tuple[str, str | None, str | None]
"""(message, param, code) of a 400 `invalid_request_error`."""

_REQUIRED = {
    "message": ("role", "content"),
    "function_call": ("call_id", "name", "arguments"),
    "function_call_output": ("call_id", "output"),
}
_JSON_TYPES = {"dict": "an object", "int": "an integer", "float": "a number", "bool": "a boolean"}


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def text_of(value: Any) -> str:
    """Every string a turn carries: message text, call arguments, tool outputs."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(t for t in map(text_of, value) if t)
    if isinstance(value, dict):
        keys = ("text", "content", "arguments", "output")
        return " ".join(t for t in (text_of(value.get(k)) for k in keys) if t)
    return ""


def refusal(body: dict[str, Any], *, lenient: bool = False) -> Refusal | None:
    """What OpenAI answers a malformed create request, if it is one. `lenient` accepts
    unknown parameters (OpenRouter takes its own extensions)."""
    missing = "missing_required_parameter"
    unknown = [name for name in body if name not in CREATE_PARAMS]
    if unknown and not lenient:
        return f"Unknown parameter: '{unknown[0]}'.", unknown[0], "unknown_parameter"
    if not body.get("model"):
        return "Missing required parameter: 'model'.", "model", missing
    raw = body.get("input")
    if raw is None and not any(body.get(k) for k in ("previous_response_id", "prompt")):
        return "Missing required parameter: 'input'.", "input", missing
    if raw is not None and not isinstance(raw, str | list):
        got = _JSON_TYPES.get(type(raw).__name__, "an object")
        message = "Invalid type for 'input': expected one of a string or array of input items,"
        return f"{message} but got {got} instead.", "input", "invalid_type"
    for i, item in enumerate(raw if isinstance(raw, list) else []):
        where = f"input[{i}]"
        if not isinstance(item, dict):
            got = "a string" if isinstance(item, str) else "a value"
            message = f"Invalid type for '{where}': expected an object, but got {got} instead."
            return message, where, "invalid_type"
        kind = item.get("type") or ("message" if "role" in item else None)
        for key in ("type",) if kind is None else _REQUIRED.get(kind, ()):
            if key not in item:
                return f"Missing required parameter: '{where}.{key}'.", f"{where}.{key}", missing
    for i, tool in enumerate(body.get("tools") or []):
        if isinstance(tool, dict) and tool.get("type") == "function" and not tool.get("name"):
            where = f"tools[{i}].name"
            return f"Missing required parameter: '{where}'.", where, missing
    return None


def as_items(raw: Any) -> list[dict[str, Any]]:
    """The request's input as the input_items list returns it."""
    return [
        as_item(i) for i in ([{"role": "user", "content": raw}] if isinstance(raw, str) else raw)
    ]


def as_item(item: dict[str, Any]) -> dict[str, Any]:
    """An input item with an id and a status, message content as parts (`input_text`, or
    `output_text` for the assistant's own earlier turns)."""
    kind = item.get("type") or "message"
    status = item.get("status", "completed")
    if kind != "message":
        prefix = {"function_call": "fc", "function_call_output": "fc", "reasoning": "rs"}
        return {**item, "id": item.get("id") or new_id(prefix.get(kind, "item")), "status": status}
    role, content = item.get("role", "user"), item.get("content")
    part_type = "output_text" if role == "assistant" else "input_text"
    parts = [{"type": part_type, "text": content}] if isinstance(content, str) else content
    parts = [p for p in parts if isinstance(p, dict)] if isinstance(parts, list) else []
    if role == "assistant":
        parts = [{**p, "annotations": p.get("annotations", [])} for p in parts]
    ident = item.get("id") or new_id("msg")
    return {"id": ident, "type": "message", "role": role, "content": parts, "status": status}


def echo_tool(tool: Any) -> Any:
    """A tool as the response echoes it: function tools with their defaults filled in."""
    if isinstance(tool, dict) and tool.get("type") == "function":
        return {"description": None, "parameters": None, "strict": True, **tool}
    return tool


def _called(body: dict[str, Any], tools: list[Any], items: list[dict[str, Any]]) -> str | None:
    """The function the model calls: a forced one, else the first function tool unless
    this turn already brings a tool's output (then the model answers in text)."""
    choice = body.get("tool_choice") or "auto"
    if isinstance(choice, dict) and choice.get("type") == "function":
        return str(choice.get("name"))
    functions = [t for t in tools if isinstance(t, dict) and t.get("type") == "function"]
    answered = any(i["type"] == "function_call_output" for i in items)
    if functions and (choice == "required" or (choice == "auto" and not answered)):
        return str(functions[0]["name"])
    return None


def build(
    body: dict[str, Any], items: list[dict[str, Any]], prior: str, provider: str
) -> dict[str, Any]:
    """The finished `response` object for a request; `prior` is the text of the stored
    turns it continues (they count as input, and as cached input)."""
    model = str(body["model"])
    tools = [echo_tool(t) for t in body.get("tools") or []]
    name = _called(body, tools, items)
    reasoning = {"effort": None, "summary": None, **(body.get("reasoning") or {})}
    thinks = reasoning["effort"] not in (None, "none")
    output: list[dict[str, Any]] = []
    if thinks:
        output.append({"id": new_id("rs"), "type": "reasoning", "summary": []})
    status, incomplete = "completed", None
    if name is not None:
        said = TOOL_ARGUMENTS
        call = {"id": new_id("fc"), "type": "function_call", "status": "completed"}
        call_id = "call_" + secrets.token_hex(12)
        output.append({**call, "arguments": said, "call_id": call_id, "name": name})
    else:
        said = f"[served by {provider}] model={model}: ok"
        limit = body.get("max_output_tokens")
        if isinstance(limit, int) and token_count(said) > limit:
            said, status = said[: max(1, limit) * 4], "incomplete"
            incomplete = {"reason": "max_output_tokens"}
        part = {"type": "output_text", "text": said, "annotations": []}
        message = {"id": new_id("msg"), "type": "message", "status": status, "role": "assistant"}
        output.append({**message, "content": [part]})
    instructions = body.get("instructions")
    asked = " ".join(t for t in (prior, text_of(instructions), text_of(items)) if t)
    spent = REASONING_TOKENS if thinks else 0
    usage: dict[str, Any] = {
        "input_tokens": token_count(asked),
        "input_tokens_details": {
            "cached_tokens": token_count(prior) if prior else 0,
            "cache_write_tokens": 0,
        },
        "output_tokens": token_count(said) + spent,
        "output_tokens_details": {"reasoning_tokens": spent},
    }
    usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
    now = int(time.time())
    return {
        "id": new_id("resp"),
        "object": "response",
        "created_at": now,
        "status": status,
        "background": bool(body.get("background")),
        "completed_at": now,
        "error": None,
        "incomplete_details": incomplete,
        "instructions": instructions,
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": body.get("max_tool_calls"),
        "model": model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "prompt_cache_key": body.get("prompt_cache_key"),
        "reasoning": reasoning,
        "safety_identifier": body.get("safety_identifier"),
        "service_tier": body.get("service_tier") or "default",
        "store": body.get("store", True) is not False,
        "temperature": body.get("temperature", 1.0),
        "text": {"format": {"type": "text"}, "verbosity": "medium", **(body.get("text") or {})},
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": tools,
        "top_logprobs": body.get("top_logprobs", 0),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation") or "disabled",
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }


def started(response: dict[str, Any], status: str) -> dict[str, Any]:
    """The response before any output: as `response.created` and a queued (or cancelled)
    background response show it."""
    before: dict[str, Any] = {
        "completed_at": None,
        "incomplete_details": None,
        "output": [],
        "usage": None,
    }
    return {**response, "status": status, **before}


def failed(response: dict[str, Any]) -> dict[str, Any]:
    return {**response, "status": "failed", "error": FAILED, "completed_at": None, "usage": None}


def frames(response: dict[str, Any], chunks: int, fault: Fault | None = None) -> list[dict]:
    """The typed events of a streamed response in the documented order, numbered from 0.
    A `stream_error` or `stream_failed` fault replaces the last event (with `after`: every
    event from that index on) by an `error` or a `response.failed` event."""
    out: list[dict[str, Any]] = []

    def emit(kind: str, **fields: Any) -> None:
        out.append({"type": kind, **fields})

    emit("response.created", response=started(response, "in_progress"))
    emit("response.in_progress", response=started(response, "in_progress"))
    for index, item in enumerate(response["output"]):
        _item_events(emit, index, item, chunks)
    final = "incomplete" if response["status"] == "incomplete" else "completed"
    emit("response." + final, response=response)
    if fault is not None and fault.kind in ("stream_error", "stream_failed"):
        last = len(out) - 1
        del out[last if fault.after is None else max(0, min(fault.after, last)) :]
        if fault.kind == "stream_error":
            emit("error", code="server_error", message=SERVER_ERROR, param=None)
        else:
            emit("response.failed", response=failed(response))
    return [{**event, "sequence_number": n} for n, event in enumerate(out)]


def _item_events(emit: Callable[..., None], index: int, item: dict[str, Any], chunks: int) -> None:
    at = {"output_index": index}
    if item["type"] == "message":
        part = item["content"][0]
        ids = {"item_id": item["id"], **at, "content_index": 0}
        emit(
            "response.output_item.added",
            **at,
            item={**item, "status": "in_progress", "content": []},
        )
        emit("response.content_part.added", **ids, part={**part, "text": ""})
        for piece in split(part["text"], chunks):
            emit("response.output_text.delta", **ids, delta=piece, logprobs=[])
        emit("response.output_text.done", **ids, text=part["text"], logprobs=[])
        emit("response.content_part.done", **ids, part=part)
    elif item["type"] == "function_call":
        ids = {"item_id": item["id"], **at}
        emit(
            "response.output_item.added",
            **at,
            item={**item, "status": "in_progress", "arguments": ""},
        )
        for piece in split(item["arguments"], 3):
            emit("response.function_call_arguments.delta", **ids, delta=piece)
        emit(
            "response.function_call_arguments.done",
            **ids,
            name=item["name"],
            arguments=item["arguments"],
        )
    else:
        emit("response.output_item.added", **at, item=item)
    emit("response.output_item.done", **at, item=item)


def sse(events: list[dict[str, Any]]) -> list[bytes]:
    """`event: <type>` and `data: <json>` lines, as OpenAI frames the Responses stream
    (no `data: [DONE]` at the end)."""
    return [b"event: %s\ndata: %s\n\n" % (e["type"].encode(), orjson.dumps(e)) for e in events]
