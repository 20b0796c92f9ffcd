"""`llm-router audit verify FILE…`: proves an audit log complete and unmodified, or names
the first record where it is not.

Files are read in the order given (rotated files oldest first: `audit.jsonl.2 audit.jsonl.1
audit.jsonl`). Records of several sidecar instances may be interleaved (one collector, many
pods); each instance's chain is checked on its own:

- every record's `hash` must be the SHA-256 of its own content (else: modified);
- per instance, `seq` must go 0, 1, 2… and `prev_hash` must be the previous record's `hash`
  (else: deleted, reordered, or replaced); a missing seq that turns up later is reported as
  reordered, one that never does as deleted;
- with `--schema`, native records must also validate against the published JSON Schema
  (about 1 ms a record with jsonschema, against some 13 us for the chain checks alone).

An identical copy of a record already seen (an at-least-once redelivery) is counted and
ignored. Records lost to a full queue are not a failure when the trail says so itself
(`dropped_before`), and they are summed in the report. What no chain can show is a cut at
the very end of a log: compare the last `seq` with the sidecar's own count if that matters.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

import orjson

from sidecar.audit.chain import chain_fields, record_hash
from sidecar.audit.record import GENESIS, SCHEMA


@dataclass
class Problem:
    kind: str
    """modified | deleted | reordered | replaced | missing_start | invalid | not_json"""
    file: str
    line: int
    message: str
    instance: str | None = None
    seq: int | None = None


@dataclass
class Report:
    records: int = 0
    instances: dict[str, int] = field(default_factory=dict)
    """Last seq seen per instance."""
    duplicates: int = 0
    dropped: int = 0
    ignored: int = 0
    problem: Problem | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


DUPLICATE_WINDOW = 100_000
"""Per instance, how many recent records are remembered to recognise a redelivered copy.
Memory stays bounded however long the log is (one pass, no record kept)."""


@dataclass
class _Chain:
    seq: int
    hash: str
    recent: dict[int, str] = field(default_factory=dict)

    def remember(self, seq: int, digest: str) -> None:
        self.seq, self.hash = seq, digest
        self.recent[seq] = digest
        if len(self.recent) > DUPLICATE_WINDOW:
            del self.recent[next(iter(self.recent))]


def _read(paths: Iterable[Path]) -> Iterator[tuple[str, int, bytes]]:
    for path in paths:
        with open(path, "rb") as handle:
            for number, raw in enumerate(handle, 1):
                if raw.strip():
                    yield str(path), number, raw


def verify(
    lines: Iterable[tuple[str, int, bytes]],
    *,
    partial: bool = False,
    skip_other: bool = False,
    check_schema: bool = False,
) -> Report:
    """One pass over (file, line number, raw line). `partial`: chains may start after seq 0
    (an export that begins mid-way). Stops at the first problem; to tell a reordered record
    from a deleted one it then reads on, looking for the missing one."""
    report = Report()
    chains: dict[str, _Chain] = {}
    stream = iter(lines)
    for file, number, raw in stream:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            if skip_other:
                report.ignored += 1
                continue
            report.problem = Problem("not_json", file, number, "line is not JSON")
            return report
        fields = chain_fields(doc) if isinstance(doc, dict) else None
        if fields is None:
            if skip_other:
                report.ignored += 1
                continue
            report.problem = Problem("invalid", file, number, "not an audit record (no chain)")
            return report
        problem = _check(doc, fields, file, number, report, chains, partial, check_schema)
        if problem is not None:
            if problem.kind == "deleted" and problem.instance in chains:
                _reordered_or_deleted(problem, chains[problem.instance].seq + 1, stream)
            report.problem = problem
            return report
    report.instances = {instance: chain.seq for instance, chain in chains.items()}
    return report


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _check(
    doc: dict[str, Any],
    fields: dict[str, Any],
    file: str,
    number: int,
    report: Report,
    chains: dict[str, _Chain],
    partial: bool,
    check_schema: bool,
) -> Problem | None:
    instance, seq, claimed = str(fields.get("instance")), _int(fields.get("seq")), fields["hash"]

    def problem(kind: str, message: str) -> Problem:
        return Problem(kind, file, number, message, instance, seq)

    if seq < 0 or not isinstance(claimed, str):
        return problem("invalid", "seq or hash is malformed")
    if record_hash(doc) != claimed:
        return problem("modified", "the record's content does not match its hash")
    if check_schema and doc.get("schema") == SCHEMA:
        from sidecar.audit.schema import problems

        found = problems(doc)
        if found:
            return problem("invalid", "does not match the schema: " + "; ".join(found[:3]))
    chain = chains.get(instance)
    if chain is not None and seq <= chain.seq:
        if chain.recent.get(seq) == claimed:
            report.duplicates += 1
            return None
        if seq in chain.recent:
            return problem("replaced", f"a different record with seq {seq} came earlier")
        return problem("reordered", f"seq {seq} comes after seq {chain.seq}")
    expected = chain.seq + 1 if chain is not None else 0
    if seq > expected and not (chain is None and partial):
        gap = seq - expected
        if chain is None:
            return problem(
                "missing_start", f"{gap} record(s) missing before seq {seq} (seq 0..{seq - 1})"
            )
        return problem(
            "deleted", f"{gap} record(s) missing before seq {seq} (seq {expected}..{seq - 1})"
        )
    prev_hash = fields.get("prev_hash")
    if chain is not None and prev_hash != chain.hash:
        return problem("replaced", "prev_hash is not the hash of the previous record")
    if chain is None and seq == 0 and prev_hash != GENESIS:
        return problem("replaced", "the first record's prev_hash is not the genesis value")
    if chain is None:
        chain = chains[instance] = _Chain(seq, claimed)
    chain.remember(seq, claimed)
    report.records += 1
    dropped = fields.get("dropped_before", 0)
    report.dropped += dropped if isinstance(dropped, int) else 0
    return None


def _reordered_or_deleted(
    problem: Problem, wanted: int, rest: Iterator[tuple[str, int, bytes]]
) -> None:
    """A gap is a reordering if the first missing record turns up later in the input."""
    for file, number, raw in rest:
        try:
            doc = orjson.loads(raw)
        except orjson.JSONDecodeError:
            continue
        fields = chain_fields(doc) if isinstance(doc, dict) else None
        if (
            fields
            and str(fields.get("instance")) == problem.instance
            and _int(fields.get("seq")) == wanted
        ):
            problem.kind = "reordered"
            problem.message = f"seq {wanted} is missing here; it comes later ({file}:{number})"
            return


def main_verify(
    files: list[str],
    *,
    partial: bool = False,
    skip_other: bool = False,
    check_schema: bool = False,
    as_json: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            print(f"llm-router: {path}: no such file", file=sys.stderr)
            return 2
    report = verify(_read(paths), partial=partial, skip_other=skip_other, check_schema=check_schema)
    if as_json:
        data = asdict(report)
        data["ok"] = report.ok
        out.write(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode() + "\n")
        return 0 if report.ok else 1
    summary = f"{report.records} records, {len(report.instances) if report.ok else '?'} instance(s)"
    if report.duplicates:
        summary += f", {report.duplicates} identical duplicate(s) ignored"
    if report.dropped:
        summary += f", {report.dropped} record(s) reported dropped by the sidecar"
    if report.ignored:
        summary += f", {report.ignored} other line(s) ignored"
    if report.ok:
        out.write(f"OK: {summary}; every chain is intact\n")
        return 0
    p = report.problem
    assert p is not None
    out.write(
        f"FAIL: {p.file}:{p.line}: {p.kind}: {p.message} "
        f"(instance {p.instance}, seq {p.seq})\n"
        f"checked before it: {summary}\n"
    )
    return 1
