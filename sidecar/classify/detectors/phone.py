"""Phone numbers in international and national formats, confirmed by libphonenumber.

Three shapes, three levels of evidence. A number with its country code (`+44 20 7946 0958`,
`0044 20 7946 0958`) says what it is: libphonenumber's metadata for that country decides.
A North American number in its usual groupings (`(415) 555-0132`, `415-555-0132`) is
checked against the NANP's own rules (area code and exchange never start with 0 or 1):
area codes are opened every year, so a number in one that the metadata does not know yet is
still most likely a phone number. A national number without its country code (`07845 229
611`, `06-12345678`, `600 214 873`) could be an order number as easily, so it counts only
after a word that says "phone" (in the languages of the regions tried) and when it is a
valid number in one of the regions whose numbers are written that way. Toll-free,
premium-rate and shared-cost numbers belong to businesses, not people, and never count;
neither do dates that happen to be valid numbers somewhere (`05.06.2024` is a German one).
"""

from __future__ import annotations

import re
from functools import lru_cache

import phonenumbers
from phonenumbers import NumberParseException, PhoneNumber, PhoneNumberType

from sidecar.classify.detectors import examples
from sidecar.classify.detectors.base import Detector

_BUSINESS_TYPES = frozenset(
    {PhoneNumberType.TOLL_FREE, PhoneNumberType.PREMIUM_RATE, PhoneNumberType.SHARED_COST}
)
TRUNK_ZERO_REGIONS = (
    # Regions whose national numbers are dialled with a leading 0 (written "020 7946 0958").
    "GB", "DE", "FR", "NL", "IT", "AU", "TR", "BE", "CH", "AT", "SE", "IE", "FI", "IN",
    "BR", "JP", "ZA", "NZ", "IL", "RO", "AR", "CN", "KR", "PK", "NG", "EG", "TH", "MY",
)  # fmt: skip
NO_TRUNK_REGIONS = (
    # Regions whose national numbers have no trunk prefix ("600 214 873", "612 34 56 78").
    "US", "ES", "PL", "PT", "IT", "DK", "NO", "CZ", "GR", "SG", "HK", "MX", "LU",
)  # fmt: skip
_DATE = re.compile(r"(\d{1,2})([./\-])(\d{1,2})\2(\d{2}|\d{4})|(\d{4})([./\-])(\d{1,2})\6(\d{1,2})")


def _parse(value: str, region: str | None) -> PhoneNumber | None:
    try:
        return phonenumbers.parse(value, region)
    except NumberParseException:
        return None


def _personal(number: PhoneNumber) -> bool:
    return phonenumbers.number_type(number) not in _BUSINESS_TYPES


def _nanp_digits_ok(national: str) -> bool:
    return len(national) == 10 and national[0] not in "01" and national[3] not in "01"


def _nanp(number: PhoneNumber) -> bool:
    """NANP rules rather than the metadata's list of area codes in service (see above)."""
    if not phonenumbers.is_possible_number(number) or not _personal(number):
        return False
    return _nanp_digits_ok(str(number.national_number))


def international(value: str) -> bool:
    """`+CC …` or `00CC …`: a valid number of the country its code names (a `00` form only
    when grouped: an unbroken run of digits starting 00 is more often an id)."""
    if value.startswith("00"):
        if value.isdigit():
            return False
        value = "+" + value[2:]
    number = _parse(value, None)
    if number is None:
        return False
    if number.country_code == 1:
        return _nanp(number)
    return phonenumbers.is_valid_number(number) and _personal(number)


def north_american(value: str) -> bool:
    number = _parse(value, "US")
    return number is not None and _nanp(number)


def _is_date(value: str) -> bool:
    match = _DATE.fullmatch(value)
    if match is None:
        return False
    if match.group(1):
        a, b = int(match.group(1)), int(match.group(3))
        return 1 <= a <= 31 and 1 <= b <= 31 and (a <= 12 or b <= 12)
    return 1 <= int(match.group(7)) <= 12 and 1 <= int(match.group(8)) <= 31


@lru_cache(maxsize=512)
def _valid_in(value: str, regions: tuple[str, ...]) -> bool:
    for region in regions:
        number = _parse(value, region)
        if number is not None and phonenumbers.is_valid_number_for_region(number, region):
            return _personal(number)
    return False


_NANP_SHAPE = re.compile(r"\(?[1-9][0-9]{2}\)?[ .\-]?[0-9]{3}[ .\-][0-9]{4}")


def national(value: str) -> bool:
    """A number without its country code: valid in one of the regions written that way. A
    number in the NANP's shape (`415-055-0132`) that the NANP's rules refuse is no phone
    number, although Mexico's metadata would take it: a Mexican number in prose comes
    with +52."""
    digits = sum(c.isdigit() for c in value)
    if not 8 <= digits <= 13 or _is_date(value) or _NANP_SHAPE.fullmatch(value):
        return False
    regions = TRUNK_ZERO_REGIONS if value.lstrip("(")[:1] == "0" else NO_TRUNK_REGIONS
    return _valid_in(value, regions)


PHONE_WORDS = (
    # The word that says "phone": English, then the languages of the regions above.
    "phone*", "telephone*", "tel", "tel.", "tél", "tél.", "tél*", "telef*", "teléf*", "telf",
    "tlf", "mobile*", "mobil*", "móvil", "movil", "cell*", "celular", "handy", "portable",
    "mobiel", "gsm", "whatsapp", "sms", "text me", "text him", "text her", "call", "called",
    "calling", "calls", "callback", "call-back", "ring*", "dial", "reach*", "kontakt*",
    "contact*", "fax", "ph", "ph.", "mob", "mob.", "llame", "llamar", "llámame", "chiama*",
    "appel*", "anruf*", "rufen", "ligue", "ligar", "bel me", "bellen", "zadzwo*",
    "pod numerem", "numer telefonu", "arayın", "puhelin*",
)  # fmt: skip
NUMBER_WORDS = (
    "my number", "her number", "his number", "our number", "their number", "your number",
    "mera number", "meine nummer", "mijn nummer", "min nummer", "mitt nummer",
    "mon numéro", "mi número", "meu número", "il mio numero", "mój numer", "numaram",
)  # fmt: skip
"""Weaker: a bare "number" labels order and tracking numbers too; a person's number, only
for a grouped number with a leading 0."""

_GROUP = r"[ .\-/]?\(?[0-9]{1,5}\)?"

INTERNATIONAL = Detector(
    "pii.phone",
    (
        r"\+[1-9][0-9]{0,3}(" + _GROUP + r"){1,6}\b",
        r"\b00[1-9][0-9]{0,3}(" + _GROUP + r"){1,6}\b",
    ),
    validator=international,
    confidence=0.85,
)

NORTH_AMERICAN = Detector(
    "pii.phone",
    (
        r"\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .\-]?[0-9]{4}\b",  # (415) 555-0132
        r"\b[2-9][0-9]{2}[.\-][2-9][0-9]{2}[.\-][0-9]{4}\b",  # 415-555-0132, 415.555.0132
        r"\b[2-9][0-9]{2} [2-9][0-9]{2} [0-9]{4}\b",  # 415 555 0132
    ),
    validator=north_american,
    confidence=0.8,
    veto=examples.PLACEHOLDER_WORDS,  # "phone placeholder (201) 555-0123"
    veto_window=40,
    veto_after=40,
    veto_if=examples.fictional_number,
)

NATIONAL_GROUPED = Detector(
    "pii.phone",
    # 020 7946 0958, (020) 7946 0958, 07845 229 611, 06-12345678, 06 41 27 88 93
    (r"(\(0[1-9][0-9]{0,4}\)|\b0[1-9][0-9]{0,4})([ .\-/]{1,2}[0-9]{2,5}){1,4}\b",),
    validator=national,
    context=PHONE_WORDS + NUMBER_WORDS,
    confidence=0.75,
    context_window=48,
)

NATIONAL_OTHER = Detector(
    "pii.phone",
    (
        r"\b0[1-9][0-9]{7,11}\b",  # 07845229611: no grouping
        r"\b[1-9][0-9]{1,3}([ .\-][0-9]{2,4}){2,3}\b",  # 600 214 873, 612 34 56 78
    ),
    validator=national,
    context=PHONE_WORDS,
    confidence=0.7,
    context_window=40,
)

DETECTORS = (INTERNATIONAL, NORTH_AMERICAN, NATIONAL_GROUPED, NATIONAL_OTHER)
