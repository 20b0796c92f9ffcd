"""Applies the `redact` obligation: findings' spans become `[REDACTED:<tag>]`.

The body is copied along the paths that change only; the app's original is untouched.
Every form of segment the walk produces is written back in its own form: JSON text stays
valid JSON (a span is widened to whole escapes or whole values), a key is renamed, a
number becomes the replacement string, a base64 file is decoded, masked and encoded again.
Text extracted from a PDF cannot be written back: that is an error, never a silent skip.
"""

from __future__ import annotations

import base64
from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import orjson

from sidecar.classify.jsontext import is_json, mask_json
from sidecar.classify.model import (
    BASE64,
    DUMP,
    EXTRACTED,
    JSON,
    KEY,
    Finding,
    JsonPath,
    Segment,
)

HEADERS = "$headers"
"""Segments of forwarded header values have paths under this; the pipeline drops a header
whose value must be redacted."""


class Unredactable(Exception):
    """A finding the obligation covers sits where it cannot be rewritten (a PDF's text)."""


def replacement(value: str, tag: str, style: str = "tag") -> str:
    """`[REDACTED:<tag>]`, or with `last4` a format-preserving mask: every letter and digit
    but the last four becomes `*`, separators stay (`**** **** **** 1111`)."""
    if style != "last4":
        return f"[REDACTED:{tag}]"
    keep, out = 4, []
    for ch in reversed(value):
        if ch.isalnum():
            out.append(ch if keep > 0 else "*")
            keep -= 1
        else:
            out.append(ch)
    return "".join(reversed(out))


def mask(
    text: str, spans: list[tuple[int, int, str]], masks: Mapping[str, str] | None = None
) -> str:
    """Replace spans (merged where they overlap), right to left so offsets stay valid."""
    merged: list[list[Any]] = []
    for start, end, tag in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, tag])
    styles = masks or {}
    for start, end, tag in reversed(merged):
        text = text[:start] + replacement(text[start:end], tag, styles.get(tag, "tag")) + text[end:]
    return text


def _set_path(body: Any, path: JsonPath, value: Any) -> Any:
    """A copy of `body` with `path` set to `value`, copying only containers on the path."""
    if not path:
        return value
    head, rest = path[0], path[1:]
    if isinstance(body, dict):
        copy: Any = dict(body)
    else:
        copy = list(body)
    copy[head] = _set_path(body[head], rest, value)
    return copy


def _mask_json_string(
    text: str, spans: list[tuple[int, int, str]], masks: Mapping[str, str] | None
) -> str:
    """Tool-call arguments: valid JSON stays valid, and no span is skipped. A span cutting
    an escape is widened to whole escapes; one outside a single string (a card number sent
    as a JSON number) replaces every value token it touches (see `jsontext`)."""
    if not is_json(text):
        return mask(text, spans, masks)  # the app sent invalid JSON; it stays so, but masked
    styles = masks or {}
    return mask_json(
        text, spans, lambda s, e, tag: replacement(text[s:e], tag, styles.get(tag, "tag"))
    )


def _rename_key(body: Any, path: JsonPath, new_key: str) -> Any:
    """A copy of `body` with the key at `path` renamed, in place in the key order."""
    if len(path) > 1:
        copy: Any = dict(body) if isinstance(body, dict) else list(body)
        copy[path[0]] = _rename_key(body[path[0]], path[1:], new_key)
        return copy
    old = path[0]
    while new_key in body and new_key != old:
        new_key += "*"
    return {(new_key if k == old else k): v for k, v in body.items()}


def _rewritten(segment: Segment, spans: list[tuple[int, int, str]], masks: Any) -> Any:
    if segment.form == JSON:
        return _mask_json_string(segment.text, spans, masks)
    if segment.form == DUMP:  # a whole subtree, serialised: masked as JSON, parsed back
        return orjson.loads(_mask_json_string(segment.text, spans, masks))
    masked = mask(segment.text, spans, masks)
    if segment.form == BASE64:
        return (segment.codec or "") + base64.b64encode(masked.encode()).decode()
    return masked


def redact(
    body: dict[str, Any],
    segments: Sequence[Segment],
    findings: Sequence[Finding],
    categories: Collection[str],
    masks: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Raises Unredactable for a covered finding in text that cannot be written back."""
    per_segment: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for f in findings:
        if f.category in categories:
            per_segment[f.segment].append((f.start, f.end, f.tag))
    result: Any = body
    keys: list[tuple[JsonPath, str]] = []
    for index, spans in per_segment.items():
        segment = segments[index]
        if segment.path[:1] == (HEADERS,):
            continue
        if segment.form == EXTRACTED:
            raise Unredactable(spans[0][2])
        if segment.form == KEY:
            keys.append((segment.path, mask(segment.text, spans, masks)))
        else:
            result = _set_path(result, segment.path, _rewritten(segment, spans, masks))
    # Keys last, the deepest first: renaming an outer key would break the inner paths.
    for path, new_key in sorted(keys, key=lambda k: len(k[0]), reverse=True):
        result = _rename_key(result, path, new_key)
    out: dict[str, Any] = result
    return out
