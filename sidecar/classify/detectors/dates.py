"""Dates of birth: numeric and written-out dates, in US and European orders, after a cue.

A date alone is no birth date (an invoice's due date, a release date, an admission); it
counts only after a word that says "born" in one of the languages a support or clinical
text comes in, and only as the first date after it: in "DOB: 03/14/1962 Admitted:
05/02/2024" the cue names the first date, not the admission (`Detector.one_value`). Month
names are read in English, French, German, Spanish, Italian, Portuguese, Dutch, Polish,
Turkish and Swedish. A birth date lies between 1900 and today.
"""

from __future__ import annotations

from datetime import date

from sidecar.classify.detectors.base import Detector

_MONTH_NAMES = (
    # (month, spellings): full names and the common abbreviations, lower case.
    (
        1,
        "january jan janvier janv januar jänner enero ene gennaio gen janeiro januari "
        "stycznia styczeń ocak",
    ),
    (
        2,
        "february feb février fevrier févr fevr februar febrero febbraio fevereiro fev "
        "februari lutego luty şubat subat",
    ),
    (3, "march mar mars märz maerz mär marzo março marco maart mrt marca marzec mart"),
    (4, "april apr avril avr abril abr aprile kwietnia kwiecień nisan"),
    (5, "may mai mayo maggio mag maio mei maj maja mayıs mayis"),
    (6, "june jun juin juni junio giugno giu junho czerwca czerwiec haziran"),
    (7, "july jul juillet juil juli julio luglio lug julho lipca lipiec temmuz"),
    (8, "august aug août aout agosto ago augustus augusti sierpnia sierpień ağustos agustos"),
    (
        9,
        "september sep sept septembre septiembre setiembre settembre set setembro września "
        "wrzesień eylül eylul",
    ),
    (
        10,
        "october oct octobre oktober okt octubre ottobre ott outubro out października "
        "październik ekim",
    ),
    (11, "november nov novembre noviembre novembro listopada listopad kasım kasim"),
    (
        12,
        "december dec décembre decembre déc dezember dez diciembre dic dicembre dezembro "
        "grudnia grudzień aralık aralik",
    ),
)
MONTHS: dict[str, int] = {name: month for month, names in _MONTH_NAMES for name in names.split()}
_ALTERNATION = "|".join(sorted(MONTHS, key=len, reverse=True))
_ASCII_INITIAL = "|".join(sorted((m for m in MONTHS if m[0].isascii()), key=len, reverse=True))
_ORDINAL = ("st", "nd", "rd", "th", "er", "º", "ª", ".")
_FIRST_YEAR = 1900


def _parts(value: str) -> list[str]:
    for sep in ",/-.":
        value = value.replace(sep, " ")
    return [p for p in value.split() if p not in ("de", "del", "of", "d'")]


def _day(token: str) -> int | None:
    for suffix in _ORDINAL:
        if token.endswith(suffix) and token[: -len(suffix)].isdigit():
            token = token[: -len(suffix)]
            break
    return int(token) if token.isdigit() and len(token) <= 2 else None


def _year(token: str, today: date) -> int | None:
    """A year, a two-digit one read as the latest such year not in the future."""
    if not token.isdigit() or len(token) not in (2, 4):
        return None
    year = int(token)
    if len(token) == 2:
        year = 2000 + year if 2000 + year <= today.year else 1900 + year
    return year


def _ok(year: int, month: int, day: int, today: date) -> bool:
    try:
        born = date(year, month, day)
    except ValueError:
        return False
    # 1 January 1900 is what record systems print for an unknown date, not a birthday
    return date(_FIRST_YEAR, 1, 1) < born <= today


def birth_date(value: str) -> bool:
    """A real date between 1900 and today in any of the detectors' shapes. A numeric date
    whose first two numbers could be either day or month is taken when either reading is
    a date (03/04/1962 is the 4th of March in Boston and the 3rd of April in Lyon)."""
    today = date.today()
    parts = _parts(value.lower())
    if len(parts) != 3:
        return False
    named = [i for i, p in enumerate(parts) if p in MONTHS]
    if named:
        month = MONTHS[parts[named[0]]]
        rest = parts[: named[0]] + parts[named[0] + 1 :]
        day, year = _day(rest[0]), _year(rest[1], today)
        if day is None or year is None:
            day, year = _day(rest[1]), _year(rest[0], today)
        return day is not None and year is not None and _ok(year, month, day, today)
    if not all(p.isdigit() for p in parts):
        return False
    if len(parts[0]) == 4:
        return _ok(int(parts[0]), int(parts[1]), int(parts[2]), today)
    year = _year(parts[2], today)
    if year is None:
        return False
    a, b = int(parts[0]), int(parts[1])
    return _ok(year, a, b, today) or _ok(year, b, a, today)


BIRTH_WORDS = (
    "dob", "d.o.b", "d.o.b.", "date of birth", "birth date", "birthdate", "born",
    "birthday", "b-day", "bday", "geburtsdatum", "geb.", "geboren", "geburtstag",
    "né le", "née le", "né(e) le", "date de naissance", "nacido el", "nacida el", "nacido",
    "nacida", "fecha de nacimiento", "f. nac.", "fecha nac", "nato il", "nata il", "nato a",
    "nata a", "data di nascita", "nascido em", "nascida em", "nascido", "nascida",
    "data de nascimento", "geboortedatum", "geb. datum", "data urodzenia", "urodzony",
    "urodzona", "ur.", "doğum tarihi", "doğum", "födelsedatum", "född", "fødselsdato",
    "født", "syntymäaika", "datum narození", "narozen*",
)  # fmt: skip

DATE_OF_BIRTH = Detector(
    "pii.date_of_birth",
    (
        r"\b[0-3]?[0-9][/\-.][0-3]?[0-9][/\-.](19|20)[0-9]{2}\b",  # 03/14/1962, 14.03.1962
        r"\b(19|20)[0-9]{2}[\-/.][01]?[0-9][\-/.][0-3]?[0-9]\b",  # 1962-03-14
        r"\b[0-3]?[0-9][/\-.][0-3]?[0-9][/\-.][0-9]{2}\b",  # 3/28/73, 14.03.62
    ),
    validator=birth_date,
    context=BIRTH_WORDS,
    one_value=True,
    confidence=0.85,
    context_window=64,  # the word and the date may sit on two lines of a chat
)

DATE_OF_BIRTH_WRITTEN = Detector(
    "pii.date_of_birth",
    (
        # 14 March 1962, 14th of March 1962, 14. März 1962, 3 de abril de 1971, 10-Oct-1975
        r"\b[0-3]?[0-9](st|nd|rd|th|er|º|ª|\.)?( de| of| d')?[ \-/.]{1,2}("
        + _ALTERNATION
        + r")\.?,?( de| del)?[ \-/.]{1,2}(19|20)[0-9]{2}\b",
        # March 14, 1962; Aug 14th 1979
        r"\b(" + _ASCII_INITIAL + r")\.?[ \-]{1,2}[0-3]?[0-9](st|nd|rd|th)?,?[ \-]{1,2}"
        r"(19|20)[0-9]{2}\b",
    ),
    validator=birth_date,
    context=BIRTH_WORDS,
    one_value=True,
    confidence=0.85,
    context_window=64,
    caseless=True,
)

DETECTORS = (DATE_OF_BIRTH, DATE_OF_BIRTH_WRITTEN)
