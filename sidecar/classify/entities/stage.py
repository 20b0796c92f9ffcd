"""The entity stage: recognizers of names, street addresses and diagnoses run on each
segment after the Hyperscan pass, and their hits become findings like any other.

Per segment, on the text the structured pass scanned (JSON escapes decoded, normalised;
spans mapped back to the original text, as `Finding` offsets are) and within the same
scan budget. Then, over the whole request:

* Overlaps. A structured finding wins over an entity hit it overlaps (a validated IBAN or
  e-mail address beats the capitalised run around it); of overlapping entity hits the
  confident one wins, then the longer ("14 avenue Jean Jaurès" is an address, not a name).
* Requirements. A recognizer may name tags (by prefix) one of which must be in the same
  request at medium confidence or above: `DiagnosisRecognizer.requires` is
  `PERSONAL_IDENTIFIERS`, the rule `phi.clinical` follows, so a diagnosis counts only next
  to a person identifier, e.g. a name this stage found.
* Corroboration. A hit that is medium by its form alone (confidence below
  `CORROBORATED_FLOOR`: "Tom Brophy" with no cue around it, "12 Main Street" with no city)
  stays medium only when the request carries other evidence: a structured finding at
  medium or above, an entity hit at `CORROBORATED_FLOOR` or above, or a medium hit of
  another tag ("Graham Oduya has type 1 diabetes": the name and the diagnosis). Otherwise it is
  demoted to low (`UNCORROBORATED`), where it counts for neither the tags nor the level.
  A text that names "Grace Hopper" and nothing else about anyone is most often about the
  public figure or the product of the same name; a ticket about a private person almost
  always carries a cue, an identifier or a contact detail as well. (Measured on the
  evaluation corpus's look-alikes: 16 of 185 flagged without this rule, 11 with it, at the
  same document recall.)

Gating (`classification.entities`): `always` runs the stage on every request, `off` never,
and `when_needed` (the default) skips it when the structured pass already found, at medium
confidence or above, both `pii` and `phi`: every tag the stage can add is `pii.*` or
`phi.*`, and it never removes a finding, so the categories and the level cannot change. What
skipping loses is the new tags' counts and spans: the decision cache ignores tags, and the
default policy redacts only `pci` and `secret`. A policy that redacts `pii` or `phi` needs
`always`, so that names and addresses are in the spans it redacts.
"""

from __future__ import annotations

from bisect import bisect_right, insort
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Literal

from sidecar.classify.entities.addresses import StreetAddressRecognizer
from sidecar.classify.entities.base import (
    CORROBORATED_FLOOR,
    MEDIUM_FLOOR,
    REQUIRES,
    UNCORROBORATED,
    EntityHit,
    Recognizer,
)
from sidecar.classify.entities.diagnosis import DiagnosisRecognizer
from sidecar.classify.entities.names import PersonNameRecognizer
from sidecar.classify.model import DUMP, JSON, Finding, Segment
from sidecar.classify.normalize import normalize
from sidecar.classify.unescape import Chained, Spanned, unescape

Mode = Literal["always", "when_needed", "off"]
MODES: tuple[Mode, ...] = ("always", "when_needed", "off")
ENTITY_CATEGORIES = frozenset({"pii", "phi"})
"""The categories of every tag the stage can emit."""
_JSON_FORMS = (JSON, DUMP)


class EntityStage:
    def __init__(self, recognizers: Sequence[Recognizer], mode: Mode = "when_needed") -> None:
        if mode not in MODES:
            raise ValueError(f"unknown entities mode {mode!r}")
        self.recognizers = tuple(recognizers)
        self.mode = mode
        self._requires = [_requires(r) for r in self.recognizers]
        self.tags = tuple(t for r in self.recognizers for t in r.tags)

    @classmethod
    def default(cls, mode: Mode = "when_needed", compiled_cache: Path | None = None) -> EntityStage:
        """Names, addresses and diagnoses."""
        recognizers: list[Recognizer] = [
            PersonNameRecognizer(),
            StreetAddressRecognizer(compiled_cache=compiled_cache),
            DiagnosisRecognizer(compiled_cache=compiled_cache),
        ]
        return cls(recognizers, mode)

    def needed(self, structured: Sequence[Finding]) -> bool:
        """Whether the stage can change the classification (see the module docstring)."""
        if self.mode != "when_needed":
            return self.mode == "always"
        found = {f.category for f in structured if f.confidence >= MEDIUM_FLOOR}
        return not found >= ENTITY_CATEGORIES

    def run(
        self, segments: Sequence[Segment], structured: Sequence[Finding], budget: int
    ) -> list[Finding]:
        """The stage's findings for a request, overlaps and requirements resolved."""
        taken: dict[int, list[tuple[int, int]]] = {}
        for f in structured:
            taken.setdefault(f.segment, []).append((f.start, f.end))
        taken = {segment: _union(spans) for segment, spans in taken.items()}
        hits: list[tuple[int, Finding]] = []  # (recognizer index, finding)
        remaining = budget
        for index, segment in enumerate(segments):
            if remaining <= 0:
                break
            text = segment.text[:remaining]
            remaining -= len(text)
            spanned = _prepared(text, segment.form)
            found = self._find(spanned.text if spanned is not None else text)
            for who, hit in _resolve(found):
                start, end = (hit.start, hit.end)
                if spanned is not None:
                    start, end = spanned.span(start, end)
                if not _overlaps(taken.get(index, ()), start, end):
                    hits.append((who, Finding(hit.tag, index, start, end, hit.confidence)))
        return _corroborated(self._required(hits, structured), structured)

    def _find(self, text: str) -> list[tuple[int, EntityHit]]:
        return [(who, hit) for who, r in enumerate(self.recognizers) for hit in r.find(text)]

    def _required(
        self, hits: list[tuple[int, Finding]], structured: Sequence[Finding]
    ) -> list[Finding]:
        """Drop the hits of recognizers whose required tags the request does not carry."""
        if not any(self._requires):
            return [f for _, f in hits]
        present = {f.tag for f in structured if f.confidence >= MEDIUM_FLOOR}
        present |= {
            f.tag for who, f in hits if not self._requires[who] and f.confidence >= MEDIUM_FLOOR
        }
        return [
            f
            for who, f in hits
            if not self._requires[who] or any(t.startswith(self._requires[who]) for t in present)
        ]


def _corroborated(found: list[Finding], structured: Sequence[Finding]) -> list[Finding]:
    """Hits medium by form alone, demoted to low when nothing else in the request backs
    them (see the module docstring)."""
    if any(f.confidence >= MEDIUM_FLOOR for f in structured) or any(
        f.confidence >= CORROBORATED_FLOOR for f in found
    ):
        return found
    if len({f.tag for f in found if f.confidence >= MEDIUM_FLOOR}) > 1:
        return found  # a name and a diagnosis, a name and an address back each other
    return [
        replace(f, confidence=UNCORROBORATED)
        if MEDIUM_FLOOR <= f.confidence < CORROBORATED_FLOOR
        else f
        for f in found
    ]


def _requires(recognizer: Recognizer) -> tuple[str, ...]:
    """A recognizer's `requires` (tag prefixes), an optional attribute of the protocol."""
    value = getattr(recognizer, REQUIRES, ())
    return tuple(value)


def _prepared(text: str, form: str) -> Spanned | None:
    """The text as the structured pass scanned it, or None when that is `text` itself."""
    decoded = unescape(text) if "\\" in text and form in _JSON_FORMS else None
    norm = normalize(decoded.text if decoded is not None else text)
    if decoded is None:
        return norm if norm.runs is not None else None
    return decoded if norm.runs is None else Chained(decoded, norm)


def _resolve(found: list[tuple[int, EntityHit]]) -> list[tuple[int, EntityHit]]:
    """Of overlapping hits in one text: the confident one (medium or above), then the
    longer, then the first."""
    if len(found) < 2:
        return found
    ranked = sorted(
        found,
        key=lambda x: (x[1].confidence < MEDIUM_FLOOR, x[1].start - x[1].end, x[1].start),
    )
    kept: list[tuple[int, EntityHit]] = []
    spans: list[tuple[int, int]] = []  # kept, disjoint, in start order
    for who, hit in ranked:
        if not _overlaps(spans, hit.start, hit.end):
            kept.append((who, hit))
            insort(spans, (hit.start, hit.end))
    kept.sort(key=lambda x: x[1].start)
    return kept


def _union(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Disjoint spans covering the same characters, in start order."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


def _overlaps(spans: Sequence[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) overlaps one of `spans` (disjoint, in start order)."""
    at = bisect_right(spans, (start, end))
    before = spans[at - 1] if at else None
    after = spans[at] if at < len(spans) else None
    return (before is not None and before[1] > start) or (after is not None and after[0] < end)
