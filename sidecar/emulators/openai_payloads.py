"""Response payloads of the OpenAI emulator: chat completion chunks, embeddings vectors and
the legacy text completions endpoint (`POST /v1/completions`: a `text_completion` object,
or its SSE stream ending in `data: [DONE]`)."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import orjson


def completion_payloads(
    body: dict[str, Any], provider: str, pieces: int, tokens: int
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(the whole response, the stream's chunks) for one request."""
    model = str(body["model"])
    answer = f"[served by {provider}] model={model}: ok"
    now = int(time.time())
    head = {"id": "cmpl-" + uuid.uuid4().hex[:24], "object": "text_completion", "created": now}
    completion = max(1, len(answer) // 4)
    usage = {
        "prompt_tokens": tokens,
        "completion_tokens": completion,
        "total_tokens": tokens + completion,
    }
    choice = {"text": answer, "index": 0, "logprobs": None, "finish_reason": "stop"}
    whole = {**head, "model": model, "choices": [choice], "usage": usage}
    size = max(1, -(-len(answer) // max(1, pieces)))
    starts = range(0, len(answer), size)
    chunks: list[dict[str, Any]] = [
        {
            **head,
            "model": model,
            "choices": [
                {
                    "text": answer[i : i + size],
                    "index": 0,
                    "logprobs": None,
                    "finish_reason": "stop" if i == starts[-1] else None,
                }
            ],
        }
        for i in starts
    ]
    if (body.get("stream_options") or {}).get("include_usage"):
        chunks.append({**head, "model": model, "choices": [], "usage": usage})
    return whole, chunks


def moderation(body: dict[str, Any]) -> dict[str, Any]:
    """`POST /moderations`: one unflagged result per input."""
    inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
    categories = ("harassment", "hate", "self-harm", "sexual", "violence")
    result = {
        "flagged": False,
        "categories": dict.fromkeys(categories, False),
        "category_scores": dict.fromkeys(categories, 0.0001),
    }
    model = str(body.get("model") or "omni-moderation-latest")
    return {
        "id": "modr-" + uuid.uuid4().hex[:20],
        "model": model,
        "results": [result] * len(inputs),
    }


def prompt_text(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return " ".join(p if isinstance(p, str) else str(p) for p in prompt)
    return ""


def chat_chunks(
    head: dict[str, Any], pieces: list[str], tool_call: dict[str, Any] | None, usage: Any
) -> list[bytes]:
    """The SSE events of a streamed completion. With usage (`include_usage`), every chunk
    carries `"usage": null` and a last chunk with no choices carries the usage."""
    head = {**head, "object": "chat.completion.chunk", "system_fingerprint": "fp_emu"}

    def event(obj: dict[str, Any]) -> bytes:
        return b"data: " + orjson.dumps(obj) + b"\n\n"

    def chunk(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return event({**head, "choices": [choice], **({"usage": None} if usage else {})})

    events = [chunk({"role": "assistant", "content": ""})]
    if tool_call:  # as OpenAI: id, type and name first, then the arguments in fragments
        name, arguments = tool_call["function"]["name"], tool_call["function"]["arguments"]
        first = {"index": 0, "id": tool_call["id"], "type": "function"}
        first["function"] = {"name": name, "arguments": ""}
        events.append(chunk({"tool_calls": [first]}))
        events += [
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": part}}]})
            for part in split(arguments, 3)
        ]
        events.append(chunk({}, "tool_calls"))
    else:
        events += [chunk({"content": piece}) for piece in pieces]
        events.append(chunk({}, "stop"))
    if usage:
        events.append(event({**head, "choices": [], "usage": usage}))
    return [*events, b"data: [DONE]\n\n"]


def text_of(messages: list[Any]) -> str:
    parts: list[str] = []
    for msg in messages:
        content = msg.get("content") if isinstance(msg, dict) else None
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return " ".join(parts)


def token_count(text: str) -> int:
    return max(1, len(text) // 4)


def served_by(preferences: Any) -> str:
    """The provider OpenRouter would pick: the first of `only` (else `order`) not ignored."""
    prefs = preferences if isinstance(preferences, dict) else {}
    ignored = set(prefs.get("ignore") or [])
    candidates = prefs.get("only") or [*(prefs.get("order") or []), "OpenAI"]
    return str(next((c for c in candidates if c not in ignored), "OpenAI"))


def split(text: str, parts: int) -> list[str]:
    size = max(1, -(-len(text) // max(1, parts)))
    return [text[i : i + size] for i in range(0, len(text), size)]


def vector(seed: bytes, dims: int) -> list[float]:
    """Deterministic, and exact in float32 (multiples of 1/128), so base64 round-trips."""
    return [(b - 128) / 128 for b in hashlib.shake_256(seed).digest(dims)]
