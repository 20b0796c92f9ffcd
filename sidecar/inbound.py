"""The first checks of an app's request, before anything is parsed: its content type, its
size, and the data class it declares. Each failure is the app's error (4xx), raised before
a byte of the body is looked at."""

from __future__ import annotations

from sidecar.api.base import BodyTooLarge, Inbound
from sidecar.classify import parse_declared
from sidecar.config import Limits
from sidecar.errors import RouterError
from sidecar.headers import DECLARED_HEADER


async def read_body(inbound: Inbound, limits: Limits) -> bytes:
    """The body, if it is JSON and within `limits.max_body_bytes`."""
    ctype = inbound.content_type.lower()
    if ctype != "application/json" and not ctype.endswith("+json"):
        raise RouterError(415, "unsupported_media_type", "content type must be application/json")
    limit = limits.max_body_bytes
    too_large = RouterError(413, "request_too_large", f"request body exceeds {limit} bytes")
    if inbound.content_length is not None and inbound.content_length > limit:
        raise too_large
    try:
        raw: bytes = await inbound.read()
    except BodyTooLarge:
        raise too_large from None
    return raw


def declared_class(inbound: Inbound) -> str | None:
    """The X-LLM-Data-Class header, normalised (None: not sent)."""
    value = inbound.headers.get(DECLARED_HEADER)
    if value is None:
        return None
    try:
        return parse_declared(value)
    except ValueError:
        raise RouterError(
            400, "invalid_data_class", "X-LLM-Data-Class must name a level or a category"
        ) from None
