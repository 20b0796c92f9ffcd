"""Each detector: what it must find, what it must not, and where the span lands."""

from __future__ import annotations

import pytest

from sidecar.classify import Classifier, Segment

CLASSIFIER = Classifier()


def found(text: str) -> list[tuple[str, str]]:
    findings = CLASSIFIER.scan([Segment(("t",), text)])
    return [(f.tag, text[f.start : f.end]) for f in findings]


POSITIVES = [
    ("pii.email", "write to jane.doe@example.com today", "jane.doe@example.com"),
    ("pii.email", "(a.b+tag@mail.co.uk)", "a.b+tag@mail.co.uk"),
    ("pii.phone", "call (415) 555-0132 now", "(415) 555-0132"),
    ("pii.phone", "call 415-555-0132", "415-555-0132"),
    ("pii.phone", "ring +44 20 7946 0958.", "+44 20 7946 0958"),
    ("pii.phone", "E.164 +14155550132", "+14155550132"),
    ("pii.ssn", "SSN 536-22-8457.", "536-22-8457"),
    ("pii.ssn", "my social security number is 536228457", "536228457"),
    ("pii.iban", "IBAN DE89 3704 0044 0532 0130 00", "DE89 3704 0044 0532 0130 00"),
    ("pii.iban", "GB82WEST12345698765432 is mine", "GB82WEST12345698765432"),
    ("pii.ip_address", "from 81.2.69.142:443", "81.2.69.142"),
    ("pii.ip_address", "host 10.20.30.40", "10.20.30.40"),
    ("pii.ip_address", "v6 2001:4860:4860::8888 ok", "2001:4860:4860::8888"),
    ("pci.pan", "card 4111 1111 1111 1111 exp", "4111 1111 1111 1111"),
    ("pci.pan", "amex 378282246310005", "378282246310005"),
    ("pci.pan", "mc 5555-5555-5555-4444", "5555-5555-5555-4444"),
    ("secret.aws_access_key", "id=AKIAZ4QJ7XK2MNB3PLRT;", "AKIAZ4QJ7XK2MNB3PLRT"),
    ("secret.github_token", "tok ghp_" + "A1b2" * 9, "ghp_" + "A1b2" * 9),
    (
        "secret.jwt",
        "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl",
    ),
]


@pytest.mark.parametrize(("tag", "text", "value"), POSITIVES)
def test_positive(tag: str, text: str, value: str) -> None:
    assert (tag, value) in found(text)


NEGATIVES = [
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "git 9f86d081884c7d659a2feaea0c55ad015a3bf4f8",
    "sha256 e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "order 1234567890123456 shipped",  # fails Luhn
    "card 4111 1111 1111 1112",  # fails Luhn
    "version 1.2.3 and v10.4.1.2",
    "loopback 127.0.0.1 and 0.0.0.0 and 192.0.2.10 (docs)",
    "ssn 000-12-3456, 666-12-3456, 912-34-5678, 123-00-4567, 123-45-0000",
    "AKIAIOSFODNN7EXAMPLE is the documentation key",
    "the time is 12:30:45 on 2024-11-25",
    "IBAN DE00 3704 0044 0532 0130 00 (bad check digits)",
    "call 115-555-0132",  # NANP area codes never start with 0 or 1
    "not an email: foo@bar",
    "eyJub3QiOiJhIGp3dCJ9.eyJ4IjoxfQ.abcdef (header has no alg)",
    "an unformatted 536228457 without context",
    "S3, EC2, EKS and IAM are AWS services",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(text: str) -> None:
    assert found(text) == []


def test_pem_private_key_span_covers_the_block() -> None:
    key = "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----"
    assert found(f"here:\n{key}\nthanks") == [("secret.private_key", key)]


def test_values_at_the_edges_of_the_text() -> None:
    assert found("536-22-8457") == [("pii.ssn", "536-22-8457")]
    assert found("jane@example.org") == [("pii.email", "jane@example.org")]


def test_iban_digits_are_not_also_a_card() -> None:
    assert [t for t, _ in found("DE89 3704 0044 0532 0130 00")] == ["pii.iban"]


def test_each_segment_keeps_its_own_offsets() -> None:
    segments = [Segment(("a",), "nothing here"), Segment(("b",), "x 536-22-8457")]
    [finding] = CLASSIFIER.scan(segments)
    assert finding.segment == 1 and (finding.start, finding.end) == (2, 13)
