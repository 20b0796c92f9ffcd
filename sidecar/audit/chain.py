"""The hash chain that makes an audit trail tamper-evident, per sidecar instance.

Every record carries `instance` (random, chosen when the sidecar starts), `seq` (0, 1, 2…
within the instance), `prev_hash` (the previous record's `hash`; 64 zeros for seq 0) and
`hash`: the SHA-256 of the record's canonical JSON without `hash` (keys sorted, no spaces,
UTF-8). Editing a record changes its hash; deleting or reordering records breaks `seq` and
`prev_hash`. `llm-router audit verify` recomputes all of it from the lines alone.

The hash is not keyed: whoever can rewrite the whole log can rewrite the chain too. What
the chain proves is that the copy shipped off the machine (and each copy since) is complete
and unmodified from its first record on.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from sidecar.audit.record import GENESIS

CHAIN_FIELDS = ("instance", "seq", "prev_hash", "hash", "dropped_before")
EXTENSION = "llm_router"
"""In OPA decision-log documents the chain fields live under this key, not at the top."""


def canonical(doc: dict[str, Any]) -> bytes:
    """The bytes that are hashed: sorted keys, compact, UTF-8. Parsing a line and dumping it
    again gives the same bytes (orjson writes floats in their shortest round-trip form)."""
    return orjson.dumps(doc, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def chain_fields(doc: dict[str, Any]) -> dict[str, Any] | None:
    """Where a document keeps its chain fields: the top level (native format) or the
    `llm_router` extension object (OPA decision-log format)."""
    if "seq" in doc and "hash" in doc:
        return doc
    ext = doc.get(EXTENSION)
    if isinstance(ext, dict) and "seq" in ext and "hash" in ext:
        return ext
    return None


def record_hash(doc: dict[str, Any]) -> str:
    """SHA-256 over the document without its `hash` field (which may be nested)."""
    fields = chain_fields(doc)
    if fields is None:
        raise ValueError("document has no chain fields")
    claimed = fields.pop("hash")
    try:
        return hashlib.sha256(canonical(doc)).hexdigest()
    finally:
        fields["hash"] = claimed


@dataclass
class Sealed:
    line: bytes
    seq: int
    hash: str


class Chain:
    """Assigns seq and hashes in emission order. `seal` does not advance the chain until
    `commit` is called, so a record that could not be written leaves no gap behind."""

    def __init__(self, instance: str | None = None) -> None:
        self.instance = instance or uuid.uuid4().hex
        self.seq = 0
        self.prev_hash = GENESIS

    def seal(self, doc: dict[str, Any], dropped_before: int = 0, nested: bool = False) -> Sealed:
        fields: dict[str, Any] = {}
        if nested:
            ext = doc.setdefault(EXTENSION, {})
            assert isinstance(ext, dict)
            fields = ext
        else:
            fields = doc
        fields["instance"] = self.instance
        fields["seq"] = self.seq
        fields["prev_hash"] = self.prev_hash
        fields["dropped_before"] = dropped_before
        fields.pop("hash", None)
        digest = hashlib.sha256(canonical(doc)).hexdigest()
        fields["hash"] = digest
        line = orjson.dumps(doc, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_APPEND_NEWLINE)
        return Sealed(line, self.seq, digest)

    def commit(self, sealed: Sealed) -> None:
        self.seq = sealed.seq + 1
        self.prev_hash = sealed.hash
