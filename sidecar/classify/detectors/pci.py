"""Card data: account numbers, magnetic-stripe tracks, and CVV/expiry next to a card."""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector, trailing_digits


def _next_group(text: str, end: int) -> bool:
    """A separator and four more digits after a shorter match: the number goes on, as in
    "4075 1495 0671 1598", whose first twelve digits may pass Luhn by chance (one in ten)
    while the whole number fails. Up to three digits may follow (a CVV, an expiry month)."""
    at = end
    while at < len(text) and at < end + 2 and text[at] in " -.":
        at += 1
    if at == end:
        return False
    run = at
    while run < len(text) and run < at + 4 and text[run].isdigit():
        run += 1
    return run - at == 4


PAN = Detector(
    "pci.pan",
    (r"\b[0-9]([ \-.]{1,2}[0-9]|[0-9]){11,18}\b",),
    validator=v.pan,
    continues=_next_group,
    confidence=0.95,
)

TRACK_DATA = Detector(
    "pci.track_data",
    # Through the end sentinel `?` when it is there: the whole track is the finding.
    (r"%B[0-9]{12,19}\^[^\^\n]{2,26}\^[0-9]{4}[0-9]*\??", r";[0-9]{12,19}=[0-9]{4}[0-9]*\?"),
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
        r"\b(exp\.?|expires|expiry|expiration|exp\.? date|expiry date|expiration date"
        r"|valid thru|valid through|good thru)"
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
