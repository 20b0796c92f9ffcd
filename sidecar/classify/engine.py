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
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path

import hyperscan

from sidecar.classify.dbcache import cached_compile
from sidecar.classify.decode import decode_base64, decode_percent, percent_tokens
from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.model import Finding, Segment
from sidecar.classify.normalize import Normalized, char_offsets, normalize, prepare

SEPARATOR = "\n\n"
BOUNDARY = 48
"""Characters on each side of a message-part boundary that are scanned together."""
_B64_MIN = 12
_X, _Y = "[A-Za-z0-9+/_\\-]", "[A-Z0-9+/_]"


def _repeat(atom: str, n: int) -> str:
    return "" if n == 0 else atom if n == 1 else f"{atom}{{{n}}}"


_B64_TRIGGER = (
    r"(^|[^A-Za-z0-9+/=_\-])"
    + _X
    + "("
    + "|".join(_repeat(_X, k) + _Y + _repeat(_X, 10 - k) for k in range(11))
    + ")"
)
"""A run of 12 base64 characters with an upper-case letter, digit, + or / after the first:
fixed length, so it fires once per run and never for ordinary (lower-case or Capitalised)
words, which keeps the per-word cost out of the scan."""
_PCT_TRIGGER = r"%[0-9A-Fa-f]{2}"
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]*={0,2}")  # anchored .match at a known run start
WINDOW = 256
"""Bytes before a fast-scan hit searched for where the match starts (grows if needed)."""

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
        compiled_cache: Path | None = None,
    ) -> None:
        self.detectors = tuple(detectors)
        self.budget = budget_chars
        self.decode_limit = decode_limit
        self.decode_depth = decode_depth
        expressions: list[bytes] = []
        caseless: list[int] = []
        self._owner: list[int] = []
        for index, detector in enumerate(self.detectors):
            for pattern in detector.patterns:
                expressions.append(pattern.encode())
                caseless.append(hyperscan.HS_FLAG_CASELESS if detector.caseless else 0)
                self._owner.append(index)
        count = len(expressions)
        self._b64_id, self._pct_id = count, count + 1
        # Two databases over the same patterns. The fast one tracks no start of match (SOM
        # costs Hyperscan 3-4x) and runs over everything; the SOM one runs only over small
        # windows around the rare hits, to find where each match starts.
        self._fast = cached_compile(
            [*expressions, _B64_TRIGGER.encode(), _PCT_TRIGGER.encode()],
            [*caseless, 0, hyperscan.HS_FLAG_SINGLEMATCH],
            _compile,
            compiled_cache,
        )
        self._som = cached_compile(
            expressions,
            [f | hyperscan.HS_FLAG_SOM_LEFTMOST for f in caseless],
            _compile,
            compiled_cache,
        )
        prepare(compiled_cache)  # normalisation's lookup table: at start-up, not on a request

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
        kept = [c for c in self._near(_resolve(candidates)) if not c[2].suppress]
        findings = [_to_finding(c, normalized, starts) for c in kept]
        findings += self._split_values(segments, normalized, starts, kept)
        return ScanResult(findings, truncated)

    # ---- steps --------------------------------------------------------------------------

    def _normalize(self, segments: Sequence[Segment]) -> tuple[list[Normalized], bool]:
        remaining, truncated, out = self.budget, False, []
        for segment in segments:
            text = segment.text
            if segment.path and segment.path[-1] == JSON_TEXT and "\\" in text:
                text = unescape_in_place(text)
            if len(text) > remaining:
                text, truncated = text[: max(remaining, 0)], True
            remaining -= len(text)
            out.append(normalize(text))
        return out, truncated

    def _candidates(self, text: str, depth: int) -> list[Candidate]:
        data = text.encode("utf-8", "surrogatepass")  # a lone surrogate must not crash
        hit_ends: list[int] = []
        runs: list[int] = []
        percent = False

        def on_fast(pid: int, start: int, end: int, flags: int, context: object) -> None:
            nonlocal percent
            if pid == self._b64_id:
                runs.append(end - _B64_MIN)
            elif pid == self._pct_id:
                percent = True
            else:
                hit_ends.append(end)

        self._fast.scan(data, match_event_handler=on_fast)
        to_char = char_offsets(text, data)
        out: list[Candidate] = []
        if hit_ends:
            for (pid, byte_start), ends in self._locate(data, hit_ends).items():
                detector = self.detectors[self._owner[pid]]
                start = to_char(byte_start)
                for rank, byte_end in enumerate(sorted(ends, reverse=True)):
                    end = to_char(byte_end)
                    if rank and (
                        detector.narrow
                        or detector.whole
                        or (end < len(text) and text[end].isalnum())
                    ):
                        # A shorter match may only end on a word boundary, and a `key = value`
                        # value is all or nothing: a cut-off prefix is no secret of its own.
                        continue
                    found = self._confirm(detector, text, start, end)
                    if found is not None:
                        out.append(found)
                        break
        if depth < self.decode_depth and (runs or percent):
            out += self._encoded(text, [to_char(r) for r in runs], percent, depth)
        return out

    def _locate(self, data: bytes, hit_ends: list[int]) -> dict[tuple[int, int], list[int]]:
        """Start offsets for the fast scan's hits: the SOM database over merged windows that
        end at the hits. A match that starts at its window's edge may have been cut, so its
        window grows until the match starts inside it (or at the text's start)."""
        hits: dict[tuple[int, int], list[int]] = {}
        pending = sorted(set(hit_ends))
        reach = WINDOW
        while pending:
            windows: list[list[int]] = []
            for end in pending:
                start = max(0, end - reach)
                if windows and start <= windows[-1][1]:
                    windows[-1][1] = max(windows[-1][1], end)
                else:
                    windows.append([start, end])
            cut: list[int] = []
            for lo, hi in windows:

                def on_som(
                    pid: int,
                    start: int,
                    end: int,
                    flags: int,
                    ctx: object,
                    lo: int = lo,
                    cut: list[int] = cut,
                ) -> None:
                    if start == 0 and lo > 0:
                        cut.append(lo + end)
                        return
                    key = (pid, lo + start)
                    ends = hits.get(key)
                    if ends is None:
                        hits[key] = [lo + end]
                    elif lo + end not in ends:
                        ends.append(lo + end)

                self._som.scan(data[lo:hi], match_event_handler=on_som)
            pending, reach = sorted(set(cut)), reach * 4
        return hits

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
            head = text[run_start : run_start + _B64_MIN]
            if head.isalpha() and (head.islower() or head[1:].islower()):
                continue  # an ordinary word, not an encoding
            match = _B64_RUN.match(text, run_start)
            end = match.end() if match else run_start
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
                if detector.suppress or not start < cut < end:
                    continue
                la = len(normalized[i].text) - cut
                a_span = normalized[i].span(la + start, la + cut)
                b_span = normalized[i + 1].span(0, end - cut)
                out.append(Finding(detector.tag, i, *a_span, detector.confidence))
                out.append(Finding(detector.tag, i + 1, *b_span, detector.confidence))
        return out


JSON_TEXT = "arguments"
"""Segments at this path are JSON text (OpenAI tool-call arguments)."""
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": " ", "f": " ", '"': '"', "/": "/", "\\": "\\"}


def unescape_in_place(text: str) -> str:
    """JSON escapes decoded without moving anything: `\\n` becomes a newline plus a space,
    `\\u00e9` becomes `é` plus five spaces. A value right after an escape is then found,
    and its offsets still point into the JSON text that redaction rewrites."""
    out: list[str] = []
    pos = 0
    while (i := text.find("\\", pos)) != -1:
        out.append(text[pos:i])
        nxt = text[i + 1 : i + 2]
        if nxt == "u" and i + 6 <= len(text):
            try:
                char = chr(int(text[i + 2 : i + 6], 16))
            except ValueError:
                char = " "
            out.append((char if char.isprintable() else " ") + " " * 5)
            pos = i + 6
        else:
            out.append(_ESCAPES.get(nxt, " ") + (" " if nxt else ""))
            pos = i + 2
    out.append(text[pos:])
    return "".join(out)


def _compile(expressions: list[bytes], flags: list[int]) -> hyperscan.Database:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=expressions,
        ids=list(range(len(expressions))),
        elements=len(expressions),
        flags=flags,
    )
    return db


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
