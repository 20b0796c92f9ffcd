"""`pii.person_name`: a person's name, told from products, teams, headings and public figures
by the words around it.

Cheap candidates first: one `re` pass finds runs of capitalised words (with the initials and
particles of names: "P. van der Berg", "O'Sullivan", "Delgado-Ibarra"); a camelCase word, a
word glued to digits or an e-mail address is no run. Each run is trimmed of the capitalised
words that are not names (a sentence's first word, "Dear", "Patient", days, roles:
`name_cues.NOT_NAMES`), and a run naming an organisation or product ("Microsoft Teams",
"Tri-County Freight") is dropped. Only then are the words before and after the run read.

| evidence | example | confidence |
|---|---|---|
| a title, role label or self-introduction | "Mr. Kowalski", "Patient: Maria Okafor" | 0.9 high |
| an identifier right after | "Walter Pruitt, MRN 7731904", "Edith Marchetti, 84," | 0.9 high |
| a greeting or sign-off | "Hi Aisling", "Regards, Tom Brophy" | 0.7 medium |
| a reporting verb, a colon, "for"/"call" before | "Tom Brophy called" | 0.65 medium (c) |
| two words, the first a known given name | "Tom Brophy will be on leave" | 0.6 medium (c) |
| two capitalised words, nothing else | "Kraków Zofia" | 0.35 low |
| a public figure or placeholder | "Abraham Lincoln's speech", "John Doe" | 0.3 low |

A single capitalised word needs a cue: "Mr. Adeyemi" is a name, "Sanjay" alone is none.
(c): below 0.7, a hit needs other evidence in the request (the entity stage's
corroboration rule), since "Conan Doyle wrote" is as often a public figure as a customer.
"""

from __future__ import annotations

import re

from sidecar.classify.entities import name_cues as cues
from sidecar.classify.entities.base import EntityHit
from sidecar.classify.entities.letters import LOWER, UPPER
from sidecar.classify.entities.name_lexicon import NameLexicon, NoLexicon, fold, load
from sidecar.classify.entities.public_names import PUBLIC_FIGURES, PUBLIC_SURNAMES

TAG = "pii.person_name"
STRONG, WEAK, HINTED, KNOWN_PAIR, KNOWN_FIRST = 0.9, 0.7, 0.65, 0.65, 0.6
BARE_PAIR, PUBLIC = 0.35, 0.3
MAX_WORDS = 4
"""A longer run of capitalised words is a heading or a title, not a name."""

_TOKEN = (
    rf"[{UPPER}](?:['\u2019][{UPPER}])?[{LOWER}]+(?:[{UPPER}][{LOWER}]+)?"
    rf"(?:-[{UPPER}]?[{LOWER}]+|['\u2019][{UPPER}][{LOWER}]+)*"
)
_WORD = rf"(?:{_TOKEN}|[{UPPER}]\.)"
_PARTICLE = "|".join(sorted(cues.PARTICLES, key=len, reverse=True))
_RUN = re.compile(rf"{_WORD}(?:[ \xa0](?:(?:{_PARTICLE})[ \xa0]){{0,2}}{_WORD})*(?![\w@])")
"""Starts with a plain character class, so that `re` skips ahead to the next capital at C
speed (a look-behind or an optional prefix at the front makes it try every position, 5x
slower); what the look-behind would check is checked in `find`."""
_GLUED = frozenset("@./\\#$:=-_")
"""A run right after one of these is part of an identifier, a path or an address."""
_CAMEL_PREFIXES = ("Mc", "Mac", "De", "Di", "Da", "La", "Le", "Fitz", "Van", "Von")
"""The only words with a capital inside that are names ("McTavish", "DeShawn"); any other
("PowerPoint", "GitHub") is a product."""
_RIGHT = re.compile(
    r"(?P<id>[ \t]*(?:"
    r",[ \t]*(?:(?:md|do|np|rn|pa-c|phd|dds)\b|"
    r"\d{1,3}[ \t]*(?:,|\.|y/?o|yo|[mf]\b|ans\b|jahre\b|años\b))|"
    r"(?:[,(;]|\s-\s)?[ \t]*(?:"
    r"dob\b|d\.o\.b|date of birth|born\b|n[ée]e?\b|nat[oa]\b|nacid[oa]\b|nascid[oa]\b|geb\.|"
    r"ur\.|mrn\b|medical record|hospital (?:no|number)|hosp\.? no|pt\.? id|patient id|"
    r"chart\b|member id|employee id|ssn\b|npi\b|nhs\b|\d{1,3}\s?(?:y/?o|yo|yrs?|years?|[mf])\b|"
    r"aged?\b|<[^\s@<>]+@|\(?[\w.+-]+@[\w-]+\.[\w.]+|\+\d|\(\d{3}\)|tel\b|phone\b)))"
    r"|(?P<works>['\u2019]s[ \t]+(?:" + "|".join(cues.WORKS) + r")\b)"
    r"|(?P<venue>['\u2019]s[ \t]+(?-i:(?:[A-Z][a-z]+[ \t]+){0,2}(?:"
    + "|".join(cues.VENUES)
    + r"))\b)"
    r"|(?P<goods>[ \t]+(?:[A-Z][a-z]+[ \t]+){0,2}(?:" + "|".join(cues.GOODS) + r")\b)"
    r"|(?P<verb>[ \t]+(?:called|rang|phoned|emailed|e-mailed|wrote|writes|said|says|asked|"
    r"asks|reports|reported|complained|complains|visited|presents|presented|was admitted|"
    r"was seen|was diagnosed|has been diagnosed|died|passed away|lives|moved|requested|"
    r"is a \d|, a \d|is an? \d|was born)\b)",
    re.IGNORECASE,
)
_PUNCT = ".,:;()[]{}\"'\u201c\u201d\u2018\u2019\u00ab\u00bb!?*"
_DASHES = ("\u2014", "\u2013", " - ", "--")
_DASH_WORDS = frozenset({"\u2014", "\u2013", "-", "--"})
_ARTICLES = frozenset(
    "the a an this these those our your their its le la les der die das el los las il lo"
    " het een".split()
)
_WEAK_BEFORE = frozenset(
    "for with call contact email e-mail ask tell thank von für fuer para pour per voor dla"
    " dear".split()
)
"""Right before two capitalised words, these make a person likelier than a place or a
product ("salary for Gilles Reding", "call Bilal Chaudhry")."""


def _phrases() -> dict[str, str]:
    kinds: dict[str, str] = {}
    for kind, words in (
        ("public", cues.PUBLIC),
        ("signoff", cues.SIGN_OFFS),
        ("greeting", cues.GREETINGS),
        ("label", cues.LABELS),
        ("honorific", cues.HONORIFICS),
    ):
        for phrase in words:
            kinds[phrase] = kind
    return kinds


_CUES = _phrases()
_FINAL_WORDS = frozenset(phrase.rsplit(" ", 1)[-1] for phrase in _CUES)
"""The last words of the cue phrases: only a word among them can end one."""
_SINGLE_CUES = frozenset({"honorific", "label", "greeting", "signoff"})
_COLON_ONLY = frozenset({"from", "to", "re", "attn", "name", "nome", "nombre", "nom", "naam"})
"""Labels that are ordinary words as well: a cue only with a colon ("From: Rahul ...")."""
_STRIP = cues.NOT_NAMES | frozenset(
    w for w in (*cues.HONORIFICS, *cues.LABELS, *cues.GREETINGS, *cues.PUBLIC) if " " not in w
)


class PersonNameRecognizer:
    tags = (TAG,)

    def __init__(self, lexicon: NameLexicon | NoLexicon | None = None) -> None:
        self.lexicon = lexicon if lexicon is not None else load()

    def find(self, text: str) -> list[EntityHit]:
        out: list[EntityHit] = []
        strip = _STRIP
        for run in _RUN.finditer(text):
            start, value = run.start(), run.group()
            if start and (text[start - 1].isalnum() or text[start - 1] in _GLUED):
                continue  # inside a word ("PowerPoint"), an identifier, a path
            if " " not in value and "\xa0" not in value:
                # one word, the most common run by far: a name only after a cue, which
                # ends in one of a few words (or is a signature's dash)
                if value.lower() in strip:
                    continue
                before = text[start - 24 if start > 24 else 0 : start].split()
                last = before[-1].lower().strip(_PUNCT) if before else ""
                single = self._single(text, start, run.end(), value, last)
                if single is not None:
                    out.append(EntityHit(TAG, start, run.end(), single))
                    continue
                if last not in _FINAL_WORDS and not (before and before[-1] in _DASH_WORDS):
                    continue
                if _left_cue(text, start) not in _SINGLE_CUES:
                    continue
            words = _words(value, start)
            while words:
                name, words = _next_name(words)
                if name:
                    confidence = self._confidence(text, name)
                    if confidence is not None:
                        out.append(EntityHit(TAG, name[0][0], name[-1][1], confidence))
        return out

    def _single(self, text: str, start: int, end: int, word: str, last: str) -> float | None:
        """A lone known given name with a cue that only a person's name takes: a chat
        speaker at the start of a line ("[#ops] Anja: …", medium) or after "ask", "tell",
        "cc", "forwarded to" (medium, corroborated); None to go on with the other cues."""
        if not self.lexicon.first(word):
            return None
        if text.startswith(":", end) and _line_head(text, start):
            return WEAK
        if last in _SINGLE_WEAK_BEFORE:
            return HINTED
        return None

    def _confidence(self, text: str, name: list[tuple[int, int, str]]) -> float | None:
        start, end = name[0][0], name[-1][1]
        folded = [fold(w.rstrip(".")) for _, _, w in name]
        single = len(name) == 1 or (len(name) == 2 and name[0][2].endswith("."))
        cue = _left_cue(text, start)
        right = _right_cue(text, end)
        strong = cue in ("honorific", "label") or (right == "id" and not single)
        if (
            " ".join(folded) in PUBLIC_FIGURES
            or _titled(text, start, folded)
            or cue == "public"
            or right in ("works", "goods", "venue")
            or (folded[-1] in PUBLIC_SURNAMES and not strong)
        ):
            return PUBLIC
        if strong:
            return STRONG
        if cue in ("article", "number"):
            return None  # "the Mona Lisa", "the Dell Latitude"; "1427 Maple Ridge Dr"
        if single:
            return WEAK if cue in ("greeting", "signoff") else None
        if cue in ("greeting", "signoff"):
            return WEAK
        if cue in ("weak", "colon") or right == "verb":
            # "call Bilal Chaudhry", "answer: Srinivasa Ramanujan", "Conan Doyle wrote": as
            # often a public figure as a private person, so it needs corroboration
            return HINTED
        first, last = self.lexicon.first(name[0][2]), self.lexicon.last(name[-1][2])
        if first and last:
            return KNOWN_PAIR
        if first:
            return KNOWN_FIRST
        return BARE_PAIR


_SINGLE_WEAK_BEFORE = frozenset({"ask", "tell", "cc", "cc:", "ping", "pinged", "thank", "thanks"})
_SPEAKER_PREFIX = re.compile(r"[ \t]*(?:\[[^\]\n]{0,40}\][ \t]*|\d{1,2}:\d{2}[ \t]*)*")


def _line_head(text: str, start: int) -> bool:
    """Whether only a chat's channel or time stamp precedes `start` on its line."""
    line = text.rfind("\n", 0, start) + 1
    return _SPEAKER_PREFIX.fullmatch(text, line, start) is not None


def _titled(text: str, start: int, folded: list[str]) -> bool:
    """Whether the word before the name makes, with the name or its first word, a brand or
    character of PUBLIC_FIGURES ("dr pepper", "mr clean" in "Mr. Clean Magic Eraser",
    "hello kitty", "dear abby")."""
    before = text[max(0, start - 8) : start].rstrip(" .,\xa0").lower().rsplit(None, 1)
    if not before:
        return False
    word = before[-1].strip(_PUNCT)
    return f"{word} {' '.join(folded)}" in PUBLIC_FIGURES or f"{word} {folded[0]}" in PUBLIC_FIGURES


def _words(run: str, offset: int) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    at = 0
    for word in run.split():
        at = run.index(word, at)
        out.append((offset + at, offset + at + len(word), word))
        at += len(word)
    return out


def _next_name(
    words: list[tuple[int, int, str]],
) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """The first name in a run, and the rest of the run after it: leading words that are no
    names dropped, the run cut at the next one; nothing at all for an organisation."""
    at = 0
    while at < len(words) and _not_name(words[at][2]):
        at += 1
    stop = at
    while stop < len(words) and not (words[stop][2].lower() in _STRIP or _camel(words[stop][2])):
        stop += 1
    for inner in range(at + 1, stop - 2):
        if words[inner][2] in cues.PARTICLES and not any(
            w[2] in cues.PARTICLES for w in words[inner + 1 : stop]
        ):
            # "Gehalt von Franziska Oberhauser": a preposition before a whole name, not
            # the particle of one ("Cornelius van Rijn" has one word after it)
            return words[at:inner], words[inner + 1 :]
    name = words[at:stop]
    while name and name[-1][2] in cues.PARTICLES:
        name.pop()
    if any(fold(w) in cues.ORGANISATION for _, _, w in words):
        return [], []
    if len(name) > MAX_WORDS:
        return [], words[stop:]
    return name, words[stop:]


def _not_name(word: str) -> bool:
    lowered = word.lower()
    return lowered in _STRIP or lowered in cues.PARTICLES or _camel(word)


def _camel(word: str) -> bool:
    """A capital inside the word that no name prefix explains ("PowerPoint")."""
    inner = word[1:]
    if inner.islower() or "-" in word or "'" in word or "\u2019" in word or word.endswith("."):
        return False
    return not word.startswith(_CAMEL_PREFIXES)


def _left_cue(text: str, start: int) -> str | None:
    """The kind of cue the words right before `start` make, if any: a phrase of
    `name_cues` (the longest that ends there), an article or a house number right before,
    a colon, or the dash of a signature. Called for most capitalised words of a text, so the
    word before is found with `rfind` and phrases are only tried when it can end one."""
    lo = max(0, start - 40)
    cut = start
    while cut > lo and not text[cut - 1].isalnum():
        cut -= 1
    sep = text[cut:start]
    head = max(text.rfind(" ", lo, cut), text.rfind("\n", lo, cut), text.rfind("\t", lo, cut))
    last = text[head + 1 if head >= 0 else lo : cut].lower().strip(_PUNCT)
    spaced = not sep.strip(" \t")
    if last in _FINAL_WORDS:
        words = [w.strip(_PUNCT) for w in text[lo:cut].lower().split()[-4:]]
        for k in range(len(words), 0, -1):
            phrase = " ".join(words[-k:])
            kind = _CUES.get(phrase)
            if kind is None or (k == 1 and phrase in _COLON_ONLY and ":" not in sep):
                continue
            if kind == "honorific" and sep.strip(". \t"):
                break  # "Dr.\n\nSmith" or "Mr, Smith": no title of this name
            if kind == "label" and "\n" in sep and ":" not in sep:
                break
            return kind
    if spaced:
        if last in _ARTICLES:
            return "article"
        if last[:1].isdigit():
            return "number"
        if last in _WEAK_BEFORE:
            return "weak"
    if ":" in sep:
        return "colon"
    if "&" in sep:
        return "article"  # "Ben & Jerry's", "Johnson & Johnson": a firm
    if any(d in sep for d in _DASHES):
        line = text.rfind("\n", lo, start) + 1 or lo
        if any(c.isalnum() for c in text[line:start]):
            return "signoff"  # "... all day. — Camille Delacroix-Nguyen", not a "- item"
    return None


def _right_cue(text: str, end: int) -> str | None:
    found = _RIGHT.match(text, end, end + 40)
    return found.lastgroup if found else None
