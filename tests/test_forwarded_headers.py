"""App headers: an allow-list per upstream family reaches the upstream, everything else
(credentials above all) stays behind; static provider headers win; long or control-laden
values are refused; free-text values are handed to the classifier as segments."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import anthropic
import openai
import orjson
import pytest
from multidict import CIMultiDict

from sidecar.classify.model import Segment
from sidecar.config import ProviderConfig
from sidecar.credentials import Credential
from sidecar.errors import RouterError
from sidecar.headers import forwardable, header_segments, read_app_headers
from sidecar.providers.upstream import Upstream
from tests.conftest import APP_KEY, KEYS, Harness, HarnessFactory, config_dict
from tests.test_routing import EMAIL

APP_HEADERS = {
    "anthropic-beta": "fine-grained-tool-streaming-2025-05-14",
    "OpenAI-Beta": "assistants=v2",
    "HTTP-Referer": "https://claims.example.com",
    "X-Title": "Claims assistant",
    "X-OpenRouter-Title": "Claims assistant",
    "OpenAI-Organization": "org-app-chosen",
    "OpenAI-Project": "proj-app-chosen",
    "x-api-key": APP_KEY,
    "api-key": APP_KEY,
    "Cookie": f"session={APP_KEY}",
    "X-Forwarded-For": "10.1.2.3",
    "X-Custom-Trace": "trace-123",
}
CREDENTIALS = ("x-api-key", "api-key", "cookie", "authorization")


def received_headers(h: Harness, name: str) -> dict[str, str]:
    [request] = h.upstreams[name].received
    return {k.lower(): v for k, v in request.headers.items()}


def app_headers_seen(headers: dict[str, str]) -> set[str]:
    return {k.lower() for k in APP_HEADERS} & {k for k, v in headers.items() if v == _app_value(k)}


def _app_value(lower: str) -> str | None:
    return next((v for k, v in APP_HEADERS.items() if k.lower() == lower), None)


def no_app_credentials(h: Harness) -> None:
    for name, emu in h.upstreams.items():
        for request in emu.received:
            assert APP_KEY not in str(request.headers), name
            headers = {k.lower(): v for k, v in request.headers.items()}
            assert headers.get("authorization", f"Bearer {KEYS[name]}") == f"Bearer {KEYS[name]}"


async def test_aggregator_gets_attribution_and_openai_beta_only(harness: Harness) -> None:
    await harness.client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}], extra_headers=APP_HEADERS
    )
    headers = received_headers(harness, "openrouter")
    assert app_headers_seen(headers) == {
        "openai-beta",
        "http-referer",
        "x-title",
        "x-openrouter-title",
    }
    assert headers["authorization"] == f"Bearer {KEYS['openrouter']}"
    assert "openai-organization" not in headers and "openai-project" not in headers
    assert "x-forwarded-for" not in headers and "x-custom-trace" not in headers
    no_app_credentials(harness)


async def test_direct_openai_gets_openai_beta_only(harness: Harness) -> None:
    await harness.client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": f"mail {EMAIL}"}],
        extra_headers=APP_HEADERS,
    )
    assert harness.received_by("openrouter") == 0
    headers = received_headers(harness, "openai")
    assert app_headers_seen(headers) == {"openai-beta"}
    assert "http-referer" not in headers and "x-title" not in headers
    no_app_credentials(harness)


async def test_anthropic_gets_anthropic_beta_and_its_configured_version(harness: Harness) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=harness.running.app_url, api_key=APP_KEY, max_retries=0
    )
    await client.messages.create(
        model="claude-sonnet-5",
        max_tokens=50,
        messages=[{"role": "user", "content": f"Email {EMAIL}"}],
        extra_headers={**APP_HEADERS, "anthropic-version": "2099-01-01"},
    )
    await client.close()
    headers = received_headers(harness, "anthropic")
    assert app_headers_seen(headers) == {"anthropic-beta"}
    assert headers["anthropic-version"] == "2023-06-01"  # the config's, not the app's
    assert headers["x-api-key"] == KEYS["anthropic"]
    assert "openai-beta" not in headers and "x-title" not in headers
    no_app_credentials(harness)


async def test_openai_app_to_anthropic_forwards_anthropic_beta(harness: Harness) -> None:
    await harness.client.chat.completions.create(
        model="claude-sonnet-5",
        messages=[{"role": "user", "content": f"Email {EMAIL}"}],
        extra_headers={"anthropic-beta": "token-efficient-tools-2025-02-19"},
    )
    headers = received_headers(harness, "anthropic")
    assert headers["anthropic-beta"] == "token-efficient-tools-2025-02-19"


async def test_configured_static_headers_win(
    make_harness: HarnessFactory, upstreams: dict[str, Any]
) -> None:
    urls = {name: emu.base_url for name, emu in upstreams.items()}
    providers = config_dict(urls)["providers"]
    providers["openrouter"]["headers"] = {
        "x-title": "Operator",
        "HTTP-Referer": "https://op.example",
    }
    h = await make_harness(providers=providers)
    await h.client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "hello"}], extra_headers=APP_HEADERS
    )
    [request] = upstreams["openrouter"].received
    titles = [v for k, v in request.headers.items() if k.lower() == "x-title"]
    referers = [v for k, v in request.headers.items() if k.lower() == "http-referer"]
    assert titles == ["Operator"] and referers == ["https://op.example"]
    assert {k.lower(): v for k, v in request.headers.items()}["x-openrouter-title"] == (
        "Claims assistant"
    )


def test_static_headers_replace_app_headers_whatever_their_case() -> None:
    config = ProviderConfig(kind="aggregator", base_url="http://x", headers={"X-TITLE": "Operator"})
    up = Upstream("openrouter", config, Credential("openrouter", value="k"))
    sent = up.headers("k", False, {"x-title": "App", "http-referer": "https://a.example"})
    assert [k for k in sent if k.lower() == "x-title"] == ["X-TITLE"]
    assert sent["X-TITLE"] == "Operator" and sent["http-referer"] == "https://a.example"
    assert sent["Authorization"] == "Bearer k"


async def post(h: Harness, path: str, headers: Any, body: dict[str, Any]) -> tuple[int, Any]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(h.running.app_url + path, data=orjson.dumps(body), headers=headers) as resp,
    ):
        return resp.status, orjson.loads(await resp.read())


CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hello"}]}
MESSAGE = {"model": "claude-sonnet-5", "max_tokens": 5, "messages": CHAT["messages"]}


async def send_raw(h: Harness, name: str, value: str) -> tuple[int, bytes]:
    """One request written by hand: HTTP clients refuse to send control characters."""
    host, port = h.running.app_url.removeprefix("http://").rsplit(":", 1)
    body = orjson.dumps(CHAT)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: {host}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n"
        f"Connection: close\r\n{name}: {value}\r\n\r\n"
    )
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head.encode() + body)
    await writer.drain()
    response = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = response.partition(b"\r\n")
    return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Title", "t" * 1025),
        ("X-Title", "é" * 513),  # 1026 bytes
        ("X-Title", "tab\tinside"),
        ("X-OpenRouter-Title", "next\u0085line"),
    ],
    ids=["long", "long-utf8", "tab", "c1-control"],
)
async def test_long_or_control_values_are_a_400(harness: Harness, name: str, value: str) -> None:
    status, raw = await send_raw(harness, name, value)
    body = orjson.loads(raw)
    assert status == 400 and body["error"]["code"] == "invalid_header"
    assert value not in str(body)
    assert sum(harness.received_by(n) for n in KEYS) == 0


@pytest.mark.parametrize("value", ["https://a.example/\x01", "a\x7fb", "a\x00b"])
async def test_the_http_parser_refuses_other_controls(harness: Harness, value: str) -> None:
    status, _ = await send_raw(harness, "HTTP-Referer", value)
    assert status == 400  # aiohttp's own answer: the request never reaches the pipeline
    assert sum(harness.received_by(n) for n in KEYS) == 0


@pytest.mark.parametrize("value", ["a\x01b", "x\x7f", "y\x9f", "z\udc80", "t\tt"])
def test_forwardable_refuses_control_characters(value: str) -> None:
    with pytest.raises(RouterError) as caught:
        forwardable({"X-Title": value})
    assert caught.value.status == 400 and caught.value.code == "invalid_header"


async def test_invalid_header_in_anthropic_format(harness: Harness) -> None:
    client = anthropic.AsyncAnthropic(
        base_url=harness.running.app_url, api_key=APP_KEY, max_retries=0
    )
    with pytest.raises(anthropic.BadRequestError) as caught:
        await client.messages.create(
            model="claude-sonnet-5",
            max_tokens=5,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"anthropic-beta": "b" * 2000},
        )
    await client.close()
    body = caught.value.body
    assert isinstance(body, dict) and body["error"]["code"] == "invalid_header"
    assert sum(harness.received_by(n) for n in KEYS) == 0


async def test_openai_sdk_gets_a_bad_request_error(harness: Harness) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        await harness.client.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Title": "x" * 4096},
        )
    assert caught.value.code == "invalid_header"


async def test_a_repeated_header_is_joined(harness: Harness) -> None:
    headers = CIMultiDict(
        [("Content-Type", "application/json"), ("anthropic-beta", "a-1"), ("anthropic-beta", "b-2")]
    )
    body = {**MESSAGE, "messages": [{"role": "user", "content": f"for {EMAIL}"}]}
    status, _ = await post(harness, "/v1/messages", headers, body)
    assert status == 200
    assert received_headers(harness, "anthropic")["anthropic-beta"] == "a-1, b-2"


def test_read_app_headers_keeps_the_first_declared_class() -> None:
    raw = CIMultiDict(
        [("X-LLM-Data-Class", "phi"), ("X-LLM-Data-Class", "public"), ("X-Title", "a")]
    )
    raw.add("Authorization", "Bearer x")
    assert read_app_headers(raw) == {"x-llm-data-class": "phi", "x-title": "a"}


def test_header_segments_scan_free_text_and_exempt_beta_tokens() -> None:
    forwarded = forwardable(
        {
            "anthropic-beta": "prompt-caching-2024-07-31, files-api-2025-04-14",
            "openai-beta": "assistants=v2",
            "x-title": f"Claims for {EMAIL}",
            "http-referer": "https://claims.example.com/",
            "x-llm-data-class": "phi",
        }
    )
    assert "x-llm-data-class" not in forwarded
    assert header_segments(forwarded) == [
        Segment(("$headers", "x-title"), f"Claims for {EMAIL}"),
        Segment(("$headers", "http-referer"), "https://claims.example.com/"),
    ]


@pytest.mark.parametrize(
    "value",
    ["has space inside", f"beta {EMAIL}", "a" * 257, "trailing,", ",leading", "semi;colon"],
)
def test_a_beta_value_that_is_not_a_token_list_is_scanned(value: str) -> None:
    [segment] = header_segments({"anthropic-beta": value})
    assert segment == Segment(("$headers", "anthropic-beta"), value)
