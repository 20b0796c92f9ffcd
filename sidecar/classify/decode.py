"""Decoding of base64 and URL-encoded runs, so a value cannot hide behind an encoding.

Only decodings that look like text are scanned: binary (images, compressed data) is left
alone. Sizes are bounded by the caller; this module only decodes.
"""

from __future__ import annotations

import binascii
from collections.abc import Iterator
from urllib.parse import unquote

MIN_DECODED = 8


def _texty(data: bytes) -> str | None:
    # "replace" and a look for U+FFFD instead of catching UnicodeDecodeError: most runs
    # that reach here (key material, hashes) decode to binary, and an exception costs more
    # than the rest of the check.
    text = data.decode("utf-8", "replace")
    if "\ufffd" in text:
        return None
    printable = sum(c.isprintable() or c in "\n\r\t" for c in text)
    return text if len(text) >= MIN_DECODED and printable >= 0.95 * len(text) else None


def decode_base64(run: str) -> str | None:
    """Standard or URL-safe base64, padded or not; None unless it decodes to text."""
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    if "-" in padded or "_" in padded:
        padded = padded.translate(_URLSAFE)
    try:  # binascii in strict mode: the checks of base64.b64decode(validate=True), in C
        raw = binascii.a2b_base64(padded.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError):
        return None
    return _texty(raw)


_URLSAFE = str.maketrans("-_", "+/")


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
