"""The OpenAI Responses API of the loopback OpenAI emulator (`POST /v1/responses` and the
retrieval endpoints), so the sidecar's native Responses routes meet the documented wire
format rather than a guess at it.

Faithful where the sidecar depends on it: the `response` object and its `message`,
`function_call` and `reasoning` output items, usage with cached and reasoning tokens, the
typed SSE events (`event: <type>` lines, `sequence_number` from 0) ending in
`response.completed`, `response.incomplete`, `response.failed` or `error`, and the server
side state: `store` (default true) keeps a response and its input items for retrieval and
for continuations by `previous_response_id`; nothing else is remembered. Errors are
OpenAI's, with the statuses it answers: 400 for an unknown `previous_response_id` or a
tool output without its call, 404 for an unknown response id, 400 for cancelling a response
that was not created in the background.

The reply is the chat emulator's (`[served by <name>] model=<model>: ok`), so a test sees
the same text whether a request was served natively or translated to Chat Completions.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from sidecar.emulators.openai_payloads import split, token_count

if TYPE_CHECKING:
    from sidecar.emulators.openai import Fault, OpenAIEmulator

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

MALFORMED_JSON = b'{"id": "resp_broken", "object": "response", "output": [{"type": "message", '
MALFORMED_EVENT = (
    b'event: response.output_text.delta\ndata: {"type": "response.output_text.delta", "del\n\n'
)
FAILED = {"code": "server_error", "message": "The model failed to generate a response."}


def _id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(24)}"


def _text(value: Any) -> str:
    """Every string a turn carries: message text, call arguments, tool outputs."""
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return " ".join(t for t in map(_text, value) if t)
    if isinstance(value, dict):
        keys = ("text", "content", "arguments", "output")
        return " ".join(t for t in (_text(value.get(k)) for k in keys) if t)
    return ""


def _as_item(item: dict[str, Any]) -> dict[str, Any]:
    """An input item as the input_items list returns it: with an id and a status, message
    content as parts (`input_text`, or `output_text` for the assistant's own turns)."""
    kind = item.get("type") or "message"
    if kind != "message":
        prefix = "fc" if kind.startswith("function_call") else kind.split("_")[0][:4]
        return {**item, "id": item.get("id") or _id(prefix), "status": item.get("status", "completed")}
    role, content = item.get("role", "user"), item.get("content")
    part_type = "output_text" if role == "assistant" else "input_text"
    parts = [{"type": part_type, "text": content}] if isinstance(content, str) else content
    if role == "assistant":
        parts = [{**p, "annotations": p.get("annotations", [])} for p in parts]
    return {
        "id": item.get("id") or _id("msg"),
        "type": "message",
        "role": role,
        "content": parts,
        "status": item.get("status", "completed"),
    }


@dataclass
class StoredResponse:
    """A response kept because its request had `store` true."""

    response: dict[str, Any]
    input_items: list[dict[str, Any]]
    context: str
    """The text of its input and output, which a continuation carries (and caches)."""
    calls: set[str]
    """Call ids of the function calls in its input and output."""
    previous: str | None = None
    pending: dict[str, Any] | None = None
    """A background response's result, until it is first retrieved (or cancelled)."""
    created: float = field(default_factory=time.time)


class ResponsesAPI:
    """One emulator's Responses API and its store. `enabled=False` plays a server that has
    only Chat Completions (Gemini's compatible endpoint, most self-hosted servers): no
    route is registered and `/responses` is the emulator's unknown-path 404."""

    def __init__(self, emulator: OpenAIEmulator, *, enabled: bool = True) -> None:
        self.emulator = emulator
        self.enabled = enabled
        self.stored: dict[str, StoredResponse] = {}

    def register(self, router: web.UrlDispatcher, base: str) -> None:
        if not self.enabled:
            return
        router.add_post(base + "/responses", self._create)
        router.add_get(base + "/responses/{id}", self._retrieve)
        router.add_delete(base + "/responses/{id}", self._delete)
        router.add_get(base + "/responses/{id}/input_items", self._input_items)
        router.add_post(base + "/responses/{id}/cancel", self._cancel)

    @property
    def received(self) -> list[Any]:
        """The emulator's recorded requests to the Responses endpoints."""
        return [r for r in self.emulator.received if "/responses" in r.path]

    def chain(self, previous: str | None) -> list[StoredResponse]:
        """The stored turns a continuation of `previous` carries, oldest first."""
        turns: list[StoredResponse] = []
        while previous is not None and previous in self.stored:
            turns.append(self.stored[previous])
            previous = turns[-1].previous
        return turns[::-1]

    # ---- POST /responses --------------------------------------------------------------

    async def _create(self, request: web.Request) -> web.StreamResponse:
        emu = self.emulator
        early, body, fault = await emu._admit(request)
        if early is not None:
            return early
        refusal = self._invalid(body)
        if refusal is not None:
            return refusal
        previous = body.get("previous_response_id")
        if previous is not None and previous not in self.stored:
            message = f"Previous response with id '{previous}' not found."
            param, code = "previous_response_id", "previous_response_not_found"
            return emu._error(400, message, param=param, code=code)
        raw = body.get("input")
        items = [_as_item(i) for i in ([{"role": "user", "content": raw}] if isinstance(raw, str) else raw or [])]
        turns = self.chain(previous)
        known = {c for t in turns for c in t.calls}
        known |= {i["call_id"] for i in items if i["type"] == "function_call" and "call_id" in i}
        for item in items:
            if item["type"] == "function_call_output" and item["call_id"] not in known:
                message = f"No tool call found for function call output with call_id {item['call_id']}."
                return emu._error(400, message, param="input")
        response = self._response(body, items, " ".join(t.context for t in turns))
        kind = fault.kind if fault is not None else None
        if kind == "stream_failed":
            response.update(status="failed", error=FAILED, output=[], usage=None, completed_at=None)
        if body.get("store", True) is not False:
            self._keep(response, body, items, previous)
        if body.get("stream"):
            return await self._stream(request, fault, response)
        if kind == "malformed":
            return emu._respond(200, MALFORMED_JSON)
        if kind == "stream_error":
            return emu._error(500)
        stored = self.stored.get(response["id"])
        return emu._ok(stored.response if stored is not None else response)

    def _invalid(self, body: dict[str, Any]) -> web.Response | None:
        """OpenAI's refusal of a malformed request body, if it is one."""
        error = self.emulator._error
        if not self.emulator.openrouter:  # OpenRouter accepts its own extensions
            for name in body:
                if name not in CREATE_PARAMS:
                    message = f"Unknown parameter: '{name}'."
                    return error(400, message, param=name, code="unknown_parameter")
        if not body.get("model"):
            message = "Missing required parameter: 'model'."
            return error(400, message, param="model", code="missing_required_parameter")
        raw = body.get("input")
        if raw is None and not any(body.get(k) for k in ("previous_response_id", "prompt")):
            message = "Missing required parameter: 'input'."
            return error(400, message, param="input", code="missing_required_parameter")
        if raw is not None and not isinstance(raw, str | list):
            got = type(raw).__name__.replace("dict", "object").replace("int", "integer")
            message = (
                "Invalid type for 'input': expected one of a string or array of input items,"
                f" but got {got} instead."
            )
            return error(400, message, param="input", code="invalid_type")
        for i, item in enumerate(raw if isinstance(raw, list) else []):
            where = f"input[{i}]"
            if not isinstance(item, dict):
                message = f"Invalid type for '{where}': expected an object, but got a {type(item).__name__} instead."
                return error(400, message, param=where, code="invalid_type")
            kind = item.get("type") or ("message" if "role" in item else None)
            needed = {"message": ("role", "content"), "function_call_output": ("call_id", "output")}
            needed["function_call"] = ("call_id", "name", "arguments")
            for key in ("type",) if kind is None else needed.get(kind, ()):
                if key not in item:
                    message = f"Missing required parameter: '{where}.{key}'."
                    return error(400, message, param=f"{where}.{key}", code="missing_required_parameter")
        for i, tool in enumerate(body.get("tools") or []):
            if isinstance(tool, dict) and tool.get("type") == "function" and not tool.get("name"):
                where = f"tools[{i}].name"
                message = f"Missing required parameter: '{where}'."
                return error(400, message, param=where, code="missing_required_parameter")
        return None

    def _response(self, body: dict[str, Any], items: list[dict[str, Any]], prior: str) -> dict[str, Any]:
        """The finished `response` object for one request."""
        model = str(body["model"])
        tools = [self._tool(t) for t in body.get("tools") or []]
        functions = [t for t in tools if t.get("type") == "function"]
        choice = body.get("tool_choice") or "auto"
        answered = any(i["type"] == "function_call_output" for i in items)
        name: str | None = None
        if isinstance(choice, dict) and choice.get("type") == "function":
            name = str(choice.get("name"))
        elif functions and (choice == "required" or (choice == "auto" and not answered)):
            name = str(functions[0]["name"])
        reasoning = {"effort": None, "summary": None, **(body.get("reasoning") or {})}
        thinks = reasoning["effort"] not in (None, "none")
        output: list[dict[str, Any]] = []
        if thinks:
            output.append({"id": _id("rs"), "type": "reasoning", "summary": []})
        status, incomplete = "completed", None
        if name is not None:
            said = TOOL_ARGUMENTS
            output.append(
                {
                    "id": _id("fc"),
                    "type": "function_call",
                    "status": "completed",
                    "arguments": said,
                    "call_id": "call_" + secrets.token_hex(12),
                    "name": name,
                }
            )
        else:
            said = f"[served by {self.emulator.name}] model={model}: ok"
            limit = body.get("max_output_tokens")
            if isinstance(limit, int) and token_count(said) > limit:
                said, status = said[: max(1, limit) * 4], "incomplete"
                incomplete = {"reason": "max_output_tokens"}
            part = {"type": "output_text", "text": said, "annotations": []}
            message = {"id": _id("msg"), "type": "message", "status": status, "role": "assistant"}
            output.append({**message, "content": [part]})
        instructions = body.get("instructions")
        asked = " ".join(t for t in (prior, _text(instructions), _text(items)) if t)
        cached = token_count(prior) if prior else 0
        spent = REASONING_TOKENS if thinks else 0
        usage = {
            "input_tokens": token_count(asked),
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": token_count(said) + spent,
            "output_tokens_details": {"reasoning_tokens": spent},
        }
        usage["total_tokens"] = usage["input_tokens"] + usage["output_tokens"]
        now = int(time.time())
        return {
            "id": _id("resp"),
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
            "tool_choice": choice,
            "tools": tools,
            "top_logprobs": body.get("top_logprobs", 0),
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation") or "disabled",
            "usage": usage,
            "user": body.get("user"),
            "metadata": body.get("metadata") or {},
        }

    @staticmethod
    def _tool(tool: Any) -> Any:
        """A tool as the response echoes it: function tools with their defaults filled in."""
        if isinstance(tool, dict) and tool.get("type") == "function":
            return {"description": None, "parameters": None, "strict": True, **tool}
        return tool

    def _keep(
        self, response: dict[str, Any], body: dict[str, Any], items: list[Any], previous: Any
    ) -> None:
        output = response["output"]
        calls = {i["call_id"] for i in [*items, *output] if i["type"] == "function_call"}
        context = " ".join(t for t in (_text(items), _text(output)) if t)
        stored = StoredResponse(response, items, context, calls, previous)
        if body.get("background") and not body.get("stream"):
            stored.pending, stored.response = response, self._started(response, "queued")
        self.stored[response["id"]] = stored

    @staticmethod
    def _started(response: dict[str, Any], status: str) -> dict[str, Any]:
        """The response before any output: what `response.created` and a queued
        background response show."""
        return {
            **response,
            "status": status,
            "completed_at": None,
            "incomplete_details": None,
            "output": [],
            "usage": None,
        }

    # ---- streaming ----------------------------------------------------------------------

    async def _stream(
        self, request: web.Request, fault: Fault | None, response: dict[str, Any]
    ) -> web.StreamResponse:
        frames = self.frames(response, fault)
        events = [
            b"event: " + f["type"].encode() + b"\ndata: " + orjson.dumps(f) + b"\n\n" for f in frames
        ]
        return await self.emulator._stream(request, fault, events, {}, MALFORMED_EVENT)

    def frames(self, response: dict[str, Any], fault: Fault | None = None) -> list[dict[str, Any]]:
        """The typed events of a streamed response, in the documented order. A
        `stream_error` or `stream_failed` fault replaces the last event (or, with `after`,
        every event from that index on) by an `error` or `response.failed` event."""
        frames: list[dict[str, Any]] = []

        def emit(kind: str, **fields: Any) -> None:
            frames.append({"type": kind, **fields})

        failed = response["status"] == "failed"
        start = self._started(response, "in_progress")
        emit("response.created", response=start)
        emit("response.in_progress", response=start)
        whole = self.stored[response["id"]].pending if response["id"] in self.stored else None
        for index, item in enumerate((whole or response)["output"] if not failed else []):
            self._item_frames(emit, index, item)
        if not failed:
            final = "incomplete" if response["status"] == "incomplete" else "completed"
            emit("response." + final, response=response)
        kind = fault.kind if fault is not None else None
        if kind in ("stream_error", "stream_failed"):
            after = len(frames) - 1 if fault is None or fault.after is None else fault.after
            del frames[max(0, min(after, len(frames) - 1)) :]
            if kind == "stream_error":
                message = "The server had an error while processing your request."
                emit("error", code="server_error", message=message, param=None)
            else:
                emit("response.failed", response=response)
        return [{**f, "sequence_number": n} for n, f in enumerate(frames)]

    def _item_frames(self, emit: Any, index: int, item: dict[str, Any]) -> None:
        at = {"output_index": index}
        if item["type"] == "message":
            part = item["content"][0]
            ids = {"item_id": item["id"], **at, "content_index": 0}
            emit("response.output_item.added", **at, item={**item, "status": "in_progress", "content": []})
            emit("response.content_part.added", **ids, part={**part, "text": ""})
            for piece in split(part["text"], self.emulator.chunks):
                emit("response.output_text.delta", **ids, delta=piece, logprobs=[])
            emit("response.output_text.done", **ids, text=part["text"], logprobs=[])
            emit("response.content_part.done", **ids, part=part)
        elif item["type"] == "function_call":
            added = {**item, "status": "in_progress", "arguments": ""}
            emit("response.output_item.added", **at, item=added)
            for piece in split(item["arguments"], 3):
                emit("response.function_call_arguments.delta", item_id=item["id"], **at, delta=piece)
            arguments, name = item["arguments"], item["name"]
            emit(
                "response.function_call_arguments.done",
                item_id=item["id"],
                **at,
                name=name,
                arguments=arguments,
            )
        else:
            emit("response.output_item.added", **at, item=item)
        emit("response.output_item.done", **at, item=item)

    # ---- retrieval ----------------------------------------------------------------------

    async def _find(self, request: web.Request) -> tuple[web.Response | None, StoredResponse]:
        """The stored response a retrieval names, or the answer to send instead."""
        early, _, _ = await self.emulator._admit(request, needs_body=False)
        ident = request.match_info["id"]
        stored = self.stored.get(ident)
        if early is None and stored is None:
            message = f"Response with id '{ident}' not found."
            early = self.emulator._error(404, message)
        return early, stored  # type: ignore[return-value]

    async def _retrieve(self, request: web.Request) -> web.Response:
        early, stored = await self._find(request)
        if early is not None:
            return early
        if stored.pending is not None:  # a background response finishes when first polled
            stored.response, stored.pending = stored.pending, None
        return self.emulator._ok(stored.response)

    async def _delete(self, request: web.Request) -> web.Response:
        early, stored = await self._find(request)
        if early is not None:
            return early
        del self.stored[stored.response["id"]]
        return self.emulator._ok({"id": stored.response["id"], "object": "response", "deleted": True})

    async def _cancel(self, request: web.Request) -> web.Response:
        early, stored = await self._find(request)
        if early is not None:
            return early
        if not stored.response["background"]:
            return self.emulator._error(400, "Cannot cancel a synchronous response.")
        if stored.pending is not None:  # cancelling a finished one returns it unchanged
            stored.response, stored.pending = self._started(stored.pending, "cancelled"), None
        return self.emulator._ok(stored.response)

    async def _input_items(self, request: web.Request) -> web.Response:
        early, stored = await self._find(request)
        if early is not None:
            return early
        query = request.query
        limit = query.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            message = f"Invalid 'limit': expected an integer between 1 and 100, but got {limit}."
            return self.emulator._error(400, message, param="limit")
        items = stored.input_items[::-1] if query.get("order", "desc") == "desc" else stored.input_items
        ids = [i["id"] for i in items]
        start = ids.index(query["after"]) + 1 if query.get("after") in ids else 0
        page = items[start : start + int(limit)]
        return self.emulator._ok(
            {
                "object": "list",
                "data": page,
                "first_id": page[0]["id"] if page else None,
                "last_id": page[-1]["id"] if page else None,
                "has_more": start + len(page) < len(items),
            }
        )
