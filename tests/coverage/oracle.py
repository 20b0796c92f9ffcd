"""The coverage oracle: every string that reaches an upstream was scanned, or left as a
value a validator exempted, or as content declared unscanned.

It instruments the sidecar in two places: the whole-body walk (what each request's walk
exempted or declared) and the classifier (the texts it was given, i.e. what was scanned),
and reads what the loopback upstreams received. A forwarded string is checked in the
forms a provider decodes: nested JSON is parsed, base64 text and data: URLs decoded.

Two checks. `marker_problems`: a planted marker found anywhere upstream must have been in a
scanned text, or inside an exempted or declared value; this is the sharp one, with one
marker per request. `leaf_problems`: every forwarded string at all must be accounted for by
the scanned texts, the exemptions or the words translators write themselves; it is
coarser (word by word, since translators join and split text), and it catches a field no
one planted a marker in.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
import pytest

import sidecar.api.base as api_base
from sidecar.classify import Classifier
from sidecar.classify.model import Segment
from sidecar.classify.pdftext import pdf_text
from sidecar.classify.unescape import unescape
from sidecar.classify.walk import Extraction

WORD = re.compile(r"[A-Za-z0-9]{3,}")
TRANSLATOR_WORDS = frozenset(
    {
        # Discriminators, roles and enums that translators write in the other format.
        "auto",
        "any",
        "tool",
        "none",
        "required",
        "function",
        "text",
        "image",
        "image_url",
        "base64",
        "url",
        "user",
        "assistant",
        "system",
        "tool_use",
        "tool_result",
        "type",
        "object",
        "json_schema",
        "json_object",
        "ephemeral",
        "data",
        "stop",
        "end_turn",
        "max_tokens",
        "thinking",
        "enabled",
        "disabled",
        "file",
        "document",
        "application",
        "pdf",
        "png",
        "jpeg",
        "gif",
        "webp",
        "image/png",
        "image/jpeg",
        "plain",
        # openai_anthropic.JSON_OBJECT_INSTRUCTION
        "Respond",
        "with",
        "single",
        "valid",
        "JSON",
        "and",
        "nothing",
        "else",
    }
)
"""Words the translators themselves write (never app data): see sidecar/providers/."""


@dataclass
class Seen:
    walks: list[Extraction] = field(default_factory=list)
    scanned: list[Segment] = field(default_factory=list)

    def reset(self) -> None:
        self.walks.clear()
        self.scanned.clear()

    @property
    def texts(self) -> list[str]:
        out: list[str] = []
        for segment in self.scanned:
            out.append(segment.text)
            decoded = unescape(segment.text)
            if decoded is not None:
                out.append(decoded.text)
        return out

    @property
    def exempt(self) -> list[Any]:
        return [v for walk in self.walks for v in walk.exempt]


def instrument(monkeypatch: pytest.MonkeyPatch) -> Seen:
    """Record every walk and every classification of the sidecars of this test."""
    seen = Seen()
    real_walk = api_base.walk
    real_classify = Classifier.classify

    def walk(body: Any, tree: Any) -> Extraction:
        result = real_walk(body, tree)
        seen.walks.append(result)
        return result

    def classify(self: Classifier, segments: Sequence[Segment], *args: Any, **kw: Any) -> Any:
        seen.scanned.extend(segments)
        return real_classify(self, segments, *args, **kw)

    monkeypatch.setattr(api_base, "walk", walk)
    monkeypatch.setattr(Classifier, "classify", classify)
    return seen


def _decoded_forms(value: str) -> Iterator[str]:
    """What a provider may read out of a string besides the string itself."""
    stripped = value.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            nested = orjson.loads(value)
        except orjson.JSONDecodeError:
            nested = None
        if isinstance(nested, dict | list):
            for leaf, _ in leaves(nested):
                yield leaf
            return
    payload = value.partition(",")[2] if value.startswith("data:") else value
    if len(payload) >= 8 and re.fullmatch(r"[A-Za-z0-9+/=\s_-]+", payload):
        try:
            raw = base64.b64decode(payload.translate(str.maketrans("-_", "+/")) + "==")
        except (binascii.Error, ValueError):
            return
        if raw.startswith(b"%PDF-"):
            yield from pdf_text(raw).pages
            return
        try:
            yield raw.decode("utf-8")
        except UnicodeDecodeError:
            return


def leaves(value: Any) -> Iterator[tuple[str, bool]]:
    """(string, is_key) for every key and string value, nested JSON and base64 text too."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                yield key, True
                stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            yield node, False
            for form in _decoded_forms(node):
                yield form, False


def _bodies(received: Sequence[bytes]) -> Iterator[Any]:
    for raw in received:
        try:
            yield orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield raw.decode("utf-8", "replace")


def marker_problems(seen: Seen, received: Sequence[bytes], marker: str) -> list[str]:
    """The marker upstream, but in no scanned text and no exempted or declared value."""
    if any(marker in text for text in seen.texts):
        return []
    exempt = [v for v in seen.exempt if isinstance(v, str)]
    problems = []
    for body in _bodies(received):
        for leaf, is_key in leaves(body):
            if marker in leaf and not any(leaf in v or marker in v for v in exempt):
                where = "key" if is_key else "value"
                problems.append(f"marker forwarded unscanned in a {where}: {leaf[:80]!r}")
    return problems


def leaf_problems(seen: Seen, received: Sequence[bytes], models: Sequence[str]) -> list[str]:
    """Forwarded strings made of words that were neither scanned nor exempt."""
    corpus = "\x00".join(seen.texts)
    exempt = [v for v in seen.exempt if isinstance(v, str)]
    words = set(WORD.findall(corpus)) | TRANSLATOR_WORDS
    for value in (*exempt, *models):
        words.update(WORD.findall(value))
    problems = []
    for body in _bodies(received):
        for leaf, is_key in leaves(body):
            if not leaf or leaf in corpus or any(leaf in v for v in exempt):
                continue
            unknown = [w for w in WORD.findall(leaf) if w not in words]
            if unknown:
                where = "key" if is_key else "value"
                problems.append(f"{where} {leaf[:60]!r} has unscanned words {unknown[:3]}")
    return problems
