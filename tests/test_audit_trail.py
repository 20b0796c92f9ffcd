"""The audit trail itself: schema, hash chain, `audit verify`, file rotation, OPA format,
failed writes, and the session-wide tap that checks the whole suite's audit output."""

from __future__ import annotations

import io
import itertools
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.audit.chain import Chain, record_hash
from sidecar.audit.log import AuditLog
from sidecar.audit.record import GENESIS
from sidecar.audit.schema import SCHEMA_FILE, problems, schema
from sidecar.audit.verify import verify
from sidecar.config import AuditConfig
from sidecar.metrics import Metrics
from tests.audit_support import sample_record
from tests.audit_tap import AuditTap
from tests.conftest import run_cli


def emit_lines(count: int, **cfg: Any) -> list[bytes]:
    stream = io.BytesIO()
    log = AuditLog(AuditConfig(**cfg), stream)
    for _ in range(count):
        log.emit(sample_record())
    assert log.wait_written()
    return stream.getvalue().splitlines(keepends=True)


def check(lines: list[bytes], **kwargs: Any) -> Any:
    return verify((("audit.jsonl", n, line) for n, line in enumerate(lines, 1)), **kwargs)


def edit(line: bytes, change: Any) -> bytes:
    doc = orjson.loads(line)
    change(doc)
    return orjson.dumps(doc) + b"\n"


# ---- schema ------------------------------------------------------------------------------


def test_schema_file_is_a_valid_json_schema_and_documents_every_field() -> None:
    import jsonschema

    jsonschema.Draft202012Validator.check_schema(schema())
    assert schema()["properties"]["schema"]["const"] == "llm-router.audit/v1"
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    for name in schema()["properties"]:
        assert f"`{name}`" in readme, f"README does not document {name}"
    assert SCHEMA_FILE.name in readme


def test_sealed_records_validate_and_the_schema_rejects_extras() -> None:
    [line] = emit_lines(1)
    doc = orjson.loads(line)
    assert problems(doc) == []
    assert doc["seq"] == 0 and doc["prev_hash"] == GENESIS and doc["dropped_before"] == 0
    doc["prompt"] = "tell me a secret"
    assert any("prompt" in p for p in problems(doc))
    doc.pop("prompt")
    doc["classification"]["tags"]["pii.email"] = "jane@example.com"
    assert problems(doc)
    doc = orjson.loads(line)
    doc["outcome"]["route_kind"] = "sideways"
    assert problems(doc)


# ---- chain and verify --------------------------------------------------------------------


def test_an_untouched_log_verifies() -> None:
    lines = emit_lines(5)
    report = check(lines)
    assert report.ok and report.records == 5 and len(report.instances) == 1
    assert [orjson.loads(line)["seq"] for line in lines] == [0, 1, 2, 3, 4]
    docs = [orjson.loads(line) for line in lines]
    assert all(d["prev_hash"] == p["hash"] for p, d in itertools.pairwise(docs))
    assert all(record_hash(d) == d["hash"] for d in docs)


def test_verify_detects_a_deleted_record() -> None:
    lines = emit_lines(5)
    report = check(lines[:2] + lines[3:])
    assert report.problem is not None
    assert (report.problem.kind, report.problem.line, report.problem.seq) == ("deleted", 3, 3)
    assert "seq 2..2" in report.problem.message


def test_verify_detects_a_deleted_first_record_unless_partial() -> None:
    lines = emit_lines(3)
    report = check(lines[1:])
    assert report.problem is not None and report.problem.kind == "missing_start"
    assert check(lines[1:], partial=True).ok


def test_verify_detects_reordered_records() -> None:
    lines = emit_lines(5)
    report = check([lines[0], lines[1], lines[3], lines[2], lines[4]])
    assert report.problem is not None
    assert report.problem.kind == "reordered" and report.problem.line == 3
    assert "audit.jsonl:4" in report.problem.message


def test_verify_detects_an_edited_record() -> None:
    lines = emit_lines(4)

    def lower(doc: dict[str, Any]) -> None:
        doc["classification"]["level"] = "public"

    report = check([lines[0], edit(lines[1], lower), *lines[2:]])
    assert report.problem is not None
    assert (report.problem.kind, report.problem.line, report.problem.seq) == ("modified", 2, 1)


def test_verify_detects_an_edited_record_whose_hash_was_recomputed() -> None:
    lines = emit_lines(4)

    def forge(doc: dict[str, Any]) -> None:
        doc["classification"]["level"] = "public"
        doc["classification"]["tags"] = {}
        doc["hash"] = record_hash(doc)

    report = check([lines[0], edit(lines[1], forge), *lines[2:]])
    assert report.problem is not None
    assert (report.problem.kind, report.problem.line) == ("replaced", 3)


def test_verify_accepts_identical_duplicates_and_interleaved_instances() -> None:
    first, second = emit_lines(3), emit_lines(3)
    mixed = [first[0], second[0], first[1], first[1], second[1], second[2], first[2]]
    report = check(mixed)
    assert report.ok and report.records == 6 and report.duplicates == 1
    assert len(report.instances) == 2


def test_verify_rejects_lines_that_are_not_records_unless_told_to_skip_them() -> None:
    lines = emit_lines(2)
    mixed = [lines[0], b"not json\n", b'{"event": "started"}\n', lines[1]]
    report = check(mixed)
    assert report.problem is not None and report.problem.kind == "not_json"
    report = check(mixed, skip_other=True)
    assert report.ok and report.ignored == 2


def test_audit_verify_cli(tmp_path: Path) -> None:
    lines = emit_lines(4)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(b"".join(lines))
    bad.write_bytes(b"".join([lines[0], lines[2], lines[1], lines[3]]))
    ok = run_cli("audit", "verify", str(good))
    assert ok.returncode == 0 and ok.stdout.startswith("OK: 4 records, 1 instance(s)")
    failed = run_cli("audit", "verify", str(bad))
    assert failed.returncode == 1
    assert f"FAIL: {bad}:2: reordered" in failed.stdout
    as_json = run_cli("audit", "verify", "--json", str(bad))
    assert orjson.loads(as_json.stdout)["problem"]["kind"] == "reordered"
    invalid = tmp_path / "invalid.jsonl"

    def off_schema(doc: dict[str, Any]) -> None:
        doc["api"] = "Not An API"
        doc["hash"] = record_hash(doc)

    invalid.write_bytes(edit(lines[0], off_schema))
    assert run_cli("audit", "verify", str(invalid)).returncode == 0  # the chain holds
    with_schema = run_cli("audit", "verify", "--schema", str(invalid))
    assert (
        with_schema.returncode == 1 and "invalid: does not match the schema" in with_schema.stdout
    )
    assert run_cli("audit", "verify", str(tmp_path / "missing")).returncode == 2


# ---- sinks and formats -------------------------------------------------------------------


async def test_file_sink_rotates_by_size_and_the_chain_spans_the_files(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.jsonl"
    log = AuditLog(AuditConfig(sink="file", path=path, max_bytes=4000, backups=20))
    await log.start()
    for _ in range(12):
        log.emit(sample_record())
    await log.close()
    rotated = sorted(path.parent.glob("audit.jsonl.*"), key=lambda p: -int(p.suffix[1:]))
    assert len(rotated) >= 2
    files = [*rotated, path]
    assert all(f.stat().st_size <= 4000 for f in files)
    lines = [line for f in files for line in f.read_bytes().splitlines(keepends=True)]
    assert len(lines) == 12
    assert check(lines).ok
    newest_only = path.read_bytes().splitlines(keepends=True)
    assert not check(newest_only).ok and check(newest_only, partial=True).ok
    proc = run_cli("audit", "verify", *map(str, files))
    assert proc.returncode == 0, proc.stdout


async def test_file_sink_keeps_only_the_configured_backups(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    log = AuditLog(AuditConfig(sink="file", path=path, max_bytes=2000, backups=2))
    await log.start()
    for _ in range(12):
        log.emit(sample_record())
    await log.close()
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "audit.jsonl",
        "audit.jsonl.1",
        "audit.jsonl.2",
    ]


def test_opa_decision_log_format() -> None:
    lines = emit_lines(3, format="opa_decision_log")
    docs = [orjson.loads(line) for line in lines]
    event = docs[1]
    assert event["path"] == "llm_router/decision"
    assert event["result"]["allow"] is True and event["result"]["routes"] == ["openai:gpt-4o"]
    assert event["input"]["classification"]["tags"] == {"pii.email": 1}
    assert event["bundles"] == {"llm_router": {"revision": "abc123"}}
    assert event["metrics"]["timer_rego_query_eval_ns"] == 120000
    assert event["labels"]["id"] == event["llm_router"]["instance"]
    assert event["llm_router"]["seq"] == 1
    assert event["llm_router"]["outcome"]["route"] == "openai:gpt-4o"
    assert {"decision_id", "timestamp", "labels", "input", "result"} <= event.keys()
    assert check(lines).ok
    tampered = edit(lines[1], lambda d: d["result"].update(allow=False))
    report = check([lines[0], tampered, lines[2]])
    assert report.problem is not None and report.problem.kind == "modified"


class FlakySink:
    """A sink that refuses chosen writes, as a full disk would."""

    name = "file"

    def __init__(self, refuse: set[int]) -> None:
        self.refuse = refuse
        self.calls = 0
        self.lines: list[bytes] = []

    def has_room(self, size: int) -> bool:
        return True

    def on_room(self, callback: Any) -> None:
        return None

    def write(self, line: bytes) -> None:
        self.calls += 1
        if self.calls in self.refuse:
            raise OSError(28, "No space left on device")
        self.lines.append(line)

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        return None


def test_a_failed_write_is_counted_and_declared_by_the_next_record() -> None:
    metrics = Metrics()
    sink = FlakySink(refuse={2, 3})
    log = AuditLog(AuditConfig(), metrics=metrics, sink=sink)
    for _ in range(5):
        log.emit(sample_record())
    assert log.wait_written()
    docs = [orjson.loads(line) for line in sink.lines]
    assert [d["seq"] for d in docs] == [0, 1, 2]
    assert [d["dropped_before"] for d in docs] == [0, 2, 0]
    assert (
        metrics.registry.get_sample_value(
            "llm_router_audit_dropped_total", {"reason": "write_error"}
        )
        == 2
    )
    report = check(sink.lines)
    assert report.ok and report.dropped == 2


# ---- the session-wide tap ----------------------------------------------------------------


def test_the_tap_flags_planted_values_schema_violations_and_broken_chains() -> None:
    tap = AuditTap()
    tap.plant("jane.doe@example.com")
    lines = emit_lines(3)
    tap.add_lines(lines, source="clean")
    assert tap.check() == []
    # Sealed by hand: written through an AuditLog, the session's own tap would see it.
    leaked = sample_record(
        outcome={**sample_record().outcome, "skipped": ["mail jane.doe@example.com"]}
    ).to_dict()
    leaked["config_revision"] = "0" * 12
    tap.add_lines([Chain().seal(leaked).line], source="leaky")
    tap.add_lines([edit(lines[0], lambda d: d.update(api="Bearer sk-1"))], "bad")
    found = tap.check()
    assert any(f.startswith("leaky: ") and "contains jan… (20 characters)" in f for f in found)
    assert any("contains 'Bearer '" in f for f in found)
    assert any("schema: api" in f for f in found)
    assert any("modified" in f for f in found)


async def test_the_session_tap_sees_every_record_of_an_in_process_sidecar(
    make_harness: Any, audit_tap: AuditTap
) -> None:
    from tests.test_routing import EMAIL, user

    h = await make_harness()
    before = len(audit_tap.lines)
    await h.client.chat.completions.create(model="gpt-4o", messages=user(f"write to {EMAIL}"))
    h.audit_records()  # the writer thread has caught up
    assert len(audit_tap.lines) == before + 1
    assert audit_tap.lines[-1][1] == h.audit.getvalue().splitlines(keepends=True)[-1]
    assert EMAIL in audit_tap.planted and f"write to {EMAIL}" in audit_tap.planted


@pytest.mark.parametrize("field", ["seq", "prev_hash", "hash", "instance"])
def test_chain_fields_are_required_by_the_schema(field: str) -> None:
    doc = orjson.loads(emit_lines(1)[0])
    doc.pop(field)
    assert any(field in p for p in problems(doc))
