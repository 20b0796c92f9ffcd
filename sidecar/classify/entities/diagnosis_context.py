"""Whether a diagnosis named in a text is the patient's: a small ConText/NegEx rule set.

medspacy's ConText needs spaCy and a model, and none can be installed here; the rules are
few enough to write out. A *trigger* phrase changes the reading of the terms it scopes:

- before the term (pre), to the end of its clause: "no history of", "denies", "negative
  for" (negated); "rule out", "risk of", "screening for", "if" (hypothetical); "family
  history of" (someone else); "if you have", "people with", "symptoms of" (generic,
  educational text); "diagnosed with", "history of", "presents with", "dx:" (a clinical
  cue: the patient's, said plainly); "possible", "suspected" (uncertain, still the patient's);
- after the term (post): "was ruled out", "negative" (negated); "positive" (cue); "in his
  mother" (family); and right after it, "awareness", "research", "vaccine", "screening"
  ("diabetes awareness month" is about no one).

A clause ends at a sentence end, a semicolon, a line break that starts a new line rather than
wrapping one, or a conjunction that turns the sentence ("but", "however", "except"); a
hypothetical "if" ends at a comma too ("If it rains, her asthma flares"). The bare negations
"no", "not", "without" reach five words only, as in NegEx: "no change in her diabetes
medication for years" still reads the diabetes as affirmed past them. Of several triggers in
a clause the nearest decides, except that a family-history trigger is never overridden (its
section says diagnosed with this or that of a relative), and a possessive right before the
term ("her asthma", "my diabetes") turns generic text into the person's.

A section header ("PMH:", "Assessment:", "Family history:", "Differential:") sets the
reading of the lines under it, up to the next header or a blank line, where no trigger in
the clause decides.

Speed: the triggers and clause ends are one Hyperscan literal database, scanned only over
the windows around the terms found, so a text pays for its context rules in proportion to
the diagnoses it names; everything here works on the folded bytes the lexicon matched.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable
from pathlib import Path

import hyperscan

from sidecar.classify import hs
from sidecar.classify.dbcache import cached_database
from sidecar.classify.entities import diagnosis_triggers as t
from sidecar.classify.entities.diagnosis_sections import Sections
from sidecar.classify.entities.diagnosis_triggers import Reading

N, H, F, G, U, C = (
    Reading.NEGATED,
    Reading.HYPOTHETICAL,
    Reading.FAMILY,
    Reading.GENERIC,
    Reading.UNCERTAIN,
    Reading.CUED,
)

CTX_FOLD = bytes(
    (b + 32 if 65 <= b <= 90 else 32 if b in b"-\t\r\x0b\x0c" else b) for b in range(256)
)
"""The lexicon's folding but for line breaks, which end clauses and sections."""

PRE, POST, AFTER, END, PSEUDO = range(5)
"""What a trigger literal is: before the term, after it in the clause, right after it, the
end of a clause, or a phrase that holds a trigger word and triggers nothing."""
BARE, COMMA = 1, 2

_ROLES: list[tuple[int, Reading | None, tuple[str, ...], int]] = [
    (PRE, N, t.NEGATED, 0),
    (PRE, N, t.BARE_NEGATIONS, BARE),
    (PRE, H, t.HYPOTHETICAL, 0),
    (PRE, H, t.COMMA_BOUND, COMMA),
    (PRE, F, t.FAMILY, 0),
    (PRE, G, t.GENERIC, 0),
    (PRE, U, t.UNCERTAIN, 0),
    (PRE, C, t.CUED, 0),
    (PSEUDO, None, t.PSEUDO, 0),
    (POST, N, t.POST_NEGATED, 0),
    (POST, C, t.POST_CUED, 0),
    (POST, F, t.POST_FAMILY, 0),
    (POST, U, t.POST_UNCERTAIN, 0),
    (AFTER, N, t.RIGHT_AFTER_NEGATED, 0),
    (AFTER, C, t.RIGHT_AFTER_CUED, 0),
    (AFTER, G, t.RIGHT_AFTER_GENERIC, 0),
    (AFTER, H, t.RIGHT_AFTER_HYPOTHETICAL, 0),
]
_ENDS = (". ", "; ", "! ", "? ", "\n", *t.CONJUNCTIONS)
_STOPS = frozenset(b".;!?")

_WORD = frozenset(b"abcdefghijklmnopqrstuvwxyz0123456789_/") | frozenset(range(0x80, 0x100))
_ABBREVIATIONS = frozenset(
    b"dr mr mrs ms st vs e.g i.e pt pts approx fig no hx dx sx tx rx h/o c".split()
)
"""Words whose period ends no sentence: "Dr. Okafor", "e.g. asthma"."""

_POSSESSIVE = re.compile(
    rb"(?<![\w\x80-\xff])(?:my|his|her|their|our|pt'?s|patient'?s|client'?s|member'?s)"
    rb"(?: [\w\x80-\xff]+)? ?$"
)
_PERSON_VERB = re.compile(
    rb"(?<![\w\x80-\xff])(?:has|had|have|having|got|gets|suffered|suffers|developed|develops|"
    rb"caught|contracted|battling|fighting|"
    rb"diagnosed|with|is|am|was|are|were|being)(?: (?:a|an|the|mild|moderate|severe|acute|"
    rb"chronic|bad|minor|major|small|massive|recurrent|early|new|recent|known|uncontrolled|"
    rb"poorly controlled|well controlled|controlled|longstanding|long standing))* ?$"
)
_GAP = re.compile(rb"(?:'s|\xe2\x80\x99s)?[ :]*(?:[a-z]+[ :]+)?")
"""What may stand between a term and a right-after trigger: "HIV test: positive"."""
_GAP_NONE = re.compile(rb"(?:'s|\xe2\x80\x99s)? ")
"""Between a term and a generic one nothing may: "diabetes awareness", not "asthma last
month"."""
_WORD_NEXT = re.compile(rb" (?:[a-z]|[\xc3-\xc9])")
_QUESTION_NO = re.compile(rb" *\? *(?:no|not|ruled out|negative)\b")
"""A term asked about and answered: "Parkinson's disease? No"."""
_WRAP = re.compile(rb"[ \t]*[a-z]")
"""After a line break in the raw text: the line goes on, wrapped, rather than a new one."""

LOOKBACK = 200
LOOKAHEAD = 100
BARE_REACH = 5
"""Words a bare negation reaches, as NegEx's window."""
OWN_PHRASE = 3
"""Words between a negation and a possessive before the term that take the possessive's
phrase out of the negation's reach: "denied leave after disclosing his anxiety disorder"."""
CUE_IN_NEGATION = 3
"""Words between a negation and a "history of" that keep the cue inside the negation:
"denies any prior history of"."""

Event = tuple[int, int, int]
"""(start, end, literal id) in bytes."""


def _literals() -> tuple[list[bytes], list[list[tuple[int, Reading | None, int]]]]:
    index: dict[bytes, int] = {}
    meta: list[list[tuple[int, Reading | None, int]]] = []
    entries = [(role, kind, phrases, bits) for role, kind, phrases, bits in _ROLES]
    entries.append((END, None, _ENDS, 0))
    for role, kind, phrases, bits in entries:
        for phrase in phrases:
            lit = phrase.encode().translate(CTX_FOLD)
            if lit not in index:
                index[lit] = len(meta)
                meta.append([])
            meta[index[lit]].append((role, kind, bits))
    return list(index), meta


def compile_literals(literals: list[bytes]) -> hyperscan.Database:
    """A block-mode database of exact byte literals, id = index (Hyperscan's literal API
    compiles thousands in a fraction of the time their regular-expression form takes)."""
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=literals,
        ids=list(range(len(literals))),
        elements=len(literals),
        flags=0,
        literal=True,
    )
    return db


class Context:
    """The context rules, compiled; `readings` reads every term of one text."""

    def __init__(self, compiled_cache: Path | None = None) -> None:
        literals, self._meta = _literals()
        self._lengths = [len(lit) for lit in literals]
        self._edges = [(lit[0] in _WORD, lit[-1] in _WORD) for lit in literals]
        self._is_end = [roles[0][0] == END for roles in self._meta]
        self._pre_role = [_pre_role(roles) for roles in self._meta]
        self._post_roles = [
            tuple((role, kind) for role, kind, _ in roles if role in (POST, AFTER) and kind)
            for roles in self._meta
        ]
        self._db = cached_database(
            [b"diagnosis-context", *literals], lambda: compile_literals(literals), compiled_cache
        )

    def readings(self, raw: bytes, buf: bytes, spans: list[tuple[int, int]]) -> list[Reading]:
        """How each term reads. `buf` is the text folded by CTX_FOLD, `raw` its bytes
        (same length), `spans` the terms in byte offsets, in order."""
        ends: list[tuple[int, int]] = []
        triggers: list[Event] = []
        windows: list[list[int]] = []
        for s, e in spans:
            lo, hi = max(0, s - LOOKBACK), min(len(buf), e + LOOKAHEAD)
            if windows and lo <= windows[-1][1]:
                windows[-1][1] = max(windows[-1][1], hi)
            else:
                windows.append([lo, hi])
        for lo, hi in windows:
            hs.scan(self._db, buf[lo:hi], self._collector(raw, buf, lo, ends, triggers))
        ends.sort()
        end_starts = [start for start, _ in ends]
        end_ends = [end for _, end in ends]
        triggers.sort(key=_leftmost_longest)
        starts = [ev[0] for ev in triggers]
        sections = Sections(buf)
        out = []
        size = len(buf)
        for s, e in spans:
            i = bisect_right(end_ends, s) - 1
            lo = max(s - LOOKBACK, end_ends[i] if i >= 0 else 0)
            j = bisect_left(end_starts, e)
            hi = min(e + LOOKAHEAD, end_starts[j] if j < len(end_starts) else size)
            a, b, c = bisect_left(starts, lo), bisect_left(starts, s), bisect_left(starts, e)
            post = triggers[c : bisect_left(starts, hi, c)] if c < len(starts) else []
            out.append(self._read(buf, s, e, lo, triggers[a:b], post, sections))
        return out

    def _collector(
        self, raw: bytes, buf: bytes, lo: int, ends: list[tuple[int, int]], found: list[Event]
    ) -> Callable[..., None]:
        lengths, edges, is_end, size, word = (
            self._lengths,
            self._edges,
            self._is_end,
            len(buf),
            _WORD,
        )

        def on_match(pid: int, _from: int, end: int, _f: int, _ctx: object) -> None:
            end += lo
            start = end - lengths[pid]
            left, right = edges[pid]
            if left and start > 0 and buf[start - 1] in word:
                return
            if right and end < size and buf[end] in word:
                return
            if not is_end[pid]:
                found.append((start, end, pid))
            elif _is_end(raw, buf, start, end):
                ends.append((start, end))

        return on_match

    def _read(
        self,
        buf: bytes,
        s: int,
        e: int,
        lo: int,
        pre: list[Event],
        post: list[Event],
        sections: Sections,
    ) -> Reading:
        if _QUESTION_NO.match(buf, e):
            return N
        before, trigger_end = self._pre(buf, s, pre)
        after = self._post(buf, e, post)
        possessive = _POSSESSIVE.search(buf, max(lo, s - 48), s) is not None
        if before is N and possessive and len(buf[trigger_end:s].split()) >= OWN_PHRASE:
            before = None
        if after is N or before is N:
            return N
        if after is U or before is U:
            return U
        if before is F or after is F:
            return F
        if after is C or before is C:
            return C
        if possessive and before in (None, G, H) and after in (None, G, H):
            return Reading.PERSONAL
        if before is not None:
            return before
        if after is not None:
            return after
        section = sections.at(s)
        return section if section is not None else Reading.AFFIRMED

    def _pre(self, buf: bytes, s: int, pre: list[Event]) -> tuple[Reading | None, int]:
        """The reading the triggers before a term give it, and where the deciding one ends;
        triggers taken leftmost-longest, as a regular expression would."""
        reading: Reading | None = None
        previous: tuple[Reading, int] | None = None
        family = False
        taken = -1
        for start, end, pid in pre:
            if start < taken or end > s:
                continue
            found = self._pre_role[pid]
            if found is None:
                continue
            taken = end
            role, kind, bits = found
            if role == PSEUDO or kind is None:
                reading, previous = None, None
                continue
            tail = buf[end:s]
            if bits & BARE and (
                len(tail.split()) > BARE_REACH or (tail.strip() and not _WORD_NEXT.match(tail))
            ):
                continue  # out of reach, or an answer: "Parkinson's? No, essential tremor"
            if bits & COMMA and b"," in tail:
                continue
            if kind is F:
                family = True
            if (
                kind is C
                and previous is not None
                and previous[0] is N
                and len(buf[previous[1] : start].split()) <= CUE_IN_NEGATION
            ):
                kind = N
            reading, previous = kind, (kind, end)
        if family and reading is not N:
            return F, s
        return reading, previous[1] if previous else s

    def _post(self, buf: bytes, e: int, post: list[Event]) -> Reading | None:
        found: set[Reading] = set()
        right_after: Reading | None = None
        for start, _end, pid in post:
            for role, kind in self._post_roles[pid]:
                if role == POST:
                    found.add(kind)
                elif role == AFTER and right_after is None:
                    gap = (_GAP if kind is not G else _GAP_NONE).match(buf, e, start)
                    if gap is not None and gap.end() == start:
                        right_after = kind
        for kind in (U, N, C, F):
            if kind in found or right_after is kind:
                return kind
        return right_after

    def person_verb(self, buf: bytes, s: int) -> bool:
        """ "had a stroke", "is diabetic", "with MS": what lifts an ambiguous term."""
        lo = max(0, s - 48)
        return bool(_PERSON_VERB.search(buf, lo, s) or _POSSESSIVE.search(buf, lo, s))


def _is_end(raw: bytes, buf: bytes, start: int, end: int) -> bool:
    byte = buf[start]
    if byte == 0x0A:  # a line break: a new line, unless the text wraps
        return (start > 0 and buf[start - 1] in _STOPS) or not _WRAP.match(raw, end)
    if byte == 0x2E:  # a period: not after "Dr", "e.g", "pt"
        cut = buf.rfind(b" ", max(0, start - 8), start)
        return (cut == -1 and start > 7) or buf[cut + 1 : start] not in _ABBREVIATIONS
    return True


def _pre_role(
    roles: list[tuple[int, Reading | None, int]],
) -> tuple[int, Reading | None, int] | None:
    """What a literal does before a term: its first such role, with the bits of all."""
    before = [r for r in roles if r[0] in (PRE, PSEUDO)]
    if not before:
        return None
    role, kind, _ = before[0]
    bits = 0
    for r in before:
        bits |= r[2]
    return role, kind, bits


def _leftmost_longest(ev: Event) -> tuple[int, int]:
    return ev[0], -ev[1]
