"""Published sample values in documentation context, and version strings that look like IPs.

The card networks' and payment processors' test numbers (4111 1111 1111 1111, 4242 4242
4242 4242, 5555 5555 5555 4444 …) pass Luhn and the IIN ranges, and the IBAN registry's
examples (DE89 3704 0044 0532 0130 00 …) pass mod-97. A customer can still paste one as the
card that "was declined" (and tests of this sidecar do), so a sample value counts as data
unless documentation words precede it: "use test card 4111 …", "Stripe's docs list 4242 …",
"the IBAN format looks like DE89 …". These detectors match exactly the span the card or
IBAN detector would and win overlap resolution over it by confidence, then are dropped
(`Detector.suppress`). "version 1.2.3.4" swallows the address-shaped version number the
same way.
"""

from __future__ import annotations

from sidecar.classify.detectors.base import Detector

TEST_CARDS = (
    # Visa
    "4111111111111111", "4242424242424242", "4012888888881881", "4000056655665556",
    "4222222222222", "4000000000000002", "4000000000009995", "4000000000000077",
    "4000002500003155", "4000000000003220", "4917610000000000", "4988438843884305",
    "4444333322221111", "4007000000027", "4012000077777777", "4005519200000004",
    # Mastercard
    "5555555555554444", "5105105105105100", "5200828282828210", "5454545454545454",
    "2223003122003222", "5425233430109903", "2222400070000005", "5500000000000004",
    # American Express, Discover, Diners, JCB, UnionPay, Maestro
    "378282246310005", "371449635398431", "378734493671000", "370000000000002",
    "6011111111111117", "6011000990139424", "6011601160116611", "6011000000000012",
    "3056930009020004", "36227206271667", "38520000023237", "30569309025904",
    "3530111333300000", "3566002020360505", "3566111111111113", "6200000000000005",
    "6304000000000000", "6759649826438453",
)  # fmt: skip
"""Published by Visa, Mastercard, Stripe, Braintree, Adyen and PayPal for test modes."""

EXAMPLE_IBANS = (
    "DE89370400440532013000", "GB82WEST12345698765432", "GB29NWBK60161331926819",
    "GB33BUKB20201555555555", "FR1420041010050500013M02606", "FR7630006000011234567890189",
    "NL91ABNA0417164300", "ES9121000418450200051332", "IT60X0542811101000000123456",
    "CH9300762011623852957", "BE68539007547034", "AT611904300234573201",
    "PL61109010140000071219812874", "SE4550000000058398257466", "NO9386011117947",
    "DK5000400440116243", "IE29AIBK93115212345678", "LU280019400644750000",
    "PT50000201231234567890154", "FI2112345600000785",
)  # fmt: skip
"""The examples of the SWIFT IBAN registry and of the banks' own format pages."""

DOCUMENTATION_WORDS = (
    # Not a bare "example": example.com is the domain of every sample e-mail address.
    "test*", "sandbox", "for example", "an example", "the example", "example:", "examples",
    "exemple", "beispiel*", "ejemplo", "e.g.", "for instance", "such as", "sample*", "docs",
    "documentation", "doc", "demo*", "dummy", "fake", "simulator", "placeholder*",
    "illustrat*", "quickstart", "tutorial*", "format", "looks like", "mock*",
    # The processors whose docs publish the test numbers ("Adyen lists 3700 ...").
    "stripe*", "adyen*", "braintree*", "paypal*", "qa",
)  # fmt: skip


def _card_pattern(number: str) -> str:
    """The number with a separator allowed between any two digits: networks group Amex
    4-6-5, processors' docs print it 4-4-4-3 ("3700 0000 0000 002"); the card detector
    decides what a card may look like, this only has to cover the same span."""
    return r"[ \-.]?".join(number)


def _iban_pattern(iban: str) -> str:
    return " ?".join(iban[i : i + 4] for i in range(0, len(iban), 4))


PUBLISHED_TEST_CARD = Detector(
    "suppress.test_card",
    (r"\b(" + "|".join(_card_pattern(n) for n in TEST_CARDS) + r")\b",),
    context=DOCUMENTATION_WORDS,
    context_window=160,
    context_after=120,
    suppress=True,
    confidence=1.0,
)

PUBLISHED_EXAMPLE_IBAN = Detector(
    "suppress.example_iban",
    (r"\b(" + "|".join(_iban_pattern(i) for i in EXAMPLE_IBANS) + r")\b",),
    context=DOCUMENTATION_WORDS,
    context_window=48,
    suppress=True,
    confidence=1.0,
)

SAMPLE_WORDS = (
    "sample*", "examples", "for example", "an example", "the example", "as example",
    "example:", "e.g.", "placeholder*", "dummy",
    "fake", "fictitious", "fictional", "illustrat*", "tutorial*", "docs", "documentation",
)  # fmt: skip
"""Narrower than DOCUMENTATION_WORDS: no "test" or "format", which clinical text uses
for what is a patient's own record ("test results for MRN ..."), and no bare "example",
the word of every example.org address."""

SAMPLE_RECORD_NUMBER = Detector(
    "suppress.sample_identifier",
    # The NPI and MRN detectors' own patterns, so that the spans are the same.
    (
        r"\b[0-9]{10}\b",
        r"\b[A-Z]{0,3}-?[0-9]{6,10}\b",
        r"\b[A-Z]{0,3}[0-9]{2,5}[\- ][0-9]{3,7}\b",
    ),
    context=SAMPLE_WORDS,
    context_window=40,
    context_after=40,
    suppress=True,
    confidence=1.0,
)
"""A provider or record number that the sentence calls a sample: "the FHIR tutorial uses
NPI 1679576722 as its sample identifier"."""

VERSION_STRING = Detector(
    "suppress.version",
    (
        r"\b(version|ver\.?|release|build|firmware|fw|v)[ :]?v?[0-9]{1,4}(\.[0-9]{1,5}){2,5}\b",
        # A numbered section of a document: "see section 2.4.1.3", "§ 4.2.1.1".
        r"(\b(section|sec\.|chapter|clause|paragraph|para\.?|step|rule|item|figure|table|oid)"
        r"|\xa7) ?[0-9]{1,3}(\.[0-9]{1,3}){2,5}\b",
    ),
    suppress=True,
    confidence=1.0,
    caseless=True,
)

NETWORK_LITERAL = Detector(
    "suppress.network_literal",
    # "broadcast 10.255.255.255", "netmask 255.255.0.0": an address that names a network,
    # no host, and so no one's address.
    (
        r"\b(broadcast|netmask|subnet mask|wildcard mask)( address)?[ \t]*[:=]?[ \t]*"
        r"[0-9]{1,3}(\.[0-9]{1,3}){3}\b",
    ),
    suppress=True,
    confidence=1.0,
    caseless=True,
)

DETECTORS = (
    PUBLISHED_TEST_CARD,
    PUBLISHED_EXAMPLE_IBAN,
    SAMPLE_RECORD_NUMBER,
    VERSION_STRING,
    NETWORK_LITERAL,
)
