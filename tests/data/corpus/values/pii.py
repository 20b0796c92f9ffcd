"""Valid personal identifiers: e-mail, phone, SSN/ITIN, passport, licence, birth date,
IBAN/BIC/ABA, IP and MAC addresses."""

from __future__ import annotations

import ipaddress
import random
import string
from collections.abc import Callable

from tests.data.corpus.common import (
    DOMAINS,
    FIRST_NAMES,
    LAST_NAMES,
    MONTHS,
    ascii_fold,
    group,
    iban_check_digits,
    rand_digits,
    rand_str,
)


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
