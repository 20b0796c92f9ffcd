"""Text of a PDF the app sends inline, within a budget, for the scanner.

Models read a PDF's text layer, so that is what has to be scanned. pypdf is pure Python,
and this runs on the event loop: pages are read until the page or time budget is spent,
and a PDF cut short (or one pypdf cannot read: encrypted, damaged, or with a page that
has next to no text, which may be a scanned image) is declared unscanned rather than
waved through.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass

MAX_PDF_BYTES = 8 << 20
MAX_PAGES = 100
MAX_SECONDS = 0.5
MIN_PAGE_TEXT = 8
"""A page with less text than this may well be a scanned image (a faxed form, a photo of
a card): its content was not read, so the PDF counts as not completely scanned."""

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings quote document content


@dataclass(frozen=True, slots=True)
class PdfText:
    pages: list[str]
    complete: bool
    """False when a budget cut extraction short or the file could not be read."""


def pdf_text(
    data: bytes,
    *,
    max_bytes: int = MAX_PDF_BYTES,
    max_pages: int = MAX_PAGES,
    max_seconds: float = MAX_SECONDS,
) -> PdfText:
    if len(data) > max_bytes:
        return PdfText([], False)
    from pypdf import PdfReader  # imported on first use: start-up need not pay for it
    from pypdf.errors import PyPdfError

    started = time.perf_counter()
    pages: list[str] = []
    try:
        reader = PdfReader(io.BytesIO(data))
        if reader.is_encrypted:
            return PdfText([], False)
        count = len(reader.pages)
        imageless = True
        for index in range(min(count, max_pages)):
            text = reader.pages[index].extract_text() or ""
            pages.append(text)
            imageless = imageless and len("".join(text.split())) >= MIN_PAGE_TEXT
            if time.perf_counter() - started > max_seconds and index + 1 < count:
                return PdfText(pages, False)
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError):
        return PdfText(pages, False)
    except RecursionError:  # a crafted object graph
        return PdfText(pages, False)
    return PdfText(pages, count <= max_pages and imageless)
