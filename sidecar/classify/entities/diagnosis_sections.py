"""Section headers of a clinical text ("PMH:", "Assessment:", "Family history:") and how
they read the lines under them, up to the next header or a blank line (see
`diagnosis_triggers.SECTION_HEADERS`)."""

from __future__ import annotations

import re
from bisect import bisect_right

from sidecar.classify.entities import diagnosis_triggers as t
from sidecar.classify.entities.diagnosis_triggers import Reading


def _alternation(phrases: list[str]) -> bytes:
    return b"|".join(re.escape(p.encode()) for p in sorted(phrases, key=len, reverse=True))


_HEADER = re.compile(rb"(?m)^[ #*>]*(" + _alternation(list(t.SECTION_HEADERS)) + rb") *:")
_SECTION_KIND = {
    "family": Reading.FAMILY,
    "cued": Reading.CUED,
    "hypothetical": Reading.HYPOTHETICAL,
    "none": None,
}
SECTION_REACH = 4000
"""Bytes before a term searched for its section header."""


class Sections:
    """The section headers of one folded text, found on demand: only the stretch from a
    blank line (or `SECTION_REACH` back) to a term is searched, and each stretch once,
    however many terms it holds."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self._lo = -1
        self._hi = -1
        self._positions: list[int] = []
        self._kinds: list[Reading | None] = []

    def at(self, pos: int) -> Reading | None:
        buf = self.buf
        floor = max(0, pos - SECTION_REACH)
        blank = buf.rfind(b"\n\n", floor, pos)
        lo = blank + 2 if blank != -1 else floor
        if lo != self._lo or pos < self._hi:
            self._lo, self._hi = lo, lo
            self._positions, self._kinds = [], []
        for m in _HEADER.finditer(buf, self._hi, pos):
            self._positions.append(m.start())
            name = b" ".join(m.group(1).split()).decode()
            self._kinds.append(_SECTION_KIND[t.SECTION_HEADERS[name]])
        self._hi = max(self._hi, pos)
        i = bisect_right(self._positions, pos) - 1
        return self._kinds[i] if i >= 0 else None
