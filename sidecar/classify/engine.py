"""One Hyperscan database over every detector pattern: one linear-time pass per request.

All segments of a request are normalised, joined with a blank line (no pattern crosses a
newline) and scanned once; candidates are then confirmed by validators and context words,
narrowed to the sensitive value, and mapped back to character offsets in the original
segment text. No backtracking regex ever runs over request text.

Evasion handling on top of normalisation: base64 and URL-encoded runs are decoded (bounded in
size and depth) and scanned, a finding inside covering the whole encoded run; and values
split across two parts of one message are found in a window around the boundary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate

import hyperscan

from sidecar.classify.decode import decode_base64, decode_percent, percent_tokens
from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.model import Finding, Segment
from sidecar.classify.normalize import Normalized, normalize

SEPARATOR = "\n\n"
BOUNDARY = 48
"""Characters on each side of a message-part boundary that are scanned together."""
_B64_MIN = 12
_B64_TRIGGER = r"(^|[^A-Za-z0-9+/=_\-])[A-Za-z0-9+/_\-]{12}"
_PCT_TRIGGER = r"%[0-9A-Fa-f]{2}"
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]*={0,2}")  # anchored .match at a known run start

Candidate = tuple[int, int, Detector]


@dataclass(frozen=True, slots=True)
class ScanResult:
    findings: list[Finding]
    truncated: bool


class Scanner:
    def __init__(
        self,
        detectors: Sequence[Detector] = DEFAULT_DETECTORS,
        *,
        budget_chars: int = 1 << 20,
        decode_limit: int = 1 << 16,
        decode_depth: int = 2,
    ) -> None:
        self.detectors = tuple(detectors)
        self.budget = budget_chars
        self.decode_limit = decode_limit
        self.decode_depth = decode_depth
        expressions: list[bytes] = []
        flags: list[int] = []
        self._owner: list[int] = []
        for index, detector in enumerate(self.detectors):
            flag = hyperscan.HS_FLAG_SOM_LEFTMOST
            if detector.caseless:
                flag |= hyperscan.HS_FLAG_CASELESS
            for pattern in detector.patterns:
                expressions.append(pattern.encode())
                flags.append(flag)
                self._owner.append(index)
        self._b64_id = len(expressions)
        self._pct_id = self._b64_id + 1
        expressions += [_B64_TRIGGER.encode(), _PCT_TRIGGER.encode()]
        flags += [hyperscan.HS_FLAG_SOM_LEFTMOST, hyperscan.HS_FLAG_SINGLEMATCH]
        self._db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
        self._db.compile(
            expressions=expressions,
            ids=list(range(len(expressions))),
            elements=len(expressions),
            flags=flags,
        )

    # ---- public -------------------------------------------------------------------------

    def scan(self, segments: Sequence[Segment]) -> list[Finding]:
        return self.scan_report(segments).findings

    def scan_report(self, segments: Sequence[Segment]) -> ScanResult:
        if not segments:
            return ScanResult([], False)
        normalized, truncated = self._normalize(segments)
        joined = SEPARATOR.join(n.text for n in normalized)
        starts = [0, *accumulate(len(n.text) + len(SEPARATOR) for n in normalized)][:-1]
        candidates = self._candidates(joined, depth=0)
        kept = self._near(_resolve(candidates))
        findings = [_to_finding(c, normalized, starts) for c in kept]
        findings += self._split_values(segments, normalized, starts, kept)
        return ScanResult(findings, truncated)

    # ---- steps --------------------------------------------------------------------------

    def _normalize(self, segments: Sequence[Segment]) -> tuple[list[Normalized], bool]:
        remaining, truncated, out = self.budget, False, []
        for segment in segments:
            text = segment.text
            if len(text) > remaining:
                text, truncated = text[: max(remaining, 0)], True
            remaining -= len(text)
            out.append(normalize(text))
        return out, truncated

    def _candidates(self, text: str, depth: int) -> list[Candidate]:
        data = text.encode("utf-8")
        hits: dict[tuple[int, int], list[int]] = {}
        runs: list[int] = []
        percent = False

        def on_match(pid: int, start: int, end: int, flags: int, context: object) -> None:
            nonlocal percent
            if pid == self._b64_id:
                runs.append(end - _B64_MIN)
            elif pid == self._pct_id:
                percent = True
            else:
                ends = hits.get((pid, start))
                if ends is None:
                    hits[(pid, start)] = [end]
                else:
                    ends.append(end)

        self._db.scan(data, match_event_handler=on_match)
        to_char = _byte_to_char(text, data)
        out: list[Candidate] = []
        for (pid, byte_start), ends in hits.items():
            detector = self.detectors[self._owner[pid]]
            start = to_char(byte_start)
            for rank, byte_end in enumerate(sorted(ends, reverse=True)):
                end = to_char(byte_end)
                if rank and (detector.narrow or (end < len(text) and text[end].isalnum())):
                    # A shorter match may only end on a word boundary, and a `key = value`
                    # value is all or nothing: a cut-off prefix is not a secret of its own.
                    continue
                found = self._confirm(detector, text, start, end)
                if found is not None:
                    out.append(found)
                    break
        if depth < self.decode_depth and (runs or percent):
            out += self._encoded(text, [to_char(r) for r in runs], percent, depth)
        return out

    def _confirm(self, detector: Detector, text: str, start: int, end: int) -> Candidate | None:
        value = text[start:end]
        if detector.validator is not None and not detector.validator(value):
            return None
        if detector.context:
            window = text[max(0, start - detector.context_window) : start].lower()
            if not any(word in window for word in detector.context):
                return None
        if detector.narrow is not None:
            a, b = detector.narrow(value)
            start, end = start + a, start + b
            if end <= start:
                return None
        if detector.extend_to == "{}":
            start, end = _enclosing_object(text, start, end)
        elif detector.extend_to:
            end = _extend_to_line(text, end, detector.extend_to)
        return start, end, detector

    def _encoded(self, text: str, runs: list[int], percent: bool, depth: int) -> list[Candidate]:
        """Decode base64 / URL-encoded runs and scan what they hide; a finding there covers
        the whole encoded run, which is what redaction must remove."""
        out: list[Candidate] = []
        budget = self.decode_limit
        spans: list[tuple[int, int, str]] = []
        for run_start in runs:
            match = _B64_RUN.match(text, run_start)
            end = match.end() if match else run_start
            word = text[run_start:end]
            if word.isalpha() and (word.islower() or word[1:].islower() or word.isupper()):
                continue  # an ordinary word, not an encoding
            if end - run_start <= budget and (decoded := decode_base64(text[run_start:end])):
                spans.append((run_start, end, decoded))
                budget -= end - run_start
        if percent:
            for start, end in percent_tokens(text):
                if end - start <= budget and (decoded := decode_percent(text[start:end])):
                    spans.append((start, end, decoded))
                    budget -= end - start
        for start, end, decoded in spans:
            for _, _, detector in self._candidates(decoded, depth + 1):
                out.append((start, end, detector))
        return out

    def _near(self, candidates: list[Candidate]) -> list[Candidate]:
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

    def _split_values(
        self,
        segments: Sequence[Segment],
        normalized: list[Normalized],
        starts: list[int],
        found: list[Candidate],
    ) -> list[Finding]:
        """A value cut across two parts of one message ("536-22-" | "8457") is found in a
        window around the boundary and reported in both parts."""
        out: list[Finding] = []
        for i in range(len(segments) - 1):
            a, b = segments[i].path, segments[i + 1].path
            if len(a) < 2 or a[:-2] != b[:-2] or a[-1] != b[-1]:
                continue
            left, right = normalized[i].text[-BOUNDARY:], normalized[i + 1].text[:BOUNDARY]
            if not left or not right:
                continue
            cut = len(left)
            for start, end, detector in _resolve(self._candidates(left + right, self.decode_depth)):
                if not start < cut < end:
                    continue
                la = len(normalized[i].text) - cut
                a_span = normalized[i].span(la + start, la + cut)
                b_span = normalized[i + 1].span(0, end - cut)
                out.append(Finding(detector.tag, i, *a_span, detector.confidence))
                out.append(Finding(detector.tag, i + 1, *b_span, detector.confidence))
        return out


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
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


def _to_finding(c: Candidate, normalized: list[Normalized], starts: list[int]) -> Finding:
    start, end, detector = c
    seg = bisect_right(starts, start) - 1
    o_start, o_end = normalized[seg].span(start - starts[seg], end - starts[seg])
    return Finding(detector.tag, seg, o_start, o_end, detector.confidence)


def _byte_to_char(text: str, data: bytes) -> Callable[[int], int]:
    if len(data) == len(text):
        return lambda offset: offset
    byte_offsets = [0, *accumulate(len(c.encode("utf-8")) for c in text)]
    return lambda offset: bisect_right(byte_offsets, offset) - 1


def _segment_end(text: str, pos: int) -> int:
    end = text.find(SEPARATOR, pos)
    return len(text) if end == -1 else end


def _extend_to_line(text: str, end: int, marker: str) -> int:
    """Run a span through the block closed by `marker` (a PEM block's `-----END … -----`
    line, also when it sits inside a JSON string), or to the end of the segment when the
    block is cut off."""
    segment_end = _segment_end(text, end)
    found = text.find(marker, end, segment_end)
    if found == -1:
        return segment_end
    close = text.find("-----", found + len(marker), segment_end)
    return segment_end if close == -1 else close + 5


def _enclosing_object(text: str, start: int, end: int, limit: int = 1 << 16) -> tuple[int, int]:
    """The JSON object around a match (a service-account file), found by brace depth."""
    depth, i = 0, start - 1
    while i >= max(0, start - limit):
        if text[i] == "}":
            depth += 1
        elif text[i] == "{":
            if depth == 0:
                break
            depth -= 1
        i -= 1
    open_at = i if i >= 0 and text[i] == "{" else start
    depth, j = 0, end
    stop = min(len(text), end + limit)
    while j < stop:
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            if depth == 0:
                return open_at, j + 1
            depth -= 1
        j += 1
    return open_at, _segment_end(text, end)
