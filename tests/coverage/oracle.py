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
from sidecar.api import fields_anthropic, fields_openai, fields_responses
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
        """Values validators exempted."""
        return [v for walk in self.walks for v in walk.exempt]

    @property
    def declared(self) -> list[Any]:
        """Values forwarded as declared unscanned content (images, token ids, ...)."""
        return [v for walk in self.walks for v in walk.declared]


KNOWN_KEYS = fields_openai.DOCUMENTED | fields_anthropic.DOCUMENTED | fields_responses.DOCUMENTED


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


def _decoded_forms(value: str) -> tuple[list[str], bool]:
    """What a provider may read out of a string besides the string itself, and whether
    that replaces the string (base64: the provider reads the decoded bytes, not the
    characters) or comes on top of it (nested JSON: the model reads the text too)."""
    stripped = value.lstrip()
    if stripped[:1] in ("{", "["):
        try:
            nested = orjson.loads(value)
        except orjson.JSONDecodeError:
            nested = None
        if isinstance(nested, dict | list):
            return [leaf for leaf, _ in leaves(nested)], False
    payload = value.partition(",")[2] if value.startswith("data:") else value
    if len(payload) >= 8 and re.fullmatch(r"[A-Za-z0-9+/=\s_-]+", payload):
        try:
            raw = base64.b64decode(payload.translate(str.maketrans("-_", "+/")) + "==")
        except (binascii.Error, ValueError):
            return [], False
        if raw.startswith(b"%PDF-"):
            extracted = pdf_text(raw)
            return extracted.pages, extracted.complete
        try:
            return [raw.decode("utf-8")], True
        except UnicodeDecodeError:
            return [], False
    return [], False


def leaves(value: Any) -> Iterator[tuple[str, bool]]:
    """(string, is_key) for every key and string value, nested JSON and base64 text too."""
    for leaf, is_key, forms, replaces in raw_leaves(value):
        if not replaces:
            yield leaf, is_key
        for form in forms:
            yield form, False


def raw_leaves(value: Any) -> Iterator[tuple[str, bool, list[str], bool]]:
    """(string, is_key, decoded forms, whether they replace the string) of every key and
    string value."""
    stack = [value]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, child in node.items():
                yield key, True, [], False
                stack.append(child)
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            yield (node, False, *_decoded_forms(node))


def _bodies(received: Sequence[bytes]) -> Iterator[Any]:
    for raw in received:
        try:
            yield orjson.loads(raw)
        except orjson.JSONDecodeError:
            yield raw.decode("utf-8", "replace")


def marker_problems(seen: Seen, received: Sequence[bytes], marker: str) -> list[str]:
    """The marker upstream, but in no scanned text and no declared value. A marker inside
    a value a validator exempted is a problem too: markers hold a space, which no exempt
    shape (enum, id, number) admits, so such a validator let free text through."""
    if any(marker in text for text in seen.texts):
        return []
    declared = [v for v in seen.declared if isinstance(v, str)]
    exempt = [v for v in seen.exempt if isinstance(v, str) and marker in v]
    problems = [f"a validator exempted {v[:80]!r}" for v in exempt]
    for body in _bodies(received):
        for leaf, is_key in leaves(body):
            if marker in leaf and not any(leaf in v or marker in v for v in declared):
                where = "key" if is_key else "value"
                problems.append(f"marker forwarded unscanned in a {where}: {leaf[:80]!r}")
    return problems


def leaf_problems(seen: Seen, received: Sequence[bytes], models: Sequence[str]) -> list[str]:
    """Forwarded strings made of words that were neither scanned nor exempt."""
    corpus = "\x00".join(seen.texts)
    exempt = [v for v in (*seen.exempt, *seen.declared) if isinstance(v, str)]
    words = set(WORD.findall(corpus)) | TRANSLATOR_WORDS
    for value in (*exempt, *models):
        words.update(WORD.findall(value))
    problems = []
    for body in _bodies(received):
        for raw, is_key, forms, replaces in raw_leaves(body):
            # A string the scanner saw as it is was scanned, whatever it decodes to: the
            # scanner decodes base64 and percent-encoding in text itself.
            if not raw or raw in corpus or any(raw in v for v in exempt):
                continue
            if is_key and raw in KNOWN_KEYS:
                continue
            for leaf in [*([] if replaces else [raw]), *forms]:
                if leaf in corpus:
                    continue
                unknown = [w for w in WORD.findall(leaf) if w not in words]
                if unknown:
                    where = "key" if is_key else "value"
                    problems.append(f"{where} {leaf[:60]!r} has unscanned words {unknown[:3]}")
    return problems
