"""The OpenAI Responses API of the loopback OpenAI emulator (`POST /v1/responses` and the
retrieval endpoints), so the sidecar's native Responses routes meet the documented wire
format rather than a guess at it.

Faithful where the sidecar depends on it: the `response` object with `message`,
`function_call` and `reasoning` output items and usage with cached and reasoning tokens;
the typed SSE events (`event: <type>` lines, `sequence_number` from 0) ending in
`response.completed`, `response.incomplete`, `response.failed` or `error`; and the state the
provider keeps: with `store` (default true) a response and its input items stay for
retrieval and for continuations by `previous_response_id`, without it nothing does.
Errors are OpenAI's, with its statuses: 400 for unknown parameters, an unknown
`previous_response_id` or a tool output without its call; 404 for an unknown response id;
400 for cancelling a response that was not created in the background.

A function tool is called (`{"city": "Paris"}`) unless the turn brings a tool's output;
otherwise the reply is the chat emulator's (`[served by <name>] model=<model>: ok`), so a
test sees the same text whether the sidecar served a request natively or translated it.
The usual faults apply (see `Fault`), plus `stream_error` and `stream_failed`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sidecar.emulators import responses_payloads as payloads
from sidecar.emulators.responses_payloads import text_of

if TYPE_CHECKING:
    from sidecar.emulators.openai import OpenAIEmulator, ReceivedRequest


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
    """One emulator's Responses API and its store. `enabled=False` plays a server with
    only Chat Completions (Gemini's compatible endpoint, most self-hosted servers): no
    route is registered, so `/responses` gets the emulator's unknown-path 404."""

    def __init__(self, emulator: OpenAIEmulator, *, enabled: bool = True) -> None:
        self.emulator = emulator
        self.enabled = enabled
        self.stored: dict[str, StoredResponse] = {}
        """Stored responses by id: what a retrieval or a continuation can find."""

    def register(self, router: web.UrlDispatcher, base: str) -> None:
        if not self.enabled:
            return
        router.add_post(base + "/responses", self._create)
        router.add_get(base + "/responses/{id}", self._retrieve)
        router.add_delete(base + "/responses/{id}", self._delete)
        router.add_get(base + "/responses/{id}/input_items", self._input_items)
        router.add_post(base + "/responses/{id}/cancel", self._cancel)

    @property
    def received(self) -> list[ReceivedRequest]:
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
        refused = payloads.refusal(body, lenient=emu.openrouter)
        if refused is not None:
            message, param, code = refused
            return emu._error(400, message, param=param, code=code)
        previous = body.get("previous_response_id")
        if previous is not None and previous not in self.stored:
            message = f"Previous response with id '{previous}' not found."
            param, code = "previous_response_id", "previous_response_not_found"
            return emu._error(400, message, param=param, code=code)
        items = payloads.as_items(body.get("input") or [])
        turns = self.chain(previous)
        known = {c for t in turns for c in t.calls}
        known |= {i["call_id"] for i in items if i["type"] == "function_call"}
        for item in items:
            if item["type"] == "function_call_output" and item["call_id"] not in known:
                call_id = item["call_id"]
                message = f"No tool call found for function call output with call_id {call_id}."
                return emu._error(400, message, param="input")
        prior = " ".join(t.context for t in turns)
        response = payloads.build(body, items, prior, emu.name)
        kind = fault.kind if fault is not None else None
        final = payloads.failed(response) if kind == "stream_failed" else response
        if final["store"]:
            self._keep(final, items, previous, queued=bool(body.get("background")))
        if body.get("stream"):
            events = payloads.sse(payloads.frames(response, emu.chunks, fault))
            return await emu._stream(request, fault, events, {}, payloads.MALFORMED_EVENT)
        if kind == "malformed":
            return emu._respond(200, payloads.MALFORMED_JSON)
        if kind == "stream_error":
            return emu._error(500)
        stored = self.stored.get(final["id"])
        return emu._ok(stored.response if stored is not None else final)

    def _keep(
        self, response: dict[str, Any], items: list[Any], previous: str | None, *, queued: bool
    ) -> None:
        output = response["output"]
        calls = {i["call_id"] for i in [*items, *output] if i["type"] == "function_call"}
        context = " ".join(t for t in (text_of(items), text_of(output)) if t)
        stored = StoredResponse(response, items, context, calls, previous)
        if queued:  # background: queued now, done when first polled
            stored.pending, stored.response = response, payloads.started(response, "queued")
        self.stored[response["id"]] = stored

    # ---- retrieval ----------------------------------------------------------------------

    async def _find(self, request: web.Request) -> StoredResponse | web.Response:
        """The stored response a retrieval names, or the answer to send instead."""
        early, _, _ = await self.emulator._admit(request, needs_body=False)
        ident = request.match_info["id"]
        if early is not None:
            return early
        if ident not in self.stored:
            return self.emulator._error(404, f"Response with id '{ident}' not found.")
        return self.stored[ident]

    async def _retrieve(self, request: web.Request) -> web.Response:
        stored = await self._find(request)
        if isinstance(stored, web.Response):
            return stored
        if stored.pending is not None:
            stored.response, stored.pending = stored.pending, None
        return self.emulator._ok(stored.response)

    async def _delete(self, request: web.Request) -> web.Response:
        stored = await self._find(request)
        if isinstance(stored, web.Response):
            return stored
        ident = stored.response["id"]
        del self.stored[ident]
        return self.emulator._ok({"id": ident, "object": "response", "deleted": True})

    async def _cancel(self, request: web.Request) -> web.Response:
        stored = await self._find(request)
        if isinstance(stored, web.Response):
            return stored
        if not stored.response["background"]:
            return self.emulator._error(400, "Cannot cancel a synchronous response.")
        if stored.pending is not None:  # a finished one is returned unchanged
            stored.response = payloads.started(stored.pending, "cancelled")
            stored.pending = None
        return self.emulator._ok(stored.response)

    async def _input_items(self, request: web.Request) -> web.Response:
        stored = await self._find(request)
        if isinstance(stored, web.Response):
            return stored
        query = request.query
        limit = query.get("limit", "20")
        if not limit.isdigit() or not 1 <= int(limit) <= 100:
            message = f"Invalid 'limit': integer must be between 1 and 100, got {limit}."
            return self.emulator._error(400, message, param="limit")
        items = stored.input_items
        if query.get("order", "desc") == "desc":
            items = items[::-1]
        ids = [i["id"] for i in items]
        start = ids.index(query["after"]) + 1 if query.get("after") in ids else 0
        page = items[start : start + int(limit)]
        listing = {
            "object": "list",
            "data": page,
            "first_id": page[0]["id"] if page else None,
            "last_id": page[-1]["id"] if page else None,
            "has_more": start + len(page) < len(items),
        }
        return self.emulator._ok(listing)
