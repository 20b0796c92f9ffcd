"""The rules added for honest detection (issue 18), one behaviour each: vetoes checked after
the fast pass, placeholders, the person requirement of ICD-10 codes, and the name cues and
corroboration of the entity stage."""

from __future__ import annotations

import pytest

from sidecar.classify import Classifier, Segment
from sidecar.config import ClassificationConfig

CLASSIFIER = Classifier.from_config(ClassificationConfig(entities="always"))


def found(text: str) -> list[tuple[str, str]]:
    result = CLASSIFIER.classify([Segment(("t",), text)])
    return [(f.tag, text[f.start : f.end]) for f in result.findings]


def tags(text: str) -> set[str]:
    return {tag for tag, _ in found(text)}


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        # a published test number near documentation words, before or after it
        ("Stripe's docs list 4242 4242 4242 4242 as the standard Visa.", "pci.pan"),
        ("Adyen prints 3700 0000 0000 002 as its test Amex card.", "pci.pan"),
        ("The IBAN format looks like DE89 3704 0044 0532 0130 00.", "pii.iban"),
        ("In the FHIR tutorial the NPI 1679576722 is its sample identifier.", "phi.npi"),
        ("email placeholder user@example.com in the form mock-up", "pii.email"),
        ("phone placeholder (201) 555-0123 on the sign-up page", "pii.phone"),
        ("RFC 7042 reserves 00:00:5E:00:53:01 for documentation.", "pii.mac_address"),
        ("Paste it between -----BEGIN PRIVATE KEY----- and the END line.", "secret.private_key"),
        ("firmware 3.1.0.2 bricked the access points", "pii.ip_address"),
        ("see section 2.4.1.3 for the retry rules", "pii.ip_address"),
        ("broadcast 10.255.255.255 for a /8", "pii.ip_address"),
        ("upgrading Oracle from 19.3.0.0 next week", "pii.ip_address"),
        ("header: Authorization: Basic dXNlcm5hbWU6cGFzc3dvcmQ=", "secret.generic_high_entropy"),
        ("MRN 00000000 is what the training screenshots use", "phi.mrn"),
        ("DOB 01/01/1900 means the date is unknown", "pii.date_of_birth"),
    ],
)
def test_samples_and_placeholders_are_no_findings(text: str, tag: str) -> None:
    assert tag not in tags(text)


@pytest.mark.parametrize(
    ("text", "tag", "value"),
    [
        # the same values as real data, without documentation words
        ("My card 4242 4242 4242 4242 was declined.", "pci.pan", "4242 4242 4242 4242"),
        ("Customer e-mail: jane@example.com", "pii.email", "jane@example.com"),
        ("server 10.20.4.17 refused the connection", "pii.ip_address", "10.20.4.17"),
        ("AKIAQX4HUQ7PBY3RTZ2N,Zp3XkQ9vT2mL7sN4bR8wY1cF6gH0jD5eA2uI9oKs", "secret.aws_secret_key",
         "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"),
        ("redis-cli -h cache-2 -a 'Obsidian-Moth-48' INFO", "secret.password_assignment",
         "Obsidian-Moth-48"),
        ("dsn := \"shop:Plover#Dune-24@tcp(mysql:3306)/shop\"", "secret.url_password",
         "shop:Plover#Dune-24"),
        ("define( 'DB_PASSWORD', 'Sorrel-Brook-4419' );", "secret.password_assignment",
         "Sorrel-Brook-4419"),
        ("Pt: Vasquez, Dolores   Med Rec # 7734019", "phi.mrn", "7734019"),
        ("Patient Abubakar | Med Rec # 1104-5580-2 | ward 3", "phi.mrn", "1104-5580-2"),
    ],
)  # fmt: skip
def test_real_values_are_found(text: str, tag: str, value: str) -> None:
    assert (tag, value) in found(text)


def test_an_icd10_code_counts_only_about_a_person() -> None:
    assert "phi.icd10" not in tags("What does ICD-10 code E11.9 mean on a claim form?")
    assert "phi.icd10" in tags("Dx: E11.9 for Mr. Okafor, seen today.")


@pytest.mark.parametrize(
    "text",
    [
        "Writing a menu for Mama Chen's Noodle House, give me ideas.",
        "Are Dr. Martens boots still made in England?",
        "a nature script in the style of Sir David Attenborough",
        "Hi Devs, please rebase before merging.",
    ],
)
def test_brands_public_figures_and_groups_are_no_names(text: str) -> None:
    assert "pii.person_name" not in tags(text)


def test_a_chat_speaker_and_ask_name_are_names_with_other_evidence() -> None:
    text = "[#ops] Anna: can someone call 07845 229 611? ask Maria if not"
    names = [v for t, v in found(text) if t == "pii.person_name"]
    assert "Anna" in names and "Maria" in names  # given names the lexicon knows


def test_a_name_and_a_diagnosis_back_each_other() -> None:
    text = "Accommodation request: Graham Oduya has type 1 diabetes and needs breaks."
    assert tags(text) >= {"pii.person_name", "phi.diagnosis"}
    result = CLASSIFIER.classify([Segment(("t",), "Graham Oduya gave the keynote.")])
    assert result.level == "public"
    assert result.low_confidence == {"pii.person_name": 1}
