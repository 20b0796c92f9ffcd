"""The loopback provider is only useful if the real openai SDK takes it for OpenAI (or
OpenRouter, or Gemini's compatible endpoint), so most checks go through the SDK with strict
response validation; the wire details the SDK hides (SSE framing, headers, raw bodies) are
read with a plain HTTP client."""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import orjson
import pytest

from sidecar.emulators import Fault, OpenAIEmulator

KEY = "sk-emulator-test-5e1f"
SECRET = "AKIA-PLANTED-SECRET-0042"
WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def user(text: str) -> list[Any]:
    return [{"role": "user", "content": text}]


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator("openai", KEY) as e:
        yield e


@pytest.fixture
async def router() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator("openrouter", KEY, base_path="/api/v1") as e:
        yield e


@pytest.fixture
async def client(emu: OpenAIEmulator) -> AsyncIterator[openai.AsyncOpenAI]:
    async with sdk(emu) as c:
        yield c


def sdk(
    emu: OpenAIEmulator, key: str = KEY, timeout: float = 5, strict: bool = True
) -> openai.AsyncOpenAI:
    """Strict validation makes the SDK check every response against its schema. It has to
    be off for base64 embeddings: the schema says floats, and the SDK decodes the string
    (what OpenAI really sends) only after validating."""
    return openai.AsyncOpenAI(
        base_url=emu.base_url,
        api_key=key,
        max_retries=0,
        timeout=timeout,
        _strict_response_validation=strict,
    )


async def raw_post(
    emu: OpenAIEmulator, path: str, body: bytes | None, *, method: str = "POST", **headers: str
) -> tuple[int, dict[str, str], bytes]:
    headers = {"Authorization": f"Bearer {KEY}", "Content-Type": "application/json", **headers}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, emu.base_url + path, data=body, headers=headers) as resp,
    ):
        return resp.status, dict(resp.headers), await resp.read()


def sse_events(raw: bytes) -> list[bytes]:
    assert raw.endswith(b"\n\n")
    return raw[:-2].split(b"\n\n")


# ---- chat completions -------------------------------------------------------------------


async def test_non_stream_chat_completion(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    text = "Write a haiku about autumn leaves, please."
    raw = await client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=user(text)
    )
    done = raw.parse()
    assert done.id.startswith("chatcmpl-") and done.object == "chat.completion"
    assert done.model == "gpt-4o" and done.system_fingerprint
    assert abs(done.created - time.time()) < 60
    [choice] = done.choices
    assert choice.finish_reason == "stop" and choice.message.role == "assistant"
    assert choice.message.content == "[served by openai] model=gpt-4o: ok"
    assert choice.message.refusal is None and choice.message.tool_calls is None
    assert done.usage is not None
    assert done.usage.prompt_tokens == len(text) // 4
    assert done.usage.total_tokens == done.usage.prompt_tokens + done.usage.completion_tokens
    assert raw.headers["x-emulator-provider"] == "openai"
    assert raw.headers["content-type"].startswith("application/json")
    assert done._request_id == raw.headers["x-request-id"]
    assert raw.headers["x-request-id"].startswith("req_")
    for header in ("openai-processing-ms", "x-ratelimit-remaining-requests"):
        assert header in raw.headers
    again = await client.chat.completions.create(model="gpt-4o", messages=user(text))
    assert again.usage == done.usage  # deterministic counts


async def test_stream_with_usage_is_assembled_by_the_sdk(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=user("hi"), stream=True, stream_options={"include_usage": True}
    )
    chunks = [c async for c in stream]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "[served by openai] model=gpt-4o: ok"
    assert [c.choices[0].finish_reason for c in chunks[:-1]] == [None] * 4 + ["stop"]
    assert len({c.id for c in chunks}) == 1 and all(c.model == "gpt-4o" for c in chunks)
    assert all(c.usage is None for c in chunks[:-1])
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens > 0

    # The SDK's own stream helper accumulates the same completion.
    async with client.chat.completions.stream(
        model="gpt-4o", messages=user("hi"), stream_options={"include_usage": True}
    ) as helper:
        final = await helper.get_final_completion()
    assert final.choices[0].message.content == text and final.usage == chunks[-1].usage


async def test_sse_framing_on_the_wire(emu: OpenAIEmulator) -> None:
    body = {"model": "m", "messages": user("hi"), "stream": True}
    status, headers, raw = await raw_post(
        emu, "/chat/completions", orjson.dumps({**body, "stream_options": {"include_usage": True}})
    )
    assert status == 200 and headers["Content-Type"] == "text/event-stream"
    events = sse_events(raw)
    assert all(e.startswith(b"data: ") for e in events) and events[-1] == b"data: [DONE]"
    objs = [orjson.loads(e[6:]) for e in events[:-1]]
    assert all(o["object"] == "chat.completion.chunk" for o in objs)
    assert all("usage" in o and o["usage"] is None for o in objs[:-1])  # present, null
    assert objs[-1]["choices"] == [] and set(objs[-1]["usage"]) >= {"prompt_tokens"}
    assert len(objs) == 1 + 3 + 1 + 1  # role, `chunks` content deltas, finish, usage

    _, _, raw = await raw_post(emu, "/chat/completions", orjson.dumps(body))
    objs = [orjson.loads(e[6:]) for e in sse_events(raw)[:-1]]
    assert all("usage" not in o for o in objs) and objs[-1]["choices"][0]["delta"] == {}


async def test_tool_call_when_the_last_user_message_asks_for_weather(
    client: openai.AsyncOpenAI,
) -> None:
    done = await client.chat.completions.create(
        model="gpt-4o", messages=user("What's the weather in Paris?"), tools=[WEATHER_TOOL]
    )
    choice = done.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    [call] = choice.message.tool_calls or []
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert orjson.loads(call.function.arguments) == {"city": "Paris"}

    answered = [
        *user("What's the weather in Paris?"),
        {"role": "assistant", "content": None, "tool_calls": [call.model_dump()]},
        {"role": "tool", "tool_call_id": call.id, "content": "Sunny, 21C"},
    ]
    after = await client.chat.completions.create(
        model="gpt-4o", messages=answered, tools=[WEATHER_TOOL]
    )
    assert after.choices[0].finish_reason == "stop"
    plain = await client.chat.completions.create(model="gpt-4o", messages=user("weather?"))
    assert plain.choices[0].message.tool_calls is None  # no tools offered


async def test_streamed_tool_call_is_assembled_by_the_sdk(client: openai.AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model="gpt-4o", messages=user("weather in Paris?"), tools=[WEATHER_TOOL], stream=True
    )
    deltas = [c.choices[0].delta.tool_calls async for c in stream if c.choices]
    fragments = [d[0] for d in deltas if d]
    first, rest = fragments[0], fragments[1:]
    assert first.index == 0 and first.id and first.id.startswith("call_")
    assert first.type == "function" and first.function is not None
    assert first.function.name == "get_weather" and first.function.arguments == ""
    assert len(rest) > 1 and all(f.id is None and f.function for f in rest)
    assert "".join(f.function.arguments or "" for f in rest if f.function) == '{"city": "Paris"}'

    async with client.chat.completions.stream(
        model="gpt-4o", messages=user("weather in Paris?"), tools=[WEATHER_TOOL]
    ) as helper:
        final = await helper.get_final_completion()
    assert final.choices[0].finish_reason == "tool_calls"
    [call] = final.choices[0].message.tool_calls or []
    assert call.function.name == "get_weather" and call.function.arguments == '{"city": "Paris"}'


# ---- embeddings and models ----------------------------------------------------------------


async def test_embeddings_base64_by_default_and_float_on_request(emu: OpenAIEmulator) -> None:
    client = sdk(emu, strict=False)
    default = await client.embeddings.create(model="text-embedding-3-small", input=["a", "b"])
    assert emu.received[-1].json["encoding_format"] == "base64"  # the SDK's default
    assert [d.index for d in default.data] == [0, 1] and default.model == "text-embedding-3-small"
    assert len(default.data[0].embedding) == 8 and default.data[0] != default.data[1]
    assert default.usage.prompt_tokens == default.usage.total_tokens == 2
    floats = await client.embeddings.create(model="e", input="a", encoding_format="float")
    assert emu.received[-1].json["encoding_format"] == "float"
    assert floats.data[0].embedding == default.data[0].embedding  # exact in float32
    sized = await client.embeddings.create(model="e", input="a", dimensions=3)
    assert len(sized.data[0].embedding) == 3
    await client.close()


async def test_base64_embedding_is_little_endian_float32(emu: OpenAIEmulator) -> None:
    body = {"model": "e", "input": "hello", "encoding_format": "base64"}
    _, _, raw = await raw_post(emu, "/embeddings", orjson.dumps(body))
    encoded = orjson.loads(raw)["data"][0]["embedding"]
    body["encoding_format"] = "float"
    _, _, raw = await raw_post(emu, "/embeddings", orjson.dumps(body))
    floats = orjson.loads(raw)["data"][0]["embedding"]
    assert list(struct.unpack("<8f", base64.b64decode(encoded))) == floats


async def test_models_list(client: openai.AsyncOpenAI) -> None:
    page = await client.models.list()
    assert page.object == "list"
    assert [m.id for m in page.data] == ["gpt-4o", "gpt-4o-mini", "text-embedding-3-small"]
    assert all(m.object == "model" and m.owned_by for m in page.data)


async def test_sync_client_from_a_worker_thread(emu: OpenAIEmulator) -> None:
    """The emulator serves from this event loop; the blocking client runs in a thread."""

    def call() -> tuple[str | None, str, int]:
        with openai.OpenAI(base_url=emu.base_url, api_key=KEY, max_retries=0, timeout=5) as c:
            done = c.chat.completions.create(model="gpt-4o", messages=user("hi"))
            stream = c.chat.completions.create(model="gpt-4o", messages=user("hi"), stream=True)
            text = "".join(ch.choices[0].delta.content or "" for ch in stream if ch.choices)
            emb = c.embeddings.create(model="e", input="hi")
            return done.choices[0].message.content, text, len(emb.data[0].embedding)

    content, streamed, dims = await asyncio.to_thread(call)
    assert content == streamed == "[served by openai] model=gpt-4o: ok" and dims == 8


# ---- errors and faults --------------------------------------------------------------------


async def test_wrong_or_missing_key_is_401(emu: OpenAIEmulator) -> None:
    async with sdk(emu, key="sk-wrong-key-123456") as c:
        with pytest.raises(openai.AuthenticationError) as caught:
            await c.chat.completions.create(model="gpt-4o", messages=user("x"))
    err = caught.value
    assert err.status_code == 401 and err.code == "invalid_api_key"
    assert err.type == "invalid_request_error" and err.param is None
    assert "sk-wrong-key-123456" not in err.message  # OpenAI masks the key it was given
    assert emu.received[0].json["model"] == "gpt-4o"  # refused, but still recorded

    status, _, raw = await raw_post(emu, "/models", None, method="GET", Authorization="")
    error = orjson.loads(raw)["error"]
    assert (
        status == 401
        and error["code"] is None
        and "didn't provide an API key" in (error["message"])
    )


async def test_malformed_json_and_missing_fields_are_400(emu: OpenAIEmulator) -> None:
    status, headers, raw = await raw_post(emu, "/chat/completions", b"{not json")
    assert status == 400 and headers["Content-Type"].startswith("application/json")
    assert set(orjson.loads(raw)["error"]) == {"message", "type", "param", "code"}
    assert emu.received[-1].body == b"{not json" and emu.received[-1].json is None
    status, _, raw = await raw_post(emu, "/chat/completions", orjson.dumps({"model": "m"}))
    assert status == 400 and orjson.loads(raw)["error"]["param"] == "messages"
    status, _, raw = await raw_post(emu, "/nope", b"{}")
    assert status == 404 and "Invalid URL (POST" in orjson.loads(raw)["error"]["message"]


@pytest.mark.parametrize(
    ("status", "error", "type_", "code"),
    [
        (400, openai.BadRequestError, "invalid_request_error", None),
        (404, openai.NotFoundError, "invalid_request_error", "model_not_found"),
        (429, openai.RateLimitError, "requests", "rate_limit_exceeded"),
        (500, openai.InternalServerError, "server_error", None),
        (503, openai.InternalServerError, "service_unavailable_error", "server_is_overloaded"),
    ],
)
async def test_status_faults_surface_as_sdk_errors(
    emu: OpenAIEmulator,
    client: openai.AsyncOpenAI,
    status: int,
    error: type[openai.APIStatusError],
    type_: str,
    code: str | None,
) -> None:
    emu.faults.append(Fault(kind="status", status=status))
    with pytest.raises(error) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=user("x"))
    assert caught.value.status_code == status
    assert caught.value.type == type_ and caught.value.code == code
    headers = caught.value.response.headers
    assert headers["x-request-id"].startswith("req_")
    assert headers.get("retry-after") == ("1" if status == 429 else None)
    assert not emu.faults
    await client.chat.completions.create(model="gpt-4o", messages=user("x"))  # consumed


async def test_reset_is_a_connection_error_not_a_status(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.faults.append(Fault(kind="reset"))
    with pytest.raises(openai.APIConnectionError) as caught:
        await client.chat.completions.create(model="gpt-4o", messages=user("x"))
    assert not isinstance(caught.value, openai.APIStatusError)
    assert len(emu.received) == 1  # it arrived; the answer never left


async def test_faults_are_consumed_in_order_and_times(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.faults.extend([Fault(kind="status", status=429, times=2), Fault(kind="reset")])
    for expected in (openai.RateLimitError, openai.RateLimitError, openai.APIConnectionError):
        with pytest.raises(expected):
            await client.chat.completions.create(model="gpt-4o", messages=user("x"))
    assert not emu.faults
    await client.embeddings.create(model="e", input="fine again", encoding_format="float")


async def test_fail_always_takes_the_provider_down(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.fail_always = Fault(kind="status", status=503)
    for call in (
        client.chat.completions.create(model="gpt-4o", messages=user("x")),
        client.embeddings.create(model="e", input="x", encoding_format="float"),
        client.models.list(),
    ):
        with pytest.raises(openai.InternalServerError):
            await call
    emu.fail_always = None
    await client.models.list()


async def test_delay_outlasts_a_client_timeout(emu: OpenAIEmulator) -> None:
    emu.faults.append(Fault(kind="delay", seconds=1.0))
    async with sdk(emu, timeout=0.2) as c:
        with pytest.raises(openai.APITimeoutError):
            await c.chat.completions.create(model="gpt-4o", messages=user("x"))


async def test_stall_stream_sends_the_first_chunk_then_waits(emu: OpenAIEmulator) -> None:
    emu.faults.append(Fault(kind="stall_stream", seconds=0.3))
    body = orjson.dumps({"model": "m", "messages": user("x"), "stream": True})
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.base_url + "/chat/completions", data=body, headers=headers) as resp,
    ):
        start = time.monotonic()
        first = await resp.content.readuntil(b"\n\n")
        first_at = time.monotonic() - start
        second = await resp.content.readuntil(b"\n\n")
        second_at = time.monotonic() - start
        rest = await resp.read()
    assert orjson.loads(first[6:])["choices"][0]["delta"]["role"] == "assistant"
    assert first_at < 0.2 <= 0.25 <= second_at
    assert b'"content"' in second and rest.endswith(b"data: [DONE]\n\n")


async def test_cut_stream_ends_without_done(
    emu: OpenAIEmulator, client: openai.AsyncOpenAI
) -> None:
    emu.faults.append(Fault(kind="cut_stream"))
    stream = await client.chat.completions.create(model="gpt-4o", messages=user("x"), stream=True)
    seen = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            seen.append(chunk)
    assert 0 < len(seen) < 5

    emu.faults.append(Fault(kind="cut_stream", after=3))
    body = orjson.dumps({"model": "m", "messages": user("x"), "stream": True})
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.base_url + "/chat/completions", data=body, headers=headers) as resp,
    ):
        with pytest.raises(aiohttp.ClientPayloadError):
            await resp.read()


# ---- recording and provider flavours ------------------------------------------------------


async def test_every_request_is_recorded(emu: OpenAIEmulator, client: openai.AsyncOpenAI) -> None:
    await client.chat.completions.create(
        model="gpt-4o",
        messages=user(f"my key is {SECRET}"),
        extra_query={"trace": "1"},
        extra_headers={"X-Custom-Header": "yes"},
    )
    await client.models.list()
    first, second = emu.received
    assert (first.method, first.path, first.query) == (
        "POST",
        "/v1/chat/completions",
        {"trace": "1"},
    )
    assert type(first.headers) is dict and first.headers["x-custom-header"] == "yes"
    assert first.headers["Authorization"] == f"Bearer {KEY}"  # names as sent on the wire
    assert first.json["messages"][0]["content"].endswith(SECRET) and SECRET.encode() in first.body
    assert (second.method, second.path, second.body, second.json) == (
        "GET",
        "/v1/models",
        b"",
        None,
    )
    assert first.time <= second.time
    assert SECRET in emu.received_bodies_text()


async def test_openrouter_names_the_provider_that_served(router: OpenAIEmulator) -> None:
    assert router.base_url.endswith("/api/v1")
    preferences = {"order": ["Together", "OpenAI"], "data_collection": "deny", "zdr": True}
    async with sdk(router) as c:
        raw = await c.chat.completions.with_raw_response.create(
            model="openai/gpt-4o", messages=user("hi"), extra_body={"provider": preferences}
        )
        done = raw.parse()
        stream = await c.chat.completions.create(
            model="openai/gpt-4o",
            messages=user("hi"),
            stream=True,
            extra_body={"provider": {"only": ["Azure"], "allow_fallbacks": False}},
        )
        chunks = [ch async for ch in stream]
    assert done.id.startswith("gen-") and raw.headers["x-generation-id"] == done.id
    assert (done.model_extra or {})["provider"] == "Together"
    assert "[served by openrouter] model=openai/gpt-4o" in (done.choices[0].message.content or "")
    assert router.received[0].json["provider"] == preferences
    assert {(ch.model_extra or {}).get("provider") for ch in chunks} == {"Azure"}
    assert router.received[1].json["provider"]["allow_fallbacks"] is False

    body = orjson.dumps({"model": "m", "messages": user("x"), "stream": True})
    headers = {"Authorization": f"Bearer {KEY}"}
    async with (
        aiohttp.ClientSession() as session,
        session.post(router.base_url + "/chat/completions", data=body, headers=headers) as resp,
    ):
        raw_stream = await resp.read()
    assert raw_stream.startswith(b": OPENROUTER PROCESSING\n\n")
    async with OpenAIEmulator("openai", KEY) as direct:
        _, _, plain_raw = await raw_post(
            direct, "/chat/completions", body.replace(b"true", b"false")
        )
    plain = orjson.loads(plain_raw)
    assert "provider" not in plain and plain["id"].startswith("chatcmpl-")


async def test_gemini_compatible_base_path() -> None:
    async with OpenAIEmulator("google", "gm-key", base_path="/v1beta/openai") as gemini:
        assert gemini.base_url.endswith("/v1beta/openai")
        async with openai.AsyncOpenAI(
            base_url=gemini.base_url, api_key="gm-key", max_retries=0
        ) as c:
            done = await c.chat.completions.create(model="gemini-2.5-flash", messages=user("hi"))
        assert done.choices[0].message.content == ("[served by google] model=gemini-2.5-flash: ok")
        assert gemini.received[0].path == "/v1beta/openai/chat/completions"
