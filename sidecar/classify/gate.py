"""The context gate: a context-gated detector's hit is only worth locating when one of its
context words ends shortly before it.

Numbers are everywhere (order ids, amounts, dates), and several detectors (passport,
driver's licence, MRN, date of birth…) match any number but count only next to a word such
as "passport". Their context words are literals in a Hyperscan database of their own that
runs only over the stretch before each gated hit, not over the whole request: in prose with
few numbers that is a few hundred bytes instead of all of it, and sixty-odd case-insensitive
literals cost the fast pass about a sixth of its time. A hit with no context word in reach
is dropped before the costly start-of-match scan and validation. (A detector with
`context_after`, such as the published-test-card suppressor, also reads words after it.) The
gate is a superset of the final context check in the engine, never stricter (a word must
start a word there too, and here only an ASCII letter or digit before it rules it out): the
reach covers the longest match of the detector's patterns plus its context window, in bytes
(four per character at most), and a window starts early enough for a word that ends in reach
to lie inside it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Sequence

import hyperscan

from sidecar.classify.allowance import Allowance
from sidecar.classify.detectors import Detector
from sidecar.classify.hs import scan
from sidecar.classify.width import longest

_Hit = tuple[int, int, int]
"""(detector index, end in bytes, pattern id), as the engine's fast scan reports it."""
_SLACK = 4
"""UTF-8 bytes per character at most: reach is measured in bytes."""


class ContextGate:
    def __init__(
        self,
        detectors: Sequence[Detector],
        compile: Callable[[list[bytes], list[int]], hyperscan.Database],
    ) -> None:
        self.reach: dict[int, int] = {}
        """Gated detector index → bytes before a hit's end where a context word may end."""
        self.after: dict[int, int] = {}
        """Gated detector index → bytes after a hit's end where a context word may end
        (`Detector.context_after`, plus the longest word)."""
        expressions: list[bytes] = []
        flags: list[int] = []
        self._word_owner: list[int] = []
        self._widest = 0
        """The longest context-word expression's match, in bytes."""
        for index, detector in enumerate(detectors):
            width = longest(detector.patterns, detector.caseless) if detector.context else None
            if width is None:
                continue
            self.reach[index] = _SLACK * (width + detector.context_window)
            if detector.context_after:
                self.after[index] = _SLACK * detector.context_after
            for word in detector.context:
                # A superset of the engine's check: the literal (a stem's `*` dropped) where
                # no ASCII letter or digit is next to it, so "aba" in "database", "dl" in
                # "handle" and "dea" in "deadline" cost no callback; the engine's own check
                # is by Unicode class. Ending one character later is within the reach.
                literal = word.removesuffix("*")
                pattern = re.escape(literal)
                if literal[:1].isalnum():
                    pattern = "(^|[^A-Za-z0-9])" + pattern
                if literal[-1:].isalnum() and not word.endswith("*"):
                    pattern += "([^A-Za-z0-9]|$)"
                expressions.append(pattern.encode())
                unicode = 0 if word.isascii() else hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP
                flags.append(hyperscan.HS_FLAG_CASELESS | unicode)
                self._word_owner.append(index)
                self._widest = max(self._widest, len(literal.encode()) + 2)
        self._db = compile(expressions, flags) if expressions else None

    def passes(self, data: bytes, gated: list[_Hit], allowance: Allowance) -> list[_Hit]:
        """The gated hits (detector index, end, …) that have a context word in reach. Each
        word found costs a raw callback of the allowance, as the fast scan's hits do."""
        if not gated or self._db is None:
            return []
        windows: list[list[int]] = []
        spans = sorted(
            (
                max(0, hit[1] - self.reach[hit[0]] - self._widest),
                hit[1] + self._after(hit[0]),
            )
            for hit in gated
        )
        for lo, hi in spans:
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], hi)
            else:
                windows.append([lo, hi])
        words: dict[int, list[int]] = {}
        for lo, hi in windows:

            def on_word(
                pid: int, start: int, end: int, flags: int, ctx: object, lo: int = lo
            ) -> bool:
                words.setdefault(self._word_owner[pid], []).append(lo + end)
                return not allowance.callback()  # True stops the scan

            scan(self._db, data[lo:hi], on_word)
            if allowance.exhausted:
                return []
        kept: list[_Hit] = []
        for hit in gated:
            index, end = hit[0], hit[1]
            ends = words.get(index)
            if not ends:
                continue
            at = bisect_left(ends, end - self.reach[index])
            if at < len(ends) and ends[at] <= end + self._after(index):
                kept.append(hit)
        return kept

    def _after(self, index: int) -> int:
        after = self.after.get(index, 0)
        return after + self._widest if after else 0
