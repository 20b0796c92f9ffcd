"""Value types shared by extraction, scanning, classification and redaction.

They are plain frozen dataclasses so that the pipeline can hand them to the policy input
builder and the audit record without either of those knowing how detection works.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple

LEVELS: tuple[str, ...] = ("public", "internal", "confidential", "regulated")
"""Sensitivity levels, lowest first. A level can be raised by any source, never lowered."""

REGULATED_CATEGORIES: frozenset[str] = frozenset({"pii", "phi", "pci", "secret"})
"""Categories whose presence makes a payload `regulated`."""

JsonPath = tuple[str | int, ...]

TEXT = "text"
JSON = "json"
DUMP = "dump"
KEY = "key"
NUMBER = "number"
BASE64 = "base64"
EXTRACTED = "extracted"
"""The forms of a `Segment`: how its text relates to the value at its path."""


def level_rank(level: str) -> int:
    """Position of `level` in LEVELS; raises ValueError for an unknown level."""
    return LEVELS.index(level)


def max_level(*levels: str) -> str:
    return max(levels, key=level_rank)


class Segment(NamedTuple):
    """One piece of text the model will read, and where it lives in the request body.

    `path` addresses the JSON value holding `text`, e.g. ("messages", 0, "content") or
    ("messages", 2, "tool_calls", 0, "function", "arguments"); redaction writes back there.
    A named tuple rather than a frozen dataclass: a request can have hundreds, and a frozen
    dataclass costs several times more to build.
    """

    path: JsonPath
    text: str
    form: str = TEXT
    """How `text` relates to the value at `path`: `text` (it is the string), `json` (the
    string is JSON text, scanned with its escapes decoded), `key` (the last step of `path`
    is an object key, and this is it), `dump` (the object or array at `path`, serialised as
JSON: one segment for a whole subtree), `number` (a number, as text), `base64` (the string,
    after the `codec` prefix, is base64 of this text), `extracted` (text extracted from a
    file, a PDF: it cannot be written back)."""
    codec: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A validated detection. Offsets are character indices into the original segment text
    (before normalisation), so redaction and offline scoring can use them directly.
    The matched value itself is deliberately not stored."""

    tag: str
    segment: int
    start: int
    end: int
    confidence: float

    @property
    def category(self) -> str:
        return self.tag.split(".", 1)[0]


@dataclass(frozen=True, slots=True)
class Classification:
    """What the policy learns about a payload: never the text, only tags and counts."""

    level: str
    categories: tuple[str, ...]
    tags: Mapping[str, int]
    sources: tuple[str, ...]
    findings: tuple[Finding, ...] = field(default=(), repr=False)
    truncated: bool = False
    unscanned: tuple[str, ...] = ()
    """Kinds of content forwarded without being scanned (images, remote URLs, ...), sorted."""
    content_level: str | None = None
    """The level the content alone gave, before a declaration or the workload raised it."""
    low_confidence: Mapping[str, int] = field(default_factory=dict)
    """Tags found only below medium confidence (0.5), with their counts: in neither `tags`,
    `categories`, `level` nor `findings`; the policy sees them as `low_confidence_tags`."""

    def to_policy_input(self) -> dict[str, Any]:
        out = {
            "level": self.level,
            "content_level": self.content_level or self.level,
            "categories": list(self.categories),
            "tags": dict(self.tags),
            "sources": list(self.sources),
            "truncated": self.truncated,
            "unscanned": list(self.unscanned),
        }
        if self.low_confidence:
            out["low_confidence_tags"] = dict(self.low_confidence)
        return out
