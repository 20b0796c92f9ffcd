"""The diagnosis lexicon as byte literals, ready for a multi-literal matcher.

Two files make it: the ICD-10-CM titles reduced by the build (`data/diagnoses_icd.txt.gz`)
and the hand-written lay names and abbreviations (`data/diagnoses_lay.txt`). Matching runs
over *folded* text: ASCII upper case lowered and every hyphen and whitespace byte turned into
a space, one byte for one so offsets survive (a non-ASCII capital at a term's start is a
variant of its own); so a term is stored folded too, and "Type-2
Diabetes" finds "type 2 diabetes". Abbreviations that are also words ("AIDS", "MS") are
matched case-sensitively on the raw bytes instead. The spelling variants people use are made
here rather than written out in the files: "crohn's"/"crohns"/"crohn", "type 2"/"type ii"/
"type two"/"type2", "pre-diabetes"/"prediabetes", a plural, and an unaccented form.
"""

from __future__ import annotations

import gzip
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

DATA = Path(__file__).with_name("data")
ICD_FILE = DATA / "diagnoses_icd.txt.gz"
LAY_FILE = DATA / "diagnoses_lay.txt"

AMBIGUOUS = 1
"""A diagnosis only with a clinical cue or a person's ("her MS", "history of CAD")."""
EXCLUDED = 2
"""Never a diagnosis; wins over any term it overlaps ("great depression")."""

FOLD = bytes(
    (b + 32 if 65 <= b <= 90 else 32 if b in b"-\t\n\r\x0b\x0c" else b) for b in range(256)
)
"""`bytes.translate` table: ASCII lower case, hyphens and whitespace to spaces."""

_TYPE = re.compile(r"\btype ([12])\b")
_SIDE = "{side}"
"""In the hand list, where "left "/"right " may stand: "sprained {side}ankle"."""
_BRITISH = (
    (re.compile(r"(?<=[a-z])emia\b"), "aemia"),
    (re.compile(r"(?<=[a-z])emic\b"), "aemic"),
    (re.compile(r"\bhem(?=[ao])"), "haem"),
    (re.compile(r"\besophag"), "oesophag"),
    (re.compile(r"\bedema"), "oedema"),
    (re.compile(r"\bestrogen"), "oestrogen"),
    (re.compile(r"\bfetal\b"), "foetal"),
    (re.compile(r"\bceliac\b"), "coeliac"),
    (re.compile(r"ischem"), "ischaem"),
    (re.compile(r"pedia"), "paedia"),
    (re.compile(r"orthoped"), "orthopaed"),
    (re.compile(r"apnea\b"), "apnoea"),
    (re.compile(r"rrhea\b"), "rrhoea"),
    (re.compile(r"\btumor"), "tumour"),
    (re.compile(r"behavior"), "behaviour"),
    (re.compile(r"(?<=[a-z]{3})iz(e|ed|ing|ation)\b"), r"is\1"),
)
"""US to British spellings: the code set is American, the prompts are not all."""
_TYPE_FORMS = {"1": ("1", "i", "one"), "2": ("2", "ii", "two")}


@dataclass(slots=True)
class Lexicon:
    folded: dict[bytes, int] = field(default_factory=dict)
    """Folded literal -> flags, matched on folded text."""
    raw: dict[bytes, int] = field(default_factory=dict)
    """Case-sensitive literal -> flags, matched on the raw UTF-8 bytes."""

    def __len__(self) -> int:
        return len(self.folded) + len(self.raw)


def fold(text: str) -> bytes:
    return text.encode().translate(FOLD)


def variants(term: str) -> list[str]:
    """The spellings of one lower-case term that people write."""
    if _SIDE in term:
        return [f for side in ("", "left ", "right ") for f in variants(term.replace(_SIDE, side))]
    forms = [term]
    british = _british(term)
    if british != term:
        forms.append(british)
    m = _TYPE.search(term)
    if m:
        digit = m.group(1)
        forms.append(_TYPE.sub(f"type{digit}", term, count=1))
        for form in _TYPE_FORMS[digit]:
            forms.append(_TYPE.sub(f"type {form}", term, count=1))
    if "-" in term:
        forms += [f.replace("-", "") for f in forms]
    if "'" in term:
        more: list[str] = []
        for f in forms:
            more += [f.replace("'s", "s"), f.replace("'s", ""), f.replace("s'", "s")]
        forms += more
        forms += [f.replace("'", "\u2019") for f in forms if "'" in f]
    forms += [p for f in forms if (p := _plural(f))]
    accentless = [_ascii(f) for f in forms]
    forms += [a for a in accentless if a]
    # Folding lowers ASCII only; a term that starts with another letter gets its capital
    # spelled out, for the start of a sentence ("Épilepsie depuis 2010").
    forms += [c for f in forms if not f[:1].isascii() and (c := _capital(f))]
    return list(dict.fromkeys(f for f in forms if f.strip()))


_PLURAL_HEADS = frozenset(
    (
        "seizure",
        "migraine",
        "tumor",
        "tumour",
        "cancer",
        "carcinoma",
        "lymphoma",
        "melanoma",
        "sarcoma",
        "ulcer",
        "stone",
        "gallstone",
        "fracture",
        "cataract",
        "infection",
        "aneurysm",
        "polyp",
        "cyst",
        "lesion",
        "clot",
        "attack",
        "stroke",
        "disorder",
        "disease",
        "fibroid",
        "hemorrhoid",
        "abscess",
        "allergy",
        "neuropathy",
    )
)
"""Last words whose plural a prompt writes ("two seizures", "kidney stones"); a plural of
every term would double the lexicon for words nobody puts in the plural."""


_BRITISH_ANY = re.compile("|".join(f"(?:{p.pattern})" for p, _ in _BRITISH))


def _british(term: str) -> str:
    if not _BRITISH_ANY.search(term):
        return term
    for pattern, repl in _BRITISH:
        term = pattern.sub(repl, term)
    return term


def _plural(term: str) -> str | None:
    head = term.rsplit(" ", 1)[-1]
    if head not in _PLURAL_HEADS:
        return None
    if head.endswith("y"):
        return term[:-1] + "ies"
    return term + ("es" if head.endswith("ss") else "s")


def _capital(term: str) -> str | None:
    upper = term[:1].upper()
    same = len(upper) == 1 and len(upper.encode()) == len(term[:1].encode())
    return upper + term[1:] if same and upper != term[:1] else None


def _ascii(term: str) -> str | None:
    if term.isascii():
        return None
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", term) if not unicodedata.combining(c)
    )
    return stripped if stripped.isascii() and stripped != term else None


def _lines(text: str) -> list[tuple[str, str]]:
    out = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        term, _, flags = line.partition("|")
        out.append((term.strip(), flags.replace(" ", "")))
    return out


def parse(icd_text: str, lay_text: str) -> Lexicon:
    lex = Lexicon()
    entries = [(t, "") for t, _ in _lines(icd_text)] + _lines(lay_text)
    for term, flags in entries:
        bits = (AMBIGUOUS if "a" in flags else 0) | (EXCLUDED if "x" in flags else 0)
        if "c" in flags:
            for form in dict.fromkeys((term, term.replace("-", ""))):
                lex.raw[form.encode()] = bits | lex.raw.get(form.encode(), 0) & EXCLUDED
            continue
        own = term.lower()
        for form in [own] if bits & EXCLUDED else variants(own):
            key = fold(form)
            old = lex.folded.get(key)
            # The hand list comes last and its own spelling overrides the ICD list's plain
            # reading ("low back pain" is an ICD title, and ambiguous); a variant made here
            # overrides nothing ("cáncer|a" leaves "cancer" plain); an exclusion stays.
            if old is None or form == own:
                lex.folded[key] = bits | (old or 0) & EXCLUDED
    return lex


def load(icd: Path = ICD_FILE, lay: Path = LAY_FILE) -> Lexicon:
    return parse(gzip.decompress(icd.read_bytes()).decode(), lay.read_text(encoding="utf-8"))
