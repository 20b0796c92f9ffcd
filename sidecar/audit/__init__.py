"""Audit trail: one record per request (schema `llm-router.audit/v1`), sealed into a hash
chain per sidecar instance and written to a sink (stdout, a rotated file, or an HTTP
collector behind an on-disk queue) by a writer thread behind a bounded buffer, optionally
in OPA's decision-log format.

Modules: `record` (the record), `schema` (the published JSON Schema), `chain` (hash
chain), `writer` (the buffer and the writer thread), `sinks` (stdout, file), `queue` +
`http` (HTTP sink), `opa` (decision-log format), `verify` (`llm-router audit verify`),
`log` (AuditLog and diagnostic logging).
"""

from sidecar.audit.log import AuditLog, configure_logging
from sidecar.audit.record import SCHEMA, Attempt, AuditRecord

__all__ = ["SCHEMA", "Attempt", "AuditLog", "AuditRecord", "configure_logging"]
