"""What every app-facing wire format provides, and the replies the pipeline hands back.

A `ClientApi` turns raw bytes into a `ParsedRequest` (or a RouterError) and renders errors
in its own format; the pipeline never formats a response body itself.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sidecar.classify.model import Segment
from sidecar.classify.walk import Field, walk
from sidecar.errors import RouterError, bad_request


@dataclass(slots=True)
class ParsedRequest:
    body: dict[str, Any]
    """The object that is scanned, and the one every upstream body is serialised from."""
    model: str
    stream: bool
    segments: list[Segment]
    unscanned: frozenset[str] = frozenset()
    """Kinds of content forwarded without being scanned (`input.classification.unscanned`)."""
    facts: dict[str, Any] = field(default_factory=dict)
    """Compliance facts of the request an API reports to the policy (`input.request`), e.g.
    the Responses API's `store`, `previous_response_id` and hosted tool kinds."""

    @classmethod
    def walked(cls, body: dict[str, Any], model: str, stream: bool, tree: Field) -> ParsedRequest:
        found = walk(body, tree)
        return cls(body, model, stream, found.segments, frozenset(found.unscanned))


class ClientApi(Protocol):
    name: str
    """Bounded label/API name, e.g. `openai.chat_completions`."""
    schema: str
    """Wire-format family (`openai`, `anthropic`): picks the translator."""
    endpoint: str
    """Operation within the family (`chat_completions`, `embeddings`, `messages`)."""

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest: ...

    def error_body(self, err: RouterError, decision_id: str) -> bytes: ...

    def stream_error(self, err: RouterError, decision_id: str) -> bytes:
        """One SSE event that makes the app's SDK raise, for failures after the first byte."""
        ...


@dataclass(slots=True)
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    stream: AsyncGenerator[bytes, None] | None = None
    """Set for streamed replies; the handler writes each chunk as it comes."""


@dataclass(slots=True)
class Inbound:
    """The parts of an HTTP request the pipeline needs, without the HTTP framework."""

    content_type: str
    content_length: int | None
    read: Callable[[], Any]
    """Coroutine function returning the body bytes; raises BodyTooLarge past the limit."""
    headers: dict[str, str] = field(default_factory=dict)


class BodyTooLarge(Exception):
    pass


def check_depth(value: Any, limit: int) -> None:
    """Reject JSON nested deeper than `limit` without recursion (iterative walk)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > limit:
            raise bad_request(f"request body is nested deeper than {limit} levels", code="too_deep")
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values() if isinstance(v, dict | list))
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node if isinstance(v, dict | list))
