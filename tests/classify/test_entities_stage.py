"""The entity stage inside the classifier: overlaps with structured findings and between
entity hits, `requires`, the medium-confidence floor, the `classification.entities` key
and offsets in JSON text. Recognizers are the real name and address recognizers, or small
fakes where a test needs exact control; none depends on the diagnosis recognizer."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from pydantic import ValidationError

from sidecar.classify import Classifier, Scanner, Segment
from sidecar.classify.detectors import DEFAULT_DETECTORS
from sidecar.classify.detectors.phi import PERSONAL_IDENTIFIERS
from sidecar.classify.entities.addresses import StreetAddressRecognizer
from sidecar.classify.entities.base import CORROBORATED_FLOOR, MEDIUM_FLOOR, EntityHit
from sidecar.classify.entities.names import PersonNameRecognizer
from sidecar.classify.entities.stage import EntityStage
from sidecar.classify.model import JSON
from sidecar.config import ClassificationConfig

SCANNER = Scanner()
NAMES, ADDRESSES = PersonNameRecognizer(), StreetAddressRecognizer()


@dataclass
class Fixed:
    """Reports `word` wherever it occurs, as `tag` with `confidence`; counts its calls."""

    word: str
    tag: str = "phi.diagnosis"
    confidence: float = 0.9
    requires: tuple[str, ...] = ()
    calls: list[str] = field(default_factory=list)

    @property
    def tags(self) -> tuple[str, ...]:
        return (self.tag,)

    def find(self, text: str) -> list[EntityHit]:
        self.calls.append(text)
        at = text.find(self.word)
        return [] if at < 0 else [EntityHit(self.tag, at, at + len(self.word), self.confidence)]


def classifier(*recognizers: object, mode: str = "always") -> Classifier:
    return Classifier(SCANNER, EntityStage(recognizers, mode))  # type: ignore[arg-type]


def found(c: Classifier, text: str) -> list[tuple[str, str]]:
    result = c.classify([Segment(("t",), text)])
    return [(f.tag, text[f.start : f.end]) for f in result.findings]


def test_names_and_addresses_make_a_request_regulated() -> None:
    text = "Patient: Maria Okafor, lives at 42 Elm Road, Leeds LS6 2AB."
    result = classifier(NAMES, ADDRESSES).classify([Segment(("t",), text)])
    assert result.level == "regulated" and result.categories == ("pii",)
    assert result.tags == {"pii.person_name": 1, "pii.street_address": 1}
    assert result.low_confidence == {}


def test_without_the_stage_the_same_text_is_public() -> None:
    text = "Patient: Maria Okafor, lives at 42 Elm Road, Leeds LS6 2AB."
    assert Classifier(SCANNER).classify([Segment(("t",), text)]).level == "public"


def test_a_structured_finding_wins_over_an_entity_hit_it_overlaps() -> None:
    text = "write to maria.okafor@example.com today"
    fake = Fixed("maria.okafor", tag="pii.person_name")
    assert found(classifier(fake), text) == [("pii.email", "maria.okafor@example.com")]


def test_an_address_wins_over_the_name_inside_it() -> None:
    text = "Mon adresse : 14 avenue Jean Jaurès, 69007 Lyon."
    assert found(classifier(NAMES, ADDRESSES), text) == [
        ("pii.street_address", "14 avenue Jean Jaurès, 69007 Lyon")
    ]


def test_a_requirement_unmet_drops_the_hit() -> None:
    fake = Fixed("diabetes", requires=PERSONAL_IDENTIFIERS)
    result = classifier(fake).classify([Segment(("t",), "What causes diabetes?")])
    assert result.level == "public" and result.findings == ()
    assert result.low_confidence == {}  # dropped, not merely demoted


def test_a_structured_identifier_meets_the_requirement() -> None:
    fake = Fixed("sarcoidosis", requires=PERSONAL_IDENTIFIERS)
    text = "jane.roe@example.org has sarcoidosis"
    assert ("phi.diagnosis", "sarcoidosis") in found(classifier(fake), text)


def test_a_name_the_stage_found_meets_the_requirement() -> None:
    fake = Fixed("diabetes", requires=PERSONAL_IDENTIFIERS)
    text = "Patient: Ilse Brandvold. History of diabetes."
    assert found(classifier(NAMES, fake), text) == [
        ("pii.person_name", "Ilse Brandvold"),
        ("phi.diagnosis", "diabetes"),
    ]


def test_a_low_confidence_name_does_not_meet_the_requirement() -> None:
    fake = Fixed("diabetes", requires=PERSONAL_IDENTIFIERS)
    result = classifier(NAMES, fake).classify(
        [Segment(("t",), "Zbyszko Przybylak read about diabetes.")]
    )
    assert result.findings == () and result.level == "public"
    assert result.low_confidence == {"pii.person_name": 1}


def test_the_requirement_is_met_anywhere_in_the_request() -> None:
    fake = Fixed("asthma", requires=PERSONAL_IDENTIFIERS)
    segments = [Segment(("a",), "Dear Dr. Halloran,"), Segment(("b",), "she has asthma")]
    result = classifier(NAMES, fake).classify(segments)
    assert result.categories == ("phi", "pii")


def test_low_confidence_is_reported_apart_and_does_not_count() -> None:
    result = classifier(Fixed("hunch", tag="pii.person_name", confidence=0.3)).classify(
        [Segment(("t",), "just a hunch")]
    )
    assert result.level == "public" and result.categories == () and result.tags == {}
    assert result.findings == ()
    assert result.low_confidence == {"pii.person_name": 1}
    assert result.to_policy_input()["low_confidence_tags"] == {"pii.person_name": 1}


def test_low_confidence_tags_are_absent_from_the_policy_input_when_none() -> None:
    result = classifier(NAMES).classify([Segment(("t",), "nothing here")])
    assert "low_confidence_tags" not in result.to_policy_input()


def test_the_floor_is_medium_inclusive() -> None:
    at_floor = Fixed("word", tag="pii.person_name", confidence=CORROBORATED_FLOOR)
    assert classifier(at_floor).classify([Segment(("t",), "a word")]).level == "regulated"
    at_floor = Fixed("word", tag="pii.person_name", confidence=MEDIUM_FLOOR)
    result = classifier(at_floor).classify([Segment(("t",), "a word, ip 81.2.69.160")])
    assert result.tags == {"pii.person_name": 1, "pii.ip_address": 1}


def test_a_hit_medium_by_form_alone_needs_corroboration() -> None:
    """Below CORROBORATED_FLOOR a hit counts only with other evidence in the request: a
    structured finding, or another entity hit at or above that floor."""
    alone = Fixed("Grace Hopper", tag="pii.person_name", confidence=0.6)
    result = classifier(alone).classify([Segment(("t",), "a talk by Grace Hopper")])
    assert result.level == "public"
    assert result.low_confidence == {"pii.person_name": 1}
    backed = classifier(alone).classify(
        [Segment(("t",), "Grace Hopper"), Segment(("u",), "reach me at g.h@example.org")]
    )
    assert backed.tags == {"pii.person_name": 1, "pii.email": 1}
    assert backed.low_confidence == {}


def test_every_built_in_detector_is_at_least_medium() -> None:
    """The floor leaves the structured pass as it was: no built-in detector is below it."""
    assert all(d.confidence >= MEDIUM_FLOOR for d in DEFAULT_DETECTORS)


def test_when_needed_skips_the_stage_once_pii_and_phi_are_found() -> None:
    fake = Fixed("anything")
    c = classifier(fake, mode="when_needed")
    text = "jane.roe@example.org, MRN: 00123456"
    assert set(c.classify([Segment(("t",), text)]).categories) >= {"pii", "phi"}
    assert fake.calls == []
    c.classify([Segment(("t",), "jane.roe@example.org only")])
    assert fake.calls == ["jane.roe@example.org only"]


def test_always_runs_the_stage_whatever_was_found() -> None:
    fake = Fixed("anything")
    classifier(fake, mode="always").classify(
        [Segment(("t",), "jane.roe@example.org, MRN: 00123456")]
    )
    assert len(fake.calls) == 1


def test_config_key_builds_or_leaves_out_the_stage() -> None:
    assert ClassificationConfig().entities == "when_needed"
    assert Classifier.from_config(ClassificationConfig(entities="off")).entities is None
    stage = Classifier.from_config(ClassificationConfig(entities="always")).entities
    assert stage is not None and stage.mode == "always"
    assert {"pii.person_name", "pii.street_address"} <= set(stage.tags)
    with pytest.raises(ValidationError):
        ClassificationConfig(entities="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="mode"):
        EntityStage([], "sometimes")  # type: ignore[arg-type]


def test_offsets_point_into_the_original_json_text() -> None:
    text = '{"note": "Regards,\\nPriya Raman", "to": "Ma\\u00efa Okafor"}'
    result = classifier(NAMES).classify([Segment(("args",), text, JSON)])
    spans = [text[f.start : f.end] for f in result.findings]
    # found in the decoded text ("\n" a line break, "\u00ef" an ï), reported in the JSON
    assert spans == ["Priya Raman", "Ma\\u00efa Okafor"]
    assert {f.segment for f in result.findings} == {0}


def test_offsets_survive_normalisation() -> None:
    text = "Patient: Ma\u200bria Okafor"  # a zero-width space inside the name
    result = classifier(NAMES).classify([Segment(("t",), text)])
    assert [text[f.start : f.end] for f in result.findings] == ["Ma\u200bria Okafor"]


def test_findings_carry_their_segment() -> None:
    segments = [Segment(("a",), "no names"), Segment(("b",), "Mr. Kowalski called.")]
    result = classifier(NAMES).classify(segments)
    assert [(f.segment, f.tag) for f in result.findings] == [(1, "pii.person_name")]


def test_the_scan_budget_bounds_the_stage_too() -> None:
    stage = EntityStage([NAMES])
    text = "x" * 50 + " Patient: Maria Okafor"
    assert stage.run([Segment(("t",), text)], [], budget=40) == []
    assert len(stage.run([Segment(("t",), text)], [], budget=len(text))) == 1
