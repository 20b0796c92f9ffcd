"""Pass-through endpoints: an API the sidecar has no parser for, opened by the operator.

The sidecar answers every path it does not implement with a 404 and never forwards it.
An operator who needs one more endpoint (`/v1/moderations`, say) declares it here, and only
with routes: it is served by a configured model, so the policy sees its routes and decides
as for any request, and its whole body is scanned by the same walk, with no exemption but
`model` and `stream`. Only same-format routes can serve it (there is no translation).
"""

from __future__ import annotations

import re
from typing import Literal

from pydantic import field_validator

from sidecar.config_base import Strict

BUILT_IN_PATHS = frozenset(
    {
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/embeddings",
        "/v1/messages",
        "/v1/messages/count_tokens",
        "/v1/models",
    }
)
_PATH = re.compile(r"/v1(/[a-z0-9_-]+)+")


class PassthroughEndpoint(Strict):
    path: str
    """The app-facing path, e.g. /v1/moderations (POST)."""
    format: Literal["openai", "anthropic"] = "openai"
    """Its wire format: the error format the app gets, and the upstream family it needs."""
    upstream_path: str
    """Appended to each route's provider `base_url`, e.g. /moderations."""
    model: str
    """A configured logical model: its routes serve this endpoint, its name is what the
    policy sees as the model (the app's `model` field, if any, must name it too)."""

    @field_validator("path")
    @classmethod
    def _path(cls, value: str) -> str:
        if not _PATH.fullmatch(value):
            raise ValueError("must be /v1/ followed by lower-case path segments")
        if value in BUILT_IN_PATHS:
            raise ValueError("is served by the sidecar itself")
        return value

    @field_validator("upstream_path")
    @classmethod
    def _upstream_path(cls, value: str) -> str:
        if not re.fullmatch(r"(/[A-Za-z0-9_.-]+)+", value):
            raise ValueError("must be an absolute path of plain segments, e.g. /moderations")
        return value
