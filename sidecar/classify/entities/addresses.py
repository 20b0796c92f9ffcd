"""`pii.street_address`: a street with its house number, and the unit, city and postcode
after it.

Cheap candidates first: a street needs a number, so a text without digits is done at once,
and the patterns of `address_patterns.STREETS` (number + name + street type, name + street
type + number, "PO Box 12") run only then. A street found is extended part by part to the
right (", Apt 3B", ", Columbus", ", OH 43215"; the next line too when it holds a postcode)
and to the left over a unit ("Flat 9, "). A street name without a number ("turn left on
Main Street", "Wall Street banks") is no address at all.

| evidence | example | confidence |
|---|---|---|
| a postcode, or a cue ("lives at", "ship to") | "42 Elm Road, Leeds LS6 2AB" | 0.9 high |
| a city after | "4410 Crestline Ave, Fresno" | 0.75 medium |
| the street alone | "12 Main Street" | 0.6 medium |
| the street alone, its type a common word too | "5 Easy Way", "3 Best Park" | 0.4 low |
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from sidecar.classify import hs
from sidecar.classify.dbcache import cached_database
from sidecar.classify.entities.address_patterns import (
    AMBIGUOUS,
    CUES,
    FAMOUS,
    PART,
    POSTCODE,
    STREETS,
    UNIT_BEFORE,
    triggers,
)
from sidecar.classify.entities.base import EntityHit
from sidecar.classify.entities.name_cues import NOT_NAMES
from sidecar.classify.normalize import char_offsets

TAG = "pii.street_address"
CUED, WITH_CITY, ALONE, AMBIGUOUS_ALONE, PUBLIC = 0.9, 0.75, 0.6, 0.4, 0.3
MAX_PARTS = 6
REACH = 120
"""Characters past the street that its unit, city and postcode may take."""
_YEAR_BEFORE = frozenset("in since by of from until till before after during circa".split())
_CUE_WORDS = tuple(sorted(CUES, key=len, reverse=True))
BEFORE, AFTER = 100, 24
"""Characters around a trigger's end that `STREETS` is run over."""


class StreetAddressRecognizer:
    tags = (TAG,)

    def __init__(self, *, compiled_cache: Path | None = None) -> None:
        expressions = triggers()
        flags = [0] * len(expressions)
        self._db = cached_database(
            [b"street-address-triggers", *expressions],
            partial(hs.compile_block, expressions, flags),
            compiled_cache,
        )

    def find(self, text: str) -> list[EntityHit]:
        data = text.encode("utf-8", "surrogatepass")
        ends: list[int] = []

        def on_match(pid: int, start: int, end: int, flags: int, context: object) -> None:
            ends.append(end)

        hs.scan(self._db, data, on_match)
        if not ends:
            return []
        to_char = char_offsets(text, data)
        streets: list[tuple[int, int, str]] = []
        seen: set[tuple[int, int]] = set()
        for lo, hi in _windows(sorted(to_char(e) for e in ends), len(text)):
            for pattern in STREETS:
                for m in pattern.finditer(text, lo, hi):
                    if (m.start(), m.end()) not in seen:
                        seen.add((m.start(), m.end()))
                        streets.append((m.start(), m.end(), m.group()))
        if not streets:
            return []
        streets.sort(key=lambda s: (s[0], -s[1]))
        out: list[EntityHit] = []
        reach = -1
        for start, end, street in streets:
            if start < reach or _year(text, start, street):
                continue
            hit = _address(text, start, end, street)
            if hit is not None:
                out.append(hit)
                reach = hit.end
        return out


def _windows(ends: list[int], size: int) -> list[tuple[int, int]]:
    """Merged windows around the trigger ends (sorted)."""
    out: list[tuple[int, int]] = []
    for end in ends:
        lo, hi = max(0, end - BEFORE), min(size, end + AFTER)
        if out and lo <= out[-1][1]:
            out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


def _address(text: str, start: int, end: int, street: str) -> EntityHit | None:
    if street.endswith(".") and len(street.rsplit(None, 1)[-1]) > 5:
        street, end = street[:-1], end - 1  # "Avenue." ends a sentence; "St." is the street
    unit = UNIT_BEFORE.search(text, max(0, start - 24), start)
    if unit is not None and unit.end() == start:
        start = unit.start()
    end, postcode, city = _extend(text, end)
    ambiguous = _street_type(street) in AMBIGUOUS
    if " ".join(street.lower().rstrip(".").split()) in FAMOUS:
        confidence = PUBLIC  # "the White House is at 1600 Pennsylvania Avenue"
    elif postcode or _cued(text, start):
        confidence = CUED
    elif city:
        confidence = ALONE if ambiguous else WITH_CITY
    else:
        confidence = AMBIGUOUS_ALONE if ambiguous else ALONE
    return EntityHit(TAG, start, end, confidence)


def _extend(text: str, end: int) -> tuple[int, bool, bool]:
    """The end of the address after its street: parts taken while they read as a unit, a
    city or a postcode; a line break only towards a line that holds a postcode."""
    limit = min(len(text), end + REACH)
    postcode = city = False
    previous = None
    for _ in range(MAX_PARTS):
        part = PART.match(text, end, limit)
        if part is None:
            break
        kind = part.lastgroup
        head = part.group()[:1]
        if kind == "city" and head in " \t" and previous != "post":
            break  # a city follows a comma, or its postcode ("10115 Berlin"): not a sentence
        if head == "\n":
            line_end = text.find("\n", end + 1)
            line = text[end + 1 : line_end if line_end != -1 else limit]
            if not POSTCODE.search(line):
                break
        if kind == "city":
            words = part.group(kind).split()
            if words[0].lower() in NOT_NAMES:
                break
            city = True
        elif kind == "post":
            postcode = True
        end = part.end()
        previous = kind
        if kind == "post" and not _more_after_postcode(text, end, limit):
            break
    return end, postcode, city


def _more_after_postcode(text: str, end: int, limit: int) -> bool:
    """A postcode ends a US, UK or Canadian address; a continental one comes before the
    city ("10115 Berlin"), and a city may follow a UK district."""
    nxt = PART.match(text, end, limit)
    return nxt is not None and nxt.lastgroup == "city" and not nxt.group().startswith("\n")


def _street_type(street: str) -> str:
    """The street-type word: the last word of "12 Easy Way", the first of "Am Rosenhang 3"."""
    words = street.replace(",", " ").split()
    if words and words[0][:1].isdigit():
        last = words[-1].rstrip(".")
        if last in ("N", "S", "E", "W", "NE", "NW", "SE", "SW") and len(words) > 2:
            last = words[-2].rstrip(".")
        return last
    return words[0].rstrip(".") if words else ""


def _cued(text: str, start: int) -> bool:
    left = text[max(0, start - 40) : start].lower().rstrip(" \t:,-\u2014\n")
    left = left.removesuffix(" is").removesuffix(" es").removesuffix(" ist").rstrip(" :")
    for cue in _CUE_WORDS:
        if left.endswith(cue):
            return not left[-len(cue) - 1 : -len(cue)].isalnum()
    return False


def _year(text: str, start: int, street: str) -> bool:
    """A year, not a house number: "in 2019 Abbey Road turned fifty"."""
    number = street.split()[0].rstrip(",")
    if not (len(number) == 4 and number.isdigit() and number[:2] in ("19", "20")):
        return False
    before = text[max(0, start - 12) : start].split()
    return bool(before) and before[-1].lower() in _YEAR_BEFORE
