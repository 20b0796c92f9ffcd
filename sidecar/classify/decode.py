"""Decoding of base64 and URL-encoded runs, so a value cannot hide behind an encoding.

Only decodings that look like text are scanned: binary (images, compressed data) is left
alone. Sizes are bounded by the caller; this module only decodes.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from urllib.parse import unquote

MIN_DECODED = 8
RUN_MIN = 12
"""Shortest base64 run worth decoding."""

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/_-"
_RUNS = bytes(0x61 if c in _B64 else 0x20 for c in range(256))
"""Every base64 byte (standard and URL-safe alphabets) becomes 'a', every other one ' '."""
_MARKS = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/_")
_LONG = b"a" * RUN_MIN


def _texty(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return text if len(text) >= MIN_DECODED and printable >= 0.95 * len(text) else None


def base64_runs(data: bytes) -> list[int]:
    """Starts of the runs of at least twelve base64 bytes that have an upper-case letter, a
    digit, '+', '/' or '_' after their first byte (ordinary words have none), excluding runs
    right after '=' (a `key=value` value is the secret detectors' business).

    A regex engine would run a state machine over every byte; this is two C passes (one
    translate, then a substring search that jumps from run to run), about four times cheaper
    than the same trigger inside the Hyperscan database, where it cost half the scan."""
    marked = data.translate(_RUNS)
    out: list[int] = []
    at = marked.find(_LONG)
    while at >= 0:
        end = marked.find(b" ", at + RUN_MIN)
        if (at == 0 or data[at - 1] != 0x3D) and not _MARKS.isdisjoint(data[at + 1 : at + RUN_MIN]):
            out.append(at)
        if end < 0:
            break
        at = marked.find(_LONG, end)
    return out


def decode_base64(run: str) -> str | None:
    """Standard or URL-safe base64, padded or not; None unless it decodes to text."""
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        if "-" in padded or "_" in padded:
            raw = base64.urlsafe_b64decode(padded)
        else:
            raw = base64.b64decode(padded, validate=True)
    except (binascii.Error, ValueError):
        return None
    return _texty(raw)


def percent_tokens(text: str) -> Iterator[tuple[int, int]]:
    """Whitespace-delimited tokens that contain a percent escape, in one left-to-right pass."""
    pos = text.find("%")
    while pos != -1:
        start = pos
        while start > 0 and not text[start - 1].isspace():
            start -= 1
        end = pos
        while end < len(text) and not text[end].isspace():
            end += 1
        yield start, end
        pos = text.find("%", end)


_UNDECODABLE = {0xDC00 + b: f"%{b:02X}" for b in range(0x80, 0x100)}
"""The lone surrogates `surrogateescape` leaves for bytes that are no UTF-8, back to the
escape they came from."""


def decode_percent(token: str) -> str | None:
    """URL-decoded text, or None when nothing changed. An escape that does not decode to
    UTF-8 stays as it was: "%B4111…" in magnetic-stripe data is no encoding, and turning it
    into U+FFFD would hide the track's own shape from the detectors."""
    decoded = unquote(token.replace("+", " "), errors="surrogateescape")
    decoded = decoded.translate(_UNDECODABLE)
    return decoded if decoded.upper() != token.upper() and len(decoded) >= 6 else None
