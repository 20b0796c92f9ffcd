"""Checksum and structure validators: they keep false positives down.

Where python-stdnum has the algorithm it is used (Luhn, IBAN mod-97 with per-country
lengths); the rest are small rules from the issuing bodies (SSA for SSNs, the card
networks' IIN ranges, RFC 7519 for JWTs).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import re
from datetime import date
from importlib.resources import files
from itertools import pairwise

import orjson
from stdnum import bic as _bic
from stdnum import luhn as _luhn
from stdnum import mac as _mac
from stdnum.us import itin as _itin
from stdnum.us import rtn as _rtn
from stdnum.us import ssn as _ssn

# Rules for secret values live in their own module; validators are looked up here by name.
from sidecar.classify.secret_values import aws_secret_key as aws_secret_key
from sidecar.classify.secret_values import code_reference as code_reference
from sidecar.classify.secret_values import high_entropy as high_entropy
from sidecar.classify.secret_values import looks_like_words as looks_like_words
from sidecar.classify.secret_values import not_placeholder as not_placeholder
from sidecar.classify.secret_values import not_published_sample as not_published_sample
from sidecar.classify.secret_values import openai_key as openai_key
from sidecar.classify.secret_values import shannon_entropy as shannon_entropy


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


FAKE_SSNS = frozenset({"123456789"})
"""Beyond stdnum's list of numbers the SSA voided: the one every form uses as an example."""


def ssn(value: str) -> bool:
    """SSA rules via stdnum: area not 000, 666 or 9xx; group not 00; serial not 0000; not a
    number voided after it appeared in advertising."""
    d = digits(value)
    return len(d) == 9 and d not in FAKE_SSNS and bool(_ssn.is_valid(d))


def placeholder_digits(value: str) -> bool:
    """One digit repeated ("00000000") or a run counting up or down ("12345678",
    "987654"): what documentation and forms put where a record number goes."""
    d = digits(value)
    if len(set(d)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(d)}
    return steps in ({1}, {9})


def uniform_separators(value: str) -> bool:
    seps = {c for c in value if not c.isdigit()}
    return len(seps) <= 1


_IIN_RANGES: tuple[tuple[int, int, int, frozenset[int]], ...] = (
    # (prefix length, low, high, card lengths), from the networks' published IIN ranges
    (1, 4, 4, frozenset({13, 16, 19})),  # Visa
    (2, 51, 55, frozenset({16})),  # Mastercard
    (4, 2221, 2720, frozenset({16})),  # Mastercard 2-series
    (2, 34, 34, frozenset({15})),  # American Express
    (2, 37, 37, frozenset({15})),
    (4, 6011, 6011, frozenset(range(16, 20))),  # Discover
    (2, 65, 65, frozenset(range(16, 20))),
    (3, 644, 649, frozenset(range(16, 20))),
    (4, 3528, 3589, frozenset(range(16, 20))),  # JCB
    (2, 36, 36, frozenset(range(14, 20))),  # Diners Club International
    (2, 38, 39, frozenset(range(14, 20))),
    (3, 300, 305, frozenset(range(14, 20))),
    (2, 62, 62, frozenset(range(16, 20))),  # UnionPay
    (2, 50, 50, frozenset(range(12, 20))),  # Maestro
    (2, 56, 69, frozenset(range(12, 20))),
)


_DROP_SEPARATORS = str.maketrans("", "", " -.")
_DROP_DIGITS = str.maketrans("", "", "0123456789")


def _lengths_by_prefix() -> tuple[frozenset[int], ...]:
    """For every four-digit prefix, the card lengths some network issues under it: the IIN
    ranges resolved once, so a candidate costs one tuple index instead of a range walk."""
    none: frozenset[int] = frozenset()
    table = [none] * 10000
    shared: dict[frozenset[int], frozenset[int]] = {none: none}  # a handful of distinct sets
    for n, lo, hi, lengths in _IIN_RANGES:
        scale = 10 ** (4 - n)
        for prefix in range(lo * scale, (hi + 1) * scale):
            merged = table[prefix] | lengths
            table[prefix] = shared.setdefault(merged, merged)
    return tuple(table)


_PAN_LENGTHS = _lengths_by_prefix()


def pan(value: str) -> bool:
    """Card number: consistent separators, an IIN range of a card network with a length
    that network issues (a 12-digit number starting 51 is no Mastercard), and Luhn. The
    cheap checks come first: most candidates in text are other numbers."""
    d = value.translate(_DROP_SEPARATORS)
    if not 12 <= len(d) <= 19 or not (d.isascii() and d.isdigit()):
        return False
    if len(set(value.translate(_DROP_DIGITS))) > 1:
        return False  # mixed separators: "2024-01-15 10.30" is no card
    if len(d) not in _PAN_LENGTHS[int(d[:4])]:
        return False
    if len(set(d)) == 1:
        return False
    return bool(_luhn.is_valid(d))


def _iban_lengths() -> dict[str, int]:
    """Country -> IBAN length, from python-stdnum's copy of the SWIFT IBAN registry.
    Read once: stdnum's own is_valid looks the format up per call (~25 µs)."""
    lengths: dict[str, int] = {}
    registry = files("stdnum").joinpath("iban.dat").read_text(encoding="utf-8")
    for line in registry.splitlines():
        if not line or line.startswith("#") or 'bban="' not in line:
            continue
        bban = line.split('bban="', 1)[1].split('"', 1)[0]
        lengths[line[:2]] = 4 + sum(int(n) for n in re.findall(r"(\d+)!", bban))
    return lengths


IBAN_LENGTHS = _iban_lengths()
_IBAN_DIGITS = str.maketrans({c: str(int(c, 36)) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"})
"""ISO 13616's letters as numbers (A = 10 … Z = 35) for the mod-97 check."""


def iban(value: str) -> bool:
    """ISO 13616: the country's registered length, then mod-97 over the rearranged digits."""
    compact = value.replace(" ", "").upper()
    if IBAN_LENGTHS.get(compact[:2]) != len(compact) or not compact.isalnum():
        return False
    return int((compact[4:] + compact[:4]).translate(_IBAN_DIGITS)) % 97 == 1


def starts_with_iban(value: str) -> bool:
    """Whether the value begins with a valid IBAN ("ES72 0377 … 4305" followed by " 192" of
    the next number is still one)."""
    compact = value.replace(" ", "").upper()
    length = IBAN_LENGTHS.get(compact[:2])
    return length is not None and len(compact) >= length and iban(compact[:length])


_TOKEN_USERS = ("ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_", "glpat-")
"""A token as the user part of `https://TOKEN@github.com/…` is no mailbox: the token's own
detector reports it."""


def email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    if not local or local[0] == "." or local[-1] == "." or ".." in local:
        return False
    if local.startswith(_TOKEN_USERS):
        return False
    labels = domain.split(".")
    return all(lab and lab[0] != "-" and lab[-1] != "-" for lab in labels) and len(labels) >= 2


def phone(value: str) -> bool:
    d = digits(value)
    if value.startswith("+"):
        return 8 <= len(d) <= 15
    if len(d) == 11 and d[0] == "1":
        d = d[1:]
    return len(d) == 10 and d[0] not in "01" and d[3] not in "01"


_NOT_PERSONAL_V4 = (
    ipaddress.ip_network("192.0.2.0/24"),  # RFC 5737 documentation ranges
    ipaddress.ip_network("198.51.100.0/24"),
    ipaddress.ip_network("203.0.113.0/24"),
)
_NOT_PERSONAL_V6 = ipaddress.ip_network("2001:db8::/32")


def ip_address(value: str) -> bool:
    """A routable or private host address. Loopback, unspecified, multicast, reserved and
    documentation addresses identify nobody, so they do not count; nor do IPv4 link-local
    ones (169.254/16, picked at random by a host without DHCP), nor an IPv4 address ending
    in .0.0, which names a network or is a version number. An IPv6 link-local address
    does (fe80::a00:27ff:fe4e:66a1%eth1): its interface id is often the MAC address. An
    IPv4-mapped address (::ffff:84.23.119.5) is judged as the IPv4 address it carries."""
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    if addr.is_loopback or addr.is_unspecified or addr.is_multicast or addr.is_reserved:
        return False
    if isinstance(addr, ipaddress.IPv4Address):
        if value.endswith(".0.0"):
            return False  # a network (10.20.0.0) or a version (19.3.0.0), not a host
        return not addr.is_link_local and not any(addr in net for net in _NOT_PERSONAL_V4)
    return addr not in _NOT_PERSONAL_V6


def aws_access_key(value: str) -> bool:
    return not value.endswith("EXAMPLE")


def jwt(value: str) -> bool:
    """RFC 7519: a base64url JSON header naming its algorithm; not a published sample."""
    if not not_published_sample(value):
        return False
    header = value.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        parsed = orjson.loads(decoded)
    except (binascii.Error, ValueError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("alg"), str)


_ITIN_GROUPS_SINCE_2011 = frozenset(f"{g:02d}" for g in range(50, 66))
"""The IRS added groups 50-65 to the ITIN range in 2011 (Publication 1915); python-stdnum
still knows only 70-88, 90-92 and 94-99."""


def itin(value: str) -> bool:
    """US ITIN: 9 digits, area 9xx, group 50-65, 70-88, 90-92 or 94-99."""
    d = digits(value)
    if len(d) == 9 and d[0] == "9" and d[3:5] in _ITIN_GROUPS_SINCE_2011:
        return True
    return bool(_itin.is_valid(d))


_ABA_PREFIXES = frozenset(f"{p:02d}" for p in (*range(0, 13), *range(21, 33), *range(61, 73), 80))
"""First two digits of an ABA routing number: 00-12 a Federal Reserve district, 21-32
thrift institutions, 61-72 electronic transfers, 80 traveller's cheques."""


def aba_routing(value: str) -> bool:
    """ABA routing number: a Federal Reserve prefix and the 3-7-1 weighted checksum
    (stdnum's RTN, which checks only the sum)."""
    d = digits(value)
    return len(d) == 9 and d != "000000000" and d[:2] in _ABA_PREFIXES and bool(_rtn.is_valid(d))


def bic(value: str) -> bool:
    return bool(_bic.is_valid(value))


_DOC_MAC = ("00005e0053", "01005e9000", "33330001")
"""RFC 7042's documentation ranges (00-00-5E-00-53-xx unicast, 01-00-5E-90-10-xx multicast,
33-33-00-01-00-xx IPv6 multicast): for examples, like 192.0.2.0/24."""


def mac_address(value: str) -> bool:
    """A unicast hardware address; all-zero and broadcast addresses identify nothing."""
    hexdigits = "".join(c for c in value if c not in ":-.").lower()
    if hexdigits in ("000000000000", "ffffffffffff") or hexdigits.startswith(_DOC_MAC):
        return False
    return bool(_mac.is_valid(value if ":" in value or "-" in value else hexdigits))


EXAMPLE_NPIS = frozenset({"1234567893"})
"""The number CMS uses to show the NPI check digit: everyone's example, nobody's NPI."""


def npi(value: str) -> bool:
    """US National Provider Identifier: Luhn over the ISO prefix 80840 plus the 10 digits."""
    d = digits(value)
    if d in EXAMPLE_NPIS:
        return False
    return len(d) == 10 and d[0] in "12" and bool(_luhn.is_valid("80840" + d))


EXAMPLE_NHS_NUMBERS = frozenset({"9434765919"})
"""The number NHS Digital's own documentation uses."""


def nhs_number(value: str) -> bool:
    """NHS number (England, Wales, Isle of Man): ten digits, the last a mod-11 check over
    the first nine weighted 10 down to 2 (a remainder giving 10 is never issued)."""
    d = digits(value)
    if len(d) != 10 or len(set(d)) == 1 or d in EXAMPLE_NHS_NUMBERS:
        return False
    check = 11 - sum(int(c) * w for c, w in zip(d[:9], range(10, 1, -1), strict=True)) % 11
    return (0 if check == 11 else check) == int(d[9])


_DEA_FIRST = frozenset("ABCDEFGHJKLMPRSTUX")


def dea(value: str) -> bool:
    """DEA registration: 2 letters, 7 digits; (d1+d3+d5) + 2(d2+d4+d6) ends in d7."""
    if len(value) != 9 or value[0] not in _DEA_FIRST or not value[2:].isdigit():
        return False
    d = [int(c) for c in value[2:]]
    return (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


_MBI_LETTERS = frozenset("ACDEFGHJKMNPQRTUVWXY")


EXAMPLE_MBIS = frozenset({"1EG4TE5MK73"})
"""The MBI CMS prints in its own format guide."""


def mbi(value: str) -> bool:
    """Medicare Beneficiary Identifier, CMS format C A AN N A AN N A A N N (no S L O I B Z)."""
    v = value.replace("-", "").upper()
    if len(v) != 11 or v in EXAMPLE_MBIS:
        return False
    kinds = "CAXNAXNAANN"  # C: 1-9, A: letter, N: digit, X: letter or digit
    for ch, kind in zip(v, kinds, strict=True):
        if kind == "C" and not ("1" <= ch <= "9"):
            return False
        if kind == "N" and not ch.isdigit():
            return False
        if kind == "A" and ch not in _MBI_LETTERS:
            return False
        if kind == "X" and not (ch.isdigit() or ch in _MBI_LETTERS):
            return False
    return True


_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}


def _full_year(year: int, digits_given: int, today: date) -> int:
    """A two-digit year of a birth date: this century unless that is in the future."""
    if digits_given != 2:
        return year
    return 2000 + year if 2000 + year <= today.year else 1900 + year


def calendar_date(value: str) -> bool:
    """A real date between 1900 and today (a date of birth cannot be in the future); a
    two-digit year (`3/28/73`) is read as the latest such year not in the future."""
    parts = [
        p
        for p in value.replace(",", " ")
        .replace("/", " ")
        .replace("-", " ")
        .replace(".", " ")
        .split()
        if p
    ]
    today = date.today()
    try:
        if len(parts) != 3:
            return False
        month_names = [p for p in parts if p[:3].lower() in _MONTHS and not p.isdigit()]
        if month_names:
            month = _MONTHS[month_names[0][:3].lower()]
            nums = [int(p) for p in parts if p.isdigit()]
            day, year = (nums[0], nums[1]) if nums[0] <= 31 else (nums[1], nums[0])
        elif len(parts[0]) == 4:
            year, month, day = int(parts[0]), int(parts[1]), int(parts[2])
        else:
            month, day = int(parts[0]), int(parts[1])
            year = _full_year(int(parts[2]), len(parts[2]), today)
            if month > 12:  # day-first (European) order
                month, day = day, month
        born = date(year, month, day)
    except (ValueError, IndexError):
        return False
    return date(1900, 1, 1) <= born <= today


def track_data(value: str) -> bool:
    """Magnetic-stripe track 1 or 2: the embedded account number must be a valid card."""
    start = 2 if value.startswith("%B") else 1
    end = start
    while end < len(value) and value[end].isdigit():
        end += 1
    return pan(value[start:end])


def luhn(value: str) -> bool:
    """Plain Luhn over the digits (for custom identifiers that use it)."""
    d = digits(value)
    return len(d) >= 2 and bool(_luhn.is_valid(d))
