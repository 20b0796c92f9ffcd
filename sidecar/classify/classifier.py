"""From findings to a classification: tags, categories, level and where they came from.

Content findings set the baseline; the app's declaration (X-LLM-Data-Class) and the
workload's floor label may raise the level, never lower it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Sequence

from sidecar.classify.custom import custom_detectors
from sidecar.classify.detectors import DEFAULT_DETECTORS
from sidecar.classify.detectors.phi import PERSONAL_IDENTIFIERS
from sidecar.classify.engine import Scanner
from sidecar.classify.entities.base import MEDIUM_FLOOR
from sidecar.classify.entities.stage import EntityStage
from sidecar.classify.model import (
    LEVELS,
    REGULATED_CATEGORIES,
    Classification,
    Finding,
    Segment,
    level_rank,
    max_level,
)
from sidecar.config import ClassificationConfig

DECLARABLE = frozenset(LEVELS) | REGULATED_CATEGORIES


def parse_declared(value: str) -> str:
    """Normalise a declared data class; unknown values are an error, not a silent no-op."""
    cleaned = value.strip().lower()
    if cleaned not in DECLARABLE:
        raise ValueError("unknown data class")
    return cleaned


def _level_of(categories: set[str]) -> str:
    if categories & REGULATED_CATEGORIES:
        return "regulated"
    if categories:
        return "confidential"
    return "public"


PERSON_BOUND = frozenset({"phi.icd10"})
"""Tags that are health data only about someone: "what does E11.9 mean?" is a coding
question, "Dx E11.9 for Mr. Okafor" is PHI. Kept only when the request carries a person
identifier (`PERSONAL_IDENTIFIERS`) at any confidence, a possible name included, since a
claim line names its patient in ways a recognizer may rate low."""


def _person_bound(findings: list[Finding]) -> list[Finding]:
    if not any(f.tag in PERSON_BOUND for f in findings):
        return findings
    if any(f.tag.startswith(PERSONAL_IDENTIFIERS) for f in findings):
        return findings
    return [f for f in findings if f.tag not in PERSON_BOUND]


class Classifier:
    def __init__(self, scanner: Scanner | None = None, entities: EntityStage | None = None) -> None:
        """`entities`: the entity stage, or None for the structured pass alone (what
        `Classifier()` is; the sidecar builds it `from_config`, with the stage)."""
        self.scanner = scanner or Scanner()
        self.entities = entities

    @classmethod
    def from_config(cls, cfg: ClassificationConfig) -> Classifier:
        """Built once at start: the built-in catalogue plus the operator's detectors, in one
        Hyperscan database. Raises CustomDetectorError for a pattern Hyperscan refuses."""
        detectors = (*DEFAULT_DETECTORS, *custom_detectors(cfg.custom, cfg.keywords))
        entities = None
        if cfg.entities != "off":
            entities = EntityStage.default(cfg.entities, compiled_cache=cfg.compiled_cache_dir)
        return cls(
            Scanner(
                detectors,
                budget_chars=cfg.scan_budget_bytes,
                decode_limit=cfg.decode.max_bytes,
                decode_depth=cfg.decode.max_depth,
                compiled_cache=cfg.compiled_cache_dir,
            ),
            entities,
        )

    def scan(self, segments: Sequence[Segment]) -> list[Finding]:
        return self.scanner.scan(segments)

    def classify(
        self,
        segments: Sequence[Segment],
        declared: str | None = None,
        floor: str | None = None,
        unscanned: Collection[str] = (),
    ) -> Classification:
        report = self.scanner.scan_report(segments)
        findings = report.findings
        if self.entities is not None and self.entities.needed(findings):
            findings = findings + self.entities.run(segments, findings, self.scanner.budget)
        findings = _person_bound(findings)
        # Below medium confidence a finding does not count (the policy contract): a
        # capitalised word pair with no cue may be a name, and a stricter policy may act
        # on `low_confidence_tags`, but the level and categories do not move for it.
        low = Counter(f.tag for f in findings if f.confidence < MEDIUM_FLOOR)
        if low:
            findings = [f for f in findings if f.confidence >= MEDIUM_FLOOR]
        tags = Counter(f.tag for f in findings)
        categories = {f.category for f in findings}
        level = content_level = _level_of(categories)
        sources = ["content"]
        if declared is not None:
            declared = parse_declared(declared)
            if declared in REGULATED_CATEGORIES:
                categories.add(declared)
                declared_level = "regulated"
            else:
                declared_level = declared
            level = max_level(level, declared_level)
            sources.append("declared")
        if floor is not None and floor in LEVELS and level_rank(floor) > level_rank(level):
            level = floor
            sources.append("workload")
        return Classification(
            level=level,
            categories=tuple(sorted(categories)),
            tags=dict(sorted(tags.items())),
            sources=tuple(sources),
            findings=tuple(findings),
            truncated=report.truncated,
            unscanned=tuple(sorted(unscanned)),
            content_level=content_level,
            low_confidence=dict(sorted(low.items())),
        )
