"""The "API" of a request that was not valid HTTP: nothing of it can be read, not even its
path, so its error must be one both SDKs can parse.

Anthropic's error object with OpenAI's `param` added is exactly that: the openai SDK reads
`error.message`, `error.type` and `error.code`; the anthropic SDK reads the top-level
`type: error` and `error.type` / `error.message`.
"""

from __future__ import annotations

import orjson

from sidecar.api.anthropic import _AnthropicErrors
from sidecar.api.base import ParsedRequest
from sidecar.errors import RouterError


class InvalidHttp(_AnthropicErrors):
    name = "http.invalid"
    schema = "http"
    endpoint = "invalid"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        raise RouterError(400, "invalid_http", "the request is not valid HTTP/1.1")

    def error_body(self, err: RouterError, decision_id: str) -> bytes:
        doc = self._error(err, decision_id)
        doc["error"]["param"] = err.param
        return orjson.dumps(doc)


INVALID_HTTP = InvalidHttp()
