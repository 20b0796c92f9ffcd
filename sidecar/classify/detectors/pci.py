"""Card data: primary account numbers, validated by IIN range and Luhn."""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector

PAN = Detector(
    "pci.pan",
    (r"\b[0-9]([ \-]?[0-9]){11,18}\b",),
    validator=v.pan,
    confidence=0.95,
)

DETECTORS = (PAN,)
