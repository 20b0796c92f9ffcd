"""The scan's work allowance: inputs built to make every position a candidate stop early and
count as truncated (fail-closed); realistic numbers-heavy text stays within it."""

from __future__ import annotations

import random

import pytest

from sidecar.classify import Classifier, Segment
from sidecar.classify.allowance import Allowance

MB = 1 << 20


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier()


def _orders_csv(rows: int, seed: int = 7) -> str:
    rng = random.Random(seed)
    lines = ["date,order_id,amount,qty,ext,sku"]
    for _ in range(rows):
        lines.append(
            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d},"
            f"{rng.randint(10**7, 10**9)},{rng.randint(1, 99999)}.{rng.randint(0, 99):02d},"
            f"{rng.randint(1, 50)},{rng.randint(100, 999)},SKU-{rng.randint(1000, 99999)}"
        )
    return "\n".join(lines)


@pytest.mark.parametrize(
    "unit", ["0-", "1 ", "1.", "a:", "token=aaaaaaaaaaaaaaaa ", "password=abcdefg "]
)
def test_every_position_a_candidate_is_truncated(classifier: Classifier, unit: str) -> None:
    text = unit * (MB // len(unit))
    report = classifier.scanner.scan_report([Segment(("messages", 0, "content"), text)])
    assert report.truncated
    result = classifier.classify([Segment(("messages", 0, "content"), text)])
    assert result.truncated


def test_one_endless_keyed_value_is_one_candidate(classifier: Classifier) -> None:
    """ "token=atoken=a…" is one value running to the text's end: its pattern ends where the
    value does, so it is one low-entropy candidate, not one per character."""
    text = "token=a" * (MB // 7)
    report = classifier.scanner.scan_report([Segment(("messages", 0, "content"), text)])
    assert report.findings == []
    assert not report.truncated


def test_numbers_heavy_text_stays_within_the_allowance(classifier: Classifier) -> None:
    text = _orders_csv(6000)  # about 300 KB of order ids, amounts and dates
    report = classifier.scanner.scan_report([Segment(("messages", 0, "content"), text)])
    assert not report.truncated
    assert report.findings == []


def test_context_gate_still_lets_a_gated_value_through(classifier: Classifier) -> None:
    text = _orders_csv(2000) + "\nemployee SSN 536228457 for payroll\n" + _orders_csv(2000, 8)
    report = classifier.scanner.scan_report([Segment(("messages", 0, "content"), text)])
    assert not report.truncated
    assert [f.tag for f in report.findings] == ["pii.ssn"]
    found = report.findings[0]
    assert text[found.start : found.end] == "536228457"


def test_allowance_grows_with_size() -> None:
    small, large = Allowance.for_size(4096), Allowance.for_size(MB)
    assert large.checks > small.checks and large.raw > small.raw
    spent = Allowance(checks=1, hits=1, raw=1)
    assert spent.take() and not spent.take() and spent.exhausted
