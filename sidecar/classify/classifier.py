"""From findings to a classification: tags, categories, level and where they came from.

Content findings set the baseline; the app's declaration (X-LLM-Data-Class) and the
workload's floor label may raise the level, never lower it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sidecar.classify.engine import Scanner
from sidecar.classify.model import (
    LEVELS,
    REGULATED_CATEGORIES,
    Classification,
    Finding,
    Segment,
    level_rank,
    max_level,
)

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


class Classifier:
    def __init__(self, scanner: Scanner | None = None) -> None:
        self.scanner = scanner or Scanner()

    def scan(self, segments: Sequence[Segment]) -> list[Finding]:
        return self.scanner.scan(segments)

    def classify(
        self,
        segments: Sequence[Segment],
        declared: str | None = None,
        floor: str | None = None,
    ) -> Classification:
        findings = self.scan(segments)
        tags = Counter(f.tag for f in findings)
        categories = {f.category for f in findings}
        level = _level_of(categories)
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
        )
