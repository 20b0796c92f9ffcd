"""OpenAI chat messages: every role, content parts, tool and function calls.

Types from `openai.types.chat.chat_completion_*_message_param` and `*_content_part_*_param`.
The conversation is coherent where the API checks more than the schema does: tool messages
answer the assistant's `tool_calls` by id and function messages follow a `function_call`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from hypothesis import strategies as st

from tests.coverage import media
from tests.coverage.primitives import (
    Draw,
    Rng,
    flags,
    id_tail,
    identifier,
    json_text,
    one_in,
    phrase,
    pick,
    url,
)

Body = dict[str, Any]
Part = Callable[[Draw, Rng], Body]

IMAGE_DETAILS = ("auto", "low", "high", "original")
PART_KINDS = ("text", "image", "audio", "pdf_url", "pdf_base64", "text_file", "file_id")


def _cache_breakpoint(draw: Draw, rng: Rng, part: Body) -> Body:
    if one_in(draw, 5):
        point: Body = {"mode": "explicit"}
        if rng.random() < 0.5:
            point["ttl"] = rng.choice(("30m", "12h"))
        part["prompt_cache_breakpoint"] = point
    return part


def text_part(draw: Draw, rng: Rng) -> Body:
    return _cache_breakpoint(draw, rng, {"type": "text", "text": phrase(rng)})


def user_part(draw: Draw, rng: Rng) -> Body:
    """A user content part: text, image_url (data: or https URL), input_audio, or file."""
    kind = pick(draw, PART_KINDS)
    if kind == "text":
        return text_part(draw, rng)
    if kind == "image":
        link = media.data_url("image/png", media.PNG) if draw(st.booleans()) else url(rng, ".png")
        image: Body = {"url": link}
        if draw(st.booleans()):
            image["detail"] = rng.choice(IMAGE_DETAILS)
        part: Body = {"type": "image_url", "image_url": image}
    elif kind == "audio":
        fmt, data = rng.choice((("wav", media.WAV_B64), ("mp3", media.MP3_B64)))
        part = {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}
    else:
        part = {"type": "file", "file": _file(rng, kind)}
    return _cache_breakpoint(draw, rng, part)


def _file(rng: Rng, kind: str) -> Body:
    if kind == "file_id":
        return {"file_id": "file-" + id_tail(rng, 22)}
    name = identifier(rng)
    if kind == "pdf_url":
        return {
            "file_data": media.data_url("application/pdf", media.PDF),
            "filename": name + ".pdf",
        }
    if kind == "pdf_base64":
        return {"file_data": media.PDF_B64, "filename": name + ".pdf"}
    data = media.data_url("text/plain", phrase(rng).encode())
    return {"file_data": data, "filename": name + ".txt"}


def content(draw: Draw, rng: Rng, part: Part = text_part) -> Any:
    """A string, or one to three parts."""
    if draw(st.booleans()):
        return phrase(rng)
    return [part(draw, rng) for _ in range(draw(st.integers(1, 3)))]


def _message(draw: Draw, rng: Rng, role: str, part: Part = text_part) -> Body:
    message: Body = {"role": role, "content": content(draw, rng, part)}
    if one_in(draw, 3):
        message["name"] = identifier(rng)
    return message


def _tool_call(draw: Draw, rng: Rng, functions: Sequence[str], customs: Sequence[str]) -> Body:
    call_id = "call_" + id_tail(rng, 24)
    if customs and draw(st.booleans()):
        custom = {"name": rng.choice(customs), "input": phrase(rng)}
        return {"id": call_id, "type": "custom", "custom": custom}
    name = rng.choice(functions) if functions else identifier(rng)
    fn = {"name": name, "arguments": json_text(rng)}
    return {"id": call_id, "type": "function", "function": fn}


def _assistant_turn(
    draw: Draw, rng: Rng, functions: Sequence[str], customs: Sequence[str]
) -> list[Body]:
    """One assistant message and, after tool or function calls, the answers to them."""
    kind = pick(draw, ("text", "parts", "tool_calls", "function_call", "audio"))
    message: Body = {"role": "assistant"}
    follow: list[Body] = []
    if kind == "text":
        message["content"] = phrase(rng)
    elif kind == "parts":
        message["content"] = [
            {"type": "refusal", "refusal": phrase(rng)} if refusal else text_part(draw, rng)
            for refusal in flags(draw, draw(st.integers(1, 3)))
        ]
    elif kind == "tool_calls":
        if draw(st.booleans()):
            message["content"] = phrase(rng) if rng.random() < 0.5 else None
        calls = [_tool_call(draw, rng, functions, customs) for _ in range(draw(st.integers(1, 2)))]
        message["tool_calls"] = calls
        for call in calls:
            answer = content(draw, rng)
            follow.append({"role": "tool", "tool_call_id": call["id"], "content": answer})
    elif kind == "function_call":
        name = rng.choice(functions) if functions else identifier(rng)
        message["content"] = None
        message["function_call"] = {"name": name, "arguments": json_text(rng)}
        answer = phrase(rng) if rng.random() < 0.8 else None
        follow.append({"role": "function", "name": name, "content": answer})
    else:
        message["audio"] = {"id": "audio_" + id_tail(rng, 24)}
    named, refusal = flags(draw, 2)
    if named:
        message["name"] = identifier(rng)
    if refusal:
        message["refusal"] = phrase(rng) if rng.random() < 0.8 else None
    return [message, *follow]


def conversation(
    draw: Draw, rng: Rng, functions: Sequence[str], customs: Sequence[str]
) -> list[Body]:
    messages = [
        _message(draw, rng, pick(draw, ("system", "developer")))
        for _ in range(draw(st.integers(0, 2)))
    ]
    for _ in range(draw(st.integers(1, 3))):
        messages.append(_message(draw, rng, "user", user_part))
        if not one_in(draw, 4):
            messages.extend(_assistant_turn(draw, rng, functions, customs))
    return messages
