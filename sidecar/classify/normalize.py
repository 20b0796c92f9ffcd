"""Text normalisation before scanning: NFKC, Unicode digits as ASCII, and zero-width / bidi
controls removed.

Evasion often hides a value behind characters a model ignores but a scanner does not:
full-width digits, zero-width spaces inside an e-mail address, bidi overrides. Scanning runs
on the normalised text; `OffsetMap` maps a span found there back to the original text, so
redaction and reports point at what the app actually sent.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

INVISIBLE = frozenset(
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_DELETE = {ord(c): None for c in INVISIBLE}
_OTHER_DIGIT = re.compile(r"(?![0-9])\d")  # one character at a time: linear, no backtracking


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    origin: list[int] | None
    """origin[i] is the index in the original text of normalised character i; None when the
    text was already normal (identity mapping, the common case: no allocation)."""
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        if self.origin is None:
            return start, end
        if start >= len(self.origin):
            return self.original_length, self.original_length
        return self.origin[start], self.origin[end - 1] + 1 if end > start else self.origin[start]


def _needs_work(text: str) -> bool:
    if text.isascii():
        return False
    if not unicodedata.is_normalized("NFKC", text):
        return True
    return any(c in text for c in INVISIBLE) or _OTHER_DIGIT.search(text) is not None


def normalize(text: str) -> Normalized:
    if not _needs_work(text):
        return Normalized(text, None, len(text))
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char in INVISIBLE:
            continue
        if char.isascii():
            mapped = char
        elif (digit := unicodedata.decimal(char, None)) is not None:
            mapped = str(digit)  # Arabic-Indic, Devanagari, ... digits: NFKC keeps them
        else:
            mapped = unicodedata.normalize("NFKC", char)
        mapped = mapped.translate(_DELETE)
        out.append(mapped)
        origin.extend([index] * len(mapped))
    return Normalized("".join(out), origin, len(text))
