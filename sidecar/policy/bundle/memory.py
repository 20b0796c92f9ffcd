"""Giving back to the system the memory that reading a bundle freed.

Reading a bundle allocates, for a moment, a few times its size (the download, the member
texts, the parsed data). glibc keeps freed memory for reuse instead of returning it: once a
large block has been freed, it raises its mmap threshold, so the next large blocks come from
the heap, and a freed heap stays resident up to twice that threshold. Without trimming,
RSS steps up with the largest bundle seen and stays there, whether that bundle was accepted
or refused. `malloc_trim` returns the free pages of every arena; elsewhere (musl, macOS) it
does not exist and this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    name = ctypes.util.find_library("c")
    if name is None:  # pragma: no cover - every Linux has a libc
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL(name).malloc_trim
    except (OSError, AttributeError):  # pragma: no cover - not glibc
        return None
    return trim


def release_freed_memory() -> bool:
    """Return free heap pages to the system; False where the C library cannot."""
    trim = _malloc_trim()
    if trim is None:  # pragma: no cover - not glibc
        return False
    trim(0)
    return True
