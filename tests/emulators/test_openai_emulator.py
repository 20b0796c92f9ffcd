"""The loopback provider is only useful if the real openai SDK accepts it as OpenAI."""

from __future__ import annotations

from collections.abc import AsyncIterator

import openai
import pytest

from sidecar.emulators.openai import Fault, OpenAIEmulator

KEY = "sk-emulator-test"


@pytest.fixture
async def emu() -> AsyncIterator[OpenAIEmulator]:
    async with OpenAIEmulator("openai", KEY) as e:
        yield e


def client(emu: OpenAIEmulator, key: str = KEY) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=emu.base_url, api_key=key, max_retries=0)


async def test_chat_stream_tools_embeddings_models(emu: OpenAIEmulator) -> None:
    c = client(emu)
    done = await c.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hi"}]
    )
    assert done.choices[0].finish_reason == "stop" and done.usage and done.usage.total_tokens > 0
    stream = await c.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [ch async for ch in stream]
    assert "".join(ch.choices[0].delta.content or "" for ch in chunks if ch.choices) == (
        done.choices[0].message.content
    )
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    tools = [
        {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
    ]
    async with c.beta.chat.completions.stream(
        model="gpt-4o",
        messages=[{"role": "user", "content": "weather in Paris?"}],
        tools=tools,
    ) as s:
        final = await s.get_final_completion()
    call = final.choices[0].message.tool_calls[0]  # type: ignore[index]
    assert call.function.name == "get_weather" and call.function.arguments == '{"city": "Paris"}'
    emb = await c.embeddings.create(model="e", input=["a", "b"])  # SDK asks for base64
    assert len(emb.data) == 2 and len(emb.data[0].embedding) == 8
    floats = await c.embeddings.create(model="e", input="a", encoding_format="float")
    assert floats.data[0].embedding == pytest.approx(emb.data[0].embedding, abs=1e-6)
    assert [m.id async for m in c.models.list()] == ["gpt-4o"]
    await c.close()


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault(kind="status", status=429), openai.RateLimitError),
        (Fault(kind="status", status=503), openai.InternalServerError),
        (Fault(kind="reset"), openai.APIConnectionError),
    ],
)
async def test_faults_surface_as_the_sdk_expects(
    emu: OpenAIEmulator, fault: Fault, error: type[Exception]
) -> None:
    emu.faults.append(fault)
    c = client(emu)
    with pytest.raises(error):
        await c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    await c.close()


async def test_wrong_key_is_401_and_requests_are_recorded(emu: OpenAIEmulator) -> None:
    c = client(emu, "wrong")
    with pytest.raises(openai.AuthenticationError):
        await c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "x"}])
    await c.close()
    assert emu.received and emu.received[0].json["model"] == "gpt-4o"
