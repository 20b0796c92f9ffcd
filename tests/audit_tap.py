"""Sees every audit line written during the whole test session, and every text that could
leak into one.

`AuditLog._write` (the one place a sealed line leaves the process, whatever the sink) and
`Pipeline._classify` (which sees every prompt segment of every request any in-process
sidecar handled, and where each finding lies in it) are wrapped for the session. At the end
of the session `check()`:

- validates every native record against the published JSON Schema;
- verifies each sidecar instance's hash chain in write order;
- scans every line for planted values: the test constants (keys, the app's key, e-mail
  addresses, card numbers, SSNs…), every prompt text the sidecars classified, and every
  matched value, plus `Bearer` / `Authorization` header material.

Sidecars running in their own process write to files or collectors; tests hand those lines
in with `add_lines`.
"""

from __future__ import annotations

import ast
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import pytest

from sidecar.api import fields_anthropic, fields_openai, fields_responses
from sidecar.audit.log import AuditLog
from sidecar.audit.record import SCHEMA
from sidecar.audit.verify import verify
from sidecar.pipeline import Pipeline
from sidecar.providers.aggregator import RECORDED_NAMES

MIN_PROMPT = 8
"""Shorter prompt segments ("hi", "x") are too common to scan for meaningfully."""
MIN_VALUE = 6
HEADER_MARKERS = ("Bearer ", "authorization", "x-api-key")
VOCABULARY = " ".join(sorted(RECORDED_NAMES))
"""Field names the sidecar itself records (`outcome.dropped_fields`): an app's body holding
`provider` or `route: "fallback"` does not make those words prompt text."""


API_NAMES = fields_openai.DOCUMENTED | fields_anthropic.DOCUMENTED | fields_responses.DOCUMENTED
"""Documented field names: a fuzzed body that sends one as a value makes it no prompt."""


def _sidecar_codes() -> frozenset[str]:
    """Every snake_case string literal in the sidecar's source: its error codes, reasons and
    outcome words; and every lower-case word of its string literals ("unavailable" of
    "policy engine unavailable"). A fuzzed body whose value is exactly one (Anthropic's
    web-search errors `too_many_requests` and `unavailable`, say) has not leaked into a
    record that carries the sidecar's own words."""
    shape = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)+")
    word = re.compile(r"(?<![A-Za-z0-9_])[a-z]{8,}(?![A-Za-z0-9_])")
    root = Path(__file__).resolve().parent.parent / "sidecar"
    out: set[str] = set()
    for path in root.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                if shape.fullmatch(node.value):
                    out.add(node.value)
                out.update(word.findall(node.value))
    return frozenset(out)


SIDECAR_CODES = _sidecar_codes()


@dataclass
class AuditTap:
    lines: list[tuple[str, bytes]] = field(default_factory=list)
    """(test id, line) in write order."""
    planted: set[str] = field(default_factory=set)
    prompts: int = 0
    values: int = 0

    def add_lines(self, lines: Iterable[bytes], source: str = "") -> None:
        test = source or _current_test()
        self.lines.extend((test, line if line.endswith(b"\n") else line + b"\n") for line in lines)

    def plant(self, *values: str) -> None:
        self.planted.update(v for v in values if v)

    def install(self, mp: pytest.MonkeyPatch) -> None:
        tap = self
        write = AuditLog._write
        classify = Pipeline._classify

        def tapped_write(self: AuditLog, line: bytes) -> None:
            write(self, line)  # only what the sink accepted
            tap.lines.append((_current_test(), line))

        def tapped_classify(
            self: Pipeline, api: Any, parsed: Any, *args: Any, **kwargs: Any
        ) -> Any:
            result = classify(self, api, parsed, *args, **kwargs)
            segments = parsed.segments
            for segment in segments:
                text = segment.text.strip()
                if segment.form == "key" or text in API_NAMES or text in SIDECAR_CODES:
                    continue  # the app's key may be a word the audit schema uses too
                if len(text) >= MIN_PROMPT and text not in VOCABULARY:
                    tap.planted.add(text)
                    tap.prompts += 1
            for finding in result.findings:
                value = segments[finding.segment].text[finding.start : finding.end]
                if len(value) >= MIN_VALUE:
                    tap.planted.add(value)
                    tap.values += 1
            return result

        mp.setattr(AuditLog, "_write", tapped_write)
        mp.setattr(Pipeline, "_classify", tapped_classify)

    def instances(self) -> int:
        return len({_instance(orjson.loads(line)) for _, line in self.lines})

    def check(self) -> list[str]:
        """Every problem found, as messages naming the test that wrote the line."""
        from sidecar.audit.schema import problems as schema_problems

        found: list[str] = []
        by_instance: dict[str, list[tuple[str, int, bytes]]] = defaultdict(list)
        texts = [line.decode("utf-8", "replace") for _, line in self.lines]
        blob = "\n".join(texts)
        folded = blob.lower()
        for needle in sorted(self.planted):  # one pass over all output per planted value
            if needle in blob:
                index = next(i for i, text in enumerate(texts) if needle in text)
                shown = f"{needle[:3]}… ({len(needle)} characters)"
                found.append(f"{self.lines[index][0]}: audit line {index} contains {shown}")
        for marker in HEADER_MARKERS:
            if marker.lower() in folded:
                index = next(i for i, t in enumerate(texts) if marker.lower() in t.lower())
                found.append(f"{self.lines[index][0]}: audit line {index} contains {marker!r}")
        for index, (test, line) in enumerate(self.lines):
            doc = orjson.loads(line)
            if doc.get("schema") == SCHEMA:
                for problem in schema_problems(doc):
                    found.append(f"{test}: audit line {index}: schema: {problem}")
            by_instance[_instance(doc)].append((test, index, line))
        for instance, entries in by_instance.items():
            report = verify(entries)
            if not report.ok:
                assert report.problem is not None
                found.append(
                    f"{report.problem.file}: chain of instance {instance}: "
                    f"{report.problem.kind}: {report.problem.message}"
                )
        return found


def _instance(doc: dict[str, Any]) -> str:
    fields = doc if "instance" in doc else doc.get("llm_router", {})
    return str(fields.get("instance"))


def _current_test() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "(outside a test)").rsplit(" ", 1)[0]
