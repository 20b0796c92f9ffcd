"""Which of overlapping candidates is the finding: the longest, then the most confident; of
context-gated detectors claiming one number, the one whose label is nearest; and which
findings only count next to another (`Detector.near`)."""

from __future__ import annotations

from sidecar.classify.detectors import Detector
from sidecar.classify.detectors.base import context_distance

Candidate = tuple[int, int, Detector]
"""(start, end, detector) with character offsets into the scanned text."""


def nearest_context(candidates: list[Candidate], text: str) -> list[Candidate]:
    """Of context-gated detectors that claim the same span, the one whose context word is
    nearest wins: in "MRN 0083442926, passport #638834586" the number after "passport" is
    a passport number, whatever the MRN detector's confidence."""
    spans: dict[tuple[int, int], list[Detector]] = {}
    for start, end, detector in candidates:
        if detector.context and not detector.suppress:  # a suppressor wins anyway
            spans.setdefault((start, end), []).append(detector)
    contested = {span: ds for span, ds in spans.items() if len(ds) > 1}
    if not contested:
        return candidates
    losers: set[tuple[int, int, int]] = set()
    for (start, end), detectors in contested.items():
        distance = {
            id(d): context_distance(text, start, d.context, d.context_window) for d in detectors
        }
        known = [dist for dist in distance.values() if dist is not None]
        if not known:
            continue  # every one confirmed by a word after it (`context_after`)
        best = min(known)
        losers |= {(start, end, key) for key, dist in distance.items() if dist != best}
    return [c for c in candidates if (c[0], c[1], id(c[2])) not in losers]


def resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Drop candidates inside an accepted one (an IBAN's digits are not a card number:
    longer, then more confident, wins)."""
    candidates.sort(key=lambda c: (c[0], -(c[1] - c[0]), -c[2].confidence))
    kept: list[Candidate] = []
    reach = -1
    for candidate in candidates:
        if candidate[1] <= reach:
            continue
        reach = max(reach, candidate[1])
        kept.append(candidate)
    return kept


def resolve_near(candidates: list[Candidate]) -> list[Candidate]:
    """Overlaps resolved, then the `near` rule applied; a candidate the rule drops must
    not have hidden another in resolution (a 40-character value beside no AWS key id
    is still the `token: …` it overlaps), so resolution runs again without it."""
    resolved = resolve(list(candidates))
    kept = near(resolved)
    if len(kept) == len(resolved):
        return kept
    dropped = {(s, e, id(d)) for s, e, d in resolved} - {(s, e, id(d)) for s, e, d in kept}
    rest = [c for c in candidates if (c[0], c[1], id(c[2])) not in dropped]
    return near(resolve(rest))


def near(candidates: list[Candidate]) -> list[Candidate]:
    """Drop findings that only count next to another (CVV next to a card number,
    clinical words in a request that identifies a person)."""
    if not any(c[2].near for c in candidates):
        return candidates
    kept = []
    for start, end, detector in candidates:
        if detector.near and not any(
            other is not detector
            and other.tag.startswith(detector.near)
            and (
                detector.near_window is None
                or (s - detector.near_window <= end and start <= e + detector.near_window)
            )
            for s, e, other in candidates
        ):
            continue
        kept.append((start, end, detector))
    return kept
