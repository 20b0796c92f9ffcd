"""Card data: account numbers, magnetic-stripe tracks, and CVV/expiry next to a card."""

from __future__ import annotations

from itertools import pairwise

from sidecar.classify import validators as v
from sidecar.classify.detectors import examples
from sidecar.classify.detectors.base import Detector, trailing_digits

_SEPARATORS = " -."


def _next_group(text: str, start: int, end: int) -> bool:
    """Whether a shorter match text[start:end] is the head of a longer number: the same
    separator as inside the match, then three digits or more that do not open a number of
    another shape. "4075 1495 0671 1598", whose first twelve digits may pass Luhn by chance
    (one in ten) while the whole fails, goes on; so does the 4-4-4-4-3 form of a 19-digit
    number. "3407 254128 88548 5229-8946-6761-2881" is two cards, and one or two digits
    after a card (an expiry's month) are no part of it."""
    separator = text[end : end + 1]
    if separator not in _SEPARATORS or not separator:
        return False
    if separator not in text[start:end]:
        return False  # "4111111111111111 1234": no separator inside, another number after
    at = end
    while at < len(text) and at < end + 2 and text[at] == separator:
        at += 1
    run = at
    while run < len(text) and text[run].isdigit():
        run += 1
    if run - at < 3:
        return False
    after = text[run : run + 2]
    return not (
        len(after) == 2 and after[0] in _SEPARATORS and after[0] != separator and after[1].isdigit()
    )


def _digit_groups(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """(start, length) of each run of digits in text[start:end]."""
    groups: list[tuple[int, int]] = []
    at = start
    while at < end:
        if text[at].isdigit():
            run = at
            while run < end and text[run].isdigit():
                run += 1
            groups.append((at, run - at))
            at = run
        else:
            at += 1
    return groups


def _later_group_starts(text: str, start: int, end: int) -> list[int]:
    """Where a card number may begin when the leftmost match fails: at a later digit group,
    unless the whole run is itself shaped like one number (at most 19 digits in groups of
    one size, the last maybe shorter, as in 4-4-4-4-3), whose tail is no card of its own.
    "1984 4111 1111 1111 1111" (20 digits) and "1984 4111111111111111" (4 then 16) start
    again at their second group; "6564 5551 7775 5934" does not."""
    groups = _digit_groups(text, start, end)
    sizes = [n for _, n in groups]
    uniform = len(set(sizes[:-1])) <= 1 and sizes[-1] <= sizes[0]
    if sum(sizes) <= 19 and uniform:
        return []
    starts: list[int] = []
    left = sum(sizes)
    for (_, size), (later, _) in pairwise(groups):
        left -= size
        if left < 12:  # too few digits from here on for a card
            break
        starts.append(later)
    return starts


PAN = Detector(
    "pci.pan",
    (r"\b[0-9]([ \-.]{1,2}[0-9]|[0-9]){11,18}\b",),
    validator=v.pan,
    continues=_next_group,
    later_starts=_later_group_starts,
    confidence=0.95,
    # a published test number near documentation words (the same paragraph)
    veto=examples.DOCUMENTATION_WORDS,
    veto_window=160,
    veto_after=120,
    veto_if=examples.published_test_card,
)

TRACK_DATA = Detector(
    "pci.track_data",
    # Through the end sentinel `?` when it is there: the whole track is the finding.
    (r"%B[0-9]{12,19}\^[^\^\n]{2,26}\^[0-9]{4}[0-9]*\??", r";[0-9]{12,19}=[0-9]{4}[0-9]*\?"),
    validator=v.track_data,
    confidence=0.99,
)

CVV = Detector(
    "pci.cvv",
    (r"\b(cvv2?|cvc2?|cid|csc|security code|card verification)[ :#=\-]{0,3}[0-9]{3,4}\b",),
    narrow=trailing_digits,
    near=("pci.pan",),
    near_window=120,
    confidence=0.9,
    caseless=True,
)

EXPIRY = Detector(
    "pci.expiry",
    (
        r"\b(exp\.?|expires|expiry|expiration|exp\.? date|expiry date|expiration date"
        r"|expiring|expires on|expiring on|valid thru|valid through|good thru)"
        r"[ :=\-]{0,3}(0[1-9]|1[0-2]) ?/ ?([0-9]{2}|20[0-9]{2})\b",
    ),
    narrow=trailing_digits,
    near=("pci.pan",),
    near_window=120,
    confidence=0.9,
    caseless=True,
)

# Shapes whose digits are not a card even when they pass Luhn: they win overlap resolution
# over the number inside them and are then dropped (see Detector.suppress).
IDENTIFIER_DIGITS = Detector(
    "suppress.identifier",
    (r"\b[A-Za-z]{2,}-[0-9]{12,19}(-[0-9A-Za-z]+)?\b",),  # ORD-4532015112830366-01
    suppress=True,
    confidence=1.0,
)
IBAN_SHAPED = Detector(
    "suppress.iban_shaped",
    # An IBAN failing mod-97, its BBAN digits only or with a bank code (GB53 BARC 6690 …)
    (r"\b[A-Z]{2}[0-9]{2} ?[A-Z0-9]{4}( ?[0-9]{4}){2,7}( ?[0-9]{1,4})?\b",),
    # Not when a valid IBAN begins it: that one must win, not be swallowed with the digits
    # of whatever number follows it.
    validator=lambda s: not v.starts_with_iban(s),
    suppress=True,
    confidence=0.5,
)

DETECTORS = (PAN, TRACK_DATA, CVV, EXPIRY, IDENTIFIER_DIGITS, IBAN_SHAPED)
