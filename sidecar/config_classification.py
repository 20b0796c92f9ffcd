"""The `classification` section: scan budget, decoding, masks and the operator's own
detectors and keyword lists."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from sidecar.config_base import Strict as _Strict

TAG_PATTERN = r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$"


class CustomDetectorConfig(_Strict):
    tag: str = Field(pattern=TAG_PATTERN)
    pattern: str
    validator: (
        Literal[
            "luhn",
            "pan",
            "iban",
            "ssn",
            "itin",
            "aba_routing",
            "npi",
            "dea",
            "mbi",
            "email",
            "ip_address",
            "mac_address",
            "bic",
            "high_entropy",
        ]
        | None
    ) = None
    context: tuple[str, ...] = ()
    confidence: float = Field(0.9, gt=0, le=1)
    caseless: bool = False


class KeywordListConfig(_Strict):
    tag: str = Field(pattern=TAG_PATTERN)
    words: tuple[str, ...] = Field(min_length=1)
    case_sensitive: bool = False


class DecodeConfig(_Strict):
    max_bytes: int = Field(65536, ge=0)
    """Total size of base64 / URL-encoded runs decoded and scanned per request."""
    max_depth: int = Field(2, ge=0, le=4)


class ClassificationConfig(_Strict):
    scan_budget_bytes: int = Field(1 << 20, gt=0)
    """Text scanned per request (counted in characters); beyond it the classification is
    marked `truncated` and the default policy treats the request as regulated."""
    decode: DecodeConfig = DecodeConfig()
    masks: dict[str, Literal["tag", "last4"]] = Field(default_factory=dict)
    """Per tag: `tag` gives [REDACTED:<tag>], `last4` keeps the last four characters."""
    custom: tuple[CustomDetectorConfig, ...] = ()
    keywords: tuple[KeywordListConfig, ...] = ()
    entities: Literal["always", "when_needed", "off"] = "when_needed"
    """The entity stage (person names, street addresses, diagnoses in words) after the
    structured pass: `when_needed` skips it when that pass already found both pii and phi,
    so that the stage cannot change the categories or the level; `always` runs it on every
    request (needed when a policy redacts pii or phi: the stage's spans are redacted too);
    `off` never loads it."""
    compiled_cache_dir: Path | None = None
    """Where compiled Hyperscan databases are kept between starts (e.g. an emptyDir, or a
    directory warmed in the image); a warm start skips ~0.75 s of compilation."""
