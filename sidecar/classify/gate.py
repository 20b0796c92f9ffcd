"""The context gate: a context-gated detector's hit is only worth locating when one of its
context words ends shortly before it.

Numbers are everywhere (order ids, amounts, dates), and several detectors (passport,
driver's licence, MRN, date of birth…) match any number but count only next to a word such
as "passport". Their context words run in the same fast Hyperscan pass as literals; a hit
with no context word in reach is dropped before the costly start-of-match scan and
validation. The gate is a superset of the final context check in the engine, never
stricter (a word must start a word there too, and here only an ASCII letter or digit before
it rules it out): the reach covers the longest match of the detector's patterns plus its context
window, in bytes (four per character at most).
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence

import hyperscan

from sidecar.classify.detectors import Detector

_SLACK = 4
"""UTF-8 bytes per character at most: reach is measured in bytes."""


def _max_width(detector: Detector) -> int | None:
    """The longest match of any of the detector's patterns, or None when unbounded (or
    when Python cannot parse the pattern: then the detector is not gated)."""
    widest = 0
    for pattern in detector.patterns:
        try:
            flags = re.IGNORECASE if detector.caseless else 0
            width = re._parser.parse(pattern, flags).getwidth()[1]  # type: ignore[attr-defined]
        except re.error:
            return None
        if width >= re._constants.MAXREPEAT:  # type: ignore[attr-defined]
            return None
        widest = max(widest, int(width))
    return widest


class ContextGate:
    def __init__(self, detectors: Sequence[Detector], first_id: int) -> None:
        self.reach: dict[int, int] = {}
        """Gated detector index → bytes before a hit's end where a context word may end."""
        self.expressions: list[bytes] = []
        self.flags: list[int] = []
        self._word_owner: list[int] = []
        self.first_id = first_id
        for index, detector in enumerate(detectors):
            width = _max_width(detector) if detector.context else None
            if width is None:
                continue
            self.reach[index] = _SLACK * (width + detector.context_window)
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
                self.expressions.append(pattern.encode())
                unicode = 0 if word.isascii() else hyperscan.HS_FLAG_UTF8 | hyperscan.HS_FLAG_UCP
                self.flags.append(hyperscan.HS_FLAG_CASELESS | unicode)
                self._word_owner.append(index)

    def owner(self, pid: int) -> int | None:
        """The gated detector a context-word id belongs to, or None for other ids."""
        offset = pid - self.first_id
        return self._word_owner[offset] if 0 <= offset < len(self._word_owner) else None

    def passes(
        self, gated: list[tuple[int, int]], words: dict[int, list[int]]
    ) -> list[tuple[int, int]]:
        """The gated hits (detector index, end) that have a context word in reach; `words`
        holds each gated detector's context-word ends, sorted."""
        kept: list[tuple[int, int]] = []
        for index, end in gated:
            ends = words.get(index)
            if not ends:
                continue
            at = bisect_left(ends, end - self.reach[index])
            if at < len(ends) and ends[at] <= end:
                kept.append((index, end))
        return kept
