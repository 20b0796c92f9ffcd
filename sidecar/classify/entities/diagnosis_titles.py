"""ICD-10-CM titles reduced to the words people write.

A title such as "Type 2 diabetes mellitus without complications" or "Unspecified fracture
of right patella, initial encounter" is how a coder names a case, not how a prompt does: the
prompt says "type 2 diabetes mellitus" or "fracture of the patella". So a title loses its
qualifiers (what follows a comma, "with ..."/"without ...", "unspecified", "other",
laterality, parentheses), and a bracketed synonym becomes a term of its own. What is left is
kept only if it still names a disease: a single word must carry a medical suffix (-itis,
-osis, -emia, -oma, ...) and not be capitalised (an eponym cut from its "disease"), and a
phrase must not be a coder's catch-all ("other specified disorders of ...").

Pure functions, so the reduction is tested without the code set installed.
"""

from __future__ import annotations

import re

MAX_WORDS = 6
"""Longer phrases are coder's prose; a prompt never repeats them word for word."""

_NOS = re.compile(r",?\s+(?:NOS|NEC)\b")
_BRACKETS = re.compile(r"\s*\[([^\]]*)\]")
_PARENS = re.compile(r"\s*\([^)]*\)")
_CLAUSE = re.compile(
    r"\s+(?:with|without|w/o|in diseases classified elsewhere|not elsewhere classified)\b.*$"
)
_LEADING = re.compile(
    r"^(?:other and unspecified|other specified|unspecified|other|certain|"
    r"personal history of|history of)\s+"
)
_SIDE = re.compile(r"\b(?:right|left|bilateral|unilateral|unspecified|upper and lower)\s+")
_SPACES = re.compile(r"\s+")
_CANCER = re.compile(r"^malignant neoplasm of (?:the )?([a-z][a-z ]*)$")

_CATCH_ALL = frozenset(
    (
        "other",
        "unspecified",
        "specified",
        "classified",
        "elsewhere",
        "encounter",
        "site",
        "sites",
        "part",
        "parts",
        "findings",
        "status",
        "examination",
        "screening",
        "exposure",
        "contact",
        "complication",
        "complications",
        "multiple",
        "abnormal",
        "abnormalities",
        "conditions",
        "disorders",
        "diseases",
        "problems",
        "factors",
        "certain",
        "sequelae",
        "sequela",
        "listed",
        "condition",
        "any",
        "flare",
    )
)
"""Words that mark a phrase as a coder's category rather than a diagnosis; a phrase made of
nothing but them and prepositions is dropped ("disorders of other sites")."""

_ACUITY = frozenset(("acute", "chronic", "subacute"))

_DANGLING = frozenset(
    ("of", "and", "or", "in", "due", "to", "by", "the", "with", "for", "from", "associated", "on")
)

_HEADS = frozenset(
    (
        "disease",
        "disorder",
        "syndrome",
        "infection",
        "failure",
        "fever",
        "insufficiency",
        "deficiency",
        "ulcer",
        "cyst",
        "fracture",
        "injury",
        "abscess",
        "cancer",
        "tumor",
        "neoplasm",
        "carcinoma",
        "palsy",
        "dysplasia",
    )
)
"""Nouns that end a diagnosis, besides the medical suffixes: the left side of "X and Y"
is kept only when it ends in one, so "epilepsy and recurrent seizures" gives "epilepsy" but
"combined systolic and diastolic heart failure" does not give "combined systolic"."""

_SUFFIXES = (
    "itis",
    "osis",
    "oses",
    "iasis",
    "emia",
    "aemia",
    "oma",
    "omas",
    "pathy",
    "pathies",
    "algia",
    "plegia",
    "paresis",
    "ism",
    "cele",
    "rrhea",
    "phobia",
    "trophy",
    "ectasis",
    "megaly",
    "penia",
    "ptosis",
    "ia",
    "sy",
    "ma",
)
"""A single word is kept only with one of these endings: the ICD-derived single words
without one are words such as "pain", "burns", "contact", "newborn" that name no disease
alone. The common lay ones without a suffix (asthma has one; gout, measles, cataract do
not) are in the hand-written list."""

STOP_SINGLE = frozenset(
    (
        "mania",
        "media",
        "plague",
        "pregnancy",
        "dementia",  # kept, but by the hand list, with its lay variants
        "infertility",
        "sepsis",
        "hypothermia",
        "malnutrition",
        "paranoia",
        "phobia",
        "trauma",
        "enigma",
        "anomia",
        "schema",
        "stroma",
        "comma",
        "karma",
        "dogma",
        "drama",
        "magma",
        "plasma",
        "prima",
        "stigma",
        "dilemma",
        "insomnia",
    )
)
"""Single words a suffix lets through that are ordinary English or that the hand list
carries with better care (flags, variants)."""


def _clean(title: str) -> tuple[str, ...]:
    """The phrases one title or inclusion term yields, lower-cased; empty if none. What
    follows "with"/"without" goes: in "migraine with aura" the diagnosis is the migraine,
    the rest a qualifier, as in "acute appendicitis without perforation"."""
    text = _NOS.sub("", title)
    extra = [b.strip() for b in _BRACKETS.findall(text)]
    text = _BRACKETS.sub("", text)
    text = _PARENS.sub("", text)
    head = text.split(",")[0].split(";")[0]
    out: list[str] = []
    for candidate in (head, *extra):
        phrase = _normal(candidate)
        short = _CLAUSE.sub("", phrase)
        for p in dict.fromkeys((short, *_parts(short))):
            if _keep(p):
                out.append(p)
    return tuple(dict.fromkeys(out))


def _parts(phrase: str) -> tuple[str, ...]:
    """ "epilepsy and recurrent seizures" -> "epilepsy", "recurrent seizures" (the right side
    only when it is a phrase: "flutter" alone from "atrial fibrillation and flutter" is no
    diagnosis); "acute myocardial infarction" -> "myocardial infarction"."""
    out: list[str] = []
    left, sep, right = phrase.partition(" and ")
    if sep and " and " not in right:
        last = left.rsplit(" ", 1)[-1]
        if last in _HEADS or last.endswith(_SUFFIXES) or last.endswith("ation"):
            out.append(left)
        tail = right.rsplit(" ", 1)[-1]
        if len(right.split()) >= 2 and (tail in _HEADS or tail.endswith(_SUFFIXES)):
            out.append(right)
    for p in (phrase, *out):
        first, _, rest = p.partition(" ")
        if first in _ACUITY and len(rest.split()) >= 2:
            out.append(rest)
    return tuple(out)


def _normal(text: str) -> str:
    text = text.lower().strip()
    text = _LEADING.sub("", text)
    text = _SIDE.sub("", text)
    return _SPACES.sub(" ", text).strip(" -.")


def _keep(phrase: str) -> bool:
    words = phrase.split()
    if not words or len(words) > MAX_WORDS or not phrase[0].isalpha():
        return False
    if words[-1] in _DANGLING or words[0] in _DANGLING:
        return False
    if any(w in _CATCH_ALL for w in words):
        return False
    if len(words) == 1:
        word = words[0]
        return (
            len(word) >= 5
            and word.replace("-", "").isalpha()
            and "-" not in word
            and word.endswith(_SUFFIXES)
            and word not in STOP_SINGLE
        )
    return True


def reduce_title(title: str, inclusion: tuple[str, ...] = ()) -> tuple[str, ...]:
    """Everything a prompt might write for one ICD-10-CM entry: the reduced title, its
    bracketed synonym, its inclusion terms, and for a malignant neoplasm the lay forms
    ("cancer of the breast", "breast cancer")."""
    phrases: list[str] = []
    for source in (title, *inclusion):
        phrases.extend(_clean(source))
    for phrase in list(phrases):
        phrases.extend(cancer_forms(phrase))
    return tuple(dict.fromkeys(phrases))


def cancer_forms(phrase: str) -> tuple[str, ...]:
    """ "malignant neoplasm of bronchus and lung" -> "lung cancer", "cancer of the lung", ...:
    the organ names of a cancer title, each in the two orders people write."""
    m = _CANCER.match(phrase)
    if m is None:
        return ()
    out: list[str] = []
    for organ in re.split(r" and |, ", m.group(1)):
        organ = organ.strip()
        if not organ or len(organ.split()) > 2 or any(w in _CATCH_ALL for w in organ.split()):
            continue
        out += [f"{organ} cancer", f"cancer of the {organ}", f"cancer of {organ}"]
    return tuple(out)
