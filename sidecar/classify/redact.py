"""Applies the `redact` obligation: findings' spans become `[REDACTED:<tag>]`.

The body is copied along the paths that change only; the app's original is untouched.
Tool schemas are never rewritten. A span that would break the JSON of tool-call arguments
(by cutting through an escape) is widened to whole characters of the decoded string by
redacting inside the parsed value instead.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from sidecar.classify.extract import SCHEMA_SUFFIXES
from sidecar.classify.model import Finding, JsonPath, Segment


def mask(text: str, spans: list[tuple[int, int, str]]) -> str:
    """Replace spans (merged where they overlap), right to left so offsets stay valid."""
    merged: list[list[Any]] = []
    for start, end, tag in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end, tag])
    for start, end, tag in reversed(merged):
        text = text[:start] + f"[REDACTED:{tag}]" + text[end:]
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


def _mask_json_string(text: str, spans: list[tuple[int, int, str]]) -> str:
    masked = mask(text, spans)
    try:
        orjson.loads(masked)
        return masked
    except orjson.JSONDecodeError:
        pass
    try:
        parsed = orjson.loads(text)
    except orjson.JSONDecodeError:
        return masked  # the app sent invalid JSON arguments; it stays invalid, but masked
    # Fall back to masking every string value that contained a span's text.
    secrets = [text[s:e] for s, e, _ in spans]
    tags = [t for _, _, t in spans]

    def walk(node: Any) -> Any:
        if isinstance(node, str):
            for value, tag in zip(secrets, tags, strict=True):
                if value and value in node:
                    node = node.replace(value, f"[REDACTED:{tag}]")
            return node
        if isinstance(node, dict):
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    return orjson.dumps(walk(parsed)).decode()


def redact(
    body: dict[str, Any],
    segments: Sequence[Segment],
    findings: Sequence[Finding],
    categories: Collection[str],
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
            new_text = _mask_json_string(segment.text, spans)
        else:
            new_text = mask(segment.text, spans)
        result = _set_path(result, segment.path, new_text)
    out: dict[str, Any] = result
    return out
