"""Where a match starts: start-of-match windows that grow until every hit is resolved."""

from __future__ import annotations

import base64
import json

import pytest

from sidecar.classify import Classifier, Segment
from sidecar.classify.engine import WINDOW

CLASSIFIER = Classifier()


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _jwt(payload_chars: int) -> str:
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64({"sub": "u" * payload_chars, "name": "Jane"})
    return f"{header}.{payload}.{'S' * 43}"


@pytest.mark.parametrize("payload_chars", [20, 300, 1200])
def test_a_jwt_is_found_whatever_its_length(payload_chars: int) -> None:
    """A JWT's first possible end lies after its payload, hundreds of bytes past its start:
    a start-of-match window of a fixed size loses the "eyJ" it must start with."""
    token = _jwt(payload_chars)
    text = f"Authorization header was {token} yesterday"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [("secret.jwt", token)]
    assert len(token) > 2 * WINDOW or payload_chars == 20


def test_a_long_key_after_a_long_run_keeps_its_own_start() -> None:
    """A window that begins inside a run of key characters must not make a match start
    there: only the true start counts."""
    key = "ghp_" + "A1b2" * 9
    text = "x" * 500 + " token " + key + " and more"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [("secret.github_token", key)]


def test_a_card_number_is_located_exactly_among_digits() -> None:
    """The bounded window of a card number (its longest match and a byte) starts inside
    the digits before it; the match's real start is still the one reported."""
    text = "ref 2024 then card 4111 1111 1111 1111 exp"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [
        ("pci.pan", "4111 1111 1111 1111")
    ]
