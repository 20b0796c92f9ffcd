"""The Responses API's stored-response endpoints: `GET /v1/responses/{id}`, `DELETE` of it,
`GET .../input_items` and `POST .../cancel`.

Each goes to the route that created the response (sidecar/continuations.py), with the
sidecar's key for it, or nowhere: an id the sidecar does not know is a 404 in OpenAI's
format, never tried on another provider. No request content leaves (the app's id is all
that is sent, and the query parameters OpenAI documents), so the policy is not asked; the
route was the policy's choice when the response was created. Each call has its own audit
record (api `openai.responses_get` and so on) and metrics, like any request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any

import aiohttp
import orjson

from sidecar.api.base import ParsedRequest, Reply
from sidecar.api.openai import _OpenAIErrors
from sidecar.catalog import Candidate
from sidecar.errors import RouterError
from sidecar.pipeline import DECISION_HEADER, ROUTE_HEADER, Pipeline
from sidecar.responses_flow import not_found
from sidecar.trip import Trip, finish

QUERY = frozenset({"include", "include[]", "after", "before", "limit", "order"})
"""Query parameters of these endpoints (OpenAI's reference); any other is not forwarded."""


class StoredResponseApi(_OpenAIErrors):
    """One stored-response operation, as an app-facing API: its name for the audit record and
    metrics, and OpenAI's error format. It has no body to parse."""

    schema = "openai"
    endpoint = "responses"

    def __init__(self, operation: str, method: str, suffix: str) -> None:
        self.name = f"openai.responses_{operation}"
        self.method = method
        self.suffix = suffix

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        raise RouterError(405, "method_not_allowed", "this endpoint takes no request body")


GET = StoredResponseApi("get", "GET", "")
DELETE = StoredResponseApi("delete", "DELETE", "")
INPUT_ITEMS = StoredResponseApi("input_items", "GET", "/input_items")
CANCEL = StoredResponseApi("cancel", "POST", "/cancel")


async def stored_response(
    pipeline: Pipeline, api: StoredResponseApi, response_id: str, query: Mapping[str, str]
) -> Reply:
    trip = pipeline.new_trip(api)
    try:
        return await _forward(pipeline, api, response_id, query, trip)
    except RouterError as err:
        return pipeline.error_reply(trip, err)
    finally:
        finish(trip, pipeline.audit, pipeline.metrics)


async def _forward(
    pipeline: Pipeline,
    api: StoredResponseApi,
    response_id: str,
    query: Mapping[str, str],
    trip: Trip,
) -> Reply:
    flow = pipeline.responses
    route = flow.continuations.route_of(response_id)
    cand = _candidate(pipeline, route) if route is not None else None
    if cand is None:
        raise not_found()
    up = cand.upstream
    key = up.credential.current()
    if key is None or up.session is None:
        raise RouterError(
            503, "no_route_available", f"route {cand.id} has no key", kind="api_error"
        )
    trip.decision, trip.served_by = "allow", cand
    url = up.stored_response_url(response_id, api.suffix)
    params = {k: v for k, v in query.items() if k in QUERY}
    sent = time.perf_counter()
    try:
        async with (
            asyncio.timeout(up.config.timeouts.total_s),
            up.session.request(api.method, url, params=params, headers=up.headers(key, False)) as r,
        ):
            status, body = r.status, await r.read()
            ctype = r.headers.get("content-type", "application/json")
    except TimeoutError:
        raise RouterError(
            504, "upstream_timeout", f"route {cand.id} did not answer in time", kind="api_error"
        ) from None
    except aiohttp.ClientError:
        raise RouterError(
            502, "upstream_unavailable", f"route {cand.id} could not be reached", kind="api_error"
        ) from None
    trip.dispatch.upstream_seconds += time.perf_counter() - sent
    trip.status, trip.ready_at = status, time.perf_counter()
    if status >= 400:
        trip.error_code = "upstream_client_error" if status < 500 else "upstream_server_error"
        body = _cleaned(pipeline, api, status, body, trip.record.decision_id)
        ctype = "application/json"
    elif api is DELETE:
        flow.continuations.forget(response_id)
    headers = {"content-type": ctype, DECISION_HEADER: trip.record.decision_id}
    headers[ROUTE_HEADER] = cand.id
    return Reply(status, headers, body)


def _candidate(pipeline: Pipeline, route_id: str) -> Candidate | None:
    """The route as the running config knows it (a reload may have removed it)."""
    for model in pipeline.catalog.models.values():
        for cand in model.candidates:
            if cand.id == route_id:
                return cand
    return None


def _cleaned(
    pipeline: Pipeline, api: StoredResponseApi, status: int, body: bytes, decision_id: str
) -> bytes:
    """An upstream error, cleaned of every key (sidecar/scrub.py), in OpenAI's format."""
    try:
        parsed: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        parsed = None
    if isinstance(parsed, dict) and isinstance(parsed.get("error"), dict):
        return orjson.dumps({"error": pipeline.scrubber().error_object(parsed)["error"]})
    err = RouterError(status, "upstream_error", f"the upstream answered with status {status}")
    return api.error_body(err, decision_id)
