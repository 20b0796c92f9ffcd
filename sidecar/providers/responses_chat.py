"""OpenAI Responses from the app, an OpenAI-format upstream that has only Chat Completions
(Gemini's OpenAI-compatible endpoint, self-hosted servers); Responses back.

`instructions` and system/developer messages become system messages (the role every such
server knows); user parts become text, image_url and file parts; assistant output_text
becomes assistant content, and consecutive function_call items one assistant message's
tool_calls; function_call_output items become tool messages. Reasoning items are left out:
they are the producing model's private state, which another model cannot read (Chat
Completions has no way to send them back either). Function tools, tool_choice, text.format
(response_format), max_output_tokens, temperature, top_p, parallel_tool_calls, reasoning
effort, verbosity, user, safety_identifier and prompt_cache_key map to their Chat
namesakes; everything else raises UnsupportedFeature (see responses_input.py).

The answer -- reasoning (`reasoning_content` or `reasoning`), text, refusal, tool calls --
becomes a Response's output items, whole or as the typed event stream.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.providers.base import (
    SSEParser,
    UnsupportedFeature,
    Usage,
    relayed_headers,
    upstream_error,
)
from sidecar.providers.responses_events import ResponseBuilder, new_id, responses_usage
from sidecar.providers.responses_input import (
    TRANSLATED,
    chat_response_format,
    chat_tool_choice,
    check_request,
    content_parts,
    function_tools,
    image_url,
    input_items,
    item_type,
    plain_text,
    reasoning_effort,
)

ACCEPTED = TRANSLATED | {"prompt_cache_key"}
PASSED = ("temperature", "top_p", "user", "safety_identifier", "prompt_cache_key")
"""Fields with the same name and meaning in both APIs."""
INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
"""Chat finish_reason -> Responses incomplete_details.reason (any other: completed)."""


def _part(part: dict[str, Any]) -> dict[str, Any]:
    kind = part.get("type")
    if kind == "input_text":
        return {"type": "text", "text": part.get("text") or ""}
    if kind == "input_image":
        image: dict[str, Any] = {"url": image_url(part)}
        if part.get("detail") is not None:
            image["detail"] = part["detail"]
        return {"type": "image_url", "image_url": image}
    if kind == "input_file":
        if not part.get("file_data"):
            raise UnsupportedFeature("input_file without file_data (a file_id or file_url)")
        file = {"file_data": part["file_data"]}
        if part.get("filename"):
            file["filename"] = part["filename"]
        return {"type": "file", "file": file}
    raise UnsupportedFeature(f"content part of type {kind!r}")


def _content(parts: list[dict[str, Any]]) -> str | list[dict[str, Any]]:
    """A lone text part as a plain string, which every server accepts."""
    converted = [_part(p) for p in parts]
    if len(converted) == 1 and converted[0]["type"] == "text":
        return str(converted[0]["text"])
    return converted


def _assistant(parts: list[dict[str, Any]]) -> dict[str, Any]:
    texts, refusals = [], []
    for part in parts:
        kind = part.get("type")
        if kind in ("output_text", "input_text"):
            texts.append(part.get("text") or "")
        elif kind == "refusal":
            refusals.append(part.get("refusal") or "")
        else:
            raise UnsupportedFeature(f"assistant content part of type {kind!r}")
    message: dict[str, Any] = {"role": "assistant", "content": "".join(texts)}
    if refusals:
        message["refusal"] = "".join(refusals)
    return message


def _tool_output(output: Any) -> str | list[dict[str, Any]]:
    if isinstance(output, str):
        return output
    parts = content_parts(output)
    if any(p.get("type") != "input_text" for p in parts):
        raise UnsupportedFeature(
            "function_call_output with images or files: tool messages are text"
        )
    return _content(parts)


def chat_messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if body.get("instructions"):
        messages.append({"role": "system", "content": body["instructions"]})
    for item in input_items(body):
        kind = item_type(item)
        if kind == "message":
            role = item.get("role")
            parts = content_parts(item.get("content"))
            if role in ("system", "developer"):
                messages.append({"role": "system", "content": plain_text(parts, str(role))})
            elif role == "user":
                messages.append({"role": "user", "content": _content(parts)})
            elif role == "assistant":
                messages.append(_assistant(parts))
            else:
                raise UnsupportedFeature(f"messages with role {role!r}")
        elif kind == "function_call":
            call = {
                "id": item.get("call_id"),
                "type": "function",
                "function": {"name": item.get("name"), "arguments": item.get("arguments") or "{}"},
            }
            if messages and messages[-1]["role"] == "assistant":
                messages[-1].setdefault("tool_calls", []).append(call)
            else:
                messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        elif kind == "function_call_output":
            messages.append(
                {
                    "role": "tool",
                    "tool_call_id": item.get("call_id"),
                    "content": _tool_output(item.get("output")),
                }
            )
        elif kind == "item_reference":
            raise UnsupportedFeature("item_reference: the item is stored at OpenAI")
        elif kind != "reasoning":
            raise UnsupportedFeature(f"input items of type {kind!r}")
    return messages


def _tool(tool: dict[str, Any]) -> dict[str, Any]:
    fn: dict[str, Any] = {"name": tool.get("name")}
    for key in ("description", "parameters", "strict"):
        if tool.get(key) is not None:
            fn[key] = tool[key]
    return {"type": "function", "function": fn}


def _openai_error(body: bytes) -> dict[str, Any]:
    """The error object of an OpenAI-format error body, also in the list form Gemini's
    compatible endpoint answers with ([{"error": {...}}])."""
    error = upstream_error(body)
    if error or not body.startswith(b"["):
        return error
    try:
        parsed = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {}
    first = parsed[0] if parsed and isinstance(parsed[0], dict) else {}
    inner = first.get("error")
    return inner if isinstance(inner, dict) else {}


class ResponsesToChat:
    def __init__(self, endpoint: str, default_max_tokens: int = 0) -> None:
        if endpoint != "responses":
            raise UnsupportedFeature(f"OpenAI {endpoint} on a Responses-to-Chat route")
        self.usage = Usage()
        self.complete = False
        self._events = SSEParser()
        self._request: dict[str, Any] = {}
        self._model = ""
        self._stream: ResponseBuilder | None = None
        self._calls: dict[Any, str] = {}
        """Tool-call index -> the id of the call now streaming at that index."""
        self._chat_usage: Any = None
        self._finish: str | None = None

    # ---- request ------------------------------------------------------------------------

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        check_request(body, ACCEPTED, "a Chat Completions upstream")
        effort = reasoning_effort(body.get("reasoning"))
        out: dict[str, Any] = {"model": model, "messages": chat_messages(body)}
        if body.get("max_output_tokens") is not None:
            out["max_tokens"] = body["max_output_tokens"]
        for key in PASSED:
            if body.get(key) is not None:
                out[key] = body[key]
        tools = function_tools(body.get("tools"))
        if tools:
            out["tools"] = [_tool(t) for t in tools]
            choice = chat_tool_choice(body.get("tool_choice"))
            if choice is not None:
                out["tool_choice"] = choice
            if body.get("parallel_tool_calls") is not None:
                out["parallel_tool_calls"] = body["parallel_tool_calls"]
        fmt = chat_response_format(body.get("text"))
        if fmt is not None:
            out["response_format"] = fmt
        verbosity = (body.get("text") or {}).get("verbosity")
        if verbosity is not None:
            out["verbosity"] = verbosity
        if effort is not None:
            out["reasoning_effort"] = effort
        if body.get("stream"):
            out["stream"] = True
            out["stream_options"] = {"include_usage": True}
        self._request, self._model = body, model
        return out

    # ---- response -----------------------------------------------------------------------

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return relayed_headers(headers)

    def _add(self, out: ResponseBuilder, delta: dict[str, Any], *, streamed: bool) -> bytes:
        """One message (whole) or delta (streamed) of the answer into the builder. A streamed
        tool call continues the call of its index, unless it brings an id of its own (some
        servers send every call complete, all without an index)."""
        events = b""
        reasoning = delta.get("reasoning_content") or delta.get("reasoning")
        if isinstance(reasoning, str) and reasoning:
            events += out.text(reasoning, "reasoning_text")
        content = delta.get("content")
        if isinstance(content, list):  # a few servers answer in parts
            content = "".join(p.get("text") or "" for p in content if isinstance(p, dict))
        if content:
            events += out.text(content)
        if delta.get("refusal"):
            events += out.text(delta["refusal"], "refusal")
        for position, call in enumerate(delta.get("tool_calls") or []):
            index = call.get("index", position) if streamed else position
            fn = call.get("function") or {}
            call_id = call.get("id")
            if index not in self._calls or (call_id and call_id != self._calls[index]):
                self._calls[index] = call_id or new_id("call_")
                events += out.function_call(self._calls[index], fn.get("name") or "", index)
            events += out.arguments(fn.get("arguments") or "", index)
        return events

    def _end(self, out: ResponseBuilder) -> bytes:
        self.usage.update(self._chat_usage)
        self.complete = True
        return out.finish(INCOMPLETE.get(self._finish or ""), responses_usage(self._chat_usage))

    def response_body(self, body: bytes) -> bytes:
        parsed = orjson.loads(body)
        choice = (parsed.get("choices") or [{}])[0]
        out = ResponseBuilder(self._request, self._model, events=False)
        self._add(out, choice.get("message") or {}, streamed=False)
        self._chat_usage, self._finish = parsed.get("usage"), choice.get("finish_reason")
        self._end(out)
        return orjson.dumps(out.final)

    def response_chunk(self, chunk: bytes) -> bytes:
        if self._stream is None:
            self._stream = ResponseBuilder(self._request, self._model, events=True)
        out = self._stream
        events = bytearray()
        for _, data in self._events.feed(chunk):
            if self.complete:
                break  # nothing after the end counts
            if data == b"[DONE]":
                events += self._end(out)
                continue
            event = orjson.loads(data)
            if event.get("error") is not None:
                error = event["error"] if isinstance(event["error"], dict) else {}
                self.complete = True
                code = error.get("code") or error.get("type")
                events += out.error(error.get("message") or "upstream error", code)
                continue
            events += out.start()
            if event.get("usage"):
                self._chat_usage = event["usage"]
            for choice in event.get("choices") or []:
                if choice.get("index", 0) != 0:
                    continue
                events += self._add(out, choice.get("delta") or {}, streamed=True)
                if choice.get("finish_reason"):
                    self._finish = choice["finish_reason"]
        return bytes(events)

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        error = _openai_error(body)
        kind = error.get("type") or ("invalid_request_error" if status < 500 else "api_error")
        return status, orjson.dumps(
            {
                "error": {
                    "message": error.get("message") or "upstream error",
                    "type": kind,
                    "param": error.get("param"),
                    "code": error.get("code"),
                }
            }
        )
