"""What the Responses emulator tests share: the expected reply and event orders, and a
plain HTTP client for the wire details the SDK hides."""

from __future__ import annotations

from typing import Any

import aiohttp
import orjson

from sidecar.emulators import OpenAIEmulator

KEY = "sk-emulator-test-5e1f"
REPLY = "[served by openai] model=gpt-4o: ok"
WEATHER: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
TEXT_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    "response.content_part.added",
    *["response.output_text.delta"] * 3,  # the emulator's `chunks`
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "response.completed",
]
CALL_EVENTS = [
    "response.created",
    "response.in_progress",
    "response.output_item.added",
    *["response.function_call_arguments.delta"] * 3,
    "response.function_call_arguments.done",
    "response.output_item.done",
    "response.completed",
]


async def call(
    emu: OpenAIEmulator, path: str, body: Any = None, method: str = "POST"
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"}
    data = None if body is None else orjson.dumps(body)
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.base_url + path, data=data, headers=headers) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


def events(raw: bytes) -> list[dict[str, Any]]:
    """The stream's events; each `event:` line must name the type its data carries."""
    assert raw.endswith(b"\n\n") and b"[DONE]" not in raw
    out = []
    for block in raw[:-2].split(b"\n\n"):
        if block.startswith(b":"):
            continue  # an SSE comment (OpenRouter's keep-alive)
        head, data = block.split(b"\n")
        assert head.startswith(b"event: ") and data.startswith(b"data: ")
        event = orjson.loads(data[6:])
        assert event["type"] == head[7:].decode()
        out.append(event)
    return out


def error_of(raw: bytes) -> dict[str, Any]:
    error: dict[str, Any] = orjson.loads(raw)["error"]
    return error
