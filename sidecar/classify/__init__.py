"""Payload classification: extraction, normalisation, detection, levels and redaction."""

from sidecar.classify.classifier import Classifier, parse_declared
from sidecar.classify.engine import Scanner
from sidecar.classify.model import Classification, Finding, Segment
from sidecar.classify.redact import redact

__all__ = [
    "Classification",
    "Classifier",
    "Finding",
    "Scanner",
    "Segment",
    "parse_declared",
    "redact",
]
