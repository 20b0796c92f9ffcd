"""Personal data: e-mail, phone, US SSN, IBAN, IP addresses."""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector

EMAIL = Detector(
    "pii.email",
    (r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,24}\b",),
    validator=v.email,
    confidence=0.95,
)

PHONE = Detector(
    "pii.phone",
    (
        r"\+[1-9][0-9]{0,3}([ .\-]?\(?[0-9]{1,4}\)?){2,5}\b",  # E.164 and international
        r"\([2-9][0-9]{2}\) ?[2-9][0-9]{2}[ .\-]?[0-9]{4}\b",  # (415) 555-0132
        r"\b[2-9][0-9]{2}[.\-][2-9][0-9]{2}[.\-][0-9]{4}\b",  # 415-555-0132, 415.555.0132
    ),
    validator=v.phone,
    confidence=0.8,
)

SSN = Detector(
    "pii.ssn",
    (r"\b[0-9]{3}-[0-9]{2}-[0-9]{4}\b", r"\b[0-9]{3} [0-9]{2} [0-9]{4}\b"),
    validator=v.ssn,
    confidence=0.9,
)

SSN_UNFORMATTED = Detector(
    "pii.ssn",
    (r"\b[0-9]{9}\b",),
    validator=v.ssn,
    context=("ssn", "social security", "ss#", "ss #", "taxpayer"),
    confidence=0.8,
)

IBAN = Detector(
    "pii.iban",
    (r"\b[A-Z]{2}[0-9]{2}( ?[A-Z0-9]{4}){2,7}( ?[A-Z0-9]{1,4})?\b",),
    validator=v.iban,
    confidence=0.99,
)

IPV4 = Detector(
    "pii.ip_address",
    (r"\b[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\b",),
    validator=v.ip_address,
    confidence=0.85,
)

IPV6 = Detector(
    "pii.ip_address",
    (r"[0-9A-Fa-f]{0,4}(:[0-9A-Fa-f]{0,4}){2,7}",),
    validator=v.ip_address,
    confidence=0.85,
)

DETECTORS = (EMAIL, PHONE, SSN, SSN_UNFORMATTED, IBAN, IPV4, IPV6)
