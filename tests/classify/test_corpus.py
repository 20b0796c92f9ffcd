"""Accuracy on the committed, seeded corpus is part of the test suite, not only a benchmark.

Every tag of the taxonomy must reach its precision and recall target (0.98 for types a
checksum or an issuing body's rules confirm, 0.95 for the rest), and nothing may be found
in the look-alikes. The scoring is `benchmarks/scoring.py`'s, the scan the same as
`benchmarks/accuracy.py`'s. The last tests show the checks can fail: with a detector taken
out, or its validator, the same assertions report it.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from benchmarks.accuracy import DATA, evaluate, load_corpus
from benchmarks.scoring import CHECKSUM_VALIDATED, Report, below_target
from sidecar.classify import Classifier
from sidecar.classify import detectors as catalogue
from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.engine import Scanner
from tests.data import corpus as gen

Records = list[gen.Record]


@pytest.fixture(scope="module")
def committed() -> tuple[Records, Records]:
    corpus, lookalikes, source = load_corpus(DATA)
    assert source == "files", "tests/data/corpus.jsonl and lookalikes.jsonl must be committed"
    return corpus, lookalikes


@pytest.fixture(scope="module")
def scored(committed: tuple[Records, Records]) -> tuple[Report, list[dict[str, str]]]:
    corpus, lookalikes = committed
    report, hits, _ = evaluate(corpus, lookalikes, implemented=gen.TAGS)
    return report, hits


def test_committed_files_are_the_generators_output() -> None:
    """No hand edits, no stale copy: the files are what the seed gives."""
    for name, content in gen.generate_bytes(gen.SEED).items():
        assert (DATA / name).read_bytes() == content, (
            f"regenerate {name}: python -m tests.data.corpus"
        )


def test_the_taxonomy_is_covered(committed: tuple[Records, Records]) -> None:
    corpus, lookalikes = committed
    labelled = {label["tag"] for record in corpus for label in record["labels"]}
    assert labelled == set(gen.TAGS)
    assert set(gen.TAGS) <= set(catalogue.TAGS), "a corpus tag no detector emits"
    assert set(gen.TAGS) >= CHECKSUM_VALIDATED
    assert len(corpus) > 5000 and len(lookalikes) > 300


def test_every_tag_meets_its_target(scored: tuple[Report, list[dict[str, str]]]) -> None:
    report, _ = scored
    assert below_target(report, gen.TAGS) == []


def test_nothing_is_found_in_the_lookalikes(scored: tuple[Report, list[dict[str, str]]]) -> None:
    _, hits = scored
    assert hits == []


def _only(detectors: tuple[Detector, ...]) -> Classifier:
    """A classifier over a few detectors: quick to compile, enough to break one tag."""
    return Classifier(Scanner(detectors))


def test_a_missing_detector_fails_the_target(committed: tuple[Records, Records]) -> None:
    corpus, _ = committed
    with_iban = [r for r in corpus if any(lab["tag"] == "pii.iban" for lab in r["labels"])]
    no_iban = _only(tuple(d for d in DEFAULT_DETECTORS if d.tag == "pii.swift_bic"))
    report, _, _ = evaluate(with_iban, [], no_iban, implemented=gen.TAGS)
    failures = below_target(report, ["pii.iban"])
    assert len(failures) == 1 and "recall 0.000" in failures[0]


def test_a_detector_without_its_validator_fails_on_lookalikes(
    committed: tuple[Records, Records],
) -> None:
    _, lookalikes = committed
    unchecked = tuple(replace(d, validator=None) for d in DEFAULT_DETECTORS if d.tag == "pci.pan")
    cards = [r for r in lookalikes if r["id"].startswith("luhn_invalid_card")]
    _, hits, _ = evaluate([], cards, _only(unchecked), implemented=gen.TAGS)
    assert hits and {h["tag"] for h in hits} == {"pci.pan"}
