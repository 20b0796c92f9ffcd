"""`phi.diagnosis`: a diagnosis in words ("type 2 diabetes", "major depressive disorder",
"COPD"), read in its context.

The lexicon (`diagnosis_lexicon`: ICD-10-CM titles reduced to what people write, plus lay
names and abbreviations) is one Hyperscan literal database over folded text, and a second,
case-sensitive one for the abbreviations that are also words ("AIDS", "MS"). A scan costs
~1 ms on 256 KB; only the hits, checked for word boundaries, go on: overlapping hits keep
the leftmost-longest, a hit inside an exclusion ("great depression") or a proper name
("Amelia Rossiter") goes, a span takes its side, site and stage (`diagnosis_span`), and the
context rules (`diagnosis_context`) read the clause around each.

`phi.clinical` (detectors/phi.py) stays as it is: a keyword list of diagnoses, drugs and
procedures, each a hit wherever it stands. `phi.diagnosis` is the diagnosis alone, from a
lexicon a hundred times larger, and read: negated, hypothetical, family and generic
mentions are told apart from the patient's.

Confidence, so the default policy (medium and above) acts on the patient's diagnoses only:

| reading | example | confidence |
|---|---|---|
| affirmed with a clinical cue | "diagnosed with T2DM", "PMH: asthma", "HIV positive" | 0.9 high |
| the person's | "her asthma", "my diabetes" | 0.7 medium |
| affirmed | "type 2 diabetes, on metformin" | 0.65 medium |
| uncertain | "suspected pneumonia", "possible MS" | 0.6 medium |
| hypothetical | "rule out pneumonia", "risk of stroke", "screening for" | 0.3 low |
| family history | "family history of breast cancer" | 0.3 low |
| generic, educational | "if you have asthma", "diabetes awareness month" | 0.2 low |
| negated | "no history of diabetes", "denies asthma", "HIV negative" | no hit |

Family history stays a (low) hit rather than none: it is health information and
redaction may want the span, but it is not the patient's diagnosis, so alone it does not
make a request `phi`. A negated diagnosis is no hit at all: "no history of diabetes" says
nothing a policy should act on. An ambiguous term ("seizure", "anxiety", "tumor") needs a
cue or a person ("had a seizure") for medium, else it is low; an ambiguous abbreviation
("MS", "ALL", "ED", "PE") with neither is no hit, since most are not medical at all.

Like `phi.clinical`, a diagnosis is PHI only next to a person identifier: `requires` names
the tags that must be in the same request.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from functools import partial
from pathlib import Path

import hyperscan

from sidecar.classify import hs
from sidecar.classify.dbcache import cached_database
from sidecar.classify.detectors.phi import PERSONAL_IDENTIFIERS
from sidecar.classify.entities.base import EntityHit
from sidecar.classify.entities.diagnosis_context import CTX_FOLD, Context, compile_literals
from sidecar.classify.entities.diagnosis_lexicon import AMBIGUOUS, EXCLUDED, FOLD, Lexicon, load
from sidecar.classify.entities.diagnosis_span import in_name, widen
from sidecar.classify.entities.diagnosis_triggers import Reading

TAG = "phi.diagnosis"

CONFIDENCE = {
    Reading.CUED: 0.9,
    Reading.PERSONAL: 0.7,
    Reading.AFFIRMED: 0.65,
    Reading.UNCERTAIN: 0.6,
    Reading.HYPOTHETICAL: 0.3,
    Reading.FAMILY: 0.3,
    Reading.GENERIC: 0.2,
}
READ_LIMIT = 500
"""Terms of one text whose context is read (~15 µs each, more in long lists). A text that
names more is a clinical record whatever else it says; the rest are reported as affirmed,
so a 256 KB list of diagnoses still takes tens of milliseconds, not hundreds."""
AMBIGUOUS_CONFIDENCE = {Reading.CUED: 0.85, Reading.UNCERTAIN: 0.5}
AMBIGUOUS_PERSON = 0.6
AMBIGUOUS_BARE = 0.3

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") | frozenset(
    range(0x80, 0x100)
)
"""Bytes that continue a word; any byte of a multi-byte character counts ("diabète")."""
_JOINERS = frozenset(b"-./@")
"""Around a case-sensitive abbreviation these join it to a word: "MS-DOS", "ALL.sql"."""

_RAW = 1 << 2
"""Flag bit of an id from the case-sensitive database."""
_LEFT, _RIGHT = 1 << 3, 1 << 4
"""The literal starts / ends with a word byte, so that side needs a word boundary."""

Candidate = tuple[int, int, int]
"""(start, end, flags) in bytes."""


class DiagnosisRecognizer:
    tags = (TAG,)
    requires = PERSONAL_IDENTIFIERS
    """Counts only in a request that also carries one of these tags (by prefix)."""

    def __init__(self, lexicon: Lexicon | None = None, *, compiled_cache: Path | None = None):
        lex = lexicon if lexicon is not None else load()
        self._dbs: list[tuple[hyperscan.Database, array, bytes]] = []
        for entries, extra in ((lex.folded, 0), (lex.raw, _RAW)):
            literals = list(entries)
            lengths = array("I", (len(lit) for lit in literals))
            flags = bytes(
                entries[lit]
                | extra
                | (_LEFT if lit[0] in _WORD else 0)
                | (_RIGHT if lit[-1] in _WORD else 0)
                for lit in literals
            )
            key = [b"diagnosis-literal", *literals]
            db = cached_database(key, partial(compile_literals, literals), compiled_cache)
            self._dbs.append((db, lengths, flags))
        self._context = Context(compiled_cache)
        self.size = len(lex)
        """Literals in the lexicon, variants included."""

    def find(self, text: str) -> list[EntityHit]:
        raw = text.encode("utf-8", "surrogatepass")
        candidates = self._scan(raw, raw.translate(FOLD))
        if not candidates:
            return []
        terms: list[tuple[int, int, int, int, int]] = []  # term, its widened span, flags
        for start, end, flags in _resolve(candidates):
            if (terms and start < terms[-1][3]) or in_name(raw, start, end):
                continue  # inside the site of the one before; or a proper name
            first, last, sited = widen(raw, start, end)
            terms.append((start, end, first, last, flags & ~AMBIGUOUS if sited else flags))
        buf = raw.translate(CTX_FOLD)
        read = [(t[0], t[1]) for t in terms[:READ_LIMIT]]
        readings = self._context.readings(raw, buf, read)
        readings += [Reading.AFFIRMED] * (len(terms) - len(read))
        kept: list[tuple[int, int, float]] = []
        for (start, _, first, last, flags), reading in zip(terms, readings, strict=True):
            confidence = self._confidence(buf, start, flags, reading)
            if confidence is not None:
                kept.append((first, last, confidence))
        if len(raw) != len(text):
            kept = _to_chars(raw, kept)
        return [EntityHit(TAG, s, e, c) for s, e, c in kept]

    def _scan(self, raw: bytes, folded: bytes) -> list[Candidate]:
        """The lexicon's hits with word boundaries, in bytes."""
        found: list[Candidate] = []
        for (db, lengths, flags), data in zip(self._dbs, (folded, raw), strict=True):
            hs.scan(db, data, _collector(data, lengths, flags, found))
        return found

    def _confidence(self, buf: bytes, start: int, flags: int, reading: Reading) -> float | None:
        if reading is Reading.NEGATED:
            return None
        if not flags & AMBIGUOUS:
            return CONFIDENCE[reading]
        if reading in AMBIGUOUS_CONFIDENCE:
            return AMBIGUOUS_CONFIDENCE[reading]
        if reading in (Reading.PERSONAL, Reading.AFFIRMED) and self._context.person_verb(
            buf, start
        ):
            return AMBIGUOUS_PERSON
        if flags & _RAW:
            return None
        return AMBIGUOUS_BARE if reading is Reading.AFFIRMED else CONFIDENCE[Reading.GENERIC]


def _collector(
    data: bytes, lengths: array, flags: bytes, found: list[Candidate]
) -> Callable[..., bool | None]:
    size = len(data)
    word = _WORD

    def on_match(pid: int, _from: int, end: int, _f: int, _ctx: object) -> None:
        bits = flags[pid]
        start = end - lengths[pid]
        if bits & _LEFT and start > 0 and data[start - 1] in word:
            return
        if bits & _RIGHT and end < size and data[end] in word:
            return
        if bits & _RAW and not _raw_boundary(data, start, end):
            return
        found.append((start, end, bits))

    return on_match


def _raw_boundary(data: bytes, start: int, end: int) -> bool:
    if start > 0 and data[start - 1] in _JOINERS and start > 1 and data[start - 2] in _WORD:
        return False
    return not (end + 1 < len(data) and data[end] in _JOINERS and data[end + 1] in _WORD)


def _resolve(candidates: list[Candidate]) -> list[Candidate]:
    """Leftmost-longest, non-overlapping; a term overlapping an exclusion is dropped."""
    candidates.sort(key=lambda c: (c[0], -c[1]))
    out: list[Candidate] = []
    last_end = -1
    blocked_until = -1
    for cand in candidates:
        start, end, bits = cand
        if bits & EXCLUDED:
            blocked_until = max(blocked_until, end)
            if out and out[-1][1] > start:
                out.pop()  # an exclusion that starts inside the term before it
            continue
        if start < blocked_until or start < last_end:
            continue
        out.append(cand)
        last_end = end
    return out


def _to_chars(raw: bytes, spans: list[tuple[int, int, float]]) -> list[tuple[int, int, float]]:
    """Byte offsets into UTF-8 `raw` as character offsets. A span starts and ends on a
    character: its edges are a literal's whole characters or ASCII."""
    offsets = sorted({o for s, e, _ in spans for o in (s, e)})
    chars: dict[int, int] = {}
    pos = count = 0
    for off in offsets:
        count += len(raw[pos:off].decode("utf-8", "surrogatepass"))
        chars[off] = count
        pos = off
    return [(chars[s], chars[e], c) for s, e, c in spans]
