"""Inline files, URLs, token ids and opaque blobs: decoded and scanned, or declared.

An image's pixels cannot be scanned for an SSN, but a "text/plain" file sent as base64, a
JSON or CSV attachment or the text layer of a PDF can, and must be: the model reads them.
What a file is comes from its bytes (magic numbers), not from the media type the app
claims, so a text file labelled `image/png` is still read as text. Whatever is left
(images, audio, other binaries, PDFs over budget, URLs the provider will fetch, earlier
uploads referred to by id, token-id arrays, encrypted blobs) is named in `unscanned`.
"""

from __future__ import annotations

import binascii
import re
import time
from collections.abc import Mapping
from typing import Any

from sidecar.classify.model import BASE64, EXTRACTED, TEXT, JsonPath
from sidecar.classify.pdftext import MAX_SECONDS, pdf_text
from sidecar.classify.walk import Extraction

IMAGE = "image"
AUDIO = "audio"
REMOTE_URL = "remote_url"
FILE_REF = "file_ref"
TOKENS = "tokens"
PDF = "pdf"
BINARY = "binary"
ENCRYPTED = "encrypted"
UNSCANNED_KINDS = (IMAGE, AUDIO, REMOTE_URL, FILE_REF, TOKENS, PDF, BINARY, ENCRYPTED)

SHORT_BINARY = 4096
"""A base64 value that decodes to no known kind is also scanned as text below this size:
plain text made only of base64 characters ("Johnsmith1") decodes to noise, and must not
slip through as a "binary"."""

_MAGIC_IMAGE = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF87a", b"GIF89a", b"BM")
_MAGIC_AUDIO = (b"ID3", b"fLaC", b"OggS", b"\xff\xfb", b"\xff\xf3", b"\xff\xf2")
_TEXT_TYPES = re.compile(
    r"text/.*|application/(json|xml|csv|x-ndjson|ld\+json|javascript|yaml|x-yaml|sql"
    r"|markdown|.*\+json|.*\+xml)"
)
_OPAQUE = re.compile(r"[A-Za-z0-9+/=_\-]+")
_FILE_ID = re.compile(r"file[-_][A-Za-z0-9_\-]{1,128}")


def sniff(raw: bytes) -> str | None:
    """`image`, `audio`, `pdf` or None, from the first bytes."""
    head = raw[:16]
    if head.startswith(_MAGIC_IMAGE) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return IMAGE
    if head[4:12] in (b"ftypheic", b"ftypavif", b"ftypmif1"):
        return IMAGE
    if head.startswith(_MAGIC_AUDIO) or (head[:4] == b"RIFF" and head[8:12] == b"WAVE"):
        return AUDIO
    if head[4:11] == b"ftypM4A":
        return AUDIO
    if head.startswith(b"%PDF-"):
        return PDF
    return None


_CONTROLS = bytes(b for b in range(32) if b not in b"\t\n\r\x0c") + b"\x7f"


def as_text(raw: bytes, media_type: str | None) -> str | None:
    """The bytes as text when they are text: a textual media type that decodes as UTF-8,
    or any bytes that decode as UTF-8 with (almost) no control characters. Counted in C
    (`bytes.translate`): files can be megabytes."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if media_type and _TEXT_TYPES.fullmatch(media_type.lower()):
        return text
    controls = len(raw) - len(raw.translate(None, _CONTROLS))
    return text if text and controls <= 0.05 * len(raw) else None


def _b64decode(payload: str) -> bytes | None:
    body = "".join(payload.split()) if any(c.isspace() for c in payload[:200]) else payload
    if "-" in body or "_" in body:
        body = body.translate(_URLSAFE)
    body += "=" * (-len(body) % 4)
    try:
        return binascii.a2b_base64(body.encode("ascii"), strict_mode=True)
    except (binascii.Error, ValueError, UnicodeEncodeError):
        return None


_URLSAFE = str.maketrans("-_", "+/")


def _decoded(out: Extraction, path: JsonPath, value: str, prefix: str, media: str | None) -> bool:
    raw = _b64decode(value[len(prefix) :])
    if raw is None:
        return False  # not base64 after all: scanned as the text it is
    kind = sniff(raw)
    if kind != PDF:
        # Text first: a text file may well start with "BM", "ID3" or "OggS"; real images
        # and audio have binary bytes in their first few.
        text = as_text(raw, media)
        if text is not None:
            out.text(path, text, BASE64, prefix)
            return True
    if kind == PDF:
        started = time.perf_counter()
        extracted = pdf_text(raw, max_seconds=min(MAX_SECONDS, out.extract_seconds))
        out.extract_seconds -= time.perf_counter() - started
        for page, page_text in enumerate(extracted.pages):
            out.text((*path, page), page_text, EXTRACTED)
        if not extracted.complete:
            out.declare(PDF, value)
        return True
    if kind is not None:
        out.declare(kind, value)
        return True
    out.declare(BINARY, value)
    if len(value) < SHORT_BINARY:
        out.text(path, value, TEXT)
    return True


def inline_content(value: Any, path: JsonPath, out: Extraction, parent: Mapping[str, Any]) -> bool:
    """A data: URL, bare base64, or an http(s) URL the provider will fetch. Anthropic's
    `data` holds base64 only next to `"type": "base64"` (next to `"type": "text"` it is the
    document's plain text, scanned as such)."""
    if not isinstance(value, str):
        return False
    if value.startswith(("https://", "http://")):
        out.text(path, value, TEXT)  # the URL itself is text: paths and queries carry data
        out.unscanned.add(REMOTE_URL)
        return True
    kind = parent.get("type")
    if value.startswith("data:"):
        header, comma, _ = value.partition(",")
        if not comma or not header.endswith(";base64"):
            return False  # a percent-encoded data: URL is text; the scanner decodes it
        return _decoded(out, path, value, header + ",", header[5:].split(";", 1)[0] or None)
    if kind in ("text", "url", "content"):
        return False
    media_type = parent.get("media_type") or parent.get("mime_type")
    return _decoded(out, path, value, "", media_type if isinstance(media_type, str) else None)


def remote_url(value: Any, path: JsonPath, out: Extraction, parent: Mapping[str, Any]) -> bool:
    """A URL the provider fetches (document and MCP server URLs): scanned as text, and
    declared, since what it points to is never seen here."""
    if isinstance(value, str) and value.startswith(("https://", "http://")):
        out.text(path, value, TEXT)
        out.unscanned.add(REMOTE_URL)
        return True
    return False


def file_ref(value: Any, path: JsonPath, out: Extraction, parent: Mapping[str, Any]) -> bool:
    """An id of an earlier upload: its content never passes through here."""
    if isinstance(value, str) and _FILE_ID.fullmatch(value):
        out.declare(FILE_REF, value)
        return True
    return False


def encrypted(value: Any, path: JsonPath, out: Extraction, parent: Mapping[str, Any]) -> bool:
    """An encrypted blob (redacted thinking, encrypted search results): base64-shaped only;
    anything else in that field is scanned like text."""
    if isinstance(value, str) and _OPAQUE.fullmatch(value):
        out.declare(ENCRYPTED, value)
        return True
    return False


def token_ids(value: Any, path: JsonPath, out: Extraction, parent: Mapping[str, Any]) -> bool:
    """Token ids instead of text (embeddings and completions accept them): declared."""
    if not isinstance(value, list) or not value:
        return False
    if all(isinstance(t, int) and not isinstance(t, bool) for t in value) or all(
        isinstance(row, list) and all(isinstance(t, int) and not isinstance(t, bool) for t in row)
        for row in value
    ):
        out.declare(TOKENS, value)
        return True
    return False
