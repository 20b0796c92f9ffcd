"""`llm-router audit verify FILE…`: proves an audit log complete and unmodified, or names
the first record where it is not.

Files are read in the order given (rotated files oldest first: `audit.jsonl.2 audit.jsonl.1
audit.jsonl`). Records of several sidecar instances may be interleaved (one collector, many
pods); each instance's chain is checked on its own:

- every record's `hash` must be the SHA-256 of its own content (else: modified);
- per instance, `seq` must go 0, 1, 2… and `prev_hash` must be the previous record's `hash`
  (else: deleted, reordered, or replaced); a missing seq that turns up later is reported as
  reordered, one that never does as deleted;
- native records must validate against the published JSON Schema.

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


@dataclass
class _Line:
    file: str
    number: int
    doc: dict[str, Any] | None
    fields: dict[str, Any] | None


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
    check_schema: bool = True,
) -> Report:
    """`partial`: chains may start after seq 0 (an export that begins mid-way)."""
    report = Report()
    parsed: list[_Line] = []
    for file, number, raw in lines:
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
        parsed.append(_Line(file, number, doc, fields))

    later: dict[tuple[str, int], _Line] = {}
    for entry in parsed:
        assert entry.fields is not None
        later.setdefault((str(entry.fields.get("instance")), _int(entry.fields.get("seq"))), entry)

    seen: dict[tuple[str, int], str] = {}
    last: dict[str, tuple[int, str]] = {}
    for entry in parsed:
        problem = _check(entry, report, seen, last, later, partial, check_schema)
        if problem is not None:
            report.problem = problem
            return report
    report.instances = {instance: seq for instance, (seq, _) in last.items()}
    return report


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else -1


def _check(
    entry: _Line,
    report: Report,
    seen: dict[tuple[str, int], str],
    last: dict[str, tuple[int, str]],
    later: dict[tuple[str, int], _Line],
    partial: bool,
    check_schema: bool,
) -> Problem | None:
    doc, fields = entry.doc, entry.fields
    assert doc is not None and fields is not None
    instance, seq, claimed = str(fields.get("instance")), _int(fields.get("seq")), fields["hash"]

    def problem(kind: str, message: str) -> Problem:
        return Problem(kind, entry.file, entry.number, message, instance, seq)

    if seq < 0 or not isinstance(claimed, str):
        return problem("invalid", "seq or hash is malformed")
    if record_hash(doc) != claimed:
        return problem("modified", "the record's content does not match its hash")
    if check_schema and doc.get("schema") == SCHEMA:
        from sidecar.audit.schema import problems

        found = problems(doc)
        if found:
            return problem("invalid", "does not match the schema: " + "; ".join(found[:3]))
    if (instance, seq) in seen:
        if seen[(instance, seq)] == claimed:
            report.duplicates += 1
            return None
        return problem("replaced", f"a different record with seq {seq} came earlier")
    previous = last.get(instance)
    expected = previous[0] + 1 if previous else 0
    if seq < expected:
        return problem("reordered", f"seq {seq} comes after seq {expected - 1}")
    if seq > expected and not (previous is None and partial):
        first_missing = later.get((instance, expected))
        if first_missing is not None:
            where = f"{first_missing.file}:{first_missing.number}"
            return problem("reordered", f"seq {expected} is missing here; it comes later ({where})")
        gap = seq - expected
        what = "deleted" if previous else "missing_start"
        return problem(
            what, f"{gap} record(s) missing before seq {seq} (seq {expected}..{seq - 1})"
        )
    prev_hash = fields.get("prev_hash")
    if previous is not None and prev_hash != previous[1]:
        return problem("replaced", "prev_hash is not the hash of the previous record")
    if previous is None and seq == 0 and prev_hash != GENESIS:
        return problem("replaced", "the first record's prev_hash is not the genesis value")
    seen[(instance, seq)] = claimed
    last[instance] = (seq, claimed)
    report.records += 1
    dropped = fields.get("dropped_before", 0)
    report.dropped += dropped if isinstance(dropped, int) else 0
    return None


def main_verify(
    files: list[str],
    *,
    partial: bool = False,
    skip_other: bool = False,
    as_json: bool = False,
    out: TextIO = sys.stdout,
) -> int:
    paths = [Path(f) for f in files]
    for path in paths:
        if not path.is_file():
            print(f"llm-router: {path}: no such file", file=sys.stderr)
            return 2
    report = verify(_read(paths), partial=partial, skip_other=skip_other)
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
