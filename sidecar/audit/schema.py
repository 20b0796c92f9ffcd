"""The published JSON Schema of audit records, and a validator for it.

The schema file ships inside the package (next to this module), so `llm-router audit
verify` can check records anywhere the sidecar is installed, and the same file is the one
the README links to for consumers.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson

SCHEMA_FILE = Path(__file__).with_name("llm-router.audit.v1.schema.json")


@functools.cache
def schema() -> dict[str, Any]:
    loaded: dict[str, Any] = orjson.loads(SCHEMA_FILE.read_bytes())
    return loaded


@functools.cache
def _validator() -> Any:
    import jsonschema

    cls = jsonschema.validators.validator_for(schema())
    cls.check_schema(schema())
    return cls(schema(), format_checker=cls.FORMAT_CHECKER)


def problems(record: Any) -> list[str]:
    """Every way `record` fails the schema, as `path: message` strings (empty when valid)."""
    errors = sorted(_validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    return [
        f"{'.'.join(str(p) for p in e.absolute_path) or '(record)'}: {e.message}" for e in errors
    ]
