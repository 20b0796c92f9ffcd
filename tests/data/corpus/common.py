"""Vocabulary for the sentences, and the checksums and encodings the values need."""

from __future__ import annotations

import base64
import random
import string
import unicodedata
from collections.abc import Sequence

# --------------------------------------------------------------------------------------
# Vocabulary
# --------------------------------------------------------------------------------------

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas",
    "Sarah", "Carlos", "María", "José", "Zoë", "Søren", "Łukasz", "Aiko", "Wei", "Priya",
    "Oluwaseun", "Fatima", "Hannah", "Noah", "Chloé", "Mateo", "Ingrid", "Dmitri", "Amara",
    "Kenji", "Lucía", "Omar", "Elif",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernández", "Müller", "Schmidt", "Rossi", "Dubois", "Nguyen", "Kim", "Patel",
    "Okafor", "Kowalski", "Johansson", "Tanaka", "Silva", "O'Brien", "Novak", "Fischer",
    "Haddad", "Chen", "Ivanova", "Moreau",
)  # fmt: skip
COMPANIES = (
    "Acme Corp", "Globex", "Initech", "Umbrella Health", "Stark Logistics", "Wayne Biotech",
    "Hooli", "Vandelay Industries", "Soylent Foods", "Tyrell Systems", "Nordwind GmbH",
    "Cyberdyne", "Pied Piper", "Oceanic Airlines", "Blue Sun", "Massive Dynamic",
)  # fmt: skip
CITIES = (
    "Berlin", "Chicago", "Lyon", "São Paulo", "Osaka", "Toronto", "Madrid", "Zürich", "Austin",
    "Kraków", "Dublin", "Nairobi", "Melbourne", "Rotterdam", "Seattle", "Milan",
)  # fmt: skip
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday")
MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
)  # fmt: skip
PRODUCTS = (
    "billing service", "mobile app", "search index", "data pipeline", "checkout flow",
    "reporting dashboard", "notification worker", "onboarding wizard", "audit log",
)  # fmt: skip
STATES = ("CA", "TX", "NY", "FL", "WA", "IL", "OH", "GA")
COUNTRIES = ("USA", "Canada", "Germany", "France", "Spain", "Italy", "Ireland", "Japan")
DOMAINS = (
    "gmail.com", "outlook.com", "yahoo.co.uk", "proton.me", "acme-corp.io", "globex.com",
    "initech.net", "mail.de", "uni-heidelberg.de", "nhs.net", "stmarys-hospital.org",
    "fastmail.fm", "icloud.com", "hooli.xyz", "web.de", "orange.fr", "libero.it",
    "telefonica.es", "ziggo.nl", "umbrella-health.com",
)  # fmt: skip
HOSTS = (
    "db.internal.acme.io", "orders-db.prod.globex.net", "cache.staging.initech.net",
    "cluster0.x7k2p.mongodb.net", "mq.hooli.xyz", "ci.tyrell-systems.com",
    "analytics.umbrella-health.com", "pg-primary.eu-west-1.rds.amazonaws.com",
)  # fmt: skip
WORDS = (
    "correct", "horse", "battery", "staple", "summer", "winter", "dragon", "monkey", "sunshine",
    "falcon", "harbor", "violet", "rocket", "pepper", "orbit", "maple", "tiger", "copper",
)  # fmt: skip

# --------------------------------------------------------------------------------------
# Checksums and small helpers
# --------------------------------------------------------------------------------------

ALNUM = string.ascii_letters + string.digits
BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
B64 = string.ascii_letters + string.digits + "+/"
B64URL = string.ascii_letters + string.digits + "-_"
HEX = "0123456789abcdef"


def rand_str(rng: random.Random, alphabet: str, n: int) -> str:
    return "".join(rng.choice(alphabet) for _ in range(n))


def rand_digits(rng: random.Random, n: int) -> str:
    return rand_str(rng, string.digits, n)


def luhn_check_digit(payload: str) -> str:
    """The digit that makes ``payload + digit`` pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(payload)):
        d = int(ch)
        if i % 2 == 0:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return str((10 - total % 10) % 10)


def _mod97(text: str) -> int:
    return int("".join(str(int(c, 36)) for c in text)) % 97


def iban_check_digits(country: str, bban: str) -> str:
    return f"{98 - _mod97(bban + country + '00'):02d}"


def group(value: str, sizes: Sequence[int], sep: str) -> str:
    parts: list[str] = []
    pos = 0
    for size in sizes:
        parts.append(value[pos : pos + size])
        pos += size
    if pos < len(value):
        parts.append(value[pos:])
    return sep.join(p for p in parts if p)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def ascii_fold(text: str) -> str:
    text = text.translate(str.maketrans({"Ł": "L", "ł": "l", "ø": "o", "Ø": "O", "'": ""}))
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if c.isascii())


def base62(number: int, width: int) -> str:
    out = ""
    while number:
        number, rem = divmod(number, 62)
        out = BASE62[rem] + out
    return out.rjust(width, "0")
