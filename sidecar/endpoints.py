"""The answer for anything the app-facing listener does not implement: a 404 in the app's
own API's error format, and nothing forwarded anywhere.

Only the endpoints in `Sidecar.app` are served. Anything else (the Responses API, images,
files, batches, another version prefix, a known path with another method) could carry data
the sidecar never classified to a place the policy never chose, so it is refused without
reading the body. The error speaks Anthropic's format when the path is under /v1/messages
or the request has an `anthropic-version` header (the anthropic SDK always sends one), and
OpenAI's otherwise, so either SDK raises its NotFoundError.

The path is app-supplied text: logs and the error message only show its bounded shape (at
most two segments, each shown only if it looks like an API word, else `*`); the metric
counts it as `llm_router_rejected_requests_total{reason="unknown_endpoint"}`.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping

import structlog

from sidecar.api.anthropic import MESSAGES
from sidecar.api.base import ClientApi, Reply
from sidecar.api.openai import CHAT_COMPLETIONS
from sidecar.errors import RouterError
from sidecar.metrics import Metrics
from sidecar.pipeline import DECISION_HEADER

log = structlog.get_logger("llm_router.endpoints")

UNKNOWN_ENDPOINT = "unknown_endpoint"
ANTHROPIC_VERSION_HEADER = "anthropic-version"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_WORD = re.compile(r"[a-z][a-z0-9_.-]{0,31}")
SHAPE_SEGMENTS = 2


def error_format(path: str, headers: Mapping[str, str]) -> ClientApi:
    """Whose error format the app expects: Anthropic's or OpenAI's."""
    if path.startswith("/v1/messages") or ANTHROPIC_VERSION_HEADER in headers:
        return MESSAGES
    return CHAT_COMPLETIONS


def path_shape(path: str) -> str:
    """A bounded, content-free view of a path: `/v1/images/…`, `/v1/files/*`."""
    parts = [p for p in path.split("/") if p]
    shown = [p if _WORD.fullmatch(p) else "*" for p in parts[:SHAPE_SEGMENTS]]
    more = "/…" if len(parts) > SHAPE_SEGMENTS else ""
    return "/" + "/".join(shown) + more


def unknown_endpoint(method: str, path: str, headers: Mapping[str, str], metrics: Metrics) -> Reply:
    decision_id = uuid.uuid4().hex
    api = error_format(path, headers)
    shown_method = method if method in METHODS else "OTHER"
    shape = path_shape(path)
    metrics.rejected.labels(reason=UNKNOWN_ENDPOINT).inc()
    log.info(
        UNKNOWN_ENDPOINT,
        decision_id=decision_id,
        method=shown_method,
        path=shape,
        format=api.schema,
    )
    err = RouterError(
        404,
        UNKNOWN_ENDPOINT,
        f"{shown_method} {shape} is not an endpoint of this router; nothing was forwarded",
    )
    reply_headers = {"content-type": "application/json", DECISION_HEADER: decision_id}
    return Reply(404, reply_headers, api.error_body(err, decision_id))
