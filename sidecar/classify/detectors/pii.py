"""Personal data: contact details, national and financial identifiers, network identifiers."""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors import dates, examples, phone
from sidecar.classify.detectors.base import Detector

EMAIL = Detector(
    "pii.email",
    (r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b",),
    validator=v.email,
    confidence=0.95,
    # example.com in a placeholder's role ("email placeholder user@example.com"); as a
    # customer's address in a ticket it still counts, as in this project's own tests
    veto=examples.PLACEHOLDER_WORDS,
    veto_window=40,
    veto_after=60,
    veto_if=examples.example_address,
)

SSN = Detector(
    "pii.ssn",
    (r"\b[0-9]{3}[\- .]{1,2}[0-9]{2}[\- .]{1,2}[0-9]{4}\b",),
    validator=v.ssn,
    confidence=0.9,
)

SSN_SPACED = Detector(
    "pii.ssn",
    (r"\b[0-9]([ \-][0-9]){8}\b",),  # 5 3 6 2 2 8 4 5 7: one digit at a time
    # One separator throughout: "2 0 1-1 3 3-7 0 0" is no SSN. Not a dot: digits one at a
    # time between dots are an OID or a section number ("1.3.6.1.2.1.1.3.0").
    validator=lambda s: v.uniform_separators(s) and v.ssn(s),
    confidence=0.85,
)

SSN_UNFORMATTED = Detector(
    "pii.ssn",
    (r"\b[0-9]{9}\b",),
    validator=v.ssn,
    context=("ssn", "social security", "ss#", "ss #", "soc sec"),
    confidence=0.8,
)

ITIN = Detector(
    "pii.itin",
    (r"\b9[0-9]{2}[\- ][0-9]{2}[\- ][0-9]{4}\b",),
    validator=v.itin,
    confidence=0.9,
)

ITIN_UNFORMATTED = Detector(
    "pii.itin",
    (r"\b9[0-9]{8}\b",),
    validator=v.itin,
    # One 9-digit number in ten that starts with 9 passes the ITIN group rule: order ids do.
    context=("itin", "taxpayer", "tax id", "tin"),
    confidence=0.8,
)

PASSPORT = Detector(
    "pii.passport",
    (r"\b[A-Z]{0,2}[0-9]{6,9}\b",),
    context=("passport",),
    validator=lambda s: sum(c.isdigit() for c in s) >= 6,
    confidence=0.75,
)

DRIVERS_LICENSE = Detector(
    "pii.drivers_license",
    (
        r"\b[A-Z]{0,2}[0-9]{5,12}\b",
        r"\b[A-Z][0-9]{3}-[0-9]{4}-[0-9]{4}\b",
        r"\b[A-Z][0-9]{3}-[0-9]{3}-[0-9]{2}-[0-9]{3}-[0-9]\b",
        r"\b[0-9]{3} [0-9]{3} [0-9]{3}\b",  # New York, printed in threes
    ),
    context=(
        "driver's license",
        "driver\u2019s license",  # the typographic apostrophe editors put in
        "drivers license",
        "driver license",
        "driver's licence",
        "driver\u2019s licence",
        "driving licence",
        "driving license",
        "dl",  # a word of its own: not the "dl" in "bundle"
        "license number",
        "licence number",
    ),
    validator=lambda s: sum(c.isdigit() for c in s) >= 5,
    confidence=0.75,
    context_window=40,
)

IBAN = Detector(
    "pii.iban",
    (r"\b[A-Z]{2}[0-9]{2}( ?[A-Z0-9]{4}){2,7}( ?[A-Z0-9]{1,4})?\b",),
    validator=v.iban,
    confidence=0.99,
    veto=examples.DOCUMENTATION_WORDS,  # the registry's examples in documentation
    veto_window=48,
    veto_after=60,
    veto_if=examples.example_iban,
)

SWIFT_BIC = Detector(
    "pii.swift_bic",
    (r"\b[A-Z]{4}[A-Z]{2}[A-Z0-9]{2}([A-Z0-9]{3})?\b",),
    validator=v.bic,
    context=("swift", "bic", "bank identifier"),
    confidence=0.85,
)

ABA_ROUTING = Detector(
    "pii.aba_routing",
    (r"\b[0-9]{9}\b", r"\b[0-9]{4}-[0-9]{4}-[0-9]\b"),
    validator=v.aba_routing,
    context=("routing", "aba", "rtn", "transit number"),
    one_value=True,
    confidence=0.95,
)

NOT_A_HOST = (
    "version", "ver", "ver.", "release", "build", "firmware", "fw", "v", "patch", "kernel",
    "section", "sec.", "chapter", "clause", "paragraph", "para", "para.", "step", "rule",
    "item", "figure", "table", "oid", "\u00a7", "broadcast", "netmask", "mask",
    "subnet mask", "wildcard mask",
)  # fmt: skip
"""Right before an address-shaped number, these make it a version ("firmware 3.1.0.2"), a
numbered section ("see section 2.4.1.3"), an OID or a network's mask or broadcast address
("broadcast 10.255.255.255"): no one's host address."""

IPV4 = Detector(
    "pii.ip_address",
    # Dotted runs longer than four parts are swallowed whole (and then fail validation), so
    # a five-part version string never yields an "address" from four of its parts.
    (r"\b([0-9]+\.)?[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}(\.[0-9]+)?\b",),
    whole=True,
    validator=v.ip_address,
    veto=NOT_A_HOST,
    veto_window=24,
    confidence=0.85,
)

IPV6 = Detector(
    "pii.ip_address",
    # Every RFC 5952 and RFC 4291 form: full, compressed (::), mixed case, an IPv4 tail
    # (::ffff:192.0.2.1) and a zone id (fe80::1%eth0); the stdlib parser decides. Times
    # (12:30:45) and MAC addresses (six groups, no ::) do not parse.
    (
        r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}(%[0-9A-Za-z_.\-]{1,16})?",
        r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){1,5}:[0-9]{1,3}(\.[0-9]{1,3}){3}\b",
    ),
    validator=v.ip_address,
    veto=NOT_A_HOST,
    veto_window=24,
    confidence=0.85,
)

MAC_ADDRESS = Detector(
    "pii.mac_address",
    (
        r"\b[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}\b",
        r"\b[0-9A-Fa-f]{2}(-[0-9A-Fa-f]{2}){5}\b",
        r"\b[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\b",
    ),
    validator=v.mac_address,
    confidence=0.85,
)

DETECTORS = (
    EMAIL,
    *phone.DETECTORS,
    SSN,
    SSN_SPACED,
    SSN_UNFORMATTED,
    ITIN,
    ITIN_UNFORMATTED,
    PASSPORT,
    DRIVERS_LICENSE,
    *dates.DETECTORS,
    IBAN,
    SWIFT_BIC,
    ABA_ROUTING,
    IPV4,
    IPV6,
    MAC_ADDRESS,
)
