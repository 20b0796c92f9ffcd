"""The core detectors against their specification: every card network's IIN ranges, each
value wrapped in the punctuation it meets in prompts, and the look-alikes that must not count.
"""

from __future__ import annotations

import pytest

from sidecar.classify import Classifier, Segment

CLASSIFIER = Classifier()


def found(text: str) -> list[tuple[str, str]]:
    return [(f.tag, text[f.start : f.end]) for f in CLASSIFIER.scan([Segment(("t",), text)])]


def luhn_complete(prefix: str, length: int) -> str:
    """`prefix` padded with a fixed filler to `length` - 1 digits, plus the check digit."""
    body = (prefix + "7391502846173058294")[: length - 1]
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


NETWORKS = [
    ("visa", "4", 16),
    ("visa-13", "4", 13),
    ("visa-19", "4", 19),
    ("mastercard", "51", 16),
    ("mastercard", "55", 16),
    ("mastercard-2", "2221", 16),
    ("mastercard-2", "2720", 16),
    ("amex", "34", 15),
    ("amex", "37", 15),
    ("discover", "6011", 16),
    ("discover", "65", 16),
    ("discover", "644", 16),
    ("discover", "649", 16),
    ("jcb", "3528", 16),
    ("jcb", "3589", 16),
    ("diners", "36", 14),
    ("diners", "38", 14),
    ("diners", "300", 14),
    ("diners", "305", 14),
    ("unionpay", "62", 16),
    ("maestro", "50", 16),
    ("maestro", "56", 16),
    ("maestro", "69", 12),
]


@pytest.mark.parametrize(("network", "prefix", "length"), NETWORKS)
def test_every_card_network_is_found(network: str, prefix: str, length: int) -> None:
    pan = luhn_complete(prefix, length)
    assert found(f"card {pan} exp") == [("pci.pan", pan)]
    grouped = "-".join(pan[i : i + 4] for i in range(0, len(pan), 4))
    assert found(f"card {grouped} exp") == [("pci.pan", grouped)]


@pytest.mark.parametrize("prefix", ["1", "7", "8", "99", "2220", "2721", "3527", "3590", "306"])
def test_luhn_valid_numbers_outside_any_iin_range_are_not_cards(prefix: str) -> None:
    assert found(f"ref {luhn_complete(prefix, 16)} ok") == []


@pytest.mark.parametrize(("prefix", "length"), [("51", 12), ("2221", 19), ("34", 16), ("4", 17)])
def test_luhn_valid_numbers_of_a_length_the_network_never_issues_are_not_cards(
    prefix: str, length: int
) -> None:
    """Mastercard issues 16 digits, American Express 15, Visa 13, 16 or 19: a 12-digit
    order number starting 51 is no card, however its check digit falls."""
    assert found(f"order {luhn_complete(prefix, length)} ok") == []


VALUES = [
    ("pii.email", "jane.doe@example.com"),
    ("pii.phone", "415-555-0132"),
    ("pii.phone", "(415) 555-0132"),
    ("pii.phone", "415.555.0132"),
    ("pii.phone", "+14155550132"),
    ("pii.ssn", "536-22-8457"),
    ("pii.iban", "GB82WEST12345698765432"),
    ("pii.iban", "DE89 3704 0044 0532 0130 00"),
    ("pii.ip_address", "81.2.69.142"),
    ("pii.ip_address", "2001:4860:4860::8888"),
    ("pii.ip_address", "2001:4860:4860:0000:0000:0000:0000:8888"),
    ("pci.pan", "4111 1111 1111 1111"),
    ("pci.pan", "378282246310005"),
    ("secret.aws_access_key", "AKIAZ4QJ7XK2MNB3PLRT"),
    ("secret.aws_access_key", "ASIAZ4QJ7XK2MNB3PLRT"),
    ("secret.aws_access_key", "ABIAZ4QJ7XK2MNB3PLRT"),
    ("secret.aws_access_key", "ACCAZ4QJ7XK2MNB3PLRT"),
    ("secret.github_token", "ghp_" + "A1b2" * 9),
    ("secret.github_token", "gho_" + "Zz09" * 9),
    ("secret.github_token", "ghs_" + "q" * 36),
    ("secret.github_token", "github_pat_" + "A1_b" * 20 + "xy"),
    ("secret.jwt", "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"),
]
WRAPPERS = ["{v}", "x {v}", "{v} x", "({v})", '"{v}",', "<{v}>", "[{v}]", "'{v}'", "{v}.", "k={v};"]


@pytest.mark.parametrize(("tag", "value"), VALUES)
@pytest.mark.parametrize("wrapper", WRAPPERS)
def test_values_at_edges_and_inside_punctuation(tag: str, value: str, wrapper: str) -> None:
    text = wrapper.format(v=value)
    assert found(text) == [(tag, value)]


def test_two_values_side_by_side_are_two_findings() -> None:
    text = "jane@example.com,536-22-8457;4111111111111111"
    assert found(text) == [
        ("pii.email", "jane@example.com"),
        ("pii.ssn", "536-22-8457"),
        ("pci.pan", "4111111111111111"),
    ]


@pytest.mark.parametrize(
    "key",
    [
        "-----BEGIN RSA PRIVATE KEY-----\nMIIBOgIBAAJBAK\n-----END RSA PRIVATE KEY-----",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEE\n-----END EC PRIVATE KEY-----",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaA==\n-----END OPENSSH PRIVATE KEY-----",
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIFHD\n-----END ENCRYPTED PRIVATE KEY-----",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQ\n-----END PRIVATE KEY-----",
    ],
)
def test_private_key_blocks(key: str) -> None:
    assert found(f"key:\n{key}\nbye") == [("secret.private_key", key)]


NEGATIVES = [
    # look-alikes of card numbers
    "uuid 123e4567-e89b-12d3-a456-426614174000",
    "uuid 5f0c1e2a-9b7d-4c3e-8f21-453201511283",
    "commit 9f86d081884c7d659a2feaea0c55ad015a3bf4f8",
    "sha256 00000000000000000000000000000000000000000000000000004532015112830366",
    "digits 124532015112830366999 in a longer run",
    "order 4111111111111112 (fails Luhn)",
    "order 5555-5555-5555-4445 (fails Luhn)",
    "all same 4444444444444444",
    "timestamps 2024-11-25T12:30:45Z 1732537845 1732537845123",
    # phones: NANP area codes and exchanges never start with 0 or 1
    # (015-555-0132 is no NANP number but a valid one in Paris and Delft, so it counts)
    "call 115-555-0132 or 415-055-0132 or 415-155-0132",
    "not e164 +12 or +1234567",
    # SSNs the SSA never issues
    "ssn 000-12-3456 666-12-3456 900-12-3456 999-12-3456 536-00-8457 536-22-0000",
    "nine digits 536228457 without any context",
    # IBAN with a bad check, IPs that are not addresses
    "IBAN GB82WEST12345698765431",
    "ip 256.1.1.1 and 10.0.0.256 and 1.2.3",
    "ipv6-ish 12:30:45 and ::: and abc::def::1",
    # secrets: documentation placeholders and near misses
    "AKIAIOSFODNN7EXAMPLE",
    "AKIAZ4QJ7XK2MNBEXAMPLE",
    "AKIAZ4QJ7XK2MNB3PLR1",  # 1 is not in the base32 alphabet
    "ghp_" + "a" * 35,
    "ghp_" + "a" * 37,
    "ghx_" + "a" * 36,
    "eyJub3QiOiJhIGp3dCJ9.eyJ4IjoxfQ.c2ln (header without alg)",
    "eyJhbGciOiJIUzI1NiJ9 only one part",
    "-----BEGIN PUBLIC KEY-----\nMIIB\n-----END PUBLIC KEY-----",
    "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----",
]


@pytest.mark.parametrize("text", NEGATIVES)
def test_look_alikes_are_not_findings(text: str) -> None:
    assert found(text) == []


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("build 2.0.1 1.3.3 7.0.0", id="version-triples-as-ssn"),
        pytest.param("versions 1.2.3.4.5 and 10.4.1.2.7", id="five-part-versions-as-ips"),
        pytest.param("ref ORD-4532015112830366-01", id="pan-inside-an-identifier"),
        pytest.param("IBAN DE89 3704 0044 0532 0130 01", id="bad-iban-digits-as-pan"),
    ],
)
def test_former_false_positives(text: str) -> None:
    # Fixed by suppressor shapes, whole-match IPv4 and uniform-separator spaced SSNs.
    assert found(text) == []
