"""An operator-declared pass-through endpoint (`passthrough:` in the config) as an app-facing
API: parsed as a JSON object, walked whole (no exemption but `model` and `stream`), and
served by the routes of the model the operator named, in the app's own format."""

from __future__ import annotations

from sidecar.api.anthropic import _AnthropicErrors
from sidecar.api.base import ParsedRequest
from sidecar.api.jsonbody import load_object
from sidecar.api.openai import _OpenAIErrors, optional_bool
from sidecar.classify.walk import FLAG, MODEL_NAME, obj
from sidecar.config_endpoints import PassthroughEndpoint
from sidecar.errors import RouterError, bad_request

TREE = obj(model=MODEL_NAME, stream=FLAG)
"""Everything but these two is scanned: the sidecar knows nothing else of this API."""


class Passthrough:
    def __init__(self, endpoint: PassthroughEndpoint, names: frozenset[str]) -> None:
        self.name = f"{endpoint.format}.passthrough"
        """Bounded, for metric labels and the audit record."""
        self.schema: str = endpoint.format
        self.endpoint = endpoint.upstream_path
        """An upstream path rather than an operation name: see `Upstream.url`."""
        self.path = endpoint.path
        self.model = endpoint.model
        self.names = names
        """The names of its model: the app's `model` field, when it sends one, is one."""
        self._errors = _AnthropicErrors() if endpoint.format == "anthropic" else _OpenAIErrors()

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        requested = body.get("model")
        if requested is not None and requested not in self.names:
            raise bad_request(f"'model' must be {self.model} on this endpoint", param="model")
        stream = optional_bool(body, "stream")
        return ParsedRequest.walked(body, self.model, stream, TREE)

    def error_body(self, err: RouterError, decision_id: str) -> bytes:
        return self._errors.error_body(err, decision_id)

    def stream_error(self, err: RouterError, decision_id: str) -> bytes:
        return self._errors.stream_error(err, decision_id)
