"""Applies the `redact` obligation: findings' spans become `[REDACTED:<tag>]`.

The body is copied along the paths that change only; the app's original is untouched.
Tool schemas are never rewritten. Tool-call arguments are JSON text: a span there is
widened to whole escapes, or to whole JSON values, so valid JSON stays valid and no span
is silently skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sidecar.classify.extract import SCHEMA_SUFFIXES
from sidecar.classify.jsontext import is_json, mask_json
from sidecar.classify.model import Finding, JsonPath, Segment


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


def _set_path(body: Any, path: JsonPath, value: str) -> Any:
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


def redact(
    body: dict[str, Any],
    segments: Sequence[Segment],
    findings: Sequence[Finding],
    categories: Collection[str],
    masks: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    per_segment: dict[int, list[tuple[int, int, str]]] = defaultdict(list)
    for f in findings:
        if f.category in categories:
            per_segment[f.segment].append((f.start, f.end, f.tag))
    result: Any = body
    for index, spans in per_segment.items():
        segment = segments[index]
        if segment.path and segment.path[-1] in SCHEMA_SUFFIXES:
            continue
        if segment.path and segment.path[-1] == "arguments":
            new_text = _mask_json_string(segment.text, spans, masks)
        else:
            new_text = mask(segment.text, spans, masks)
        result = _set_path(result, segment.path, new_text)
    out: dict[str, Any] = result
    return out
