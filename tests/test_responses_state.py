"""The Responses API's pieces that need no upstream: the continuation map, the native
translator reading ids and usage from split streams, upstream URLs, usage naming."""

from __future__ import annotations

import orjson
import pytest

from sidecar.config import ProviderConfig
from sidecar.continuations import Continuations
from sidecar.credentials import Credential
from sidecar.providers.base import Usage
from sidecar.providers.responses_native import ResponsesNative
from sidecar.providers.upstream import UnsupportedRoute, Upstream


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_continuations_are_bounded_least_recently_used_first_out() -> None:
    seen = Continuations(2, 60)
    seen.remember("resp_a", "r1")
    seen.remember("resp_b", "r2")
    assert seen.route_of("resp_a") == "r1"  # used: resp_b is now the oldest
    seen.remember("resp_c", "r3")
    assert len(seen) == 2
    assert seen.route_of("resp_b") is None
    assert (seen.route_of("resp_a"), seen.route_of("resp_c")) == ("r1", "r3")
    seen.forget("resp_a")
    assert seen.route_of("resp_a") is None


def test_continuations_expire() -> None:
    clock = Clock()
    seen = Continuations(10, 30, clock=clock)
    seen.remember("resp_a", "r1")
    clock.now = 29.9
    assert seen.route_of("resp_a") == "r1"
    clock.now = 30.0
    assert seen.route_of("resp_a") is None and len(seen) == 0


def _event(kind: str, **fields: object) -> bytes:
    data = orjson.dumps({"type": kind, **fields})
    return b"event: " + kind.encode() + b"\ndata: " + data + b"\n\n"


def test_native_translator_reads_id_and_usage_from_a_stream_split_anywhere() -> None:
    usage = {
        "input_tokens": 12,
        "input_tokens_details": {"cached_tokens": 4},
        "output_tokens": 9,
        "output_tokens_details": {"reasoning_tokens": 3},
        "total_tokens": 21,
    }
    stream = (
        _event(
            "response.created", sequence_number=0, response={"id": "resp_1", "object": "response"}
        )
        + _event("response.output_text.delta", sequence_number=1, delta="hi", item_id="msg_1")
        + _event(
            "response.completed",
            sequence_number=2,
            response={"id": "resp_1", "object": "response", "usage": usage},
        )
    )
    for size in (1, 7, 64, len(stream)):
        native = ResponsesNative("responses")
        relayed = b"".join(
            native.response_chunk(stream[i : i + size]) for i in range(0, len(stream), size)
        )
        assert relayed == stream  # relayed as received
        assert native.response_id == "resp_1" and native.complete
        assert native.usage.to_dict() == {
            "prompt_tokens": 12,
            "completion_tokens": 9,
            "total_tokens": 21,
            "cached_tokens": 4,
            "reasoning_tokens": 3,
        }


def test_native_translator_without_the_final_event_is_not_complete() -> None:
    native = ResponsesNative("responses")
    native.response_chunk(_event("response.created", response={"id": "resp_1"}))
    assert native.response_id == "resp_1" and not native.complete


def test_native_translator_reads_a_whole_body() -> None:
    native = ResponsesNative("responses")
    body = orjson.dumps(
        {"id": "resp_9", "object": "response", "usage": {"input_tokens": 1, "output_tokens": 2}}
    )
    assert native.response_body(body) == body
    assert native.response_id == "resp_9"
    assert native.usage.to_dict() == {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}


def test_chat_usage_naming_still_reads() -> None:
    usage = Usage()
    usage.update({"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11})
    assert usage.to_dict() == {"prompt_tokens": 5, "completion_tokens": 6, "total_tokens": 11}


def _upstream(**config: object) -> Upstream:
    pc = ProviderConfig.model_validate({"kind": "direct", "base_url": "https://x.test", **config})
    return Upstream("p", pc, Credential("p", value="k"))


def test_urls_of_native_translated_and_azure_routes() -> None:
    assert _upstream().url("responses", "m") == "https://x.test/responses"
    chat_only = _upstream(responses_api="chat_completions")
    assert chat_only.url("responses", "m") == "https://x.test/chat/completions"
    assert _upstream(api="anthropic").url("responses", "m") == "https://x.test/messages"
    azure = _upstream(api="azure_openai", api_version="2025-04-01-preview")
    assert azure.url("responses", "dep") == "https://x.test/openai/v1/responses"
    assert azure.stored_response_url("resp_1", "/input_items") == (
        "https://x.test/openai/v1/responses/resp_1/input_items"
    )
    assert _upstream().stored_response_url("a/b") == "https://x.test/responses/a%2Fb"
    with pytest.raises(UnsupportedRoute):
        chat_only.stored_response_url("resp_1")
