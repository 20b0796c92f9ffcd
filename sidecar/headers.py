"""Which of the app's request headers may reach an upstream, and which must be classified.

The sidecar speaks to providers with its own keys, so nothing the app sends in a header goes
upstream unless it is on the allow-list of that upstream's family:

- Anthropic upstreams (`api: anthropic`): `anthropic-beta`;
- OpenAI-family upstreams (`api: openai`, `azure_openai`): `OpenAI-Beta`;
- aggregators (`kind: aggregator`), in addition: `HTTP-Referer`, `X-Title` and
  `X-OpenRouter-Title`, OpenRouter's app attribution.

Never forwarded: the app's credentials (`Authorization`, `api-key`, `x-api-key`, cookies);
`OpenAI-Organization` and `OpenAI-Project`, which choose the account (and its data controls)
the sidecar's key is used under; and `anthropic-version`: the sidecar always sends the
configured `anthropic_version`, the version its translators and stream readers are written
for, since another version may change the shapes they read.

Configured static headers (`providers.<name>.headers`) win over the app's, compared without
regard to case; the sidecar's own (`Content-Type`, the key, `anthropic-version`, `Accept`)
win over both.

A forwardable value longer than 1 KB or holding control characters makes the request a 400
(`invalid_header`). Values that can carry free text are classified like the body:
`header_segments` returns them at path `("$headers", name)`. Only a beta header that is a
plain list of feature tokens is exempt.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from multidict import MultiMapping

from sidecar.classify.model import Segment
from sidecar.errors import RouterError

DECLARED_HEADER = "x-llm-data-class"
ANTHROPIC_BETA = "anthropic-beta"
OPENAI_BETA = "openai-beta"

ANTHROPIC_HEADERS = frozenset({ANTHROPIC_BETA})
OPENAI_HEADERS = frozenset({OPENAI_BETA})
AGGREGATOR_HEADERS = frozenset({"http-referer", "x-title", "x-openrouter-title"})
FORWARDABLE = ANTHROPIC_HEADERS | OPENAI_HEADERS | AGGREGATOR_HEADERS
"""Every app header some upstream may receive (lower case)."""
READ_HEADERS = FORWARDABLE | {DECLARED_HEADER}
"""Every header the sidecar reads from an app's request; the rest is never looked at."""

MAX_VALUE = 1024
"""Bytes (UTF-8) of one forwardable value."""
MAX_TOKEN_LIST = 256
TOKEN_HEADERS = frozenset({ANTHROPIC_BETA, OPENAI_BETA})
HEADER_PATH = "$headers"

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")
"""C0 and C1 controls, DEL, and the lone surrogates undecodable bytes arrive as."""
_BETA_TOKEN = re.compile(
    r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*-20[0-9]{2}-[0-9]{2}-[0-9]{2}|[a-z][a-z_-]*=v[0-9]{1,2}"
)
"""A feature token as the providers name them: Anthropic's `name-YYYY-MM-DD`
(`prompt-caching-2024-07-31`), OpenAI's `name=vN` (`assistants=v2`)."""
_DIGIT_RUN = re.compile(r"[0-9]{4}")


def read_app_headers(headers: MultiMapping[str]) -> dict[str, str]:
    """The headers of READ_HEADERS an app sent, by lower-case name. A repeated forwardable
    header is joined with ", " as HTTP lists are, so no copy escapes the checks; the
    declared data class keeps its first value."""
    found: dict[str, str] = {}
    for name in READ_HEADERS:
        values = headers.getall(name, [])
        if values:
            found[name] = values[0] if name == DECLARED_HEADER else ", ".join(values)
    return found


def forwardable(headers: Mapping[str, str]) -> dict[str, str]:
    """The app headers that some upstream may receive, checked: a value over MAX_VALUE
    bytes or with a control character is refused with a 400 (never forwarded, never
    echoed). Names are lower case; which upstream gets which is `for_upstream`'s choice."""
    forwarded: dict[str, str] = {}
    for name, value in headers.items():
        lower = name.lower()
        if lower not in FORWARDABLE:
            continue
        if _CONTROL.search(value) or len(value.encode()) > MAX_VALUE:
            raise RouterError(
                400,
                "invalid_header",
                f"header {lower} must be at most {MAX_VALUE} bytes, without control characters",
            )
        forwarded[lower] = value
    return forwarded


def allowed_for(api: str, kind: str) -> frozenset[str]:
    """The app headers an upstream of this backend `api` and route `kind` may receive."""
    allowed = ANTHROPIC_HEADERS if api == "anthropic" else OPENAI_HEADERS
    return allowed | AGGREGATOR_HEADERS if kind == "aggregator" else allowed


def for_upstream(
    forwarded: Mapping[str, str], api: str, kind: str, static: Mapping[str, str]
) -> dict[str, str]:
    """The app headers one upstream receives: its family's allow-list, minus any name the
    provider's static headers set (those win, whatever their case)."""
    allowed = allowed_for(api, kind)
    configured = {name.lower() for name in static}
    return {
        name: value
        for name, value in forwarded.items()
        if name in allowed and name not in configured
    }


def exempt(name: str, value: str) -> bool:
    """A value that cannot carry free text: a beta header's list of feature tokens, each a
    provider's token shape, with no four digits in a row but the date's year (so no
    number worth finding fits in one)."""
    if name not in TOKEN_HEADERS or len(value) > MAX_TOKEN_LIST:
        return False
    for token in value.split(","):
        token = token.strip()
        if not _BETA_TOKEN.fullmatch(token):
            return False
        if _DIGIT_RUN.search(token[:-10] if token[-11:-10] == "-" else token):
            return False
    return True


def header_segments(forwarded: Mapping[str, str]) -> list[Segment]:
    """Every forwarded header value that is not exempt, as a segment for the classifier.
    Its path, ("$headers", name), is not in the body: a header holding a finding that the
    `redact` obligation covers is not forwarded at all (`planning.redacted`)."""
    return [
        Segment(path=(HEADER_PATH, name.lower()), text=value)
        for name, value in forwarded.items()
        if not exempt(name.lower(), value)
    ]
