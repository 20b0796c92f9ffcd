"""A small LogQL checker for the Audit dashboard: structure, and the field names each query
uses against the audit record's JSON Schema.

No Loki runs in the tests, so this reads LogQL the way Loki's parser would for the subset
the dashboard uses: stream selectors, line filters, `json` (bare, or with `label="path"`
extractions), label filters, `line_format`, `unwrap`, range aggregations and `by (...)`
grouping. The bare `json` stage flattens nested objects with `_` and skips arrays, so a
field name is valid when it is a flattened scalar (or a map entry) of the schema; a
`json x="a.b[0].c"` extraction is valid when the path exists in the schema.
"""

from __future__ import annotations

import re
from typing import Any

STAGES = ("json", "logfmt", "line_format", "label_format", "unwrap", "keep", "drop")
LINE_FILTER = re.compile(r'^[=~]\s*"(?:[^"\\]|\\.)*"$')
LABEL_FILTER = re.compile(
    r"^(?P<name>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|>=|<=|==|=|>|<)\s*"
    r'(?P<value>"(?:[^"\\]|\\.)*"|-?[0-9.]+)$'
)
JSON_PARAM = re.compile(r'^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*=\s*"([^"]*)"\s*$')
SELECTOR = re.compile(r"(?<!\{)\{(?!\{)([^{}]*)\}(?!\})")
"""A stream selector `{...}`, not a `{{ .field }}` of a line_format template."""
TEMPLATE_FIELD = re.compile(r"\{\{\s*\.([a-zA-Z_][a-zA-Z0-9_]*)\s*\}\}")
GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
FUNCTIONS = {
    "sum", "count", "avg", "min", "max", "topk", "bottomk", "sort", "sort_desc",
    "count_over_time", "rate", "bytes_over_time", "bytes_rate", "sum_over_time",
    "avg_over_time", "max_over_time", "min_over_time", "quantile_over_time",
    "first_over_time", "last_over_time", "absent_over_time", "by", "without", "vector",
}  # fmt: skip


class LogQLError(ValueError):
    pass


def schema_fields(schema: dict[str, Any]) -> tuple[set[str], set[str]]:
    """(flattened scalar names, prefixes of free-form maps) as the json stage produces them."""
    names: set[str] = set()
    maps: set[str] = set()

    def walk(node: dict[str, Any], prefix: str) -> None:
        for branch in node.get("oneOf", []):
            walk(branch, prefix)
        if "$ref" in node:
            walk(_resolve(schema, node["$ref"]), prefix)
        props = node.get("properties")
        if props:
            for key, sub in props.items():
                walk(sub, f"{prefix}_{key}" if prefix else key)
        elif isinstance(node.get("additionalProperties"), dict) or node.get("type") == "object":
            maps.add(prefix + "_")
        elif node.get("type") != "array" and prefix:
            names.add(prefix)

    walk(schema, "")
    return names, maps


def _resolve(schema: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = schema
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    resolved: dict[str, Any] = node
    return resolved


def path_exists(schema: dict[str, Any], path: str) -> bool:
    """`a.b[0].c` against the schema (arrays by index, objects by property)."""
    node: dict[str, Any] = schema
    for part in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        node = _object_branch(schema, node)
        if part.startswith("["):
            if node.get("type") != "array":
                return False
            node = node.get("items", {})
        else:
            props = node.get("properties", {})
            if part not in props:
                return False
            node = props[part]
    return True


def _object_branch(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    if "$ref" in node:
        node = _resolve(schema, node["$ref"])
    for branch in node.get("oneOf", []):
        if branch.get("type") != "null":
            return _object_branch(schema, branch)
    return node


def _split_top(text: str, sep: str) -> list[str]:
    parts, depth, quoted, current = [], 0, False, []
    i = 0
    while i < len(text):
        ch = text[i]
        if quoted:
            current.append(ch)
            if ch == "\\":
                current.append(text[i + 1])
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
            current.append(ch)
        elif ch in "({[":
            depth += 1
            current.append(ch)
        elif ch in ")}]":
            depth -= 1
            current.append(ch)
        elif ch == sep and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    parts.append("".join(current))
    return parts


def _check_balance(expr: str) -> None:
    stack: list[str] = []
    pairs = {")": "(", "]": "[", "}": "{"}
    quoted = False
    i = 0
    while i < len(expr):
        ch = expr[i]
        if quoted:
            if ch == "\\":
                i += 1
            elif ch == '"':
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch in "([{":
            stack.append(ch)
        elif ch in ")]}" and (not stack or stack.pop() != pairs[ch]):
            raise LogQLError(f"unbalanced {ch!r} at {i}")
        i += 1
    if quoted or stack:
        raise LogQLError("unclosed quote or bracket")


def check(expr: str, schema: dict[str, Any], stream_labels: set[str]) -> set[str]:
    """Raise LogQLError for a malformed query or an unknown field; return the fields used."""
    _check_balance(expr)
    names, maps = schema_fields(schema)
    used: set[str] = set()
    created: set[str] = set()
    selectors = list(SELECTOR.finditer(expr))
    if not selectors:
        raise LogQLError("no stream selector")
    for match in selectors:
        for matcher in _split_top(match.group(1), ","):
            m = re.match(r'^\s*([a-zA-Z_]\w*)\s*(=~|!~|!=|=)\s*"(?:[^"\\]|\\.)*"\s*$', matcher)
            if not m:
                raise LogQLError(f"bad stream matcher {matcher!r}")
            if m.group(1) not in stream_labels:
                raise LogQLError(f"unknown stream label {m.group(1)!r}")
    for pipeline in _pipelines(expr):
        for stage in pipeline:
            used |= _stage(stage.strip(), schema, created)
    for words in GROUPING.findall(_strip_templates(expr)):
        used |= {w.strip() for w in words.split(",") if w.strip()}
    for word in re.findall(r"([a-z_]+)\s*\(", _strip_strings(expr)):
        if word not in FUNCTIONS:
            raise LogQLError(f"unknown function {word!r}")
    unknown = {
        name
        for name in used
        if name not in names
        and name not in created
        and name not in stream_labels
        and not any(name.startswith(prefix) for prefix in maps)
    }
    if unknown:
        raise LogQLError(f"fields not in the audit schema: {sorted(unknown)}")
    return used


def _strip_strings(expr: str) -> str:
    return re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)


def _strip_templates(expr: str) -> str:
    return re.sub(r"\{\{.*?\}\}", "", expr)


def _pipelines(expr: str) -> list[list[str]]:
    """The stages after each stream selector, up to a range `[...]` or a closing paren."""
    out = []
    for match in SELECTOR.finditer(expr):
        rest = expr[match.end() :]
        end = _pipeline_end(rest)
        body = rest[:end].strip()
        if not body:
            out.append([])
            continue
        if not body.startswith(("|", "!=", "!~")):
            raise LogQLError(f"unexpected text after the selector: {body[:20]!r}")
        stages = []
        for piece in _split_top(body, "|")[1:]:
            stages.append(piece)
        out.append(stages)
    return out


def _pipeline_end(rest: str) -> int:
    depth, quoted = 0, False
    for i, ch in enumerate(rest):
        if quoted:
            if ch == '"' and rest[i - 1] != "\\":
                quoted = False
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            if depth == 0:
                return i
            depth -= 1
        elif ch == "[" and depth == 0:
            return i
    return len(rest)


def _stage(stage: str, schema: dict[str, Any], created: set[str]) -> set[str]:
    if LINE_FILTER.match(stage):
        return set()
    word = stage.split(None, 1)[0] if stage else ""
    arg = stage[len(word) :].strip()
    if word == "json":
        if arg:
            for param in _split_top(arg, ","):
                m = JSON_PARAM.match(param)
                if not m:
                    raise LogQLError(f"bad json parameter {param!r}")
                if not path_exists(schema, m.group(2)):
                    raise LogQLError(f"json path {m.group(2)!r} is not in the audit schema")
                created.add(m.group(1))
        return set()
    if word == "line_format":
        if not re.match(r'^"(?:[^"\\]|\\.)*"$', arg):
            raise LogQLError("line_format needs one quoted template")
        return set(TEMPLATE_FIELD.findall(arg))
    if word == "unwrap":
        if not re.match(r"^[a-zA-Z_]\w*$", arg):
            raise LogQLError("unwrap needs a label name")
        return {arg}
    if word in STAGES:
        return set()
    m = LABEL_FILTER.match(stage)
    if not m:
        raise LogQLError(f"unknown pipeline stage {stage!r}")
    return {m.group("name")}
