"""The Responses API side of a translated route: the Response object and its event stream.

Both translated routes (a Chat Completions upstream, an Anthropic one) describe what the
upstream produced in the same few calls -- text, a refusal, reasoning text, a function call
and its arguments, the end -- and `ResponseBuilder` turns them into the output items of a
Response and, for a stream, into the typed events in the documented order, each with the
next `sequence_number`. A whole response is built by the very same calls with the events
switched off, so a streamed answer and a whole one come out as the same items.

One output item is open at a time, as OpenAI streams them: starting another closes it (its
`.done` events), so each item's events run from `output_item.added` to `output_item.done`
before the next item's begin.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from sidecar.providers.base import sse_event

TEXT_PARTS: dict[str, tuple[str, str]] = {
    "output_text": ("response.output_text", "text"),
    "refusal": ("response.refusal", "refusal"),
    "reasoning_text": ("response.reasoning_text", "text"),
}
"""Content part type -> (its events' name prefix, the field that carries its text)."""

ITEM_IDS = {"message": "msg_", "reasoning": "rs_", "function_call": "fc_"}
ENCRYPTED_REASONING = "reasoning.encrypted_content"


def new_id(prefix: str) -> str:
    return prefix + secrets.token_hex(24)


def text_part(kind: str, text: str) -> dict[str, Any]:
    out: dict[str, Any] = {"type": kind, TEXT_PARTS[kind][1]: text}
    if kind == "output_text":
        out["annotations"] = []
        out["logprobs"] = []
    return out


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def _detail(usage: dict[str, Any], details: str, name: str) -> int:
    inner = usage.get(details)
    return _count(inner.get(name)) if isinstance(inner, dict) else 0


def responses_usage(usage: Any) -> dict[str, Any] | None:
    """Chat Completions usage (as a Chat upstream reports it, or as openai_anthropic.py
    renders Anthropic's) in the Responses API's terms; None when there is none."""
    if not isinstance(usage, dict) or not usage:
        return None
    prompt = _count(usage.get("prompt_tokens"))
    completion = _count(usage.get("completion_tokens"))
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": _detail(usage, "prompt_tokens_details", "cached_tokens"),
            "cache_write_tokens": _detail(usage, "prompt_tokens_details", "cache_creation_tokens"),
        },
        "output_tokens": completion,
        "output_tokens_details": {
            "reasoning_tokens": _detail(usage, "completion_tokens_details", "reasoning_tokens")
        },
        "total_tokens": _count(usage.get("total_tokens")) or prompt + completion,
    }


def _object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def echo(body: dict[str, Any]) -> dict[str, Any]:
    """The request's settings as a Response reports them back. `metadata` lives only here:
    it labels the Response object, and a translated route sends it to no upstream. `store`
    is false, truthfully: a translated route keeps nothing."""
    text = _object(body.get("text"))
    reasoning = _object(body.get("reasoning"))
    parallel = body.get("parallel_tool_calls")
    shown_text: dict[str, Any] = {"format": text.get("format") or {"type": "text"}}
    if text.get("verbosity") is not None:
        shown_text["verbosity"] = text["verbosity"]
    return {
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "max_tool_calls": None,
        "metadata": body.get("metadata") or {},
        "parallel_tool_calls": parallel if isinstance(parallel, bool) else True,
        "reasoning": {"effort": reasoning.get("effort"), "summary": None},
        "safety_identifier": body.get("safety_identifier"),
        "store": False,
        "temperature": body.get("temperature"),
        "text": shown_text,
        "tool_choice": body.get("tool_choice") or "auto",
        "tools": body.get("tools") or [],
        "top_p": body.get("top_p"),
        "truncation": body.get("truncation") or "disabled",
        "user": body.get("user"),
    }


@dataclass(slots=True)
class _Item:
    kind: str
    """message, reasoning or function_call."""
    index: int
    id: str
    key: Any = None
    """The upstream's own handle of a function call (a chat tool-call index, a block index)."""
    call_id: str = ""
    name: str = ""
    parts: list[tuple[str, list[str]]] = field(default_factory=list)
    arguments: list[str] = field(default_factory=list)
    encrypted: str | None = None

    def shape(self, status: str) -> dict[str, Any]:
        """The item as `output` holds it; in progress it has no content yet."""
        done = status != "in_progress"
        if self.kind == "function_call":
            return {
                "id": self.id,
                "type": "function_call",
                "status": status,
                "call_id": self.call_id,
                "name": self.name,
                "arguments": "".join(self.arguments) if done else "",
            }
        content = [text_part(kind, "".join(texts)) for kind, texts in self.parts] if done else []
        if self.kind == "reasoning":
            return {
                "id": self.id,
                "type": "reasoning",
                "status": status,
                "summary": [],
                "content": content,
                "encrypted_content": self.encrypted,
            }
        return {
            "id": self.id,
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def where(self) -> dict[str, Any]:
        return {
            "item_id": self.id,
            "output_index": self.index,
            "content_index": len(self.parts) - 1,
        }


class ResponseBuilder:
    """One Response, built from what the upstream produced. With `events`, every call also
    returns the stream events it makes (bytes); without, it returns b"" and only `final`
    (after `finish`) matters."""

    def __init__(self, body: dict[str, Any], model: str, *, events: bool) -> None:
        self.id = new_id("resp_")
        self.created_at = int(time.time())
        self.model = model
        self.output: list[dict[str, Any]] = []
        self.final: dict[str, Any] = {}
        self._echo = echo(body)
        self._encrypted = ENCRYPTED_REASONING in (body.get("include") or [])
        self._events = events
        self._sequence = 0
        self._started = False
        self._open: _Item | None = None

    def response(
        self, status: str, usage: dict[str, Any] | None = None, reason: str | None = None
    ) -> dict[str, Any]:
        return {
            "id": self.id,
            "object": "response",
            "created_at": self.created_at,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": {"reason": reason} if reason else None,
            **self._echo,
            "model": self.model,
            "output": list(self.output),
            "previous_response_id": None,
            "usage": usage,
            "completed_at": None if status == "in_progress" else int(time.time()),
        }

    def _emit(self, kind: str, fields: dict[str, Any]) -> bytes:
        if not self._events:
            return b""
        data = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return sse_event(kind, orjson.dumps(data))

    def start(self) -> bytes:
        """`response.created` and `response.in_progress`, once."""
        if self._started:
            return b""
        self._started = True
        if not self._events:
            return b""
        snapshot = {"response": self.response("in_progress")}
        return self._emit("response.created", snapshot) + self._emit(
            "response.in_progress", snapshot
        )

    def _add(self, kind: str, **attrs: Any) -> tuple[bytes, _Item]:
        """Closes the open item and opens one of `kind`, the next in `output`."""
        out = self.start() + self.close()
        item = _Item(kind, len(self.output), new_id(ITEM_IDS[kind]), **attrs)
        self._open = item
        added = {"output_index": item.index, "item": item.shape("in_progress")}
        return out + self._emit("response.output_item.added", added), item

    def text(self, delta: str, kind: str = "output_text") -> bytes:
        """More text of a part (`output_text`, `refusal` or `reasoning_text`); an empty
        delta only opens the part, as an upstream's empty first block does."""
        item_kind = "reasoning" if kind == "reasoning_text" else "message"
        out = b""
        item = self._open
        if item is None or item.kind != item_kind:
            out, item = self._add(item_kind)
        if not item.parts or item.parts[-1][0] != kind:
            out += self._close_part(item)
            item.parts.append((kind, []))
            out += self._emit(
                "response.content_part.added", {**item.where(), "part": text_part(kind, "")}
            )
        if delta:
            item.parts[-1][1].append(delta)
            fields = {**item.where(), "delta": delta}
            if kind == "output_text":
                fields["logprobs"] = []
            out += self._emit(TEXT_PARTS[kind][0] + ".delta", fields)
        return out

    def signature(self, signature: str) -> None:
        """The upstream's opaque proof of the open reasoning (Anthropic's thinking
        signature): it becomes `encrypted_content` when the request asked to include it."""
        if self._open is not None and self._open.kind == "reasoning" and self._encrypted:
            self._open.encrypted = (self._open.encrypted or "") + signature

    def function_call(self, call_id: str, name: str, key: Any) -> bytes:
        return self._add("function_call", key=key, call_id=call_id, name=name)[0]

    def arguments(self, delta: str, key: Any) -> bytes:
        """More arguments of the open function call. Arguments for any other call (an
        upstream interleaving its calls) cannot be streamed in order: ValueError."""
        item = self._open
        if item is None or item.kind != "function_call" or item.key != key:
            raise ValueError("arguments for a function call that is not the open one")
        return self._arguments(item, delta) if delta else b""

    def _arguments(self, item: _Item, delta: str) -> bytes:
        item.arguments.append(delta)
        return self._emit(
            "response.function_call_arguments.delta",
            {"item_id": item.id, "output_index": item.index, "delta": delta},
        )

    def _close_part(self, item: _Item) -> bytes:
        if not item.parts:
            return b""
        kind, texts = item.parts[-1]
        text = "".join(texts)
        fields = {**item.where(), TEXT_PARTS[kind][1]: text}
        if kind == "output_text":
            fields["logprobs"] = []
        return self._emit(TEXT_PARTS[kind][0] + ".done", fields) + self._emit(
            "response.content_part.done", {**item.where(), "part": text_part(kind, text)}
        )

    def close(self, status: str = "completed") -> bytes:
        """Ends the open item, if any: its `.done` events, and it joins `output`."""
        item, self._open = self._open, None
        if item is None:
            return b""
        out = b""
        if item.kind == "function_call":
            if not item.arguments:  # a call without parameters: arguments are still JSON
                out += self._arguments(item, "{}")
            out += self._emit(
                "response.function_call_arguments.done",
                {
                    "item_id": item.id,
                    "output_index": item.index,
                    "arguments": "".join(item.arguments),
                },
            )
        else:
            out += self._close_part(item)
        done = item.shape(status)
        self.output.append(done)
        return out + self._emit(
            "response.output_item.done", {"output_index": item.index, "item": done}
        )

    def finish(self, reason: str | None, usage: dict[str, Any] | None) -> bytes:
        """The end: `response.completed`, or `response.incomplete` with `reason`
        (max_output_tokens, content_filter). An answer with no output at all still has
        its (empty) message, as OpenAI's has. The item a stop cut short is incomplete."""
        out = self.start()
        if not self.output and self._open is None:
            out += self.text("")
        status = "incomplete" if reason else "completed"
        out += self.close(status)
        self.final = self.response(status, usage, reason)
        return out + self._emit("response." + status, {"response": self.final})

    def error(self, message: str, code: Any) -> bytes:
        """The documented `error` event for an upstream's error. The relay holds it back and
        relays it cleaned, in this shape, with the `error` object the openai SDK raises on
        (sidecar/scrub.py); the upstream's text never passes uncleaned."""
        shown = None if code is None else str(code)  # the event's code is a string
        return self._emit("error", {"code": shown, "message": message, "param": None})
