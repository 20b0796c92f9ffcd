"""Rules found by scoring the labelled corpus: context words as words of their own, the
nearest label winning, numbers that go on or start late, and the key and value shapes of
secrets. Each case is one the corpus (or a corpus of another seed) got wrong before."""

from __future__ import annotations

import pytest

from sidecar.classify import Classifier, Segment
from sidecar.classify.decode import decode_percent
from sidecar.classify.validators import calendar_date, looks_like_words

CLASSIFIER = Classifier()


def found(text: str) -> list[tuple[str, str]]:
    return [(f.tag, text[f.start : f.end]) for f in CLASSIFIER.scan([Segment(("t",), text)])]


@pytest.mark.parametrize(
    "text",
    [
        "Adobe shipped the update on 06/18/1990.",  # "dob"
        "a stubborn bug since 16.06.1997",  # "born"
        "mRNA-1273 lot 5037507",  # "mrn"
        "Deal ID PO8164181 closed last quarter",  # "dea"
        "bundle 28135134 shipped",  # "dl"
        "BIC BARCGBE1\n\nMEDICARE was mentioned",  # a label does not cross a blank line
    ],
)
def test_context_words_hidden_in_other_words_do_not_count(text: str) -> None:
    assert [tag for tag, _ in found(text)] in ([], ["pii.swift_bic"])
    assert ("pii.swift_bic", "MEDICARE") not in found(text)


@pytest.mark.parametrize(
    ("text", "tag", "value"),
    [
        ("DL F045-8187-5290 (OH)", "pii.drivers_license", "F045-8187-5290"),
        ("driver\u2019s license no. 42532026", "pii.drivers_license", "42532026"),
        ("DRIVERS LICENSE NUMBER: 842 589 733", "pii.drivers_license", "842 589 733"),
        ("DOB: 3/28/73", "pii.date_of_birth", "3/28/73"),
        ("Medical records MRN#877826465", "phi.mrn", "877826465"),
        ("primary diagnosis U07.1", "phi.icd10", "U07.1"),
    ],
)
def test_context_forms(text: str, tag: str, value: str) -> None:
    assert (tag, value) in found(text)


def test_two_digit_birth_years_are_never_in_the_future() -> None:
    assert calendar_date("4/6/32")  # 1932
    assert calendar_date("2/11/00")  # 2000
    assert not calendar_date("2/30/80")


def test_the_nearest_label_wins_a_contested_number() -> None:
    assert found("MRN#0083442926 Passport #638834586") == [
        ("phi.mrn", "0083442926"),
        ("pii.passport", "638834586"),
    ]
    text = 'SSN: 768-26-3339 {"passport_number": "373870005"}'
    assert ("pii.passport", "373870005") in found(text)


def test_a_routing_label_names_one_number() -> None:
    assert found("Routing #: 094006887, account 643080212") == [("pii.aba_routing", "094006887")]


def test_aba_prefix_and_itin_groups() -> None:
    assert found("routing 934138815") == []  # checksum fine, 93 is no Federal Reserve prefix
    assert found("ITIN: 943-55-6979") == [("pii.itin", "943-55-6979")]  # group 55, since 2011


@pytest.mark.parametrize(
    ("text", "cards"),
    [
        ("test number 4075 1495 0671 1598 was declined", []),  # head of a longer number
        ("test number 6509 5583 8074 6230 934 was declined", []),  # 4-4-4-4-3 failing Luhn
        ("card 6564 5551 7775 5934", []),  # tail of a 16-digit number failing Luhn
        ("D.O.B. 25/05/1984 344331740073824 CVV2: 927", ["344331740073824"]),
        ("qty 1984 4111 1111 1111 1111 ok", ["4111 1111 1111 1111"]),
        (
            "Card: 3407 254128 88548 5229-8946-6761-2881",
            ["3407 254128 88548", "5229-8946-6761-2881"],
        ),
        ("card 4111 1111 1111 1111 12/26", ["4111 1111 1111 1111"]),
        ("IBAN GB53 BARC 6690 8199 4250 39 (check digits wrong)", []),
    ],
)
def test_card_numbers_next_to_other_numbers(text: str, cards: list[str]) -> None:
    assert [value for tag, value in found(text) if tag == "pci.pan"] == cards


def test_an_iban_followed_by_a_number_is_still_an_iban() -> None:
    text = "IBAN: ES72 0377 3576 5104 1219 4305 192.168.0.142"
    assert ("pii.iban", "ES72 0377 3576 5104 1219 4305") in found(text)


def test_track_one_is_whole_and_its_escape_like_start_is_no_url_encoding() -> None:
    track = "%B374778200962305^NGUYEN/JENNIFER^270922148872951992?"
    assert found(f"raw track={track}") == [("pci.track_data", track)]
    assert decode_percent(track) is None
    assert decode_percent("4111%201111%201111%201111%FF") == "4111 1111 1111 1111%FF"


@pytest.mark.parametrize(
    ("text", "tag", "value"),
    [
        ("card 4644894591668033 exp date 08/26", "pci.expiry", "08/26"),
        ("4753-4690-1106-0132 Exp. 06/30 CVV 113", "pci.expiry", "06/30"),
        ("Pt DOB 1/18/67 started PrEP.", "phi.clinical", "PrEP"),
        ("SSN 536-22-8457, bipolar I disorder", "phi.clinical", "bipolar I disorder"),
        ("xoxa-2-447305305207-3046702668496-40e3afcac4", "secret.slack_token", None),
        ("use glpat-21C2SZXvpq9NBOjYAXX- for the runner", "secret.gitlab_token", None),
        (
            "secret access key: B3TahtGVczRgzSZ95jXdzjZ0uEmgHDH+nNYthd5r",
            "secret.aws_secret_key",
            None,
        ),
        ('db_password = "h0r53$FALCON"', "secret.password_assignment", "h0r53$FALCON"),
        ("secret: staple-violet-rocket-winter", "secret.password_assignment", None),
        ("password=0rbit%SUNSHINE", "secret.password_assignment", "0rbit%SUNSHINE"),
        (
            "the deploy token is c8tZaSN3sWIcYlynVnWr1U9drLfg3GYs",
            "secret.generic_high_entropy",
            None,
        ),
        ("signing key Fo6WRHTHaIzIv3RWoOoK7JAgDrtpOycb", "secret.generic_high_entropy", None),
    ],
)
def test_found(text: str, tag: str, value: str | None) -> None:
    tags = {t for t, _ in found(text)}
    assert tag in tags
    if value is not None:
        assert (tag, value) in found(text)


def test_a_url_password_without_a_user_is_no_email() -> None:
    text = "redis://:cvNM5cvldd2s65TBx@cache.staging.initech.net:6379/0"
    assert [tag for tag, _ in found(text)] == ["secret.url_password"]


@pytest.mark.parametrize(
    "text",
    [
        "Enjoy the meal prep on Sunday, SSN 536-22-8457.",  # "prep" is PrEP only so spelled
        "password = os.environ['DB_PASSWORD']",
        "password: required",
        "secret: REPLACE_ME",
        "password = %(db_password)s",
        "the auth token getAccessTokenFromRequestHandlerFactory is called first",
        "token github.com/acme/deploy-scripts",
    ],
)
def test_not_secrets(text: str) -> None:
    assert [tag for tag, _ in found(text) if tag != "pii.ssn"] == []


def test_masks_and_chance() -> None:
    key = "sk-proj-jChc07vPpxHqGa1hlQkxKuZz5QvSxPsdKnC1745OSBz3ajSmPNxXXX9byGqzck3gM1hawBh9WWT3B"
    assert found(key) == [("secret.openai_key", key)]  # "xXXX" is chance, not a mask
    assert found("sk-proj-XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX") == []


def test_words_and_paths_are_not_random() -> None:
    assert looks_like_words("validateJWTSignatureWithPublicKey")
    assert looks_like_words("github.com/acme/deploy-scripts")
    assert not looks_like_words("xXNzFHmXKvmtHs1Ubgc2eaSOygWY7AntdOi6urI6FqIta5NN")
