"""Credentials: cloud keys, private keys, tokens."""

from __future__ import annotations

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector

AWS_ACCESS_KEY = Detector(
    "secret.aws_access_key",
    (r"\b(AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b",),
    validator=v.aws_access_key,
    confidence=0.95,
)

PRIVATE_KEY = Detector(
    "secret.private_key",
    (r"-----BEGIN ([A-Z0-9]+ )*PRIVATE KEY( BLOCK)?-----",),
    confidence=0.99,
    extend_to="-----END",
)

GITHUB_TOKEN = Detector(
    "secret.github_token",
    (r"\b(ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b", r"\bgithub_pat_[A-Za-z0-9_]{82}\b"),
    confidence=0.97,
)

JWT = Detector(
    "secret.jwt",
    (r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*",),
    validator=v.jwt,
    confidence=0.9,
)

DETECTORS = (AWS_ACCESS_KEY, PRIVATE_KEY, GITHUB_TOKEN, JWT)
