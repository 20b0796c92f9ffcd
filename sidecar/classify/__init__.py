"""Payload classification: extraction, normalisation, detection, levels and redaction."""

from sidecar.classify.classifier import Classifier, parse_declared
from sidecar.classify.engine import Scanner
from sidecar.classify.extract import (
    extract_anthropic_messages,
    extract_openai_chat,
    extract_openai_embeddings,
)
from sidecar.classify.model import Classification, Finding, Segment
from sidecar.classify.redact import redact

__all__ = [
    "Classification",
    "Classifier",
    "Finding",
    "Scanner",
    "Segment",
    "extract_anthropic_messages",
    "extract_openai_chat",
    "extract_openai_embeddings",
    "parse_declared",
    "redact",
]
