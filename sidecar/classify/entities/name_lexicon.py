"""Given names and surnames from the US Census Bureau's 1990 name frequency files (public
domain; `build_names` makes `data/names_census.txt.gz` from them), held compactly: each name
is kept as the CRC-32 of its folded form in a sorted `array`, about 4 bytes a name instead
of a Python string's 50 and more. A false "known name" needs a CRC collision with one of
~90,000 values in 2**32: about one word in 50,000, and a name hit alone never makes a
finding high confidence.

Folding: lower case, accents dropped ("José" -> "jose"), so that the lexicon, written in
ASCII capitals, recognises the names people write with their accents.
"""

from __future__ import annotations

import gzip
import unicodedata
import zlib
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Iterator
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).with_name("data") / "names_census.txt.gz"
FIRST, LAST = "# first", "# last"


@lru_cache(maxsize=4096)
def fold(word: str) -> str:
    """Lower case without accents; "ß" as "ss"."""
    if word.isascii():
        return word.lower()
    decomposed = unicodedata.normalize("NFKD", word.lower().replace("ß", "ss"))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _key(name: str) -> int:
    return zlib.crc32(name.encode("utf-8"))


def _contains(keys: array, name: str) -> bool:
    key = _key(name)
    at = bisect_left(keys, key)
    return at < len(keys) and keys[at] == key


class NameLexicon:
    """Is a word a known given name, a known surname? Words are folded first."""

    def __init__(self, first: Iterable[str], last: Iterable[str]) -> None:
        self._first = _keys(first)
        self._last = _keys(last)

    @classmethod
    def from_keys(cls, first: array, last: array) -> NameLexicon:
        lexicon = cls((), ())
        lexicon._first, lexicon._last = _unique(first), _unique(last)
        return lexicon

    def first(self, word: str) -> bool:
        return _contains(self._first, fold(word))

    def last(self, word: str) -> bool:
        return _contains(self._last, fold(word))

    def __len__(self) -> int:
        return len(self._first) + len(self._last)


def _keys(names: Iterable[str]) -> array:
    return _unique(array("I", (_key(fold(n)) for n in names)))


def _unique(keys: array) -> array:
    return array("I", sorted(set(keys)))


def read(path: Path = DATA) -> tuple[list[str], list[str]]:
    """The two lists of the data file: given names after `# first`, surnames after `# last`."""
    first: list[str] = []
    last: list[str] = []
    for section, word in _entries(path):
        (first if section == FIRST else last).append(word)
    return first, last


def _entries(path: Path) -> Iterator[tuple[str, str]]:
    section = FIRST
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in handle:
            word = line.rstrip("\n")
            if word in (FIRST, LAST):
                section = word
            elif word and not word.startswith("#"):
                yield section, word


def load(path: Path = DATA) -> NameLexicon:
    """Streams the file into the two key arrays: no list of 35,000 strings is built, which
    would stay in the process's arenas after it is freed."""
    first = array("I")
    last = array("I")
    for section, word in _entries(path):
        (first if section == FIRST else last).append(_key(fold(word)))
    fold.cache_clear()
    return NameLexicon.from_keys(first, last)


class NoLexicon:
    """No names known: capitalisation and cues alone (measured as a candidate method)."""

    def first(self, word: str) -> bool:
        return False

    def last(self, word: str) -> bool:
        return False
