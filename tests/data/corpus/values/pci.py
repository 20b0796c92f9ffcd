"""Card data: Luhn-valid numbers with real IIN prefixes, CVVs, expiries, stripe tracks."""

from __future__ import annotations

import random

from tests.data.corpus.common import (
    FIRST_NAMES,
    LAST_NAMES,
    ascii_fold,
    group,
    luhn_check_digit,
    rand_digits,
)
from tests.data.corpus.model import Value


def card_number(rng: random.Random) -> tuple[str, str]:
    """A Luhn-valid card number and its brand."""
    brand = rng.choice(("visa", "visa", "mc", "mc", "amex", "discover"))
    if brand == "visa":
        prefix, length = "4", rng.choice((16, 16, 16, 16, 13, 19))
    elif brand == "mc":
        prefix = str(rng.randint(51, 55)) if rng.random() < 0.7 else str(rng.randint(2221, 2720))
        length = 16
    elif brand == "amex":
        prefix, length = rng.choice(("34", "37")), 15
    else:
        prefix, length = rng.choice(("6011", "65")), rng.choice((16, 16, 19))
    while True:
        body = prefix + rand_digits(rng, length - len(prefix) - 1)
        number = body + luhn_check_digit(body)
        if len(set(number)) > 2:
            return number, brand


def format_pan(rng: random.Random, number: str, brand: str) -> str:
    sep = rng.choice(("", " ", " ", "-"))
    if not sep or len(number) == 13:
        return number
    if brand == "amex":
        return group(number, (4, 6, 5), sep)
    return group(number, (4, 4, 4, 4), sep)


def gen_pan(rng: random.Random) -> str:
    number, brand = card_number(rng)
    return format_pan(rng, number, brand)


def gen_cvv(rng: random.Random) -> str:
    return rand_digits(rng, 4 if rng.random() < 0.15 else 3)


def gen_expiry(rng: random.Random) -> str:
    month, year = rng.randint(1, 12), rng.randint(2025, 2032)
    return f"{month:02d}/{year}" if rng.random() < 0.15 else f"{month:02d}/{year % 100:02d}"


def gen_track_data(rng: random.Random) -> Value:
    number, _ = card_number(rng)
    expiry = f"{rng.randint(25, 32)}{rng.randint(1, 12):02d}"
    service = rng.choice(("101", "201", "121", "221"))
    discretionary = rand_digits(rng, rng.randint(8, 13))
    if rng.random() < 0.5:
        surname, given = ascii_fold(rng.choice(LAST_NAMES)), ascii_fold(rng.choice(FIRST_NAMES))
        name = f"{surname.upper()}/{given.upper()}"
        text = f"%B{number}^{name}^{expiry}{service}{discretionary}?"
        return text, (("pci.pan", 2, 2 + len(number)),)
    text = f";{number}={expiry}{service}{discretionary}?"
    return text, (("pci.pan", 1, 1 + len(number)),)
