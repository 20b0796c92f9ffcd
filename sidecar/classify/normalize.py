"""Text normalisation before scanning: NFKC, Unicode digits as ASCII, and zero-width / bidi
controls removed.

Evasion often hides a value behind characters a model ignores but a scanner does not:
full-width digits, zero-width spaces inside an e-mail address, bidi overrides. Scanning runs
on the normalised text; `Normalized.span` maps a span found there back to the original text,
so redaction and reports point at what the app actually sent.

This runs on every request, so the common cases cost (almost) nothing: ASCII text and text
that is already normal are returned as they are, with no offset map at all. Otherwise one
Hyperscan pass over the UTF-8 finds the characters that change (whatever the script), only
those are mapped in Python, and the offset map holds one entry per run of unchanged text or
changed character, not one per character. Each character is mapped on its own (a base
letter and a combining accent stay two characters), so offsets stay simple and exact.

The Hyperscan database is shared: like the Scanner's, it is for the one event-loop thread.
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import hyperscan

from sidecar.classify.dbcache import cached_database

INVISIBLE = frozenset(
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
_DELETE = {ord(c): None for c in INVISIBLE}
_CONTINUATION = bytes(range(0x80, 0xC0))
_BLOCK = 4096

Run = tuple[int, int, bool]
"""(first normalised index, original index, linear): in a linear run normalised character
n0 + k comes from original character o0 + k; otherwise all of it comes from original o0."""


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    runs: tuple[list[int], list[Run]] | None
    """Run starts (for bisect) and runs; None when the text was already normal."""
    original_length: int

    def span(self, start: int, end: int) -> tuple[int, int]:
        """Original (start, end) of the normalised span [start, end)."""
        if self.runs is None:
            return start, end
        if start >= len(self.text):
            return self.original_length, self.original_length
        first, _ = self._origin(start)
        if end <= start:
            return first, first
        _, last = self._origin(end - 1)
        return first, last

    def _origin(self, index: int) -> tuple[int, int]:
        assert self.runs is not None
        starts, runs = self.runs
        n0, o0, linear = runs[bisect_right(starts, index) - 1]
        if linear:
            return o0 + index - n0, o0 + index - n0 + 1
        return o0, o0 + 1


@lru_cache(maxsize=4096)
def _map(char: str) -> str:
    """What one character becomes. Arabic-Indic, Devanagari, ... digits become ASCII: NFKC
    keeps them, but a model reads them as numbers."""
    if char in INVISIBLE:
        return ""
    digit = unicodedata.decimal(char, None)
    if digit is not None:
        return str(digit)
    return unicodedata.normalize("NFKC", char).translate(_DELETE)


_PLANES = (range(0x80, 0xD800), range(0xE000, 0x40000), range(0xE0000, 0xE1000))
"""Where characters with a decomposition, digits or format controls live (planes 4-13 are
unassigned, 15-16 private use)."""


_changing_db: hyperscan.Database | None = None


def _changing() -> hyperscan.Database:
    """One Hyperscan character class of every character `_map` changes: finding them is a
    C-speed pass over the UTF-8, whatever the script. Built once, at `prepare` or on
    first use."""
    global _changing_db
    if _changing_db is None:
        _changing_db = _build_changing()
    return _changing_db


def _build_changing() -> hyperscan.Database:
    """~40 ms over every code point, plus a Hyperscan compilation."""
    ranges: list[list[int]] = []
    for plane in _PLANES:
        for code in plane:
            char = chr(code)
            if not (unicodedata.decomposition(char) or char in INVISIBLE) and (
                unicodedata.decimal(char, None) is None
            ):
                continue
            if _map(char) == char:
                continue
            if ranges and ranges[-1][1] == code - 1:
                ranges[-1][1] = code
            else:
                ranges.append([code, code])
    members = "".join(f"\\x{{{a:x}}}-\\x{{{b:x}}}" for a, b in ranges)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=[f"[{members}]".encode()], ids=[0], elements=1, flags=[hyperscan.HS_FLAG_UTF8]
    )
    return db


def prepare(cache_dir: Path | None = None) -> None:
    """Build the lookup table now (at start-up) rather than on the first non-ASCII text;
    with `cache_dir`, load it from there when this Unicode database and this module built it
    before (no walk over the code points, no Hyperscan compiler: ~40 ms and ~4 MB less)."""
    global _changing_db
    if _changing_db is None:
        key = [b"normalize", unicodedata.unidata_version.encode(), Path(__file__).read_bytes()]
        _changing_db = cached_database(key, _build_changing, cache_dir)


class _Builder:
    def __init__(self) -> None:
        self.pieces: list[str] = []
        self.starts: list[int] = []
        self.runs: list[Run] = []
        self.length = 0

    def keep(self, piece: str, origin: int) -> None:
        if self.runs:
            n0, o0, linear = self.runs[-1]
            if linear and self.length - n0 == origin - o0:
                self.pieces.append(piece)
                self.length += len(piece)
                return
        self._add(piece, origin, True)

    def replace(self, piece: str, origin: int) -> None:
        if piece:
            self._add(piece, origin, False)

    def _add(self, piece: str, origin: int, linear: bool) -> None:
        self.starts.append(self.length)
        self.runs.append((self.length, origin, linear))
        self.pieces.append(piece)
        self.length += len(piece)


def normalize(text: str) -> Normalized:
    if text.isascii():
        return Normalized(text, None, len(text))
    try:
        data = text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: not UTF-8, so not for Hyperscan
        return _slow(text)
    ends: list[int] = []
    _changing().scan(data, match_event_handler=lambda i, s, e, f, c: ends.append(e))
    if not ends:
        return Normalized(text, None, len(text))
    out = _Builder()
    char_at, byte_at = 0, 0
    for end in ends:
        index = char_at + len(data[byte_at:end].translate(None, _CONTINUATION)) - 1
        if index > char_at:
            out.keep(text[char_at:index], char_at)
        out.replace(_map(text[index]), index)
        char_at, byte_at = index + 1, end
    if char_at < len(text):
        out.keep(text[char_at:], char_at)
    return Normalized("".join(out.pieces), (out.starts, out.runs), len(text))


def _slow(text: str) -> Normalized:
    out = _Builder()
    for index, char in enumerate(text):
        mapped = char if char.isascii() else _map(char)
        if mapped == char:
            out.keep(char, index)
        else:
            out.replace(mapped, index)
    return Normalized("".join(out.pieces), (out.starts, out.runs), len(text))


def char_offsets(text: str, data: bytes) -> Callable[[int], int]:
    """Maps a byte offset in `data` (`text` as UTF-8) to the index of the character holding
    that byte (`len(text)` at the end); byte-mode patterns can end inside a character.

    A character starts at every byte that is not a UTF-8 continuation byte, so the index is
    a count of those; counts at every 4 KB are kept, so one lookup counts at most 4 KB, in
    C, instead of walking the text character by character in Python.
    """
    if len(data) == len(text):
        return lambda offset: offset
    marks = [0]
    for base in range(0, len(data), _BLOCK):
        chunk = data[base : base + _BLOCK]
        marks.append(marks[-1] + len(chunk.translate(None, _CONTINUATION)))
    size, length = len(data), len(text)

    def to_char(offset: int) -> int:
        if offset >= size:
            return length
        block, rest = divmod(offset, _BLOCK)
        head = data[offset - rest : offset + 1].translate(None, _CONTINUATION)
        return marks[block] + len(head) - 1

    return to_char
