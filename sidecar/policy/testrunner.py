"""`llm-router policy test`: runs every `test_*` rule of a policy directory, as `opa test` does.

A test passes only when it evaluates to exactly `true`; undefined (a failed condition), any
other value and evaluation errors fail. Test rules are found in the engine's parsed modules
(not by scanning text), so a test in any package, including one with a quoted path segment,
is run under that package's path; functions named `test_*` are not tests.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import regorus

from sidecar.policy.errors import PolicyLoadError, engine_message, reraise_if_fatal
from sidecar.policy.loader import PolicySource, compile_engine, read_policy_dir

TEST_PREFIX = "test_"
UNDEFINED = "<undefined>"  # how regorus' *_as_json methods spell an undefined result
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@dataclass(frozen=True)
class TestResult:
    __test__ = False  # not a pytest class

    name: str
    passed: bool
    seconds: float
    error: str | None = None
    prints: tuple[str, ...] = ()


@dataclass
class PolicyTestReport:
    results: list[TestResult] = field(default_factory=list)
    coverage: dict[str, Any] | None = None

    @property
    def passed(self) -> int:
        return sum(r.passed for r in self.results)

    @property
    def failed(self) -> int:
        return len(self.results) - self.passed


def _ref_parts(node: Any) -> list[str] | None:
    """Path segments of a parsed reference such as `a.b["c-d"]`; None for anything else."""
    if not isinstance(node, dict) or len(node) != 1:
        return None
    kind, body = next(iter(node.items()))
    if kind == "Var":
        return [body["value"]]
    if kind == "RefDot":
        base = _ref_parts(body["refr"])
        return None if base is None else [*base, body["field"][1]]
    if kind == "RefBrack":
        base = _ref_parts(body["refr"])
        index = body["index"]
        if base is None or "String" not in index:
            return None
        return [*base, index["String"]["value"]]
    return None


def _path(parts: list[str]) -> str:
    return "data" + "".join(
        f".{p}" if _IDENT.fullmatch(p) else f"[{orjson.dumps(p).decode()}]" for p in parts
    )


def _rule_name(rule: dict[str, Any]) -> str | None:
    """The name of a plain (non-function) rule, e.g. `test_x if …` or `default test_x := …`."""
    if "Spec" in rule:
        head = rule["Spec"]["head"]
        compr = head.get("Compr") if isinstance(head, dict) else None
        parts = _ref_parts(compr["refr"]) if compr else None
    elif "Default" in rule:
        default = rule["Default"]
        parts = _ref_parts(default["refr"]) if not default.get("args") else None
    else:
        return None
    return parts[0] if parts and len(parts) == 1 else None


def discover_tests(engine: regorus.Engine) -> list[str]:
    """`data.<package>.test_*` for every test rule of every loaded module, in file order."""
    found: dict[str, None] = {}
    for module in orjson.loads(engine.get_ast_as_json()):
        ast = module["ast"]
        package = _ref_parts(ast["package"]["refr"])
        if package is None:
            continue
        for rule in ast["rules"]:
            name = _rule_name(rule)
            if name and name.startswith(TEST_PREFIX):
                found[_path([*package, name])] = None
    return list(found)


def _run_one(engine: regorus.Engine, query: str) -> TestResult:
    started = time.perf_counter()
    try:
        value = orjson.loads(engine.eval_rule_as_json(query))
        if value is True:
            error = None
        else:
            error = "undefined" if value == UNDEFINED else f"= {orjson.dumps(value).decode()}"
    except BaseException as exc:
        reraise_if_fatal(exc)
        error = engine_message(exc) or exc.__class__.__name__
    seconds = time.perf_counter() - started
    prints = tuple(engine.take_prints())
    return TestResult(query, error is None, seconds, error, prints)


def run_policy_tests(path: Path) -> PolicyTestReport:
    """Load every module of `path` (tests included) and data.json, then run each test.
    Raises PolicyLoadError when the directory does not compile."""
    return run_source_tests(read_policy_dir(Path(path)))


def run_source_tests(source: PolicySource, *, coverage: bool = False) -> PolicyTestReport:
    """The same for files already read: hot reload verifies a candidate revision this way
    before it may serve a single request. With `coverage`, the engine's line coverage of
    the policy over all tests is kept in `report.coverage`."""
    path = source.directory
    engine = compile_engine(source, source.modules)
    engine.set_gather_prints(True)
    if coverage:
        engine.set_enable_coverage(True)
    try:
        queries = discover_tests(engine)
    except (KeyError, TypeError, ValueError) as exc:
        raise PolicyLoadError(f"{path}: cannot list test rules: {exc!r}") from None
    report = PolicyTestReport([_run_one(engine, q) for q in queries])
    if coverage:
        report.coverage = orjson.loads(engine.get_coverage_report_as_json())
    return report


def format_report(report: PolicyTestReport) -> str:
    lines = []
    for r in report.results:
        lines.append(f"{'PASS' if r.passed else 'FAIL'} {r.name} ({r.seconds * 1000:.1f}ms)")
        if not r.passed:
            lines.extend(f"     {line}" for line in (r.error or "").splitlines())
            lines.extend(f"     print: {p}" for p in r.prints)
    lines.append(f"{report.passed} passed, {report.failed} failed")
    return "\n".join(lines)


def coverage_summary(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Per policy file (tests excluded): covered lines, uncovered lines, percentage."""
    out = []
    for entry in report.get("files", []):
        path = str(entry.get("path", ""))
        if path.endswith("_test.rego"):
            continue
        covered, missed = len(entry.get("covered", [])), sorted(entry.get("not_covered", []))
        total = covered + len(missed)
        out.append(
            {
                "file": path,
                "covered": covered,
                "lines": total,
                "percent": round(100.0 * covered / total, 1) if total else 100.0,
                "not_covered": missed,
            }
        )
    return out


def main_policy_test(path: Path, *, coverage: bool = False) -> int:
    """Print the report; exit code 0 all passed, 1 a test failed (or none found), 2 no load."""
    try:
        report = run_source_tests(read_policy_dir(Path(path)), coverage=coverage)
    except PolicyLoadError as exc:
        print(f"llm-router: {exc}", file=sys.stderr)
        return 2
    print(format_report(report))
    if report.coverage is not None:
        for row in coverage_summary(report.coverage):
            missed = ", ".join(map(str, row["not_covered"][:20]))
            print(
                f"coverage {row['file']}: {row['percent']}% of {row['lines']} lines"
                + (
                    f" (not covered: {missed}{' …' if len(row['not_covered']) > 20 else ''})"
                    if missed
                    else ""
                )
            )
    if not report.results:
        print(f"llm-router: no test_* rules found in {path}", file=sys.stderr)
        return 1
    return 0 if report.failed == 0 else 1
