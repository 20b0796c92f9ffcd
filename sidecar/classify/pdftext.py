"""Text of a PDF the app sends inline, within a budget, for the scanner.

Models read a PDF's text layer, its annotations and form fields (and see its pages as
images), so all the text is scanned: the pages' text, annotation contents and form field
values. pypdf is pure Python, and this runs on the event loop: pages are read until the
page or time budget is spent. A PDF cut short, one pypdf cannot read (encrypted, damaged),
one with no pages, or one with an image on a page or a page with next to no text (a scanned
form, a photo of a card) is declared unscanned rather than waved through: what is in its
pictures was never read.
"""

from __future__ import annotations

import io
import logging
import time
from dataclasses import dataclass
from typing import Any

MAX_PDF_BYTES = 8 << 20
MAX_PAGES = 100
MAX_SECONDS = 0.5
MIN_PAGE_TEXT = 8
"""A page with less text than this may well be a scanned image."""

logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings quote document content


@dataclass(frozen=True, slots=True)
class PdfText:
    pages: list[str]
    complete: bool
    """False when a budget cut extraction short, the file could not be read, or part of it
    (an image) holds content no text extraction reads."""


def _annotations(page: Any) -> list[str]:
    out = []
    for ref in page.get("/Annots") or []:
        annot = ref.get_object()
        for key in ("/Contents", "/T", "/V", "/TU"):
            value = annot.get(key)
            if isinstance(value, str) and value:
                out.append(value)
    return out


def _has_image(page: Any) -> bool:
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    if xobjects is None:
        return False
    return any(
        ref.get_object().get("/Subtype") == "/Image" for ref in xobjects.get_object().values()
    )


def pdf_text(
    data: bytes,
    *,
    max_bytes: int = MAX_PDF_BYTES,
    max_pages: int = MAX_PAGES,
    max_seconds: float = MAX_SECONDS,
) -> PdfText:
    if len(data) > max_bytes or max_seconds <= 0:
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
        complete = 0 < count <= max_pages
        for index in range(min(count, max_pages)):
            page = reader.pages[index]
            text = page.extract_text() or ""
            pages.append("\n".join([text, *_annotations(page)]))
            if len("".join(text.split())) < MIN_PAGE_TEXT or _has_image(page):
                complete = False
            if time.perf_counter() - started > max_seconds and index + 1 < count:
                return PdfText(pages, False)
        fields = reader.get_fields() or {}
        values = [v.get("/V") for v in fields.values()]
        pages.extend(v for v in values if isinstance(v, str) and v)
    except (PyPdfError, ValueError, TypeError, KeyError, AttributeError, IndexError, OSError):
        return PdfText(pages, False)
    except RecursionError:  # a crafted object graph
        return PdfText(pages, False)
    return PdfText(pages, complete)
