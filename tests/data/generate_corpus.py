"""Seeded, labelled corpus for the classifier's accuracy benchmark and tests.

    python tests/data/generate_corpus.py [--seed 20261125] [--out-dir tests/data]

writes two JSON Lines files, one record a line:

    {"id": str, "text": str, "labels": [{"tag": str, "start": int, "end": int}]}

with character offsets (``text[start:end]`` is the labelled value).

``corpus.jsonl``
    Realistic sentences, snippets and config fragments carrying valid values for every tag
    in ``TAGS`` (Luhn-valid card numbers with real IIN prefixes, SSNs under the SSA rules,
    IBANs with correct mod-97 and national check digits, ABA/NPI/DEA checksums, GitHub
    tokens with their CRC32 checksum, ...), plus about 20% lines with nothing to find.
    Every value of a taxonomy type in a line is labelled, so any other finding is a false
    positive.

``lookalikes.jsonl``
    Lines with no labels that a good classifier reports nothing in: order numbers, UUIDs,
    digests, version strings, barcodes, timestamps, Luhn-failing and SSA-invalid numbers,
    documentation placeholders, test keys, loopback and documentation addresses, values
    without the context their type needs, and context words hidden inside other words
    ("Adobe" holds "dob", "mRNA" holds "mrn", "public" holds "bic").

Label conventions:

* Assignment-style secrets (``password=...``, ``AccountKey=...``, ``aws_secret_access_key =
  ...``) label the value only; URLs with credentials label the whole URL.
* ``secret.gcp_service_account`` labels the whole JSON object. Values inside it that are
  sensitive on their own are labelled too: the ``private_key`` PEM block as
  ``secret.private_key`` and the ``client_email`` as ``pii.email``. Likewise the PAN inside
  track data is labelled ``pci.pan``, and a GitHub token used as a URL password is labelled
  ``secret.github_token`` inside the ``secret.url_password`` label. Scorers treat a label
  lying inside a label of another tag as optional: finding it counts, missing it does not
  (the engine drops a candidate inside a longer accepted one).
* ``phi.clinical`` labels the condition or treatment phrase ("type 2 diabetes",
  "sertraline 50 mg"), not the whole sentence.
* ``secret.password_assignment`` is a value assigned to a password-like key
  (password, passwd, pwd, secret, api_key, client_secret); ``secret.generic_high_entropy``
  is a random-looking token named in prose or a header ("the deploy token is ...",
  "X-Auth-Token: ...") rather than assigned to a password-like key.

The output depends only on the seed: regenerating gives identical bytes.
"""

from __future__ import annotations

import argparse
import base64
import ipaddress
import json
import random
import re
import string
import unicodedata
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypedDict

SEED = 20261125
HERE = Path(__file__).resolve().parent
CORPUS_NAME = "corpus.jsonl"
LOOKALIKES_NAME = "lookalikes.jsonl"

TAGS: tuple[str, ...] = (
    "pii.email",
    "pii.phone",
    "pii.ssn",
    "pii.itin",
    "pii.passport",
    "pii.drivers_license",
    "pii.date_of_birth",
    "pii.iban",
    "pii.swift_bic",
    "pii.aba_routing",
    "pii.ip_address",
    "pii.mac_address",
    "pci.pan",
    "pci.track_data",
    "pci.cvv",
    "pci.expiry",
    "phi.mrn",
    "phi.npi",
    "phi.dea",
    "phi.mbi",
    "phi.icd10",
    "phi.clinical",
    "secret.aws_access_key",
    "secret.aws_secret_key",
    "secret.gcp_service_account",
    "secret.azure_storage_key",
    "secret.github_token",
    "secret.gitlab_token",
    "secret.slack_token",
    "secret.stripe_key",
    "secret.openai_key",
    "secret.anthropic_key",
    "secret.private_key",
    "secret.jwt",
    "secret.url_password",
    "secret.password_assignment",
    "secret.generic_high_entropy",
)
"""The target taxonomy, in report order."""

PRIMARY_PER_TAG = 110
"""Lines built around each tag (some carry further values of the same or other tags)."""
MIXED_LINES = 520
"""Lines joining two to four fragments of different tags."""
NEGATIVE_SHARE = 0.2
LOOKALIKES_PER_KIND = 14


class Label(TypedDict):
    tag: str
    start: int
    end: int


class Record(TypedDict):
    id: str
    text: str
    labels: list[Label]


Inner = tuple[tuple[str, int, int], ...]
"""Labels inside a value: (tag, start, end) relative to the value's first character."""
Value = str | tuple[str, Inner]
Gen = Callable[[random.Random], Value]

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

FILLERS: dict[str, Callable[[random.Random], str]] = {
    "first": lambda r: r.choice(FIRST_NAMES),
    "last": lambda r: r.choice(LAST_NAMES),
    "name": lambda r: f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}",
    "company": lambda r: r.choice(COMPANIES),
    "city": lambda r: r.choice(CITIES),
    "weekday": lambda r: r.choice(WEEKDAYS),
    "month": lambda r: r.choice(MONTHS),
    "product": lambda r: r.choice(PRODUCTS),
    "state": lambda r: r.choice(STATES),
    "country": lambda r: r.choice(COUNTRIES),
    "amount": lambda r: f"{r.randint(12, 9800):,}.{r.randint(0, 99):02d}",
    "count": lambda r: str(r.randint(2, 480)),
    "time": lambda r: (
        f"{r.randint(1, 12)}:{r.choice(('00', '15', '30', '45'))} " + r.choice(("am", "pm"))
    ),
    "host": lambda r: r.choice(HOSTS),
    "condition": lambda r: r.choice(CONDITIONS),
    "treatment": lambda r: r.choice(TREATMENTS),
    "acct": lambda r: "".join(r.choice(string.digits) for _ in range(r.randint(8, 10))),
}

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


def luhn_valid(number: str) -> bool:
    return luhn_check_digit(number[:-1]) == number[-1]


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


# --------------------------------------------------------------------------------------
# Value generators: PII
# --------------------------------------------------------------------------------------


def gen_email(rng: random.Random) -> str:
    first = ascii_fold(rng.choice(FIRST_NAMES))
    last = ascii_fold(rng.choice(LAST_NAMES))
    style = rng.randrange(6)
    if style == 0:
        local = f"{first}.{last}"
    elif style == 1:
        local = f"{first[0]}{last}"
    elif style == 2:
        local = f"{first}_{last}{rng.randint(1, 99)}"
    elif style == 3:
        local = f"{first}+{rng.choice(('news', 'work', 'bills', 'shop'))}"
    elif style == 4:
        local = f"{first}.{last[0]}{rng.randint(70, 99)}"
    else:
        local = f"{last}-{first}"
    domain = rng.choice(DOMAINS)
    roll = rng.random()
    if roll < 0.7:
        return f"{local.lower()}@{domain}"
    if roll < 0.9:
        return f"{local}@{domain}"
    return f"{local}@{domain.upper()}"


def _nanp(rng: random.Random) -> tuple[str, str, str]:
    area = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    exchange = f"{rng.randint(2, 9)}{rng.randint(0, 9)}{rng.randint(0, 9)}"
    return area, exchange, rand_digits(rng, 4)


INTERNATIONAL_PHONES: tuple[Callable[[random.Random], str], ...] = (
    lambda r: f"+44 20 {rand_digits(r, 4)} {rand_digits(r, 4)}",
    lambda r: f"+44 (0)20 {rand_digits(r, 4)} {rand_digits(r, 4)}",
    lambda r: f"+44 7{rand_digits(r, 3)} {rand_digits(r, 6)}",
    lambda r: f"+49 30 {rand_digits(r, 4)} {rand_digits(r, 4)}",
    lambda r: f"+49 {r.randint(151, 179)} {rand_digits(r, 8)}",
    lambda r: (
        f"+33 {r.randint(1, 7)} {rand_digits(r, 2)} {rand_digits(r, 2)} "
        f"{rand_digits(r, 2)} {rand_digits(r, 2)}"
    ),
    lambda r: f"+61 2 {rand_digits(r, 4)} {rand_digits(r, 4)}",
    lambda r: f"+91 9{rand_digits(r, 4)} {rand_digits(r, 5)}",
    lambda r: f"+81 3-{rand_digits(r, 4)}-{rand_digits(r, 4)}",
    lambda r: f"+34 6{rand_digits(r, 2)} {rand_digits(r, 3)} {rand_digits(r, 3)}",
    lambda r: f"+31 20 {rand_digits(r, 3)} {rand_digits(r, 4)}",
    lambda r: f"+4930{rand_digits(r, 8)}",
)


def gen_phone(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.3:
        return rng.choice(INTERNATIONAL_PHONES)(rng)
    a, e, s = _nanp(rng)
    forms = (
        f"({a}) {e}-{s}",
        f"({a}) {e}-{s}",
        f"{a}-{e}-{s}",
        f"{a}-{e}-{s}",
        f"{a}.{e}.{s}",
        f"+1 {a} {e} {s}",
        f"+1-{a}-{e}-{s}",
        f"+1{a}{e}{s}",
        f"1-{a}-{e}-{s}",
        f"+1 ({a}) {e}-{s}",
        f"{a} {e} {s}",
    )
    return rng.choice(forms)


VOIDED_SSNS = ("078051120", "219099999", "123456789")


def gen_ssn(rng: random.Random) -> str:
    while True:
        area = rng.randint(1, 899)
        if area == 666:
            continue
        value = f"{area:03d}{rng.randint(1, 99):02d}{rng.randint(1, 9999):04d}"
        if value not in VOIDED_SSNS:
            return f"{value[:3]}-{value[3:5]}-{value[5:]}"


ITIN_GROUPS = (*range(50, 66), *range(70, 89), *range(90, 93), *range(94, 100))


def gen_itin(rng: random.Random) -> str:
    return f"9{rng.randint(0, 99):02d}-{rng.choice(ITIN_GROUPS):02d}-{rng.randint(1, 9999):04d}"


def gen_passport(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return f"{rng.randint(1, 9)}{rand_digits(rng, 8)}"  # US book, 9 digits
    if roll < 0.8:
        return rng.choice("ACEFGHKLMNPRTXYZ") + rand_digits(rng, 8)  # letter + 8 digits
    return rand_str(rng, string.ascii_uppercase, 2) + rand_digits(rng, 7)


def gen_drivers_license(rng: random.Random) -> str:
    roll = rng.randrange(5)
    if roll == 0:  # California: letter + 7 digits
        return rng.choice(string.ascii_uppercase) + rand_digits(rng, 7)
    if roll == 1:  # Texas: 8 digits
        return str(rng.randint(1, 4)) + rand_digits(rng, 7)
    if roll == 2:  # New York: 9 digits, often spaced
        d = rand_digits(rng, 9)
        return f"{d[:3]} {d[3:6]} {d[6:]}" if rng.random() < 0.5 else d
    if roll == 3:  # Florida: letter + 12 digits, dashed
        d = rand_digits(rng, 12)
        return f"{rng.choice(string.ascii_uppercase)}{d[:3]}-{d[3:6]}-{d[6:8]}-{d[8:11]}-{d[11]}"
    d = rand_digits(rng, 11)  # Illinois
    return f"{rng.choice(string.ascii_uppercase)}{d[:3]}-{d[3:7]}-{d[7:]}"


def gen_date_of_birth(rng: random.Random) -> str:
    year = rng.randint(1932, 2006)
    month = rng.randint(1, 12)
    day = rng.randint(1, 28)
    mon = MONTHS[month - 1]
    forms = (
        f"{year}-{month:02d}-{day:02d}",
        f"{month:02d}/{day:02d}/{year}",
        f"{month}/{day}/{year}",
        f"{day:02d}.{month:02d}.{year}",
        f"{day:02d}/{month:02d}/{year}",
        f"{mon} {day}, {year}",
        f"{day} {mon} {year}",
        f"{mon[:3]} {day} {year}",
        f"{month}/{day}/{year % 100:02d}",
    )
    return rng.choice(forms)


def _iban_de(rng: random.Random) -> tuple[str, str]:
    return "DE", rand_digits(rng, 18)


def _iban_gb(rng: random.Random) -> tuple[str, str]:
    bank = rng.choice(("NWBK", "BARC", "LOYD", "MIDL", "HBUK", "NAIA", "ABBY", "CITI"))
    return "GB", bank + rand_digits(rng, 14)


def _iban_fr(rng: random.Random) -> tuple[str, str]:
    bank, branch, account = rand_digits(rng, 5), rand_digits(rng, 5), rand_digits(rng, 11)
    key = 97 - (89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97
    return "FR", f"{bank}{branch}{account}{key:02d}"


def _iban_nl(rng: random.Random) -> tuple[str, str]:
    bank = rng.choice(("ABNA", "INGB", "RABO", "TRIO", "SNSB", "KNAB", "BUNQ"))
    return "NL", bank + rand_digits(rng, 10)


_ES_WEIGHTS = (1, 2, 4, 8, 5, 10, 9, 7, 3, 6)


def _es_control(digits: str) -> str:
    check = 11 - sum(int(d) * w for d, w in zip(digits, _ES_WEIGHTS, strict=True)) % 11
    return "0" if check == 11 else "1" if check == 10 else str(check)


def _iban_es(rng: random.Random) -> tuple[str, str]:
    bank, branch, account = rand_digits(rng, 4), rand_digits(rng, 4), rand_digits(rng, 10)
    control = _es_control("00" + bank + branch) + _es_control(account)
    return "ES", bank + branch + control + account


_IT_ODD = (1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25,
           24, 23)  # fmt: skip


def it_cin(rest: str) -> str:
    """The Italian CIN check letter over ABI + CAB + account (22 characters)."""
    total = 0
    for i, ch in enumerate(rest):
        index = int(ch) if ch.isdigit() else ord(ch) - ord("A")
        total += _IT_ODD[index] if i % 2 == 0 else index
    return chr(ord("A") + total % 26)


def _iban_it(rng: random.Random) -> tuple[str, str]:
    rest = rand_digits(rng, 5) + rand_digits(rng, 5) + rand_digits(rng, 12)
    return "IT", it_cin(rest) + rest


IBAN_COUNTRIES = (_iban_de, _iban_gb, _iban_fr, _iban_nl, _iban_es, _iban_it)


def gen_iban(rng: random.Random) -> str:
    country, bban = rng.choice(IBAN_COUNTRIES)(rng)
    value = country + iban_check_digits(country, bban) + bban
    return group(value, [4] * 8, " ") if rng.random() < 0.55 else value


BIC_BANKS = (
    ("DEUT", "DE"), ("COBA", "DE"), ("DRES", "DE"), ("BNPA", "FR"), ("SOGE", "FR"),
    ("CHAS", "US"), ("CITI", "US"), ("BOFA", "US"), ("WFBI", "US"), ("BARC", "GB"),
    ("HBUK", "GB"), ("NWBK", "GB"), ("UBSW", "CH"), ("CRES", "CH"), ("INGB", "NL"),
    ("RABO", "NL"), ("UNCR", "IT"), ("BCIT", "IT"), ("BSCH", "ES"), ("CAIX", "ES"),
    ("HSBC", "HK"), ("MHCB", "JP"),
)  # fmt: skip


def gen_swift_bic(rng: random.Random) -> str:
    bank, country = rng.choice(BIC_BANKS)
    location = rng.choice(string.ascii_uppercase + "23456789") + rng.choice(
        string.ascii_uppercase + "123456789"
    )
    if rng.random() < 0.5:
        return bank + country + location
    branch = (
        "XXX" if rng.random() < 0.5 else rand_str(rng, string.ascii_uppercase + "0123456789", 3)
    )
    return bank + country + location + branch


ABA_PREFIXES = (*range(1, 13), *range(21, 33), *range(61, 73), 80)


def gen_aba_routing(rng: random.Random) -> str:
    head = f"{rng.choice(ABA_PREFIXES):02d}" + rand_digits(rng, 6)
    d = [int(c) for c in head]
    partial = 3 * (d[0] + d[3] + d[6]) + 7 * (d[1] + d[4] + d[7]) + d[2] + d[5]
    return head + str((-partial) % 10)


def _ipv4_public(rng: random.Random) -> str:
    while True:
        addr = ipaddress.IPv4Address(rng.getrandbits(32))
        if addr.is_global and not addr.is_multicast and addr.packed[0] not in (100, 127):
            return str(addr)


def _ipv4_private(rng: random.Random) -> str:
    kind = rng.randrange(3)
    if kind == 0:
        return f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    if kind == 1:
        return f"172.{rng.randint(16, 31)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}"
    return f"192.168.{rng.randint(0, 255)}.{rng.randint(1, 254)}"


IPV6_PREFIXES = (0x20014860, 0x2A001450, 0x26064700, 0x2A032880, 0x2604A880, 0x2001067C,
                 0x24049800, 0x2A0104F8)  # fmt: skip


def _ipv6_global(rng: random.Random) -> str:
    prefix = rng.choice(IPV6_PREFIXES)
    if rng.random() < 0.5:
        low = rng.getrandbits(16)  # sparse: compresses to "::"
        value = (prefix << 96) | (rng.getrandbits(16) << 80) | low
    else:
        value = (prefix << 96) | rng.getrandbits(96)
    addr = ipaddress.IPv6Address(value)
    text = addr.compressed
    return text.upper() if rng.random() < 0.15 else text


def gen_ip_address(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.45:
        return _ipv4_public(rng)
    if roll < 0.75:
        return _ipv4_private(rng)
    return _ipv6_global(rng)


REGISTERED_OUIS = (
    "00000C", "001A2F", "3C08F6", "F8A5C5",  # Cisco
    "002B70", "5C497D", "8C71F8",  # Samsung
    "0017A4", "3CD92B", "9457A5",  # Hewlett Packard
    "240AC4", "3C71BF", "A4CF12", "8CAAB5",  # Espressif
    "B827EB", "DCA632", "E45F01", "28CDC1",  # Raspberry Pi
    "347E5C", "48A6B8",  # Sonos
    "7CC95A",  # Dell EMC
)  # fmt: skip


def gen_mac_address(rng: random.Random) -> str:
    """A registered vendor's address, or (one in five) a locally administered random one as
    phones and laptops use for privacy."""
    if rng.random() < 0.8:
        oui = bytes.fromhex(rng.choice(REGISTERED_OUIS))
        octets = [*oui, *(rng.randrange(256) for _ in range(3))]
    else:
        octets = [rng.randrange(256) for _ in range(6)]
        octets[0] = (octets[0] & 0xFC) | 0x02  # locally administered unicast
    text = [f"{o:02x}" for o in octets]
    style = rng.randrange(4)
    if style == 0:
        return ":".join(text)
    if style == 1:
        return ":".join(text).upper()
    if style == 2:
        return "-".join(text).upper()
    return "-".join(text)


# --------------------------------------------------------------------------------------
# Value generators: PCI
# --------------------------------------------------------------------------------------


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


# --------------------------------------------------------------------------------------
# Value generators: PHI
# --------------------------------------------------------------------------------------


def gen_mrn(rng: random.Random) -> str:
    n = rng.randint(6, 10)
    return (
        str(rng.randint(1, 9)) + rand_digits(rng, n - 1)
        if rng.random() < 0.7
        else "00" + rand_digits(rng, n - 2)
    )


def gen_npi(rng: random.Random) -> str:
    head = rng.choice("12") + rand_digits(rng, 8)
    return head + luhn_check_digit("80840" + head)


DEA_REGISTRANTS = "ABCDFGHMPRX"


def gen_dea(rng: random.Random) -> str:
    second = rng.choice(string.ascii_uppercase)
    d = [rng.randrange(10) for _ in range(6)]
    check = (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10
    return rng.choice(DEA_REGISTRANTS) + second + "".join(map(str, d)) + str(check)


MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"  # A-Z without S, L, O, I, B, Z


def gen_mbi(rng: random.Random) -> str:
    an = string.digits + MBI_LETTERS
    chars = (
        rng.choice("123456789"),
        rng.choice(MBI_LETTERS),
        rng.choice(an),
        rng.choice(string.digits),
        rng.choice(MBI_LETTERS),
        rng.choice(an),
        rng.choice(string.digits),
        rng.choice(MBI_LETTERS),
        rng.choice(MBI_LETTERS),
        rng.choice(string.digits),
        rng.choice(string.digits),
    )
    value = "".join(chars)
    return f"{value[:4]}-{value[4:7]}-{value[7:]}" if rng.random() < 0.3 else value


ICD10_CODES = (
    "E11.9", "E11.65", "E10.9", "I10", "I25.10", "I48.91", "J45.909", "J44.9", "J18.9",
    "F32.A", "F32.9", "F41.1", "F33.1", "F90.0", "G43.909", "G47.33", "K21.9", "K58.9",
    "M54.50", "M17.11", "N39.0", "R07.9", "R51.9", "E78.5", "E66.9", "E03.9", "Z79.4",
    "C50.911", "C34.90", "O24.419", "S72.001A", "U07.1", "B20", "F17.210", "L40.0", "H10.9",
    "N18.30", "D50.9", "F20.9", "F31.9",
)  # fmt: skip


def gen_icd10(rng: random.Random) -> str:
    return rng.choice(ICD10_CODES)


CONDITIONS = (
    "type 2 diabetes", "HIV", "major depressive disorder", "stage III colon cancer",
    "schizophrenia", "hepatitis C", "bipolar I disorder", "chronic kidney disease",
    "opioid use disorder", "early-onset Alzheimer's disease", "breast cancer", "epilepsy",
    "multiple sclerosis", "COPD", "generalized anxiety disorder", "atrial fibrillation",
    "anorexia nervosa", "Crohn's disease", "post-traumatic stress disorder",
)  # fmt: skip
TREATMENTS = (
    "metformin 500 mg twice daily", "chemotherapy", "sertraline 50 mg",
    "insulin glargine 20 units", "methadone maintenance", "dialysis", "PrEP",
    "lithium 300 mg", "radiotherapy",
)  # fmt: skip


# --------------------------------------------------------------------------------------
# Value generators: secrets
# --------------------------------------------------------------------------------------

AWS_ALPHABET = string.ascii_uppercase + "234567"


def gen_aws_access_key(rng: random.Random) -> str:
    while True:
        value = rng.choice(("AKIA", "AKIA", "AKIA", "ASIA")) + rand_str(rng, AWS_ALPHABET, 16)
        if not value.endswith("EXAMPLE"):
            return value


def gen_aws_secret_key(rng: random.Random) -> str:
    return rand_str(rng, B64, 40)


def pem_block(rng: random.Random, label: str, body_chars: int, width: int = 64) -> str:
    prefix = {
        "RSA PRIVATE KEY": "MIIEowIBAAKCAQEA",
        "PRIVATE KEY": "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQ",
        "EC PRIVATE KEY": "MHcCAQEEI",
        "OPENSSH PRIVATE KEY": "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtz"
        "c2gtZW",
        "ENCRYPTED PRIVATE KEY": "MIIFHDBOBgkqhkiG9w0BBQ0wQTApBgkqhkiG9w0BBQwwHAQI",
    }[label]
    body = prefix + rand_str(rng, B64, body_chars - len(prefix))
    if body_chars % 4:
        body = body[: -(body_chars % 4)]
    pad = rng.choice(("", "=", "=="))
    body = body[: len(body) - len(pad)] + pad
    lines = [body[i : i + width] for i in range(0, len(body), width)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def gen_private_key(rng: random.Random) -> str:
    kind = rng.randrange(5)
    if kind == 0:
        return pem_block(rng, "RSA PRIVATE KEY", 1588)
    if kind == 1:
        return pem_block(rng, "PRIVATE KEY", 1624)
    if kind == 2:
        return pem_block(rng, "EC PRIVATE KEY", 160)
    if kind == 3:
        return pem_block(rng, "OPENSSH PRIVATE KEY", 396, width=70)
    return pem_block(rng, "ENCRYPTED PRIVATE KEY", 1000)


def gen_gcp_service_account(rng: random.Random) -> Value:
    org = rng.choice(("acme", "globex", "hooli", "initech"))
    project = f"{org}-{rng.choice(('prod', 'data', 'ml', 'ci'))}-{rng.randint(100000, 999999)}"
    account = rng.choice(("deployer", "etl-runner", "terraform", "bq-reader", "ci-bot"))
    email = f"{account}@{project}.iam.gserviceaccount.com"
    key = pem_block(rng, "PRIVATE KEY", 1624) + "\n"
    obj = {
        "type": "service_account",
        "project_id": project,
        "private_key_id": rand_str(rng, HEX, 40),
        "private_key": key,
        "client_email": email,
        "client_id": str(rng.randint(10**20, 10**21 - 1)),
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": "https://oauth2.googleapis.com/token",
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "client_x509_cert_url": "https://www.googleapis.com/robot/v1/metadata/x509/"
        + email.replace("@", "%40"),
        "universe_domain": "googleapis.com",
    }
    text = json.dumps(obj, indent=2) if rng.random() < 0.5 else json.dumps(obj)
    key_start = text.index("-----BEGIN PRIVATE KEY-----")
    key_end = text.index("-----END PRIVATE KEY-----") + len("-----END PRIVATE KEY-----")
    email_start = text.index(f'"{email}"') + 1
    return text, (
        ("secret.private_key", key_start, key_end),
        ("pii.email", email_start, email_start + len(email)),
    )


def gen_azure_storage_key(rng: random.Random) -> str:
    return base64.b64encode(rng.randbytes(64)).decode()


def github_token(rng: random.Random, prefix: str) -> str:
    random_part = rand_str(rng, ALNUM, 30)
    return f"{prefix}_{random_part}{base62(zlib.crc32(random_part.encode()), 6)}"


def gen_github_token(rng: random.Random) -> str:
    if rng.random() < 0.2:
        return f"github_pat_{rand_str(rng, ALNUM, 22)}_{rand_str(rng, ALNUM, 59)}"
    return github_token(rng, rng.choice(("ghp", "ghp", "gho", "ghu", "ghs", "ghr")))


def gen_gitlab_token(rng: random.Random) -> str:
    return "glpat-" + rand_str(rng, ALNUM + "-_", 20)


def gen_slack_token(rng: random.Random) -> str:
    team = str(rng.randint(10**9, 10**12))
    kind = rng.randrange(3)
    if kind == 0:
        return f"xoxb-{team}-{rng.randint(10**11, 10**13)}-{rand_str(rng, ALNUM, 24)}"
    if kind == 1:
        return (
            f"xoxp-{team}-{rng.randint(10**11, 10**13)}-{rng.randint(10**11, 10**13)}-"
            f"{rand_str(rng, HEX, 32)}"
        )
    return f"xoxa-2-{team}-{rng.randint(10**11, 10**13)}-{rand_str(rng, HEX, 64)}"


def gen_stripe_key(rng: random.Random) -> str:
    prefix = "sk_live_" if rng.random() < 0.8 else "rk_live_"
    return prefix + rand_str(rng, ALNUM, rng.choice((24, 99)))


def gen_openai_key(rng: random.Random) -> str:
    if rng.random() < 0.6:
        return f"sk-proj-{rand_str(rng, B64URL, 74)}T3BlbkFJ{rand_str(rng, B64URL, 74)}"
    return f"sk-{rand_str(rng, ALNUM, 20)}T3BlbkFJ{rand_str(rng, ALNUM, 20)}"


def gen_anthropic_key(rng: random.Random) -> str:
    return f"sk-ant-api03-{rand_str(rng, B64URL, 93)}AA"


JWT_HEADERS = (
    {"alg": "HS256", "typ": "JWT"},
    {"alg": "RS256", "typ": "JWT"},
    {"typ": "JWT", "alg": "ES256"},
    {"alg": "RS256", "kid": "", "typ": "JWT"},
)
JWT_SIGNATURE_BYTES = {"HS256": 32, "RS256": 256, "ES256": 64}


def gen_jwt(rng: random.Random) -> str:
    header = dict(rng.choice(JWT_HEADERS))
    if "kid" in header:
        header["kid"] = rand_str(rng, HEX, 16)
    issued = rng.randint(1_700_000_000, 1_790_000_000)
    payload = {
        "sub": str(rng.randint(10**5, 10**9)),
        "name": f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
        "iat": issued,
        "exp": issued + 3600,
    }
    if rng.random() < 0.5:
        payload["scope"] = "read write"
    parts = (
        b64url(json.dumps(header, separators=(",", ":")).encode()),
        b64url(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()),
        b64url(rng.randbytes(JWT_SIGNATURE_BYTES[str(header["alg"])])),
    )
    return ".".join(parts)


def gen_password(rng: random.Random) -> str:
    style = rng.randrange(4)
    if style == 0:
        word = rng.choice(WORDS)
        return f"{word.capitalize()}{rng.randint(1970, 2029)}{rng.choice('!#$%&*')}"
    if style == 1:
        leet = str.maketrans({"o": "0", "a": "4", "e": "3", "s": "5"})
        return rng.choice(WORDS).translate(leet) + rng.choice("!#$%&*") + rng.choice(WORDS).upper()
    if style == 2:
        return "-".join(rng.sample(WORDS, 4))
    return rand_str(rng, ALNUM + "!#%^*_-", rng.randint(14, 24))


def gen_url_password(rng: random.Random) -> Value:
    password = rand_str(rng, ALNUM, rng.randint(10, 20))
    user = rng.choice(("app", "admin", "deploy", "svc_orders", "etl", "reporting", "root"))
    host = rng.choice(HOSTS)
    kind = rng.randrange(8)
    if kind == 0:
        return f"postgres://{user}:{password}@{host}:5432/orders"
    if kind == 1:
        return f"postgresql://{user}:{password}@{host}/analytics?sslmode=require"
    if kind == 2:
        return f"mysql://{user}:{password}@{host}:3306/app"
    if kind == 3:
        return f"mongodb+srv://{user}:{password}@{host}/prod?retryWrites=true"
    if kind == 4:
        return f"redis://:{password}@{host}:6379/0"
    if kind == 5:
        return f"amqp://{user}:{password}@{host}:5672/%2f"
    if kind == 6:
        return f"https://{user}:{password}@{host}/job/build/"
    token = github_token(rng, "ghp")
    prefix = "https://x-access-token:"
    text = f"{prefix}{token}@github.com/{rng.choice(('acme', 'globex'))}/api.git"
    return text, (("secret.github_token", len(prefix), len(prefix) + len(token)),)


def gen_generic_high_entropy(rng: random.Random) -> str:
    while True:
        value = rand_str(rng, ALNUM, rng.choice((32, 40, 48, 64)))
        if (
            any(c.isupper() for c in value)
            and any(c.islower() for c in value)
            and any(c.isdigit() for c in value)
        ):
            return value


GENERATORS: dict[str, Gen] = {
    "pii.email": gen_email,
    "pii.phone": gen_phone,
    "pii.ssn": gen_ssn,
    "pii.itin": gen_itin,
    "pii.passport": gen_passport,
    "pii.drivers_license": gen_drivers_license,
    "pii.date_of_birth": gen_date_of_birth,
    "pii.iban": gen_iban,
    "pii.swift_bic": gen_swift_bic,
    "pii.aba_routing": gen_aba_routing,
    "pii.ip_address": gen_ip_address,
    "pii.mac_address": gen_mac_address,
    "pci.pan": gen_pan,
    "pci.track_data": gen_track_data,
    "pci.cvv": gen_cvv,
    "pci.expiry": gen_expiry,
    "phi.mrn": gen_mrn,
    "phi.npi": gen_npi,
    "phi.dea": gen_dea,
    "phi.mbi": gen_mbi,
    "phi.icd10": gen_icd10,
    "secret.aws_access_key": gen_aws_access_key,
    "secret.aws_secret_key": gen_aws_secret_key,
    "secret.gcp_service_account": gen_gcp_service_account,
    "secret.azure_storage_key": gen_azure_storage_key,
    "secret.github_token": gen_github_token,
    "secret.gitlab_token": gen_gitlab_token,
    "secret.slack_token": gen_slack_token,
    "secret.stripe_key": gen_stripe_key,
    "secret.openai_key": gen_openai_key,
    "secret.anthropic_key": gen_anthropic_key,
    "secret.private_key": gen_private_key,
    "secret.jwt": gen_jwt,
    "secret.url_password": gen_url_password,
    "secret.password_assignment": gen_password,
    "secret.generic_high_entropy": gen_generic_high_entropy,
}

# --------------------------------------------------------------------------------------
# Templates: {v} is the line's own value, {pii.phone} etc. another labelled value,
# {name} etc. an unlabelled filler. Other braces are literal.
# --------------------------------------------------------------------------------------

TEMPLATES: dict[str, tuple[str, ...]] = {
    "pii.email": (
        "Please contact {v} with any questions.",
        "{v} is my work address, use it for the invoice",
        "cc: {v}, {v}",
        "Email: {v}",
        'Send the signed contract to "{v}" by {weekday}.',
        "You can reach {first} at <{v}>.",
        "Forwarded message from {name} ({v}):",
        '{"to": "{v}", "subject": "Quarterly numbers"}',
        "reply-to={v}",
        "my email is {v}",
        "Contact: {name} <{v}>; phone {pii.phone}",
        "[mailto:{v}] — {name}, {company}",
    ),
    "pii.phone": (
        "Call me at {v} after 5.",
        "Phone: {v}",
        "{v} is the front desk number for {company}",
        "mobile {v}, office {v}",
        "Reach {first} on {v}.",
        "Our support line ({v}) is open {weekday} to Friday.",
        '"phone": "{v}"',
        "text me on {v}",
        "Ph. {v}; email {pii.email}",
        "{name} — {v} — {city}",
        "If the courier is late, ring {v}",
    ),
    "pii.ssn": (
        "SSN: {v}",
        "Social Security Number {v}",
        "my social is {v}, please keep it private",
        "SSN# {v} on file for {name}.",
        "ssn={v}",
        "The applicant's SSN ({v}) was verified by {company}.",
        "{v} is the SSN for {name}",
        "W-2 for {name}: SSN {v}, wages ${amount}",
        "social security no. {v}",
        '{"employee": "{name}", "ssn": "{v}"}',
    ),
    "pii.itin": (
        "ITIN: {v}",
        "Individual Taxpayer Identification Number {v}",
        "her ITIN is {v}",
        "ITIN {v} (issued by the IRS) for {name}",
        "Taxpayer ID (ITIN): {v}.",
        "itin={v}",
        "Please file using ITIN {v}",
    ),
    "pii.passport": (
        "Passport No. {v}",
        "passport number: {v}",
        "My passport ({v}) is from {country}.",
        "Passport #{v}, nationality {country}",
        "Traveller {name}, passport {v}, seat 14C",
        "PASSPORT {v}",
        "scan of passport {v} attached",
        '{"passport_number": "{v}", "holder": "{name}"}',
    ),
    "pii.drivers_license": (
        "Driver's license: {v}",
        "driver’s license no. {v}",
        "DL# {v}",
        "DL {v} ({state})",
        "Driving licence number {v}",
        "driver license {v} issued in {state}",
        "{name}, driver's license {v}, {state}",
        "Drivers License Number: {v}",
    ),
    "pii.date_of_birth": (
        "DOB: {v}",
        "Date of birth {v}",
        "{first} was born on {v} in {city}.",
        "D.O.B. {v}",
        "{name}, born {v}",
        "Birthdate: {v}",
        '{"name": "{name}", "dob": "{v}"}',
        "date of birth: {v}; place of birth: {city}",
        "patient DOB {v}",
    ),
    "pii.iban": (
        "IBAN: {v}",
        "Please wire the funds to {v}.",
        "{v} (account holder {name})",
        "Bank details — IBAN {v}, BIC {pii.swift_bic}",
        "iban={v}",
        "Überweisung an {v} bitte bis {weekday}.",
        "Refund to {v}",
        "my IBAN is {v}",
        '{"iban": "{v}", "amount": "{amount}"}',
    ),
    "pii.swift_bic": (
        "SWIFT: {v}",
        "BIC {v}",
        "SWIFT/BIC code {v}",
        "the swift code is {v}.",
        "BIC: {v}; IBAN: {pii.iban}",
        "Beneficiary bank {company}, SWIFT {v}",
        "bic={v}",
    ),
    "pii.aba_routing": (
        "routing number {v}",
        "Routing #: {v}, account {acct}",
        "ABA {v}",
        "ABA routing number: {v}",
        "RTN {v} for direct deposit",
        "Direct deposit: routing {v}, checking {acct}",
        "bank routing no. {v}",
    ),
    "pii.ip_address": (
        "Login from {v} at {time}",
        "server {v} is down",
        "X-Forwarded-For: {v}, {v}",
        "blocked IP {v} after {count} failed attempts",
        '{v} - - [25/Nov/2025:10:00:00 +0000] "GET /account HTTP/1.1" 200 {count}',
        "connect to {v} on port 8443",
        "my home IP is {v}",
        "client_ip={v}",
        "{v}",
        "Allow {v} in the firewall, then ping {v}.",
    ),
    "pii.mac_address": (
        "MAC {v}",
        "device {v} joined the network",
        "ether {v}  txqueuelen 1000",
        "HWaddr {v}",
        "Client MAC address: {v}",
        "{v} is the printer's MAC",
        "? ({pii.ip_address}) at {v} on en0",
        "mac_address={v}",
        "whitelist MACs {v} and {v}",
    ),
    "pci.pan": (
        "card number {v}",
        "Visa {v}",
        "please charge {v} for ${amount}",
        "CC: {v}",
        "{v} is the corporate card",
        "pay with {v}",
        '{"card_number": "{v}", "name": "{name}"}',
        "my credit card is {v}.",
        "Card: {v}",
        "Use card {v} or {v}",
    ),
    "pci.track_data": (
        "Track data: {v}",
        "swipe data {v}",
        "MSR dump: {v}",
        "{v}",
        "raw track={v}",
        "reader returned {v} at {time}",
    ),
    "pci.cvv": (
        "Card {pci.pan}, CVV {v}",
        "{pci.pan} exp {pci.expiry} cvv {v}",
        "card: {pci.pan} | CVC {v} | exp {pci.expiry}",
        "Number {pci.pan}, security code {v}",
        "{pci.pan} CVV2: {v}",
        "card {pci.pan}, expiry {pci.expiry}, CVV {v}",
    ),
    "pci.expiry": (
        "{pci.pan} exp {v}",
        "card {pci.pan}, expiry {v}",
        "Card {pci.pan} expires {v}",
        "{pci.pan} Exp. {v} CVV {pci.cvv}",
        "number {pci.pan}, valid thru {v}",
        "card {pci.pan} exp date {v}",
    ),
    "phi.mrn": (
        "MRN: {v}",
        "MRN#{v}",
        "medical record number {v}",
        "Patient {name} (MRN {v}) was discharged on {weekday}.",
        "mrn={v}",
        "Medical Record No. {v}",
        "please pull the chart for MRN {v}",
    ),
    "phi.npi": (
        "NPI: {v}",
        "Dr. {last}, NPI {v}",
        "provider NPI {v}",
        "National Provider Identifier {v}",
        "npi={v}",
        "Referring physician {name} (NPI {v})",
    ),
    "phi.dea": (
        "DEA# {v}",
        "DEA number: {v}",
        "prescriber DEA {v}",
        "Dr. {last} (DEA {v}, NPI {phi.npi})",
        "dea={v}",
        "DEA registration {v} expires next year",
    ),
    "phi.mbi": (
        "Medicare number {v}",
        "MBI: {v}",
        "Medicare Beneficiary Identifier {v}",
        "medicare id {v}",
        "MBI {v} (Part B)",
        "{name}'s Medicare card shows {v}",
    ),
    "phi.icd10": (
        "Diagnosis: {v}",
        "[[diagnosed with]] {v}",
        "ICD-10 {v}",
        "ICD-10-CM code {v}",
        "Dx: {v}, {v}",
        "primary diagnosis {v}; secondary diagnosis {v}",
        "Assessment: [[{condition}]] (ICD-10 {v})",
        "claim lists diagnosis code {v}",
    ),
    "phi.clinical": (
        "Patient {name} (MRN {phi.mrn}) was [[diagnosed with {condition}]] last spring.",
        "{first} ({pii.email}) is being [[treated for {condition}]].",
        "Pt DOB {pii.date_of_birth} presents with [[{condition}]]; [[started {treatment}]].",
        "Medicare ID {phi.mbi}: [[history of {condition}]].",
        "Call me on {pii.phone}: my mother was [[diagnosed with {condition}]] in {month}.",
        "MRN {phi.mrn}: the patient continues on [[{treatment}]] with good tolerance.",
        "[[Discharge summary: {condition}]], follow up in two weeks (SSN {pii.ssn}).",
        "{name}, SSN {pii.ssn}, was [[prescribed {treatment}]].",
    ),
    "secret.aws_access_key": (
        "aws_access_key_id = {v}",
        "export AWS_ACCESS_KEY_ID={v}",
        '"AccessKeyId": "{v}"',
        "key id {v} belongs to the deploy user",
        "{v}",
        "Using access key {v} for the backup job.",
        "[default]\naws_access_key_id = {v}\naws_secret_access_key = {secret.aws_secret_key}",
    ),
    "secret.aws_secret_key": (
        "aws_secret_access_key = {v}",
        "AWS_SECRET_ACCESS_KEY={v}",
        '"SecretAccessKey": "{v}"',
        'export AWS_SECRET_ACCESS_KEY="{v}"',
        "aws_access_key_id={secret.aws_access_key} aws_secret_access_key={v}",
        "secret access key: {v}",
    ),
    "secret.gcp_service_account": (
        "Here is the key file for the CI job: {v}",
        "credentials.json:\n{v}",
        "{v}",
        "GOOGLE_APPLICATION_CREDENTIALS content -> {v}",
    ),
    "secret.azure_storage_key": (
        "DefaultEndpointsProtocol=https;AccountName=acme{count};AccountKey={v};"
        "EndpointSuffix=core.windows.net",
        "AZURE_STORAGE_CONNECTION_STRING=DefaultEndpointsProtocol=https;AccountName=logs;"
        "AccountKey={v}",
        "AccountName=backups;AccountKey={v}",
        '"connectionString": "AccountName=media;AccountKey={v};EndpointSuffix=core.windows.net"',
    ),
    "secret.github_token": (
        "GITHUB_TOKEN={v}",
        "Authorization: token {v}",
        "here's my PAT: {v}",
        "gh auth login --with-token <<< {v}",
        "{v}",
        '{"github_token": "{v}"}',
    ),
    "secret.gitlab_token": (
        "GITLAB_TOKEN={v}",
        'curl --header "PRIVATE-TOKEN: {v}" https://gitlab.example.com/api/v4/projects',
        "glab auth login --token {v}",
        "use {v} for the runner",
    ),
    "secret.slack_token": (
        "SLACK_BOT_TOKEN={v}",
        "Authorization: Bearer {v}",
        "slack token: {v}",
        "{v}",
        "client = WebClient(token='{v}')",
    ),
    "secret.stripe_key": (
        "STRIPE_SECRET_KEY={v}",
        'stripe.api_key = "{v}"',
        "curl https://api.stripe.com/v1/charges -u {v}:",
        "live key {v}",
        "{v}",
    ),
    "secret.openai_key": (
        "OPENAI_API_KEY={v}",
        'client = OpenAI(api_key="{v}")',
        "my key is {v} why does it 401",
        "Authorization: Bearer {v}",
        "{v}",
    ),
    "secret.anthropic_key": (
        "ANTHROPIC_API_KEY={v}",
        "x-api-key: {v}",
        'anthropic.Anthropic(api_key="{v}")',
        "{v}",
        "the claude key {v} was rotated",
    ),
    "secret.private_key": (
        "{v}",
        "here's the deploy key:\n{v}\nthanks!",
        "id_rsa:\n{v}",
        "cat ~/.ssh/id_ed25519\n{v}",
        'key = """{v}"""',
    ),
    "secret.jwt": (
        "Authorization: Bearer {v}",
        "token={v}",
        '"id_token": "{v}"',
        "Cookie: session={v}",
        "{v}",
        "decode this for me: {v}",
    ),
    "secret.url_password": (
        "DATABASE_URL={v}",
        "connect with {v}",
        "{v}",
        'url: "{v}"',
        "The job failed on {v} yesterday.",
    ),
    "secret.password_assignment": (
        "password={v}",
        "PASSWORD: {v}",
        'db_password = "{v}"',
        '"passwd": "{v}"',
        "secret: {v}",
        "pwd={v}",
        "export DB_PASS='{v}'",
        "passphrase: {v}",
        '{"user": "admin", "password": "{v}"}',
    ),
    "secret.generic_high_entropy": (
        'api_key="{v}"',
        "client_secret={v}",
        "X-Auth-Token: {v}",
        "webhook_secret: {v}",
        "the deploy token is {v}",
        "use access token {v} for the staging API",
        "signing key {v}",
        "session token {v} expired at {time}",
    ),
}

NEGATIVE_TEMPLATES: tuple[str, ...] = (
    "The {product} rollout is scheduled for {weekday}; {name} will send the notes.",
    "We processed {count} orders worth ${amount} in the third quarter.",
    "Ticket OPS-{count} was closed after {count} comments.",
    "Please reset your password using the link we sent you.",
    "Enter your card number and CVV on the payment page, never in chat.",
    "The SSN field should reject anything that is not nine digits.",
    "The build took {count} minutes on runner {count}.",
    "Version 2.{count}.1 fixes the memory leak in the {product}.",
    "Meeting moved to {time} in room 4B.",
    "The API returns HTTP 401 when the token has expired.",
    "Average latency dropped from {count} ms to {count} ms after the cache change.",
    "Call the support line during business hours if the {product} is down.",
    "{first}'s team in {city} — great work on the Q3 report!",
    "for i in range({count}): total += values[i]",
    "Our {product} now supports IBAN payments and SWIFT transfers.",
    "Remember to rotate the API keys every 90 days.",
    "{company} opened a new office in {city} this {month}.",
    "The patient portal redesign goes live next {weekday}.",
    "Deploy to EKS, store the artifacts in S3 and grant the IAM role read access.",
    "Can you summarise this article about {city}'s public transport?",
    "Translate 'good morning' into French, Spanish and German.",
    "{name} asked whether the {product} can export CSV files.",
    "Temperatures reached {count} degrees in {city} on {weekday}.",
    "Add a unit test for the date parser and bump the minor version.",
    "The quarterly revenue was ${amount}, up {count}% year over year.",
    "SELECT name, created_at FROM users WHERE active = true LIMIT {count};",
    "Write a haiku about autumn leaves and coffee.",
    "Please review PR #{count} before the release branch is cut.",
    "git rebase -i HEAD~3 and then force-push to your branch.",
    "The medical conference in {city} starts on {weekday}.",
)

# --------------------------------------------------------------------------------------
# Line builder
# --------------------------------------------------------------------------------------

_TOKEN = re.compile(r"\{([a-z][a-z0-9_.]*)\}|\[\[|\]\]")

IDENTIFYING = ("pii.", "phi.mrn", "phi.mbi", "phi.npi")
"""Tags that identify a person: clinical words only count as PHI next to one of these."""
CASED_CATEGORIES = ("pii.", "phi.", "pci.pan", "pci.cvv", "pci.expiry")
"""Prose templates whose wording may appear upper- or lower-cased; secrets, config syntax
and track data keep their case."""


class Line:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.labels: list[Label] = []
        self.clinical: list[tuple[int, int]] = []
        """[[...]] regions: phi.clinical labels if the line identifies a person."""
        self.length = 0

    def text(self, s: str) -> None:
        self.parts.append(s)
        self.length += len(s)

    def value(self, tag: str, value: Value) -> None:
        text, inner = (value, ()) if isinstance(value, str) else value
        for inner_tag, start, end in inner:
            self.labels.append(
                {"tag": inner_tag, "start": self.length + start, "end": self.length + end}
            )
        self.labels.append({"tag": tag, "start": self.length, "end": self.length + len(text)})
        self.text(text)

    def render(self) -> tuple[str, list[Label]]:
        labels = list(self.labels)
        if any(lab["tag"].startswith(IDENTIFYING) for lab in labels):
            labels += [{"tag": "phi.clinical", "start": s, "end": e} for s, e in self.clinical]
        labels.sort(key=lambda lab: (lab["start"], -lab["end"], lab["tag"]))
        return "".join(self.parts), labels


def _case(rng: random.Random, tag: str | None) -> Callable[[str], str]:
    roll = rng.random()
    if tag is None or not tag.startswith(CASED_CATEGORIES):
        return str
    if roll < 0.07:
        return str.upper
    if roll < 0.14:
        return str.lower
    return str


def fill(rng: random.Random, line: Line, template: str, tag: str | None) -> None:
    """Append `template` to `line`: `{v}` is a value of `tag`, `{pii.phone}` a value of that
    tag, `{name}` an unlabelled filler, and `[[...]]` a clinical region."""
    case = _case(rng, tag)
    pos = 0
    region = -1
    for match in _TOKEN.finditer(template):
        line.text(case(template[pos : match.start()]))
        slot = match.group(1)
        if match.group(0) == "[[":
            region = line.length
        elif match.group(0) == "]]":
            line.clinical.append((region, line.length))
        elif slot == "v":
            assert tag is not None
            line.value(tag, GENERATORS[tag](rng))
        elif slot in GENERATORS:
            line.value(slot, GENERATORS[slot](rng))
        else:
            line.text(FILLERS[slot](rng))
        pos = match.end()
    line.text(case(template[pos:]))


def record(id_: str, line: Line) -> Record:
    text, labels = line.render()
    return {"id": id_, "text": text, "labels": labels}


def positive_line(rng: random.Random, tag: str) -> Line:
    line = Line()
    fill(rng, line, rng.choice(TEMPLATES[tag]), tag)
    return line


def mixed_line(rng: random.Random) -> Line:
    tags = rng.sample(TAGS, rng.randint(2, 4))
    line = Line()
    for i, tag in enumerate(tags):
        if i:
            line.text(rng.choice((" ", "\n", " | ", "; ", "\n\n")))
        fill(rng, line, rng.choice(TEMPLATES[tag]), tag)
    return line


def negative_line(rng: random.Random) -> Line:
    line = Line()
    for i in range(rng.randint(1, 3)):
        if i:
            line.text(" ")
        fill(rng, line, rng.choice(NEGATIVE_TEMPLATES), None)
    return line


def build_corpus(rng: random.Random) -> list[Record]:
    records: list[Record] = []
    for tag in TAGS:
        short = tag.split(".", 1)[1]
        for n in range(PRIMARY_PER_TAG):
            records.append(record(f"{short}-{n:03d}", positive_line(rng, tag)))
    for n in range(MIXED_LINES):
        records.append(record(f"mixed-{n:03d}", mixed_line(rng)))
    negatives = round(len(records) * NEGATIVE_SHARE / (1 - NEGATIVE_SHARE))
    for n in range(negatives):
        records.append(record(f"negative-{n:04d}", negative_line(rng)))
    return records


# --------------------------------------------------------------------------------------
# Look-alikes: nothing here is sensitive
# --------------------------------------------------------------------------------------


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    h = h[:12] + "4" + h[13:16] + rng.choice("89ab") + h[17:]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _luhn_invalid_card(rng: random.Random) -> str:
    number, brand = card_number(rng)
    wrong = str((int(number[-1]) + rng.randint(1, 9)) % 10)
    return format_pan(rng, number[:-1] + wrong, brand)


def _invalid_ssn(rng: random.Random) -> str:
    kind = rng.randrange(6)
    area = f"{rng.randint(1, 899):03d}".replace("666", "667")
    group_ = f"{rng.randint(1, 99):02d}"
    serial = f"{rng.randint(1, 9999):04d}"
    if kind == 0:
        area = "000"
    elif kind == 1:
        area = "666"
    elif kind == 2:  # 9xx with a group no ITIN uses: neither an SSN nor an ITIN
        area = f"9{rng.randint(0, 99):02d}"
        group_ = f"{rng.choice((*range(1, 50), *range(66, 70), 89, 93)):02d}"
    elif kind == 3:
        group_ = "00"
    elif kind == 4:
        serial = "0000"
    else:
        return rng.choice(("078-05-1120", "219-09-9999", "123-45-6789"))
    return f"{area}-{group_}-{serial}"


def _ean13(rng: random.Random) -> str:
    # GS1 prefixes outside every card IIN range (US/Canada, Switzerland, Italy, Netherlands)
    body = rng.choice(("0", "76", "80", "81", "82", "83", "87"))
    body += rand_digits(rng, 12 - len(body))
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    return body + str(check)


def _isbn13(rng: random.Random) -> str:
    body = rng.choice(("978", "979")) + rand_digits(rng, 9)
    check = (10 - sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body)) % 10) % 10
    full = body + str(check)
    return f"{full[:3]}-{full[3]}-{full[4:7]}-{full[7:12]}-{full[12]}"


def _bad_aba(rng: random.Random) -> str:
    good = gen_aba_routing(rng)
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


def _bad_npi(rng: random.Random) -> str:
    good = gen_npi(rng)
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


def _bad_dea(rng: random.Random) -> str:
    good = gen_dea(rng)
    return good[:-1] + str((int(good[-1]) + rng.randint(1, 9)) % 10)


def _bad_iban(rng: random.Random) -> str:
    country, bban = rng.choice(IBAN_COUNTRIES)(rng)
    good = iban_check_digits(country, bban)
    wrong = f"{(int(good) + rng.randint(1, 90)) % 97 + 2:02d}"
    if wrong == good:
        wrong = f"{(int(good) + 1) % 97 + 2:02d}"
    value = country + wrong + bban
    return group(value, [4] * 8, " ") if rng.random() < 0.5 else value


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1990, 2030), rng.randint(1, 12), rng.randint(1, 28)
    return rng.choice((f"{y}-{m:02d}-{d:02d}", f"{m:02d}/{d:02d}/{y}", f"{d:02d}.{m:02d}.{y}"))


def _semver(rng: random.Random) -> str:
    return f"{rng.randint(0, 12)}.{rng.randint(0, 30)}.{rng.randint(0, 40)}"


def _harmless_b64(rng: random.Random) -> str:
    sentence = rng.choice(
        (
            "Hello, world! This is a harmless message.",
            "The quick brown fox jumps over the lazy dog.",
            "Meeting notes: ship the dashboard on Friday.",
            '{"theme": "dark", "fontSize": 14, "locale": "en-GB"}',
        )
    )
    return base64.b64encode(sentence.encode()).decode()


def _not_jwt(rng: random.Random) -> str:
    header = b64url(json.dumps({"typ": "JWT", "cty": "text"}).encode())
    payload = b64url(json.dumps({"page": rng.randint(1, 9), "q": "shoes"}).encode())
    return f"{header}.{payload}.{rand_str(rng, B64URL, 20)}"


def _public_block(rng: random.Random, label: str) -> str:
    body = rand_str(rng, B64, 360)
    lines = [body[i : i + 64] for i in range(0, len(body), 64)]
    return f"-----BEGIN {label}-----\n" + "\n".join(lines) + f"\n-----END {label}-----"


def _dea_shaped(rng: random.Random) -> str:
    return gen_dea(rng)


LOOKALIKE_KINDS: dict[str, tuple[Callable[[random.Random], str], ...]] = {
    "order_number": (
        lambda r: f"Order #{rand_digits(r, 10)} has shipped via UPS.",
        lambda r: f"Invoice INV-{r.randint(2019, 2026)}-{rand_digits(r, 6)} is overdue.",
        lambda r: f"Your order number is {r.randint(1, 9)}{rand_digits(r, 11)}.",
        lambda r: f"Reference {rand_str(r, string.ascii_uppercase, 3)}-{rand_digits(r, 8)}",
    ),
    "uuid": (
        lambda r: f"request_id={_uuid(r)}",
        lambda r: f"Trace {_uuid(r)} failed; retry with {_uuid(r)}.",
        lambda r: f'{{"id": "{_uuid(r)}", "parent": "{_uuid(r)}"}}',
    ),
    "git_sha": (
        lambda r: f"commit {rand_str(r, HEX, 40)}",
        lambda r: f"Fixed in {rand_str(r, HEX, 7)} (see {rand_str(r, HEX, 40)}).",
        lambda r: f"git cherry-pick {rand_str(r, HEX, 12)}",
    ),
    "digest": (
        lambda r: f"sha256:{rand_str(r, HEX, 64)}",
        lambda r: f"image digest {rand_str(r, HEX, 64)}",
        lambda r: f"SHA-256 checksum: {rand_str(r, HEX, 64).upper()}",
        lambda r: f"md5 {rand_str(r, HEX, 32)}  release.tar.gz",
    ),
    "version": (
        lambda r: f"Upgrade to {_semver(r)} before {_semver(r)} is retired.",
        lambda r: (
            f"firmware v{r.randint(1, 20)}.{r.randint(0, 9)}.{r.randint(0, 9)}.{r.randint(0, 99)}"
        ),
        lambda r: "version 1.2.3 and v10.4.1.2",
        lambda r: (
            f"Python 3.{r.randint(8, 13)}.{r.randint(0, 12)} with pip "
            f"{r.randint(20, 25)}.{r.randint(0, 3)}"
        ),
    ),
    "barcode": (
        lambda r: f"ISBN {_isbn13(r)}",
        lambda r: f"EAN-13 {_ean13(r)}",
        lambda r: f"scan barcode {_ean13(r)} at the till",
    ),
    "timestamp": (
        lambda r: (
            f"{r.randint(2020, 2026)}-{r.randint(1, 12):02d}-{r.randint(1, 28):02d}T"
            f"{r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}Z"
        ),
        lambda r: (
            f"started at {r.randint(0, 23):02d}:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}"
        ),
        lambda r: f"elapsed 00:{r.randint(0, 59):02d}:{r.randint(0, 59):02d}.{rand_digits(r, 3)}",
        lambda r: f"epoch {r.randint(1_600_000_000, 1_800_000_000)} ms {rand_digits(r, 13)}",
    ),
    "luhn_invalid_card": (
        lambda r: f"card {_luhn_invalid_card(r)}",
        lambda r: f"test number {_luhn_invalid_card(r)} was declined",
    ),
    "invalid_ssn": (
        lambda r: f"SSN {_invalid_ssn(r)}",
        lambda r: f"social security number {_invalid_ssn(r)} is not valid",
    ),
    "nine_digits_no_context": (
        lambda r: f"tracking number {r.randint(1, 8)}{rand_digits(r, 8)}",
        lambda r: f"{r.randint(1, 8)}{rand_digits(r, 8)} rows were imported",
        lambda r: f"the job id is {r.randint(1, 8)}{rand_digits(r, 8)}",
    ),
    "aws_names": (
        lambda r: "S3, EC2, EKS and IAM are AWS services.",
        lambda r: f"Move the {r.choice(PRODUCTS)} from EC2 to EKS and read from S3 via IAM roles.",
        lambda r: "arn:aws:iam::aws:policy/ReadOnlyAccess",
    ),
    "placeholders": (
        lambda r: "aws_access_key_id = AKIAIOSFODNN7EXAMPLE",
        lambda r: "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        lambda r: f"STRIPE_KEY=sk_test_{rand_str(r, ALNUM, 24)}",
        lambda r: f"publishable key pk_live_{rand_str(r, ALNUM, 24)}",
        lambda r: "password=${DB_PASSWORD}",
        lambda r: "password: ********",
        lambda r: 'api_key="<YOUR_API_KEY>"',
        lambda r: "password = os.environ['DB_PASSWORD']",
        lambda r: "DATABASE_URL=postgres://USER:PASSWORD@HOST:5432/DBNAME",
        lambda r: "secret: REPLACE_ME",
    ),
    "not_personal_ip": (
        lambda r: "listen on 127.0.0.1:8080 and 0.0.0.0:9090",
        lambda r: f"example host 192.0.2.{r.randint(1, 254)} in the docs",
        lambda r: f"see 198.51.100.{r.randint(1, 254)} and 203.0.113.{r.randint(1, 254)}",
        lambda r: "netmask 255.255.255.0, broadcast 255.255.255.255",
        lambda r: "IPv6 loopback ::1 and documentation prefix 2001:db8::1",
        lambda r: "multicast group 224.0.0.251 for mDNS",
    ),
    "product_code": (
        lambda r: f"SKU {r.randint(2, 9)}{rand_digits(r, 9)}",
        lambda r: f"part no. {r.randint(2, 9)}{rand_digits(r, 9)} in stock",
        lambda r: f"model {rand_str(r, string.ascii_uppercase, 2)}{rand_digits(r, 10)}",
    ),
    "date_no_context": (
        lambda r: f"The release is planned for {_date(r)}.",
        lambda r: f"invoice dated {_date(r)}, due {_date(r)}",
        lambda r: f"Last login: {_date(r)}",
    ),
    "icd_like_no_context": (
        lambda r: f"Meet in room {r.choice(('E11', 'F32', 'J45', 'K21'))} at {r.randint(1, 5)} pm.",
        lambda r: f"Put the total in spreadsheet cell {r.choice(('I10', 'E11', 'M17', 'G43'))}.",
        lambda r: (
            f"Boarding at gate {r.choice(('C50', 'B20', 'D50', 'F20'))}, seat {r.randint(1, 40)}A."
        ),
        lambda r: f"Excel range E11:E{r.randint(20, 99)} holds the totals.",
    ),
    "harmless_base64": (
        lambda r: f"payload: {_harmless_b64(r)}",
        lambda r: f"data:text/plain;base64,{_harmless_b64(r)}",
    ),
    "not_a_jwt": (lambda r: f"cursor {_not_jwt(r)}",),
    "public_pem": (
        lambda r: _public_block(r, "PUBLIC KEY"),
        lambda r: "server.crt:\n" + _public_block(r, "CERTIFICATE"),
    ),
    "bad_checksums": (
        lambda r: f"IBAN {_bad_iban(r)} (check digits wrong)",
        lambda r: f"routing number {_bad_aba(r)} failed validation",
        lambda r: f"NPI {_bad_npi(r)} is not on file",
        lambda r: f"DEA {_bad_dea(r)} was rejected",
    ),
    "hidden_context_words": (
        lambda r: f"Adobe shipped the update on {_date(r)}.",  # "dob"
        lambda r: f"a stubborn bug since {_date(r)}",  # "born"
        lambda r: f"mRNA-1273 lot {rand_digits(r, 7)}",  # "mrn"
        lambda r: "The public DATABASE is read-only.",  # "bic"; DATABASE is BIC-shaped
        lambda r: f"Deal ID {_dea_shaped(r)} closed last quarter",  # "dea"
        lambda r: f"bundle {r.randint(1, 4)}{rand_digits(r, 7)} shipped",  # "dl"
        lambda r: f"expected {r.randint(1, 12)}/{r.randint(20, 31)} checks to pass",  # "exp"
        lambda r: f"unpinned build {_bad_npi(r)}",  # "npi"
    ),
    "code_and_prose": (
        lambda r: "std::vector<int> v; v.push_back(42);",
        lambda r: f"colour #{rand_str(r, HEX, 6)} on #{rand_str(r, HEX, 6)}",
        lambda r: f"price ${r.randint(1, 999)}.{r.randint(0, 99):02d}, qty {r.randint(1, 99)}",
        lambda r: "not an email: foo@bar, @decorator, user@localhost",
        lambda r: f"score {r.randint(1, 9)}-{r.randint(0, 9)} after {r.randint(60, 90)} minutes",
        lambda r: "MAC-then-encrypt is weaker than encrypt-then-MAC.",
        lambda r: "broadcast MAC ff:ff:ff:ff:ff:ff and null MAC 00:00:00:00:00:00",
    ),
}


def build_lookalikes(rng: random.Random) -> list[Record]:
    records: list[Record] = []
    for kind, makers in LOOKALIKE_KINDS.items():
        for n in range(LOOKALIKES_PER_KIND):
            text = makers[n % len(makers)](rng)
            records.append({"id": f"{kind}-{n:02d}", "text": text, "labels": []})
    return records


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def generate(seed: int = SEED) -> tuple[list[Record], list[Record]]:
    """The corpus and the look-alikes for `seed`."""
    rng = random.Random(seed)
    corpus = build_corpus(rng)
    lookalikes = build_lookalikes(rng)
    return corpus, lookalikes


def dumps(records: Sequence[Record]) -> bytes:
    lines = [json.dumps(r, ensure_ascii=False, separators=(",", ":")) for r in records]
    return ("\n".join(lines) + "\n").encode("utf-8")


def generate_bytes(seed: int = SEED) -> dict[str, bytes]:
    """File name to file content, as written by `main`."""
    corpus, lookalikes = generate(seed)
    return {CORPUS_NAME: dumps(corpus), LOOKALIKES_NAME: dumps(lookalikes)}


def load(path: Path) -> list[Record]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write the seeded, labelled corpus.")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--out-dir", type=Path, default=HERE)
    args = parser.parse_args(argv)
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name, content in generate_bytes(args.seed).items():
        (args.out_dir / name).write_bytes(content)
        lines = content.count(b"\n")
        print(f"{name}: {lines} lines, {len(content):,} bytes")


if __name__ == "__main__":
    main()
