"""Detectors defined by the operator in the config: patterns with optional validators, and
keyword lists (project codenames, internal customer-id formats) matched as literals."""

from __future__ import annotations

import re
from collections.abc import Sequence

import hyperscan

from sidecar.classify import validators as v
from sidecar.classify.detectors.base import Detector, Validator
from sidecar.config import CustomDetectorConfig, KeywordListConfig

VALIDATORS: dict[str, Validator] = {
    "luhn": v.luhn,
    "pan": v.pan,
    "iban": v.iban,
    "ssn": v.ssn,
    "itin": v.itin,
    "aba_routing": v.aba_routing,
    "npi": v.npi,
    "dea": v.dea,
    "mbi": v.mbi,
    "email": v.email,
    "ip_address": v.ip_address,
    "mac_address": v.mac_address,
    "bic": v.bic,
    "high_entropy": v.high_entropy,
}
"""Validator names a custom detector may use."""


class CustomDetectorError(ValueError):
    pass


def _check_compiles(pattern: str, tag: str) -> None:
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    try:
        db.compile(
            expressions=[pattern.encode()],
            ids=[0],
            elements=1,
            flags=[hyperscan.HS_FLAG_SOM_LEFTMOST],
        )
    except hyperscan.error as exc:
        raise CustomDetectorError(f"{tag}: pattern {pattern!r} is not supported: {exc}") from None


def custom_detectors(
    custom: Sequence[CustomDetectorConfig], keywords: Sequence[KeywordListConfig]
) -> tuple[Detector, ...]:
    out: list[Detector] = []
    for c in custom:
        _check_compiles(c.pattern, c.tag)
        validator = VALIDATORS[c.validator] if c.validator else None
        out.append(
            Detector(
                c.tag,
                (c.pattern,),
                validator=validator,
                # A configured word is a stem: "customer" also counts in "customers".
                context=tuple(w.lower().removesuffix("*") + "*" for w in c.context),
                confidence=c.confidence,
                caseless=c.caseless,
            )
        )
    for k in keywords:
        patterns = tuple(r"\b" + re.escape(word).replace("\\ ", r"\s+") + r"\b" for word in k.words)
        for pattern in patterns:
            _check_compiles(pattern, k.tag)
        out.append(Detector(k.tag, patterns, confidence=0.9, caseless=not k.case_sensitive))
    return tuple(out)
