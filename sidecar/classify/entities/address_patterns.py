"""The shapes of a street address, as `re` patterns: the street (with its house number),
and what may follow it on the way to the postcode (a unit, a district, a city, a state, a
postcode). Hand-written from the postal formats of the US, Canada, the UK and Ireland, and
the continental form "Street Number, Postcode City" (DE, NL, FR, IT, ES, PT, PL, SE, TR).
"""

from __future__ import annotations

import re

from sidecar.classify.entities.letters import LOWER, UPPER

_CAP = rf"[{UPPER}][{LOWER}{UPPER}'\u2019.-]*"
"""A capitalised word of a street or city name ("Maple", "O'Connell", "St.")."""
_NAMEWORD = (
    rf"(?:{_CAP}|\d{{1,3}}(?:st|nd|rd|th)|"
    r"(?:de|del|dei|degli|delle|della|dello|la|le|les|des|du|di|da|do|das|dos|van|von|am)\b)"
)
_CITYWORD = rf"[{UPPER}][{LOWER}]+(?:[-'\u2019][{UPPER}]?[{LOWER}]+)*"
"""A word of a city's name: no capitals inside, so that "EH9" or "NY" is not taken for one."""

SUFFIXES = (
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Av", "Lane", "Ln", "Drive", "Dr",
    "Boulevard", "Blvd", "Way", "Court", "Ct", "Close", "Crescent", "Cres", "Terrace", "Terr",
    "Row", "Place", "Pl", "Parkway", "Pkwy", "Highway", "Hwy", "Circle", "Cir", "Bend",
    "Hollow", "Grove", "Hill", "Square", "Sq", "Walk", "Gardens", "Gdns", "Mews", "Trail",
    "Trl", "Loop", "Pike", "Path", "Crossing", "Green", "Park", "Rise", "View", "Vale",
    "Heights", "Ridge", "Point", "Landing", "Commons", "Alley", "Wharf", "Quay", "Parade",
    "Esplanade", "Broadway", "Plaza", "Causeway", "Expressway", "Freeway", "Turnpike", "Yard",
    "Meadow", "Meadows", "Gate", "Glen", "Brae", "Wynd", "Embankment", "Approach",
)  # fmt: skip
"""English street types, after the street's name ("Baker Street", "Bellaire Blvd")."""

PREFIXES = (
    "Via", "Viale", "Piazza", "Corso", "Largo", "Vicolo", "Calle", "Avenida", "Avda", "Av",
    "Paseo", "Plaza", "Carrer", "Camino", "Carretera", "Rua", "Travessa", "Largo", "Praça",
    "Rue", "rue", "Avenue", "avenue", "Boulevard", "boulevard", "Bd", "bd", "Chemin",
    "chemin", "Place", "place", "Allée", "allée", "Impasse", "impasse", "Quai", "quai",
    "Cours", "cours", "Route", "route", "ul", "ulica", "al", "aleja", "pl", "os", "Am", "An der",
    "Im", "Auf der", "Zum", "Zur", "Unter den",
)  # fmt: skip
"""Street types before the street's name ("Via Roma 118", "rue de la Paix", "ul. Długa")."""

COMPOUNDS = (
    "straße", "strasse", "str.", "weg", "gasse", "allee", "platz", "damm", "ufer",
    "chaussee", "gracht", "laan", "straat", "plein", "kade", "singel", "dijk", "vägen",
    "gatan", "väg", "gata", "gade", "vej", "veien",
)  # fmt: skip
"""Street types written as the end of the street's name ("Schillerstraße", "Sveavägen")."""

WORDS_AFTER = (
    "Weg", "Straße", "Strasse", "Allee", "Platz", "Gasse", "Ring", "Laan", "Straat", "Kade",
    "Plein", "gate", "vej", "gade", "Caddesi", "Cad.", "Sokak", "Sok.",
    "Soka\u011f\u0131", "Bulvar\u0131",
)  # fmt: skip
"""The same as words of their own, after the name ("Eppendorfer Weg", "Bağdat Caddesi")."""

AMBIGUOUS = frozenset(
    """
    Way Park View Point Green Gate Path Hill Walk Row Place Rise Vale Heights Ridge Landing
    Commons Yard Meadow Meadows Glen Approach Loop Crossing Bend Hollow Grove Square Plaza
    Trail Circle Court Close Gardens Dr Pl Ct Av Am Im Zum Zur An Auf place Route route
    Cours cours Largo pl os al Unter
    """.split()
)
FAMOUS = frozenset(
    street.strip()
    for street in """
    221b baker street|1600 pennsylvania avenue|1600 pennsylvania ave|10 downing street
    1 infinite loop|1 apple park way|1600 amphitheatre parkway|350 fifth avenue
    4 privet drive|742 evergreen terrace|12 grimmauld place|221 baker street
    1 microsoft way|410 terry avenue|1 hacker way|20 w 34th st|11 wall street
    123 main st|123 main street|1234 main st|1234 main street|123 fake street|123 elm street
    123 any street|123 anywhere street|1 example street
    """.replace("\n", "|").split("|")
) - {""}
"""Addresses of public buildings, fiction and documentation ("the White House is at 1600
Pennsylvania Avenue", "123 Main St"): no one's personal data. Lower case, no final dot."""

"""Street types that are common words too ("5 Easy Way", "the 3 Best Park Hotels", "Am
Montag 3"): alone they make a low-confidence address; a postcode, a city or a cue lifts it."""

_AFTER = "|".join(re.escape(w) for w in WORDS_AFTER)
_BUILDINGS = (
    "Apartments|Apts|Residency|Enclave|Towers|Complex|Society|Colony|Layout|Nagar|Mansions|"
    "Court|House|Building"
)
_HOUSE = r"\d{1,5}[A-Za-z]?(?:[-/]\d{1,4}[A-Za-z]?|-[IVX]{1,4})?"
_SUFFIX = "|".join(sorted(SUFFIXES, key=len, reverse=True))
_PREFIX = "|".join(sorted((re.escape(p) for p in PREFIXES), key=len, reverse=True))
_COMPOUND = "|".join(sorted((re.escape(c) for c in COMPOUNDS), key=len, reverse=True))
_UNIT = (
    r"\b(?:Flat|Unit|Apt|Apartment|Suite|Ste|Fl|Floor|Room|Bldg|Building|Block|Plot|House|"
    r"apto|Apto|piso|Piso|lok|Lok|m|D|No|Nr|Nº)\.?:?[ \t]*#?[ \t]*(?:\d[\w-]{0,5}|[A-Z]\b)"
    r"|\d{1,2}(?:st|nd|rd|th)[ \t]+(?:Cross|Main|Floor)\b"
)

STREETS = (
    # number first: "221B Baker Street", "1600 Pennsylvania Ave NW", "48 Rue des Martyrs"
    re.compile(
        rf"{_HOUSE},?[ \t]+(?:(?:N|S|E|W|NE|NW|SE|SW)\.?[ \t]+)?"
        rf"(?:{_NAMEWORD}[ \t]+){{1,4}}(?:{_SUFFIX})\b\.?(?:[ \t]+(?:N|S|E|W|NE|NW|SE|SW)\b)?"
    ),
    re.compile(rf"{_HOUSE},?[ \t]+(?:{_PREFIX})\.?(?:[ \t]+{_NAMEWORD}){{1,5}}"),
    # name first: "Hauptstraße 12", "Eppendorfer Weg 211", "Via Roma 118", "ul. Długa 17/4"
    re.compile(
        rf"(?:{_CAP}[ \t]+){{0,2}}(?:[{UPPER}][{LOWER}]+(?:{_COMPOUND})|(?:{_AFTER})(?!\w))"
        rf"(?:[ \t]+No\.?:?)?[ \t]+{_HOUSE}\b"
    ),
    re.compile(
        rf"(?<![\w.])(?:{_PREFIX})\.?(?:[ \t]+{_NAMEWORD}){{1,5}},?[ \t]+"
        rf"(?:n[º°.]?[ \t]*)?{_HOUSE}\b"
    ),
    re.compile(r"\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box|Postfach|Apartado)[ \t]+\d{1,6}\b"),
    # a flat in a named building: "Flat 302, Sai Krupa Apartments"
    re.compile(
        rf"\b(?:Flat|House|Plot|Door)[ \t]+(?:No\.?[ \t]*)?\d{{1,5}}[A-Z]?,[ \t]+"
        rf"(?:{_CAP}[ \t]+){{1,3}}(?:{_BUILDINGS})\b"
    ),
)
"""Each finds one street with its number; the most specific first."""

UNIT_BEFORE = re.compile(rf"(?:{_UNIT}),?[ \t]+\Z")
"""A flat or unit written before the street ("Flat 9, 112 Cowley Road")."""

POSTCODE = re.compile(
    r"(?:"
    r"[A-Z]{2}[ \t]+\d{5}(?:-\d{4})?"  # US state and ZIP
    r"|[A-Z]{2}[ \t]+[A-Z]\d[A-Z][ \t]?\d[A-Z]\d"  # Canadian province and postal code
    r"|[A-Z]{1,2}\d[A-Z\d]?[ \t]?\d[A-Z]{2}"  # UK
    r"|[AC-FHKNPRTV-Y]\d{2}[ \t]?[AC-FHKNPRTV-Y\d]{4}"  # Irish Eircode
    r"|\d{4}[ \t]?[A-Z]{2}"  # NL
    r"|\d{2}-\d{3}|\d{3}[ \t]\d{2}|\d{5}-\d{3}|\d{4}-\d{3}|\d{4,6}"  # PL, SE, BR, PT, other
    r")\b"
)
"""The postcodes an address ends with, or has before its city."""

PART = re.compile(
    rf"(?:,[ \t]*|[ \t]+-[ \t]+|[ \t]+|\n)(?:"
    rf"(?P<unit>{_UNIT}|\d{{1,2}}º[ \t]*[A-Z]?)"
    rf"|(?P<post>{POSTCODE.pattern})"
    rf"|(?P<city>{_CITYWORD}(?:[ \t/]+(?:{_CITYWORD}|am|an|der|de|del|la|sur|upon)){{0,3}})"
    r")"
)
"""What follows a street, part by part."""

CUES = (
    "address", "addresses", "addr", "lives at", "living at", "live at", "lives in",
    "resides at", "residing at", "resides", "reside at", "ship to", "shipping to", "ship it to",
    "deliver to", "delivered to", "delivery to", "mail to", "mailed to", "send to", "moved to",
    "moving to", "located at", "home", "billing", "postal", "residence", "domicile",
    "adres", "adresse", "anschrift", "wohnhaft", "wohne", "indirizzo", "abito in", "abito a",
    "dirección", "direccion", "domicilio", "endereço", "morada", "bor på", "mieszkam",
    "adresine", "woon", "woonachtig",
)  # fmt: skip
"""Before an address: it is someone's."""


def triggers() -> list[bytes]:
    """Hyperscan expressions (bytes, no start of match) whose ends mark where a street may
    be: a street type near a digit, a continental street type before a number, a street
    prefix before a number, a PO box, a flat number. Far fewer places than every digit or
    capital letter of a text, and found at Hyperscan's speed; `STREETS` runs around them."""
    suffix = "|".join(sorted(SUFFIXES, key=len, reverse=True))
    prefix = "|".join(sorted((re.escape(p) for p in PREFIXES), key=len, reverse=True))
    compound = "|".join(re.escape(c) for c in COMPOUNDS)
    return [
        rf"\d[A-Za-z]?[-/,]?[ \t][^\n]{{0,48}}\b(?:{suffix})\b".encode(),
        rf"(?:{compound})[ \t]+(?:No\.?:?[ \t]*)?\d".encode(),
        rf"\b(?:{_AFTER})[ \t]+(?:No\.?:?[ \t]*)?\d".encode(),
        rf"\b(?:{prefix})\.?[ \t][^\n]{{1,60}}\d".encode(),
        rb"\b(?:P\.?[ \t]?O\.?[ \t]?Box|Post Office Box|Postfach|Apartado)[ \t]+\d",
        rf"\b(?:Flat|House|Plot|Door)[ \t][^\n]{{1,48}}\b(?:{_BUILDINGS})\b".encode(),
    ]
