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

import contextlib
import re
from bisect import bisect_right, insort
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate, pairwise
from pathlib import Path

import hyperscan

from sidecar.classify import hs
from sidecar.classify.allowance import Allowance
from sidecar.classify.dbcache import cached_compile
from sidecar.classify.decode import decode_base64, decode_percent, percent_tokens
from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.detectors.base import has_context, vetoed
from sidecar.classify.gate import ContextGate
from sidecar.classify.model import DUMP, JSON, TEXT, Finding, Segment
from sidecar.classify.normalize import char_offsets, normalize, prepare
from sidecar.classify.resolve import Candidate, nearest_context, resolve, resolve_near
from sidecar.classify.spans import SEPARATOR, enclosing_object, extend_to_line
from sidecar.classify.unescape import Chained, Spanned, unescape
from sidecar.classify.width import fixed_width, longest

BOUNDARY = 48
"""Characters on each side of a message-part boundary that are scanned together."""
_X = "[A-Za-z0-9+/_\\-]"
_B64_TRIGGER = _X + "[A-Z0-9+/_]" + _X + "{10,}([^A-Za-z0-9+/_\\-]|$)"
"""The end of a run of base64 characters that has an upper-case letter, digit, +, / or _
after its first character and at least ten more after that. It reports the run's end, so
it fires once per run however long, and it is live only after such a character rather
than at every letter, which keeps ordinary prose cheap. A run whose first characters are
all lower-case letters still fires: a prefix chosen to encode to lower-case letters does
not hide what follows it. Digits, "@" and upper-case letters, which the values detectors
look for are made of, encode to upper-case letters or digits at most alignments."""
_B64_CHARS = re.compile(r"[A-Za-z0-9+/_\-]*")  # anchored .match over a reversed tail
_B64_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_B64 = frozenset(_B64_ALPHABET)
_B64_BYTES = frozenset(_B64_ALPHABET.encode())
_PCT_TRIGGER = r"%[0-9A-Fa-f]{2}"
_B64_RUN = re.compile(r"[A-Za-z0-9+/_\-]*={0,2}")  # anchored .match at a known run start
WINDOW = 96
"""Bytes before a fast-scan hit searched for where the match starts, for a detector whose
matches have no bound; it grows fourfold for an end the window could not resolve. A
bounded detector's window is its longest match and one byte more, for a word boundary to
be seen: a start-of-match scan costs about 10 ns a byte, so a card number's 56 bytes
instead of 256 save most of it."""


_JSON_FORMS = (JSON, DUMP)
_JSON_START = re.compile(r"\s*[\[{]")
Hit = tuple[int, int, int]
"""A fast-scan hit: (detector index, end in bytes, pattern id)."""


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
        self._fixed: list[int | None] = []
        """Each pattern's one match length in bytes, if it has one: then a hit's start is
        its end minus that, and no start-of-match scan is needed."""
        self._first: list[int] = []
        """The global id of each detector's first pattern."""
        self._window = [
            WINDOW if (n := longest(d.patterns, d.caseless)) is None else n + 1
            for d in self.detectors
        ]
        self._run: list[frozenset[int] | None] = []
        """For a pattern whose fast form ends at the character after its run (see
        `Detector.run`): the bytes of the run, to tell whether that character was taken."""
        fast: list[bytes] = []
        for index, detector in enumerate(self.detectors):
            self._first.append(len(expressions))
            for pattern in detector.patterns:
                expressions.append(pattern.encode())
                caseless.append(hyperscan.HS_FLAG_CASELESS if detector.caseless else 0)
                self._owner.append(index)
                self._fixed.append(fixed_width(pattern, detector.caseless))
                run = detector.run
                self._run.append(None if run is None else _run_bytes(run))
                fast.append(pattern.encode() if run is None else _then_run_end(pattern, run))
        count = len(expressions)
        self._pct_id = count
        self._gate = ContextGate(
            self.detectors, lambda e, f: cached_compile(e, f, hs.compile_block, compiled_cache)
        )
        # The fast database tracks no start of match (SOM costs Hyperscan 3-4x) and runs
        # over everything. The base64 trigger has a database of its own (added to the fast
        # one it costs more than alone: Hyperscan then runs it in a bigger engine), and so
        # do the context words (see gate.py). Start-of-match databases are one per detector
        # and run only over small windows before that detector's rare hits: a window then
        # pays for the patterns that fired, not for all of them.
        self._fast = cached_compile(
            [*fast, _PCT_TRIGGER.encode()],
            [*caseless, hyperscan.HS_FLAG_SINGLEMATCH],
            hs.compile_block,
            compiled_cache,
        )
        self._runs = cached_compile([_B64_TRIGGER.encode()], [0], hs.compile_block, compiled_cache)
        self._som: list[hyperscan.Database | None] = []
        self._som_run: list[frozenset[int] | None] = []
        """A detector's run bytes when its start-of-match database has the fast form too
        (one match per run there as well); None when it has the patterns as written."""
        for index, detector in enumerate(self.detectors):
            first, end = self._first[index], self._first[index] + len(detector.patterns)
            som_flags = [f | hyperscan.HS_FLAG_SOM_LEFTMOST for f in caseless[first:end]]
            db, som_run = None, None
            if detector.run is not None:
                # Hyperscan refuses some of these with start of match ("Pattern is too
                # large": a long bounded prefix before the run); those keep the pattern.
                with contextlib.suppress(hyperscan.error):
                    db = cached_compile(
                        fast[first:end], som_flags, hs.compile_block, compiled_cache
                    )
                    som_run = self._run[first]
            if db is None and end > first:
                db = cached_compile(
                    expressions[first:end], som_flags, hs.compile_block, compiled_cache
                )
            self._som.append(db)
            self._som_run.append(som_run)
        prepare(compiled_cache)  # normalisation's lookup table: at start-up, not on a request

    # ---- public -------------------------------------------------------------------------

    def scan(self, segments: Sequence[Segment]) -> list[Finding]:
        return self.scan_report(segments).findings

    def scan_report(self, segments: Sequence[Segment]) -> ScanResult:
        if not segments:
            return ScanResult([], False)
        normalized, truncated = self._normalize(segments)
        if len(normalized) == 1:
            joined, starts = normalized[0].text, [0]
        else:
            joined = SEPARATOR.join(n.text for n in normalized)
            starts = [0, *accumulate(len(n.text) + len(SEPARATOR) for n in normalized)][:-1]
        allowance = Allowance.for_size(len(joined))
        candidates = self._candidates(joined, 0, allowance)
        kept = [c for c in resolve_near(candidates) if not c[2].suppress]
        findings = [_to_finding(c, normalized, starts) for c in kept]
        if len(segments) > 1:
            findings += self._split_values(segments, normalized, starts, allowance)
        return ScanResult(findings, truncated or allowance.exhausted or allowance.undecoded)

    # ---- steps --------------------------------------------------------------------------

    def _normalize(self, segments: Sequence[Segment]) -> tuple[list[Spanned], bool]:
        remaining, truncated = self.budget, False
        out: list[Spanned] = []
        for segment in segments:
            text = segment.text
            if len(text) > remaining:
                text, truncated = text[: max(remaining, 0)], True
            remaining -= len(text)
            # JSON text (tool arguments, JSON pasted into a string), and prose with \u
            # escapes a model reads as characters: scanned decoded, findings mapped back.
            decoded = None
            if "\\" in text and (
                segment.form in _JSON_FORMS or "\\u" in text or _JSON_START.match(text)
            ):
                decoded = unescape(text)
            if decoded is None:
                out.append(normalize(text))
            else:
                norm = normalize(decoded.text)
                out.append(decoded if norm.runs is None else Chained(decoded, norm))
        return out, truncated

    def _candidates(self, text: str, depth: int, allowance: Allowance) -> list[Candidate]:
        data = text.encode("utf-8", "surrogatepass")  # a lone surrogate must not crash
        hits: list[Hit] = []
        """Every fast-scan hit worth locating."""
        runs: list[int] = []
        percent = False
        gated: list[Hit] = []
        owners, reach, pct_id, run_of = self._owner, self._gate.reach, self._pct_id, self._run
        # Callbacks are counted here and charged to the allowance after each scan: a method
        # call per callback cost more than the callback's own work.
        limit, count = allowance.raw, 0

        def on_fast(pid: int, start: int, end: int, flags: int, context: object) -> bool:
            nonlocal percent, count
            count += 1
            if pid < pct_id:
                owner = owners[pid]
                run = run_of[pid]
                if run is not None and data[end - 1] not in run:
                    end -= 1  # the character after the run, taken by the fast form
                (gated if owner in reach else hits).append((owner, end, pid))
            else:
                percent = True
            return count > limit  # True stops the scan

        def on_run(pid: int, start: int, end: int, flags: int, context: object) -> bool:
            nonlocal count
            count += 1
            # the run ends before the one-byte terminator, or at the text's end
            runs.append(end if data[end - 1] in _B64_BYTES else end - 1)
            return count > limit

        hs.scan(self._fast, data, on_fast)
        if depth < self.decode_depth and count <= limit:
            hs.scan(self._runs, data, on_run)
        allowance.callbacks(count)
        passed = self._gate.passes(data, gated, allowance)
        hits += passed
        ascii_only = len(data) == len(text)  # then byte offsets are character offsets
        to_char = char_offsets(text, data)
        out: list[Candidate] = []
        if hits:
            try:
                located = self._locate(data, hits, allowance)
                # Widest first: a match strictly inside a confirmed one loses overlap
                # resolution whatever it is, so it is not confirmed at all (the card-number
                # digits of an IBAN cost more than the IBAN).
                widest = (
                    sorted(located.items(), key=_width) if len(located) > 1 else located.items()
                )
                spans: list[tuple[int, int]] = []  # confirmed, in start order
                for (pid, byte_start), byte_ends in widest:
                    detector = self.detectors[self._owner[pid]]
                    if ascii_only:
                        start, ends = byte_start, sorted(byte_ends, reverse=True)
                    else:
                        start = to_char(byte_start)
                        ends = sorted((to_char(e) for e in byte_ends), reverse=True)
                    if spans and detector.extend_to is None and _inside(spans, start, ends[0]):
                        continue
                    found = self._longest(detector, text, start, ends, allowance)
                    later_starts = detector.later_starts if found is None else None
                    for later in later_starts(text, start, ends[0]) if later_starts else ():
                        if found is not None:
                            break
                        rest = [end for end in ends if end > later]
                        found = self._longest(detector, text, later, rest, allowance)
                    if found is not None:
                        out.append(found)
                        insort(spans, (found[0], found[1]))
            except _Spent:
                return nearest_context(out, text)
            out = nearest_context(out, text)
        if depth < self.decode_depth and (runs or percent):
            ends = runs if ascii_only else [to_char(r) for r in runs]
            opaque = {c[1]: c[0] for c in out if c[2].opaque}
            out += self._encoded(text, ends, percent, depth, allowance, opaque)
        return out

    def _longest(
        self, detector: Detector, text: str, start: int, ends: list[int], allowance: Allowance
    ) -> Candidate | None:
        """The longest confirmed match from `start`, trying `ends` longest first. A shorter
        match may only end on a word boundary and not where the value visibly goes on, and a
        `key = value` value is all or nothing: a cut-off prefix is no secret of its own."""
        for rank, end in enumerate(ends):
            if rank and (
                detector.narrow
                or detector.whole
                or (end < len(text) and text[end].isalnum())
                or (detector.continues is not None and detector.continues(text, start, end))
            ):
                continue
            if not allowance.take():
                raise _Spent
            found = self._confirm(detector, text, start, end)
            if found is not None:
                return found
        return None

    def _locate(
        self,
        data: bytes,
        hits: list[Hit],
        allowance: Allowance,
    ) -> dict[tuple[int, int], set[int]]:
        """Start offsets for the fast scan's hits, keyed by (pattern id, start): a
        fixed-length pattern's from its length, the others' from their detector's SOM
        database over merged windows that end at its hits. A match that starts at its
        window's edge may have been cut, so its window grows until the match starts inside
        it (or at the text's start)."""
        located: dict[tuple[int, int], set[int]] = {}
        by_detector: dict[int, list[int]] = {}
        for owner, end, pid in hits:
            length = self._fixed[pid]
            if length is None:
                by_detector.setdefault(owner, []).append(end)
            elif not allowance.hit():
                return located
            else:
                located.setdefault((pid, end - length), set()).add(end)
        for owner, ends in by_detector.items():
            self._locate_one(data, owner, ends, allowance, located)
            if allowance.exhausted:
                break
        return located

    def _locate_one(
        self,
        data: bytes,
        owner: int,
        ends: list[int],
        allowance: Allowance,
        located: dict[tuple[int, int], set[int]],
    ) -> None:
        """Starts for one detector's hit ends: its SOM database over merged windows that
        end at them. An end is resolved by a match that ends there and starts inside the
        window; one whose match starts at the window's edge may have been cut, and one with
        no match there lost its start to the window (a JWT's first end is hundreds of bytes
        past its start), so those ends go round again in windows four times wider, until
        the window reaches the text's start. Only matches ending where the fast scan saw an
        end count: a window's edges make no match of their own."""
        db = self._som[owner]
        if db is None:
            return
        first = self._first[owner]
        run = self._som_run[owner]
        wanted = set(ends)
        pending = sorted(wanted)
        reach = self._window[owner]
        size = len(data)
        matches: list[tuple[int, int, int]] = []
        limit = allowance.raw

        def on_som(pid: int, start: int, end: int, flags: int, ctx: object) -> bool:
            matches.append((pid, start, end))
            return len(matches) > limit  # True stops the scan

        while pending:
            windows: list[list[int]] = []  # [lo, hi, index of its first end in pending]
            for index, end in enumerate(pending):
                start = end - reach if end > reach else 0
                if windows and start <= windows[-1][1]:
                    windows[-1][1] = end
                else:
                    windows.append([start, end, index])
            windows.append([0, 0, len(pending)])  # closes the last window's run of ends
            unresolved: list[int] = []
            for (lo, hi, first_end), following in pairwise(windows):
                matches.clear()
                # one byte past the last end, so a word boundary there sees the next byte
                hs.scan(db, data[lo : min(hi + 1, size)], on_som)
                if not allowance.callbacks(len(matches)):
                    return
                limit = allowance.raw
                resolved: set[int] = set()
                for pid, start, end in matches:
                    end += lo
                    if run is not None and data[end - 1] not in run:
                        end -= 1  # the character after the run, taken by the fast form
                    if end not in wanted or (start == 0 and lo > 0):
                        continue
                    resolved.add(end)
                    key = (first + pid, lo + start)
                    known = located.get(key)
                    if known is None:
                        located[key] = {end}
                    else:
                        known.add(end)  # a set: an unbounded run reports every end
                if not allowance.hit(len(resolved)):
                    return
                if lo > 0 and len(resolved) < following[2] - first_end:
                    own = pending[first_end : following[2]]
                    unresolved += [e for e in own if e not in resolved]
            pending, reach = unresolved, reach * 4

    def _confirm(self, detector: Detector, text: str, start: int, end: int) -> Candidate | None:
        value = text[start:end]
        if detector.validator is not None and not detector.validator(value):
            return None
        if detector.context and not has_context(text, start, detector, end):
            return None
        if detector.veto and vetoed(text, start, end, detector):
            return None
        if detector.narrow is not None:
            a, b = detector.narrow(value)
            start, end = start + a, start + b
            if end <= start:
                return None
        if detector.extend_to == "{}":
            start, end = enclosing_object(text, start, end)
        elif detector.extend_to:
            end = extend_to_line(text, end, detector.extend_to)
        return start, end, detector

    def _encoded(
        self,
        text: str,
        run_ends: list[int],
        percent: bool,
        depth: int,
        allowance: Allowance,
        opaque: dict[int, int],
    ) -> list[Candidate]:
        """Decode base64 / URL-encoded runs and scan what they hide; a finding there covers
        the whole encoded run, which is what redaction must remove."""
        out: list[Candidate] = []
        budget = self.decode_limit
        spans: list[tuple[int, int, str]] = []
        for run_end in run_ends:
            value_start = opaque.get(run_end)
            if value_start is not None and (value_start == 0 or text[value_start - 1] not in _B64):
                continue  # the run is an AWS key id or a GitHub token: no text inside
            run_start = _run_start(text, run_end, budget)
            if run_start is None:
                allowance.undecoded = True  # longer than what is left to decode
                continue
            match = _B64_RUN.match(text, run_start)
            end = match.end() if match else run_start
            if end - run_start > budget:
                allowance.undecoded = True
            elif decoded := decode_base64(text[run_start:end]):
                spans.append((run_start, end, decoded))
                budget -= end - run_start
        if percent:
            for start, end in percent_tokens(text):
                if end - start > budget:
                    allowance.undecoded = True
                elif decoded := decode_percent(text[start:end]):
                    spans.append((start, end, decoded))
                    budget -= end - start
        for start, end, decoded in spans:
            for _, _, detector in self._candidates(decoded, depth + 1, allowance):
                out.append((start, end, detector))
        return out

    def _split_values(
        self,
        segments: Sequence[Segment],
        normalized: list[Spanned],
        starts: list[int],
        allowance: Allowance,
    ) -> list[Finding]:
        """A value cut across two parts of one message ("536-22-" | "8457") is found in a
        window around the boundary and reported in both parts. Parts pair up by list: each
        text part with the previous text part of the same list, whatever lies between (a
        tool_use block, an unknown key), since a translator may join their texts."""
        out: list[Finding] = []
        previous: dict[tuple[object, ...], int] = {}
        for j, segment in enumerate(segments):
            path = segment.path
            if len(path) < 2 or not isinstance(path[-2], int) or segment.form != TEXT:
                continue
            group = (*path[:-2], path[-1])
            i = previous.get(group)
            previous[group] = j
            if i is None:
                continue
            left, right = normalized[i].text[-BOUNDARY:], normalized[j].text[:BOUNDARY]
            if not left or not right:
                continue
            cut = len(left)
            pair = self._candidates(left + right, self.decode_depth, allowance)
            for start, end, detector in resolve(pair):
                if detector.suppress or not start < cut < end:
                    continue
                la = len(normalized[i].text) - cut
                a_span = normalized[i].span(la + start, la + cut)
                b_span = normalized[j].span(0, end - cut)
                out.append(Finding(detector.tag, i, *a_span, detector.confidence))
                out.append(Finding(detector.tag, j, *b_span, detector.confidence))
        return out


def _then_run_end(pattern: str, run: str) -> bytes:
    """The fast form of a pattern ending in an unbounded run of `run` characters: followed by
    one character outside the run, or the text's end."""
    after = run[1:] if run.startswith("^") else "^" + run
    return f"(?:{pattern})([{after}]|$)".encode()


def _run_bytes(run: str) -> frozenset[int]:
    """The bytes that `[run]` matches (a pattern's class, read by Python's own parser)."""
    one = re.compile(f"[{run}]".encode())
    return frozenset(b for b in range(256) if one.fullmatch(bytes([b])))


def _run_start(text: str, end: int, limit: int) -> int | None:
    """Where the base64 run that ends at `end` starts, or None when it is longer than
    `limit`: its characters matched backwards over a tail that grows eightfold, so a run
    costs time in its own length, never in the text's."""
    width = 64
    while True:
        lo = max(0, end - width)
        length = _B64_CHARS.match(text[lo:end][::-1]).end()  # type: ignore[union-attr]
        if length < end - lo or lo == 0:
            return end - length
        if width > limit:
            return None
        width *= 8


def _width(item: tuple[tuple[int, int], set[int]]) -> int:
    """Sort key, widest first, of a located (pattern id, start) and its ends."""
    return item[0][1] - max(item[1])


def _inside(spans: list[tuple[int, int]], start: int, end: int) -> bool:
    """Whether [start, end) lies strictly inside a confirmed span (not the same span, which
    context labels or confidence may still decide). Only the few spans starting nearest
    before it are looked at, so a request with many findings does not pay for each pair;
    a container missed that way only costs the confirmation it would have saved."""
    at = bisect_right(spans, (start, end))
    for s, e in spans[max(0, at - 4) : at]:
        if s <= start and end <= e and (s, e) != (start, end):
            return True
    return False


class _Spent(Exception):
    """The allowance ran out in the middle of confirming candidates."""


def _to_finding(c: Candidate, normalized: list[Spanned], starts: list[int]) -> Finding:
    start, end, detector = c
    seg = bisect_right(starts, start) - 1
    o_start, o_end = normalized[seg].span(start - starts[seg], end - starts[seg])
    return Finding(detector.tag, seg, o_start, o_end, detector.confidence)
