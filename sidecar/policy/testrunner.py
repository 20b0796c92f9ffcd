"""`llm-router policy test`: runs every `test_*` rule of a policy directory, as `opa test` does.

A test passes only when it evaluates to exactly `true`; undefined (a failed condition) and
evaluation errors fail. Test rules are found by name in each module's source, so a test in
any package is run under that package's path.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import orjson

from sidecar.policy.errors import PolicyLoadError, engine_message
from sidecar.policy.loader import compile_engine, read_policy_dir

_PACKAGE = re.compile(r"^package\s+([A-Za-z_][\w.]*)", re.MULTILINE)
_TEST_RULE = re.compile(r"^(test_\w+)\b", re.MULTILINE)


@dataclass(frozen=True)
class TestResult:
    name: str
    passed: bool
    seconds: float
    error: str | None = None


@dataclass
class PolicyTestReport:
    results: list[TestResult] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


def discover_tests(modules: dict[str, str]) -> list[str]:
    found: list[str] = []
    for text in modules.values():
        package = _PACKAGE.search(text)
        if package is None:
            continue
        for name in dict.fromkeys(_TEST_RULE.findall(text)):
            found.append(f"data.{package.group(1)}.{name}")
    return found


def run_policy_tests(path: Path) -> PolicyTestReport:
    source = read_policy_dir(path)
    engine = compile_engine(source, source.modules)
    report = PolicyTestReport()
    for query in discover_tests(source.modules):
        started = time.perf_counter()
        try:
            value = orjson.loads(engine.eval_rule_as_json(query))
            error = (
                None if value is True else "undefined" if value == "<undefined>" else f"= {value!r}"
            )
        except Exception as exc:
            error = engine_message(exc)
        report.results.append(
            TestResult(query, error is None, time.perf_counter() - started, error)
        )
    return report


def format_report(report: PolicyTestReport) -> str:
    lines = []
    for r in report.results:
        status = "PASS" if r.passed else "FAIL"
        line = f"{status} {r.name} ({r.seconds * 1000:.1f}ms)"
        if r.error:
            line += f"\n     {r.error}"
        lines.append(line)
    lines.append(f"{report.passed} passed, {report.failed} failed")
    return "\n".join(lines)


def main_policy_test(path: Path) -> int:
    try:
        report = run_policy_tests(path)
    except PolicyLoadError as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    if not report.results:
        print("no test_* rules found", file=sys.stderr)
        return 1
    return 0 if report.failed == 0 else 1
