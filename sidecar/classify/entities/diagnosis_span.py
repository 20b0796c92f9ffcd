"""Where a diagnosis found by the lexicon begins and ends in the text.

The lexicon stores diagnoses without their side, stage and site, since the code set spells
those out in thousands of titles nobody writes; the text has them around the term, and a
span that leaves them out cuts a diagnosis in two: "right carpal tunnel syndrome",
"left-sided sciatica", "chronic kidney disease stage 3", "cellulitis of the left lower leg",
"fracture of the left distal radius". So a span grows over a side before it, a stage after
it, and for a term that takes a site ("fracture", "carcinoma", "cellulitis") over "of (the)
(side) <up to three words>" after it; a term widened by a site is plainly clinical.

And a single capitalised word next to another is a name, not a diagnosis: "Amelia
Rossiter" (amelia is a congenital absence of limbs), "Angina Lane".
"""

from __future__ import annotations

import re

_SIDE_BEFORE = re.compile(rb"\b(?:left|right|bilateral)(?:[- ]sided)?[ -]$", re.I)
_STAGE_AFTER = re.compile(rb",?[ -]stage[ -](?:[0-5][ab]?|iv|v|i{1,3}[ab]?)\b", re.I)
_SITE_AFTER = re.compile(
    rb" of (?:the |his |her |their )?(?:(?:left|right|bilateral)(?:[- ]sided)? )?"
    rb"([a-z]+(?: [a-z]+){0,2})",
    re.I,
)
_SITE_HEADS = frozenset(
    w.encode()
    for w in (
        "fracture",
        "fractures",
        "cellulitis",
        "carcinoma",
        "cancer",
        "osteoarthritis",
        "arthritis",
        "sprain",
        "strain",
        "dislocation",
        "contusion",
        "laceration",
        "abscess",
        "ulcer",
        "tumor",
        "tumour",
        "melanoma",
        "sarcoma",
        "neoplasm",
        "lesion",
        "cyst",
        "stenosis",
        "thrombosis",
        "infection",
    )
)
_SITE_STOP = frozenset(
    w.encode()
    for w in (
        "and",
        "or",
        "with",
        "without",
        "after",
        "in",
        "on",
        "at",
        "for",
        "to",
        "from",
        "due",
        "following",
        "which",
        "that",
        "was",
        "is",
        "were",
        "has",
        "had",
        "since",
        "of",
        "the",
        "a",
        "an",
        "while",
        "but",
        "as",
        "last",
        "this",
        "two",
        "three",
        "several",
    )
)
_NAME_WORD = re.compile(rb"[A-Z][a-z]+")


def widen(raw: bytes, start: int, end: int) -> tuple[int, int, bool]:
    """The span, in bytes of the raw text, with its side, stage and site; the flag says a
    site was added."""
    m = _SIDE_BEFORE.search(raw, max(0, start - 16), start)
    if m:
        start = m.start()
    sited = False
    words = raw[start:end].rsplit(None, 1)
    if words and words[-1].lower() in _SITE_HEADS:
        site = _SITE_AFTER.match(raw, end)
        if site:
            kept = []
            for word in site.group(1).split(b" "):
                if word.lower() in _SITE_STOP:
                    break
                kept.append(word)
            if kept:
                end = site.start(1) + len(b" ".join(kept))
                sited = True
    stage = _STAGE_AFTER.match(raw, end)
    if stage:
        end = stage.end()
    return start, end, sited


def in_name(raw: bytes, start: int, end: int) -> bool:
    """A single Title-case word joined by one space to another one: a proper name."""
    if not _NAME_WORD.fullmatch(raw, start, end):
        return False
    if raw[end : end + 1] == b" " and _NAME_WORD.match(raw, end + 1):
        return True
    if start >= 2 and raw[start - 1 : start] == b" ":
        left = raw.rfind(b" ", 0, start - 1) + 1
        before = _NAME_WORD.fullmatch(raw, left, start - 1)
        return before is not None and left > 0 and raw[left - 1 : left] == b" "
    return False
