"""Strict validation of request bodies against the SDKs' TypedDicts.

A plain `TypeAdapter(SomeParams).validate_python` proves little here: pydantic ignores
unknown keys in TypedDicts, coerces "5" to 5, and validates `Iterable[...]` fields lazily
(a generator nobody consumes, so the messages are never checked). `strict_validator`
rewrites the adapter's core schema so that unknown keys are errors, iterables are checked as
lists, and values must have their exact JSON types.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import TypeAdapter
from pydantic_core import SchemaValidator, ValidationError


def _tighten(node: Any) -> None:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            kind = item.get("type")
            if kind == "generator":  # Iterable[X]: validate eagerly, as a list
                item["type"] = "list"
            elif kind in ("typed-dict", "model-fields") and "extras_schema" not in item:
                item["extra_behavior"] = "forbid"  # (a typed extras schema means "open")
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


@cache
def strict_validator(params: Any) -> SchemaValidator:
    """A validator for `params` (a TypedDict) that refuses unknown keys anywhere."""
    schema = copy.deepcopy(TypeAdapter(params).core_schema)
    _tighten(schema)
    return SchemaValidator(schema)


def is_valid(params: Any, body: dict[str, Any]) -> bool:
    """Whether `body` is a valid `params`: cheaper than `schema_errors`, which builds every
    union member's complaint."""
    return strict_validator(params).isinstance_python(body, strict=True)


def schema_errors(params: Any, body: dict[str, Any]) -> list[str]:
    """Why `body` is not a valid `params`, one line per error; empty when it is.

    Unions report every member's complaint, so the list can be long; the closest member's
    errors are usually the ones with the deepest location.
    """
    if is_valid(params, body):
        return []
    try:
        strict_validator(params).validate_python(body, strict=True)
    except ValidationError as err:
        return [
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in sorted(err.errors(), key=lambda e: -len(e["loc"]))
        ]
    return []
