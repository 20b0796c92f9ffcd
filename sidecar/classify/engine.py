"""One Hyperscan database over every detector pattern: one linear-time pass per request.

All segments of a request are normalised, joined with a blank line (no pattern crosses a
newline) and scanned once; candidates are then confirmed by validators and context words,
and mapped back to character offsets in the original segment text. No backtracking regex
ever runs over request text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from itertools import accumulate

import hyperscan

from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.model import Finding, Segment
from sidecar.classify.normalize import Normalized, normalize

SEPARATOR = "\n\n"


class Scanner:
    def __init__(self, detectors: Sequence[Detector] = DEFAULT_DETECTORS) -> None:
        self.detectors = tuple(detectors)
        expressions: list[bytes] = []
        self._owner: list[int] = []
        for index, detector in enumerate(self.detectors):
            for pattern in detector.patterns:
                expressions.append(pattern.encode())
                self._owner.append(index)
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=[hyperscan.HS_FLAG_SOM_LEFTMOST] * len(expressions),
        )

    def scan(self, segments: Sequence[Segment]) -> list[Finding]:
        if not segments:
            return []
        normalized = [normalize(s.text) for s in segments]
        joined = SEPARATOR.join(n.text for n in normalized)
        starts = [0, *accumulate(len(n.text) + len(SEPARATOR) for n in normalized)][:-1]
        data = joined.encode("utf-8")
        hits: dict[tuple[int, int], list[int]] = {}

        def on_match(pid: int, start: int, end: int, flags: int, context: object) -> None:
            ends = hits.get((pid, start))
            if ends is None:
                hits[(pid, start)] = [end]
            else:
                ends.append(end)

        self._db.scan(data, match_event_handler=on_match)
        if not hits:
            return []
        to_char = _byte_to_char(joined, data)
        candidates: list[tuple[int, int, Detector]] = []
        for (pid, byte_start), ends in hits.items():
            detector = self.detectors[self._owner[pid]]
            start = to_char(byte_start)
            for byte_end in sorted(ends, reverse=True):
                end = to_char(byte_end)
                if self._confirmed(detector, joined, start, end):
                    if detector.extend_to:
                        end = _extend(joined, end, detector.extend_to)
                    candidates.append((start, end, detector))
                    break
        return self._resolve(candidates, normalized, starts)

    @staticmethod
    def _confirmed(detector: Detector, text: str, start: int, end: int) -> bool:
        if detector.validator is not None and not detector.validator(text[start:end]):
            return False
        if detector.context:
            window = text[max(0, start - detector.context_window) : start].lower()
            return any(word in window for word in detector.context)
        return True

    @staticmethod
    def _resolve(
        candidates: list[tuple[int, int, Detector]],
        normalized: list[Normalized],
        starts: list[int],
    ) -> list[Finding]:
        """Drop candidates inside an accepted one (an IBAN's digits are not a card number:
        longer, then more confident, wins), then map to original segment offsets."""
        candidates.sort(key=lambda c: (c[0], -(c[1] - c[0]), -c[2].confidence))
        findings: list[Finding] = []
        reach = -1
        for start, end, detector in candidates:
            if end <= reach:
                continue
            reach = max(reach, end)
            seg = bisect_right(starts, start) - 1
            local_start, local_end = start - starts[seg], end - starts[seg]
            o_start, o_end = normalized[seg].span(local_start, local_end)
            findings.append(Finding(detector.tag, seg, o_start, o_end, detector.confidence))
        return findings


def _byte_to_char(text: str, data: bytes):  # type: ignore[no-untyped-def]
    if len(data) == len(text):
        return lambda offset: offset
    byte_offsets = [0, *accumulate(len(c.encode("utf-8")) for c in text)]
    return lambda offset: bisect_right(byte_offsets, offset) - 1


def _extend(text: str, end: int, marker: str) -> int:
    """Run a span to the end of the line holding `marker` (e.g. a PEM block's END line),
    or to the end of the segment when the block is cut off."""
    found = text.find(marker, end)
    segment_end = text.find(SEPARATOR, end)
    if segment_end == -1:
        segment_end = len(text)
    if found == -1 or found > segment_end:
        return segment_end
    line_end = text.find("\n", found)
    return segment_end if line_end == -1 else min(line_end, segment_end)
