"""What every entity recognizer returns, and the confidence bands the policy contract names.

A recognizer works on one text (a segment, after the structured pass) and returns hits
with character offsets into that text. It finds cheap candidates first (capitalised token
runs, cue words, a number before a street suffix, a lexicon hit) and runs its expensive
step on those alone. Context decides: "Abraham Lincoln's speech" is no patient's name, and
"no history of diabetes" is no diagnosis.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class EntityHit:
    tag: str
    start: int
    end: int
    confidence: float
    """0-1; see `band` for what the policy sees."""


class Recognizer(Protocol):
    tags: tuple[str, ...]
    """The tags it can emit."""

    def find(self, text: str) -> list[EntityHit]: ...


LOW, MEDIUM, HIGH = "low", "medium", "high"
MEDIUM_FLOOR = 0.5
HIGH_FLOOR = 0.8


def band(confidence: float) -> str:
    """The confidence band of a finding: low below 0.5, medium below 0.8, high from 0.8."""
    if confidence >= HIGH_FLOOR:
        return HIGH
    return MEDIUM if confidence >= MEDIUM_FLOOR else LOW
