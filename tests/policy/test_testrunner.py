"""`llm-router policy test`: discovery, pass/fail semantics, the report and exit codes."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from sidecar.policy.testrunner import format_report, main_policy_test, run_policy_tests
from tests.policy.support import POLICIES


def test_shipped_policy_passes_all_its_tests() -> None:
    report = run_policy_tests(POLICIES)
    written = []
    for path in sorted(POLICIES.glob("*_test.rego")):
        text = path.read_text()
        package = re.search(r"^package (\S+)", text, re.M).group(1)  # type: ignore[union-attr]
        written += [f"data.{package}.{n}" for n in re.findall(r"^(test_\w+) if", text, re.M)]
    assert len(written) >= 15
    assert sorted(r.name for r in report.results) == sorted(written)
    assert report.failed == 0, format_report(report)


def with_extra_tests(tmp_path: Path, text: str) -> Path:
    target = tmp_path / "p"
    shutil.copytree(POLICIES, target)
    (target / "x_test.rego").write_text("package x_test\n\nimport rego.v1\n\n" + text)
    return target


def test_failing_test_is_reported_with_counts(tmp_path: Path) -> None:
    shipped = len(run_policy_tests(POLICIES).results)
    path = with_extra_tests(tmp_path, "test_fails if {\n\t1 == 2\n}\n\ntest_passes if 1 == 1\n")
    report = run_policy_tests(path)
    assert (report.passed, report.failed) == (shipped + 1, 1)
    text = format_report(report)
    assert "FAIL data.x_test.test_fails (" in text and "PASS data.x_test.test_passes (" in text
    assert text.splitlines()[-1] == f"{shipped + 1} passed, 1 failed"


def test_only_exactly_true_passes(tmp_path: Path) -> None:
    path = with_extra_tests(
        tmp_path,
        'test_one := 1\n\ntest_string := "true"\n\ndefault test_default := false\n\n'
        "test_error := 1 / 0 if true\n\ntest_function(x) if x\n",
    )
    results = {r.name: r for r in run_policy_tests(path).results if "x_test" in r.name}
    assert set(results) == {
        "data.x_test.test_one",
        "data.x_test.test_string",
        "data.x_test.test_default",
        "data.x_test.test_error",
    }, "a test_* function is not a test"
    assert not any(r.passed for r in results.values())
    assert results["data.x_test.test_one"].error == "= 1"
    assert "x_test.rego:11:" in (results["data.x_test.test_error"].error or "")


def test_quoted_package_and_indented_rule(tmp_path: Path) -> None:
    (tmp_path / "q_test.rego").write_text(
        'package checks["eu-west"]\n\nimport rego.v1\n\n  test_indented if {\n'
        '\tprint("shown on failure")\n\tfalse\n}\n'
    )
    report = run_policy_tests(tmp_path)
    assert [r.name for r in report.results] == ['data.checks["eu-west"].test_indented']
    assert "print: " in format_report(report) and "shown on failure" in format_report(report)


def test_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main_policy_test(POLICIES) == 0
    assert capsys.readouterr().out.splitlines()[-1].endswith(" passed, 0 failed")
    assert main_policy_test(with_extra_tests(tmp_path, "test_fails if false\n")) == 1
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "b_test.rego").write_text("package b_test\n\ntest_x if {\n")
    assert main_policy_test(broken) == 2
    assert "b_test.rego:" in capsys.readouterr().err
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "e.rego").write_text("package e\n\nx := 1\n")
    assert main_policy_test(empty) == 1
    assert "no test_* rules" in capsys.readouterr().err
