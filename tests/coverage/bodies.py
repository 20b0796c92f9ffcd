"""Request-body strategies for every API the sidecar fronts, and the SDK types they obey.

The generators live in `bodies_openai`, `bodies_responses` and `bodies_anthropic`; this
module gathers them by endpoint and maps each body to the SDK TypedDict it must validate
against.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from anthropic.types import message_create_params as create_params
from anthropic.types.beta import message_create_params as beta_create_params
from anthropic.types.beta.message_count_tokens_params import (
    MessageCountTokensParams as BetaCountTokensParams,
)
from anthropic.types.message_count_tokens_params import MessageCountTokensParams
from hypothesis import strategies as st
from openai.types import completion_create_params as legacy_params
from openai.types.chat import completion_create_params as chat_params
from openai.types.embedding_create_params import EmbeddingCreateParams
from openai.types.responses import response_create_params as responses_params

from tests.coverage.bodies_anthropic import (
    anthropic_betas,
    anthropic_count_tokens,
    anthropic_messages,
)
from tests.coverage.bodies_openai import openai_chat, openai_completions, openai_embeddings
from tests.coverage.bodies_responses import openai_responses
from tests.coverage.extras import with_extras

Body = dict[str, Any]
Strategy = Callable[..., st.SearchStrategy[Body]]

ENDPOINTS: dict[str, Strategy] = {
    "/v1/chat/completions": openai_chat,
    "/v1/completions": openai_completions,
    "/v1/embeddings": openai_embeddings,
    "/v1/responses": openai_responses,
    "/v1/messages": anthropic_messages,
    "/v1/messages/count_tokens": anthropic_count_tokens,
}
"""Path -> strategy factory, each called as `factory(models, extras=...)`."""


_PARAMS: dict[tuple[str, bool], tuple[Any, Any]] = {
    ("/v1/chat/completions", False): (
        chat_params.CompletionCreateParamsNonStreaming,
        chat_params.CompletionCreateParamsStreaming,
    ),
    ("/v1/completions", False): (
        legacy_params.CompletionCreateParamsNonStreaming,
        legacy_params.CompletionCreateParamsStreaming,
    ),
    ("/v1/embeddings", False): (EmbeddingCreateParams, EmbeddingCreateParams),
    ("/v1/responses", False): (
        responses_params.ResponseCreateParamsNonStreaming,
        responses_params.ResponseCreateParamsStreaming,
    ),
    ("/v1/messages", False): (
        create_params.MessageCreateParamsNonStreaming,
        create_params.MessageCreateParamsStreaming,
    ),
    ("/v1/messages", True): (
        beta_create_params.MessageCreateParamsNonStreaming,
        beta_create_params.MessageCreateParamsStreaming,
    ),
    ("/v1/messages/count_tokens", False): (MessageCountTokensParams, MessageCountTokensParams),
    ("/v1/messages/count_tokens", True): (BetaCountTokensParams, BetaCountTokensParams),
}


def sdk_params(path: str, body: Body, *, beta: bool = False) -> Any:
    """The SDK TypedDict a body for `path` must be: streaming and non-streaming bodies are
    different types, and beta bodies (`beta=True`) are the SDK's `beta` types."""
    plain, streaming = _PARAMS[path, beta and path.startswith("/v1/messages")]
    return streaming if body.get("stream") else plain


def for_endpoint(
    path: str, models: Sequence[str], *, extras: bool = True
) -> st.SearchStrategy[Body]:
    return ENDPOINTS[path](models, extras=extras)


__all__ = [
    "ENDPOINTS",
    "anthropic_betas",
    "anthropic_count_tokens",
    "anthropic_messages",
    "for_endpoint",
    "openai_chat",
    "openai_completions",
    "openai_embeddings",
    "openai_responses",
    "sdk_params",
    "with_extras",
]
