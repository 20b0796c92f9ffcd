"""What every same-format pair (app and upstream speak one API) has in common: the model is
rewritten, bodies and errors are relayed as received, and only usage is read on the way."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from sidecar.providers.base import Usage, relayed_headers


class PassThrough:
    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint
        self.usage = Usage()
        self.complete = False

    def request_body(self, body: dict[str, Any], model: str) -> dict[str, Any]:
        return {**body, "model": model}

    def response_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
        return relayed_headers(headers)

    def response_body(self, body: bytes) -> bytes:
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return body
        if isinstance(parsed, dict):
            self.usage.update(self.body_usage(parsed))
            self.complete = True
        return body

    def body_usage(self, body: dict[str, Any]) -> Any:
        """The usage object of a whole response, in OpenAI's terms (None: none)."""
        return body.get("usage")

    def response_end(self) -> bytes:
        return b""

    def error(self, status: int, body: bytes) -> tuple[int, bytes]:
        return status, body
