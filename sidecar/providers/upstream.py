"""An upstream provider as the dispatcher sees it: where to send, with which key, how.

The backend wire format (`api:` in the provider config) decides the URL per endpoint, the
auth header and the translator; the route kind decides whether aggregator obligations
(OpenRouter's `provider` preferences) apply. The app's own credentials are never consulted,
and of its other headers only an allow-list per family is forwarded (sidecar/headers.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp

from sidecar.config import ProviderConfig
from sidecar.credentials import Credential
from sidecar.headers import for_upstream
from sidecar.providers.aggregator import NO_ROUTING, AppRouting, finish_body
from sidecar.providers.anthropic_anthropic import AnthropicToAnthropic
from sidecar.providers.anthropic_openai import AnthropicToOpenAI
from sidecar.providers.base import Translator
from sidecar.providers.openai_anthropic import OpenAIToAnthropic
from sidecar.providers.openai_openai import OpenAIToOpenAI
from sidecar.providers.responses_anthropic import ResponsesToAnthropic
from sidecar.providers.responses_chat import ResponsesToChat
from sidecar.providers.responses_native import ResponsesNative

PATHS: dict[str, dict[str, str]] = {
    "openai": {
        "chat_completions": "/chat/completions",
        "embeddings": "/embeddings",
        "completions": "/completions",
        "messages": "/chat/completions",
        "responses": "/responses",
    },
    "azure_openai": {
        "chat_completions": "/chat/completions",
        "embeddings": "/embeddings",
        "completions": "/completions",
        "messages": "/chat/completions",
        "responses": "/responses",  # under /openai/v1, not a deployment (see `url`)
    },
    "anthropic": {
        "messages": "/messages",
        "responses": "/messages",
        "count_tokens": "/messages/count_tokens",
        "chat_completions": "/messages",
    },
}
"""Backend api -> client endpoint -> upstream path (after translation). An OpenAI-format
upstream with `responses_api: chat_completions` serves `responses` at /chat/completions."""

FAMILY = {"openai": "openai", "azure_openai": "openai", "anthropic": "anthropic"}

TRANSLATORS: dict[tuple[str, str], Callable[[str, int], Translator]] = {
    ("openai", "openai"): lambda endpoint, _: OpenAIToOpenAI(endpoint),
    ("openai", "anthropic"): OpenAIToAnthropic,
    ("anthropic", "anthropic"): lambda endpoint, _: AnthropicToAnthropic(endpoint),
    ("anthropic", "openai"): AnthropicToOpenAI,
}
"""(client schema, backend family) -> translator factory."""


class UnsupportedRoute(Exception):
    """The backend cannot serve this client operation; the route is skipped with a reason."""


@dataclass
class Upstream:
    name: str
    config: ProviderConfig
    credential: Credential
    session: aiohttp.ClientSession | None = None

    @property
    def kind(self) -> str:
        return self.config.kind

    @property
    def available(self) -> bool:
        return self.credential.current() is not None

    def timeout(self) -> aiohttp.ClientTimeout:
        """aiohttp bounds the TCP connect; the dispatcher enforces the first-byte, idle and
        total deadlines itself, since aiohttp's read timeout cannot tell them apart."""
        return aiohttp.ClientTimeout(
            total=None, connect=None, sock_read=None, sock_connect=self.config.timeouts.connect_s
        )

    @property
    def native_responses(self) -> bool:
        """It serves the Responses API itself (and stores what it creates)."""
        return FAMILY[self.config.api] == "openai" and self.config.responses_api == "native"

    def url(self, endpoint: str, model: str) -> str:
        api = self.config.api
        if endpoint == "responses" and not self.native_responses and api != "anthropic":
            endpoint = "chat_completions"  # translated (responses_api: chat_completions)
        # A configured pass-through endpoint names its upstream path itself.
        path = endpoint if endpoint.startswith("/") else PATHS[api].get(endpoint)
        if path is None:
            raise UnsupportedRoute(f"a {api} upstream has no {endpoint} endpoint")
        if api == "azure_openai" and endpoint == "responses":
            return f"{self.config.base_url}/openai/v1/responses"  # the v1 API: model in the body
        if api == "azure_openai":
            return (
                f"{self.config.base_url}/openai/deployments/{quote(model, safe='')}{path}"
                f"?api-version={quote(self.config.api_version or '', safe='')}"
            )
        return self.config.base_url + path

    def stored_response_url(self, response_id: str, suffix: str = "") -> str:
        """Where a stored response of this upstream is read, deleted or cancelled."""
        if not self.native_responses:
            raise UnsupportedRoute(f"a {self.config.api} upstream stores no responses")
        base = self.config.base_url
        root = (
            f"{base}/openai/v1/responses"
            if self.config.api == "azure_openai"
            else base + "/responses"
        )
        return f"{root}/{quote(response_id, safe='')}{suffix}"

    def translator(self, client_schema: str, endpoint: str) -> Translator:
        if endpoint == "responses":
            return self._responses_translator(endpoint)
        factory = TRANSLATORS.get((client_schema, FAMILY[self.config.api]))
        if factory is None:
            raise UnsupportedRoute(f"no translation from {client_schema} to {self.config.api}")
        return factory(endpoint, self.config.default_max_tokens)

    def _responses_translator(self, endpoint: str) -> Translator:
        """Native where the upstream has the Responses API; else translated to what it has."""
        if self.native_responses:
            return ResponsesNative(endpoint)
        if FAMILY[self.config.api] == "anthropic":
            return ResponsesToAnthropic(endpoint, self.config.default_max_tokens)
        return ResponsesToChat(endpoint, self.config.default_max_tokens)

    def headers(
        self, key: str, stream: bool, app_headers: Mapping[str, str] | None = None
    ) -> dict[str, str]:
        """The request headers: the app's allow-listed ones for this upstream's family (see
        sidecar/headers.py), then the configured static headers, which win, then the
        sidecar's own (content type, key, version), which win over both."""
        api = self.config.api
        static = self.config.headers
        headers = for_upstream(app_headers or {}, api, self.kind, static)
        headers.update(static)
        headers["Content-Type"] = "application/json"
        if api == "anthropic":
            headers["x-api-key"] = key
            headers["anthropic-version"] = self.config.anthropic_version
        elif api == "azure_openai":
            headers["api-key"] = key
        else:
            headers["Authorization"] = f"Bearer {key}"
        if stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def apply_obligations(
        self, body: dict[str, Any], preferences: dict[str, Any], app: AppRouting = NO_ROUTING
    ) -> list[str]:
        """Make a translated body final (sidecar/providers/aggregator.py): the app's routing
        fields are gone; an OpenRouter-style aggregator gets the `provider` object, the
        policy's preferences narrowed by the app's and never widened. Returns the names of
        the app's fields this route does not receive as sent."""
        aggregator = self.kind == "aggregator" and FAMILY[self.config.api] == "openai"
        return finish_body(body, preferences, app, aggregator=aggregator)

    def open_session(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300, keepalive_timeout=30),
                skip_auto_headers=("User-Agent",),
            )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
