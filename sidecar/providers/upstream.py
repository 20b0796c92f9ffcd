"""An upstream provider as the dispatcher sees it: where to send, with which key, how.

The backend wire format decides the URL path per endpoint and the auth header; the route
kind decides whether aggregator obligations (OpenRouter's `provider` preferences) apply.
The app's own Authorization header is never consulted: only the sidecar's key is sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import aiohttp

from sidecar.config import ProviderConfig
from sidecar.credentials import Credential
from sidecar.providers.base import TranslatorFactory
from sidecar.providers.openai_openai import OpenAIToOpenAI

OPENAI_PATHS = {"chat_completions": "/chat/completions", "embeddings": "/embeddings"}

TRANSLATORS: dict[tuple[str, str], TranslatorFactory] = {
    ("openai", "openai"): OpenAIToOpenAI,
}
"""(client schema, backend schema) -> translator factory."""


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
        t = self.config.timeouts
        return aiohttp.ClientTimeout(total=t.total, connect=t.connect, sock_read=t.first_byte)

    def url(self, endpoint: str) -> str:
        path = OPENAI_PATHS.get(endpoint)
        if path is None:
            raise UnsupportedRoute(f"{self.config.api} upstream has no {endpoint} endpoint")
        return self.config.base_url + path

    def translator(self, client_schema: str) -> TranslatorFactory:
        factory = TRANSLATORS.get((client_schema, self.config.api))
        if factory is None:
            raise UnsupportedRoute(f"no translation from {client_schema} to {self.config.api}")
        return factory

    def headers(self, key: str, stream: bool) -> dict[str, str]:
        headers = {
            **self.config.headers,
            "Authorization": f"Bearer {key}",
            "Content-Type": "application/json",
        }
        if stream:
            headers["Accept"] = "text/event-stream"
        return headers

    def apply_obligations(self, body: dict[str, Any], preferences: dict[str, Any]) -> None:
        """OpenRouter's `provider` object carries data-handling preferences. The policy's
        preferences win over the app's own, which may only add to them."""
        if self.kind != "aggregator" or not preferences:
            return
        app_prefs = body.get("provider")
        merged = dict(app_prefs) if isinstance(app_prefs, dict) else {}
        merged.update(preferences)
        body["provider"] = merged

    def open_session(self) -> None:
        if self.session is None:
            self.session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=256, ttl_dns_cache=300, keepalive_timeout=30),
                skip_auto_headers=("User-Agent",),
                auto_decompress=True,
            )

    async def close(self) -> None:
        if self.session is not None:
            await self.session.close()
            self.session = None
