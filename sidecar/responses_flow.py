"""What the Responses API adds to a request's journey: a continuation goes to the route
that stored the response it continues, or nowhere, and a stored response is remembered.

The pipeline calls in three places: before the policy (`continued_route`: an unknown id is
a 404, never a guess), after it (`restrict`: the policy decided as for any request, with
`input.request.continues` to see; the sidecar then keeps only the storing route, and if
the policy did not allow it for this turn's data the request is refused, so regulated data
in a follow-up turn never goes to the aggregator because the first turn was public), and
when the request ends (`remember`).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sidecar.api.base import ParsedRequest
from sidecar.api.responses import CLIENT_TOOLS
from sidecar.classify.model import Classification
from sidecar.continuations import Continuations
from sidecar.errors import RouterError
from sidecar.policy.model import Decision
from sidecar.trip import Trip


def not_found(param: str | None = None) -> RouterError:
    """OpenAI's answer for a response id it does not have; the id itself is not quoted."""
    return RouterError(
        404,
        "response_not_found",
        "no response with this id is known to the router (it may have expired, been "
        "deleted, created unstored, or created before a restart)",
        param=param,
    )


class ResponsesFlow:
    def __init__(self, continuations: Continuations) -> None:
        self.continuations = continuations

    def continued_route(self, parsed: ParsedRequest) -> str | None:
        previous = parsed.facts.get("previous_response_id")
        if previous is None:
            return None
        route = self.continuations.route_of(previous)
        if route is None:
            raise not_found("previous_response_id")
        return route

    def restrict(self, decision: Decision, continues: str | None) -> Decision:
        if continues is None:
            return decision
        if continues not in decision.routes:
            raise RouterError(
                403,
                "continuation_not_allowed",
                f"this request continues a response stored by route {continues}, which the "
                "routing policy does not allow for this request's data; nothing was sent",
                kind="policy_denied",
                param="previous_response_id",
            )
        return dataclasses.replace(decision, routes=(continues,))

    def remember(self, trip: Trip) -> None:
        """A response a native route created and stored, once the app has it."""
        translator, served = trip.translator, trip.served_by
        response_id = getattr(translator, "response_id", None)
        if not trip.stored or served is None or trip.status >= 400 or trip.disconnected:
            return
        if isinstance(response_id, str) and served.upstream.native_responses:
            self.continuations.remember(response_id, served.id)


def stores(parsed: ParsedRequest, decision: Decision) -> bool:
    """Whether the upstream will keep the response: the app's `store` (default true),
    unless the policy's `store` obligation says otherwise."""
    if decision.obligations.store is not None:
        return decision.obligations.store
    return bool(parsed.facts.get("store", False))


def policy_facts(
    parsed: ParsedRequest, classification: Classification, continues: str | None
) -> dict[str, Any]:
    """`input.request`'s Responses API fields: `store`, `continues`, `hosted_tools` and, per
    hosted tool kind, the tags found in those tools' definitions."""
    if not parsed.facts:
        return {}
    tools = parsed.body.get("tools")
    tags: dict[str, set[str]] = {}
    for finding in classification.findings:
        path = parsed.segments[finding.segment].path
        if len(path) < 2 or path[0] != "tools" or not isinstance(path[1], int):
            continue
        tool = tools[path[1]] if isinstance(tools, list) and path[1] < len(tools) else None
        kind = tool.get("type") if isinstance(tool, dict) else None
        if isinstance(kind, str) and kind not in CLIENT_TOOLS:
            tags.setdefault(kind, set()).add(finding.tag)
    return {
        "store": parsed.facts["store"],
        "continues": continues,
        "hosted_tools": parsed.facts["hosted_tools"],
        "hosted_tool_tags": {kind: sorted(found) for kind, found in sorted(tags.items())},
    }
