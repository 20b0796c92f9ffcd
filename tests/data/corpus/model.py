"""The corpus's taxonomy, record types and sizes: what every other module agrees on."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import TypedDict

SEED = 20261125
CORPUS_NAME = "corpus.jsonl"
LOOKALIKES_NAME = "lookalikes.jsonl"

TAGS: tuple[str, ...] = (
    "pii.email",
    "pii.phone",
    "pii.ssn",
    "pii.itin",
    "pii.passport",
    "pii.drivers_license",
    "pii.date_of_birth",
    "pii.iban",
    "pii.swift_bic",
    "pii.aba_routing",
    "pii.ip_address",
    "pii.mac_address",
    "pci.pan",
    "pci.track_data",
    "pci.cvv",
    "pci.expiry",
    "phi.mrn",
    "phi.npi",
    "phi.dea",
    "phi.mbi",
    "phi.icd10",
    "phi.clinical",
    "secret.aws_access_key",
    "secret.aws_secret_key",
    "secret.gcp_service_account",
    "secret.azure_storage_key",
    "secret.github_token",
    "secret.gitlab_token",
    "secret.slack_token",
    "secret.stripe_key",
    "secret.openai_key",
    "secret.anthropic_key",
    "secret.private_key",
    "secret.jwt",
    "secret.url_password",
    "secret.password_assignment",
    "secret.generic_high_entropy",
)
"""The target taxonomy, in report order."""

PRIMARY_PER_TAG = 110
"""Lines built around each tag (some carry further values of the same or other tags)."""
MIXED_LINES = 520
"""Lines joining two to four fragments of different tags."""
NEGATIVE_SHARE = 0.2
LOOKALIKES_PER_KIND = 14


class Label(TypedDict):
    tag: str
    start: int
    end: int


class Record(TypedDict):
    id: str
    text: str
    labels: list[Label]


Inner = tuple[tuple[str, int, int], ...]
"""Labels inside a value: (tag, start, end) relative to the value's first character."""
Value = str | tuple[str, Inner]
Gen = Callable[[random.Random], Value]
