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
    @property
    def tags(self) -> tuple[str, ...]:
        """The tags it can emit. (A property in the protocol, so that a class attribute
        `tags = ("pii.person_name",)` satisfies it.)"""
        ...

    def find(self, text: str) -> list[EntityHit]: ...


REQUIRES = "requires"
"""An optional attribute of a recognizer: tag prefixes (e.g. `PERSONAL_IDENTIFIERS`) one of
which must be found in the same request, at medium confidence or above, for its hits to
count; the entity stage drops them otherwise (a diagnosis with no person is no PHI)."""


LOW, MEDIUM, HIGH = "low", "medium", "high"
MEDIUM_FLOOR = 0.5
HIGH_FLOOR = 0.8
CORROBORATED_FLOOR = 0.7
"""An entity hit in [MEDIUM_FLOOR, CORROBORATED_FLOOR) is medium by its form alone (a known
given name and surname, a street with no city): it stays medium only when the request
carries other evidence, and is demoted to `UNCORROBORATED` otherwise."""
UNCORROBORATED = 0.45


def band(confidence: float) -> str:
    """The confidence band of a finding: low below 0.5, medium below 0.8, high from 0.8."""
    if confidence >= HIGH_FLOOR:
        return HIGH
    return MEDIUM if confidence >= MEDIUM_FLOOR else LOW
