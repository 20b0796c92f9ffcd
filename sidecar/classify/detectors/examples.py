"""Published sample values and sample identifiers in documentation context.

The card networks' and payment processors' test numbers (4111 1111 1111 1111, 4242 4242
4242 4242, 5555 5555 5555 4444 …) pass Luhn and the IIN ranges, and the IBAN registry's
examples (DE89 3704 0044 0532 0130 00 …) pass mod-97. A customer can still paste one as the
card that "was declined" (and tests of this sidecar do), so a sample value counts as data
unless documentation words are near it, in the same paragraph: "use test card 4111 …",
"Stripe's docs list 4242 …", "the IBAN format looks like DE89 …", "… 3700 0000 0000 002
is the test Amex". The card and IBAN detectors carry these as `veto` fields: a candidate is
checked in Python after the fast pass, so the lists cost it nothing (as suppressing
patterns in the Hyperscan database, they cost it a fifth of its speed). Likewise a
version number shaped like an address ("firmware 3.1.0.2") is ruled out by the address
detectors' `veto` words.
"""

from __future__ import annotations

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


_TEST_CARDS = frozenset(TEST_CARDS)
_EXAMPLE_IBANS = frozenset(EXAMPLE_IBANS)


def published_test_card(value: str) -> bool:
    """Whatever its separators ("3700 0000 0000 002" as processors' docs print Amex)."""
    return "".join(c for c in value if c.isdigit()) in _TEST_CARDS


def example_iban(value: str) -> bool:
    return value.replace(" ", "").upper() in _EXAMPLE_IBANS


SAMPLE_WORDS = (
    "sample*", "examples", "for example", "an example", "the example", "as example",
    "example:", "e.g.", "placeholder*", "dummy",
    "fake", "fictitious", "fictional", "illustrat*", "tutorial*", "docs", "documentation",
)  # fmt: skip
"""Narrower than DOCUMENTATION_WORDS: no "test" or "format", which clinical text uses
for what is a patient's own record ("test results for MRN ..."), and no bare "example",
the word of every example.org address. A provider or record number the sentence calls a
sample ("the FHIR tutorial uses NPI 1679576722 as its sample identifier") is none."""


PLACEHOLDER_WORDS = (
    "placeholder*", "for example", "an example", "examples", "e.g.", "sample*", "dummy",
    "test*",
    "fake", "fictional", "fictitious", "mock*", "demo*", "docs", "documentation",
    "tutorial*", "template*", "form field", "such as",
)  # fmt: skip
"""Words that call a contact detail a stand-in ("email placeholder user@example.com",
"phone placeholder (201) 555-0123"). No bare "example": it is the domain's own word."""

_EXAMPLE_DOMAINS = ("example.com", "example.org", "example.net", ".example", ".test", ".invalid")


def example_address(value: str) -> bool:
    """An e-mail address at a domain RFC 2606 reserves for documentation."""
    return value.lower().rsplit("@", 1)[-1].endswith(_EXAMPLE_DOMAINS)


def fictional_number(value: str) -> bool:
    """A North American number in 555-0100 to 555-0199, the range the NANP keeps for
    fiction and examples."""
    digits = "".join(c for c in value if c.isdigit())[-7:]
    return len(digits) == 7 and digits[:3] == "555" and digits[3:5] == "01"
