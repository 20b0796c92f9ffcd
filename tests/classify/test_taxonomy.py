"""The full taxonomy: each new detector's positives and look-alikes, evasions, masks,
custom detectors, and the validators against python-stdnum."""

from __future__ import annotations

import base64
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum import iban as std_iban
from stdnum import luhn as std_luhn
from stdnum.us import ssn as std_ssn

from sidecar.classify import Classifier, Segment, redact
from sidecar.classify import validators as v
from sidecar.classify.custom import CustomDetectorError
from sidecar.classify.detectors import TAGS
from sidecar.config import ClassificationConfig

CLASSIFIER = Classifier()
AZURE_KEY = "A1b2C3d4" * 10 + "E5f6G7" + "=="


def found(text: str, classifier: Classifier = CLASSIFIER) -> list[tuple[str, str]]:
    return [(f.tag, text[f.start : f.end]) for f in classifier.scan([Segment(("t",), text)])]


POSITIVES = [
    ("pii.itin", "ITIN 912-70-1234 on file", "912-70-1234"),
    ("pii.passport", "passport number: X12345678", "X12345678"),
    ("pii.drivers_license", "driver's license D1234567", "D1234567"),
    ("pii.date_of_birth", "DOB: 03/14/1985", "03/14/1985"),
    ("pii.date_of_birth", "born on March 14, 1985 in Ohio", "March 14, 1985"),
    ("pii.date_of_birth", "date of birth 1985-03-14", "1985-03-14"),
    ("pii.swift_bic", "SWIFT code DEUTDEFF500", "DEUTDEFF500"),
    ("pii.aba_routing", "routing number 021000021", "021000021"),
    ("pii.mac_address", "device 00:1A:2B:3C:4D:5E", "00:1A:2B:3C:4D:5E"),
    (
        "pci.track_data",
        "swipe %B4111111111111111^DOE/JOHN^27041010000000?",
        "%B4111111111111111^DOE/JOHN^27041010000000?",
    ),
    ("pci.track_data", "t2 ;4111111111111111=27041010000? end", ";4111111111111111=27041010000?"),
    ("pci.cvv", "card 4111 1111 1111 1111 CVV: 123", "123"),
    ("pci.expiry", "card 4111 1111 1111 1111 exp 04/27", "04/27"),
    ("phi.mrn", "MRN: 00123456", "00123456"),
    ("phi.npi", "prescriber NPI 1245319599", "1245319599"),
    ("phi.dea", "DEA number AB1234563", "AB1234563"),
    ("phi.mbi", "Medicare MBI 3RT5-WG7-PK92", "3RT5-WG7-PK92"),
    ("phi.icd10", "diagnosis code E11.9", "E11.9"),
    ("phi.clinical", "jane@example.com was prescribed metformin", "metformin"),
    (
        "secret.aws_secret_key",
        "aws_secret_access_key = Qx7vB2kP9mZ4wL8sT1nR6yH3cF5gJ0dA2eU7iO4p",
        "Qx7vB2kP9mZ4wL8sT1nR6yH3cF5gJ0dA2eU7iO4p",
    ),
    ("secret.azure_storage_key", f"AccountName=acct;AccountKey={AZURE_KEY};", AZURE_KEY),
    ("secret.gitlab_token", "token glpat-Ab3dEf6hIj9kLm2nOp5q", "glpat-Ab3dEf6hIj9kLm2nOp5q"),
    (
        "secret.slack_token",
        "xoxb-2048-4096-Q1w2E3r4T5y6U7i8O9p0",
        "xoxb-2048-4096-Q1w2E3r4T5y6U7i8O9p0",
    ),
    (
        "secret.stripe_key",
        "STRIPE=sk_live_4eC39HqLyjWDarjtT1zdp7dc",
        "sk_live_4eC39HqLyjWDarjtT1zdp7dc",
    ),
    (
        "secret.openai_key",
        "OPENAI_API_KEY sk-proj-Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8",
        "sk-proj-Q1w2E3r4T5y6U7i8O9p0A1s2D3f4G5h6J7k8",
    ),
    (
        "secret.anthropic_key",
        "key sk-ant-api03-" + "Xy9_" * 21 + "AA",
        "sk-ant-api03-" + "Xy9_" * 21 + "AA",
    ),
    (
        "secret.url_password",
        "DATABASE_URL=postgres://app:Tr0ub4dor3@db.internal:5432/x",
        "app:Tr0ub4dor3@db.internal",
    ),
    ("secret.password_assignment", "password = 'c0rrect-h0rse'", "c0rrect-h0rse"),
    (
        "secret.generic_high_entropy",
        'client_secret: "9f8e7d6c5b4a39281706f5e4d3c2b1a0"',
        "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
    ),
]


@pytest.mark.parametrize(
    ("tag", "text", "value"), POSITIVES, ids=[f"{p[0]}-{i}" for i, p in enumerate(POSITIVES)]
)
def test_positive(tag: str, text: str, value: str) -> None:
    assert (tag, value) in found(text)


def test_gcp_service_account_covers_the_object() -> None:
    sa = (
        '{"type": "service_account", "project_id": "p", "private_key_id": "abc", '
        '"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIE\\n-----END PRIVATE KEY-----\\n"}'
    )
    assert found(f"creds: {sa} thanks") == [("secret.gcp_service_account", sa)]


NEGATIVES = [
    "ITIN-like 912-12-3456 has an invalid group",
    "a 9 digit invoice 123456780 without context",
    "routing number 123456789 fails the checksum",
    "version 2024-11-25 is not a birth date",
    "DOB: 13/45/1985 is not a date",
    "MAC 00:00:00:00:00:00 and ff:ff:ff:ff:ff:ff",
    "card 4111 1111 1111 1112 CVV 123",
    "CVV 123 with no card anywhere",
    "I read about diabetes and metformin",  # clinical words with nobody identified
    "flight E11 to gate I10",  # ICD-like codes without clinical context
    "NPI 1234567890 fails the check",
    "DEA number AB1234567 fails the check",
    "sk_test_4eC39HqLyjWDarjtT1zdp7dc is a test key",
    "password = '********'",
    "password: ${DB_PASSWORD}",
    "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    "api_token: aaaaaaaaaaaaaaaaaaaaaaaa",
    "see https://example.com/path?a=1&b=2",
    "S3, EC2, EKS and IAM are services",
    "the word internationalization is long",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_negative(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("ssn ٥٣٦-٢٢-٨٤٥٧", "pii.ssn"),  # Arabic-Indic digits
        ("ssn 5 3 6 2 2 8 4 5 7", "pii.ssn"),
        ("ssn 536.22.8457", "pii.ssn"),
        ("card 4111.1111.1111.1111", "pci.pan"),
        ("b64 " + base64.b64encode(b"ssn 536-22-8457").decode() + " end", "pii.ssn"),
        ("url " + quote("mail to jane.doe@example.com", safe=""), "pii.email"),
        (
            "double " + base64.b64encode(base64.b64encode(b"card 4111111111111111")).decode(),
            "pci.pan",
        ),
        ("mail j\u200ba\u200dne@exa\u2060mple.com", "pii.email"),
        # a prefix that encodes to lower-case letters only ("jjj" is "ampq")
        ("b64 " + base64.b64encode(b"j" * 24 + b" ssn 536-22-8457").decode(), "pii.ssn"),
        # the run ends the text, ends before a multi-byte character, or before padding
        (base64.urlsafe_b64encode(b"mail jane.doe@example.com").decode(), "pii.email"),
        (base64.b64encode(b"card 4111111111111111").decode() + "\u00e9t\u00e9", "pci.pan"),
        ("x " + base64.b64encode(b"ssn 536-22-8457!").decode() + "\n", "pii.ssn"),
    ],
)
def test_evasions(text: str, tag: str) -> None:
    assert tag in [t for t, _ in found(text)]


def test_value_split_across_message_parts_is_found_in_both() -> None:
    segments = [
        Segment(("messages", 0, "content", 0, "text"), "my card is 4111 1111"),
        Segment(("messages", 0, "content", 1, "text"), " 1111 1111 thanks"),
    ]
    findings = CLASSIFIER.scan(segments)
    assert {(f.tag, f.segment) for f in findings} == {("pci.pan", 0), ("pci.pan", 1)}
    body = {
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": s.text} for s in segments]}
        ]
    }
    out = redact(body, segments, findings, {"pci"})
    joined = "".join(p["text"] for p in out["messages"][0]["content"])
    assert "4111" not in joined


def test_last4_mask_preserves_format() -> None:
    segments = [Segment(("c",), "card 4111 1111 1111 1111 ok")]
    findings = CLASSIFIER.scan(segments)
    out = redact({"c": segments[0].text}, segments, findings, {"pci"}, {"pci.pan": "last4"})
    assert out["c"] == "card **** **** **** 1111 ok"


def test_custom_detectors_and_keywords() -> None:
    cfg = ClassificationConfig.model_validate(
        {
            "custom": [
                {
                    "tag": "confidential.customer_id",
                    "pattern": r"\bCUST-[0-9]{8}\b",
                    "context": ["customer"],
                },
                {"tag": "pii.member_id", "pattern": r"\bM[0-9]{10}\b", "validator": "luhn"},
            ],
            "keywords": [
                {"tag": "confidential.codename", "words": ["Project Nightingale", "Bluebird"]}
            ],
        }
    )
    classifier = Classifier.from_config(cfg)
    text = "customer CUST-00012345 on project nightingale; member M0000000018"
    assert set(found(text, classifier)) == {
        ("confidential.customer_id", "CUST-00012345"),
        ("confidential.codename", "project nightingale"),
        ("pii.member_id", "M0000000018"),
    }
    assert found("CUST-00012345 without the word", classifier) == []
    result = classifier.classify([Segment(("t",), "Bluebird launch")])
    assert result.level == "confidential" and result.categories == ("confidential",)


def test_custom_pattern_hyperscan_refuses_is_a_config_error() -> None:
    cfg = ClassificationConfig.model_validate(
        {"custom": [{"tag": "x.y", "pattern": r"(a)\1"}]}  # backreferences are not linear-time
    )
    with pytest.raises(CustomDetectorError, match=r"x\.y"):
        Classifier.from_config(cfg)


def test_scan_budget_marks_truncated() -> None:
    classifier = Classifier.from_config(ClassificationConfig(scan_budget_bytes=100))
    result = classifier.classify(
        [Segment(("a",), "x" * 80), Segment(("b",), "mail jane@example.com")]
    )
    assert result.truncated is True
    assert classifier.classify([Segment(("a",), "short")]).truncated is False


def test_every_tag_is_documented() -> None:
    from tests.conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    missing = [tag for tag in TAGS if f"`{tag}`" not in readme]
    assert missing == []


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=9, max_size=9))
def test_ssn_validator_agrees_with_stdnum(number: str) -> None:
    assert v.ssn(number) == (std_ssn.is_valid(number) and number not in v.FAKE_SSNS)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="0123456789", min_size=13, max_size=19))
def test_pan_validator_implies_stdnum_luhn(number: str) -> None:
    if v.pan(number):
        assert std_luhn.is_valid(number)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(["DE", "GB", "FR", "NL"]),
    st.text(alphabet="0123456789", min_size=18, max_size=18),
)
def test_iban_validator_agrees_with_stdnum(country: str, digits: str) -> None:
    candidate = f"{country}{digits[:2]}{digits[2:]}"
    assert v.iban(candidate) == bool(std_iban.is_valid(candidate))
