"""Card data: account numbers, magnetic-stripe tracks, and CVV/expiry next to a card."""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector, trailing_digits

PAN = Detector(
    "pci.pan",
    (r"\b[0-9]([ \-.]{1,2}[0-9]|[0-9]){11,18}\b",),
    validator=v.pan,
    confidence=0.95,
)

TRACK_DATA = Detector(
    "pci.track_data",
    (r"%B[0-9]{12,19}\^[^\^\n]{2,26}\^[0-9]{4}[0-9]*", r";[0-9]{12,19}=[0-9]{4}[0-9]*\?"),
    validator=v.track_data,
    confidence=0.99,
)

CVV = Detector(
    "pci.cvv",
    (r"\b(cvv2?|cvc2?|cid|csc|security code|card verification)[ :#=\-]{0,3}[0-9]{3,4}\b",),
    narrow=trailing_digits,
    near=("pci.pan",),
    near_window=120,
    confidence=0.9,
    caseless=True,
)

EXPIRY = Detector(
    "pci.expiry",
    (
        r"\b(exp|expires|expiry|expiration|exp\. date|expiration date|valid thru|good thru)"
        r"[ :=\-]{0,3}(0[1-9]|1[0-2]) ?/ ?([0-9]{2}|20[0-9]{2})\b",
    ),
    narrow=trailing_digits,
    near=("pci.pan",),
    near_window=120,
    confidence=0.9,
    caseless=True,
)

# Shapes whose digits are not a card even when they pass Luhn: they win overlap resolution
# over the number inside them and are then dropped (see Detector.suppress).
IDENTIFIER_DIGITS = Detector(
    "suppress.identifier",
    (r"\b[A-Za-z]{2,}-[0-9]{12,19}(-[0-9A-Za-z]+)?\b",),  # ORD-4532015112830366-01
    suppress=True,
    confidence=1.0,
)
IBAN_SHAPED = Detector(
    "suppress.iban_shaped",
    (r"\b[A-Z]{2}[0-9]{2}( ?[0-9]{4}){3,7}( ?[0-9]{1,4})?\b",),  # an IBAN failing mod-97
    suppress=True,
    confidence=0.5,
)

DETECTORS = (PAN, TRACK_DATA, CVV, EXPIRY, IDENTIFIER_DIGITS, IBAN_SHAPED)
