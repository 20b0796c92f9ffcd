"""How long a detector pattern's matches can be, read from Python's own regex parser.

Nothing is matched with it: the parse only tells the shortest and longest match, which the
context gate needs for its reach and the engine for patterns of one fixed length, whose
start is their end minus that length and needs no start-of-match scan.
"""

from __future__ import annotations

import re
from collections.abc import Iterable


def width(pattern: str, caseless: bool = False) -> tuple[int, int | None] | None:
    """(shortest, longest) match of `pattern` in bytes as Hyperscan reads it (one byte per
    atom: the detector databases are not UTF-8 mode), longest None when unbounded; None when
    Python cannot parse the pattern (Hyperscan syntax it lacks), which callers treat as
    unknown."""
    try:
        flags = re.IGNORECASE if caseless else 0
        low, high = re._parser.parse(pattern.encode(), flags).getwidth()  # type: ignore[attr-defined]
    except re.error:
        return None
    return int(low), None if high >= re._constants.MAXREPEAT else int(high)  # type: ignore[attr-defined]


def fixed_width(pattern: str, caseless: bool = False) -> int | None:
    """The length of every match of `pattern`, or None when matches differ in length."""
    span = width(pattern, caseless)
    return span[0] if span is not None and span[0] == span[1] and span[0] > 0 else None


def longest(patterns: Iterable[str], caseless: bool = False) -> int | None:
    """The longest match of any of `patterns` in bytes, or None when one is unbounded or
    unknown."""
    widest = 0
    for pattern in patterns:
        span = width(pattern, caseless)
        if span is None or span[1] is None:
            return None
        widest = max(widest, span[1])
    return widest
