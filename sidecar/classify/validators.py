"""Checksum and structure validators: they keep false positives down.

Where python-stdnum has the algorithm it is used (Luhn, IBAN mod-97 with per-country
lengths); the rest are small rules from the issuing bodies (SSA for SSNs, the card
networks' IIN ranges, RFC 7519 for JWTs).
"""

from __future__ import annotations

import base64
import binascii
import ipaddress

import orjson
from stdnum import iban as _iban
from stdnum import luhn as _luhn


def digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def ssn(value: str) -> bool:
    """SSA rules: area not 000, 666 or 9xx; group not 00; serial not 0000; and not the
    numbers the SSA voided after they appeared in advertising."""
    d = digits(value)
    if len(d) != 9:
        return False
    area, group, serial = d[:3], d[3:5], d[5:]
    if area in ("000", "666") or area[0] == "9" or group == "00" or serial == "0000":
        return False
    return d not in ("078051120", "219099999", "123456789")


def _same_separators(value: str) -> bool:
    seps = {c for c in value if not c.isdigit()}
    return len(seps) <= 1


_IIN_PREFIXES: tuple[tuple[int, int, int], ...] = (
    # (prefix length, low, high) inclusive
    (1, 4, 4),  # Visa
    (2, 51, 55),  # Mastercard
    (4, 2221, 2720),  # Mastercard 2-series
    (2, 34, 34),  # Amex
    (2, 37, 37),
    (4, 6011, 6011),  # Discover
    (2, 65, 65),
    (3, 644, 649),
    (4, 3528, 3589),  # JCB
    (2, 36, 36),  # Diners
    (2, 38, 39),
    (3, 300, 305),
    (2, 62, 62),  # UnionPay
    (2, 50, 50),  # Maestro
    (2, 56, 69),
)


def pan(value: str) -> bool:
    """Card number: 12-19 digits, consistent separators, a known IIN range, and Luhn."""
    d = digits(value)
    if not 12 <= len(d) <= 19 or not _same_separators(value):
        return False
    if not any(lo <= int(d[:n]) <= hi for n, lo, hi in _IIN_PREFIXES):
        return False
    if len(set(d)) == 1:
        return False
    return bool(_luhn.is_valid(d))


def iban(value: str) -> bool:
    return bool(_iban.is_valid(value.replace(" ", "")))


def email(value: str) -> bool:
    local, _, domain = value.rpartition("@")
    if not local or local[0] == "." or local[-1] == "." or ".." in local:
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
    """A routable or private host address. Loopback, unspecified, multicast, link-local,
    reserved and documentation addresses identify nobody, so they do not count."""
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    if addr.is_loopback or addr.is_unspecified or addr.is_multicast or addr.is_link_local:
        return False
    if addr.is_reserved:
        return False
    if isinstance(addr, ipaddress.IPv4Address):
        return not any(addr in net for net in _NOT_PERSONAL_V4)
    return addr not in _NOT_PERSONAL_V6


def aws_access_key(value: str) -> bool:
    return not value.endswith("EXAMPLE")


def jwt(value: str) -> bool:
    """RFC 7519: a base64url JSON header naming its algorithm."""
    header = value.split(".", 1)[0]
    try:
        decoded = base64.urlsafe_b64decode(header + "=" * (-len(header) % 4))
        parsed = orjson.loads(decoded)
    except (binascii.Error, ValueError):
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("alg"), str)
