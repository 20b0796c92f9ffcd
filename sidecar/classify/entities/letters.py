"""Character classes for Python `re` that name every upper- or lower-case letter of the
scripts a name or a street is written in (Latin with its accents, Greek, Cyrillic).

`re` has no `\\p{Lu}`, and `[A-Z]` misses "Łódź", "Çelik" and "Ñuñoa": the classes are built
once from `str.isupper` / `str.islower` over those blocks, as ranges.
"""

from __future__ import annotations

from collections.abc import Callable

_BLOCKS = ((0x41, 0x250), (0x370, 0x530), (0x1E00, 0x1F00))
"""Basic Latin to Latin Extended-B, Greek and Cyrillic, Latin Extended Additional."""


def _ranges(keep: Callable[[str], bool]) -> str:
    out: list[str] = []
    for lo, hi in _BLOCKS:
        start: int | None = None
        for code in range(lo, hi + 1):
            inside = code < hi and chr(code).isalpha() and keep(chr(code))
            if inside and start is None:
                start = code
            elif not inside and start is not None:
                last = code - 1
                out.append(chr(start) if start == last else f"{chr(start)}-{chr(last)}")
                start = None
    return "".join(out)


UPPER = _ranges(str.isupper)
"""Upper-case letters, as the inside of a `[...]` class."""
LOWER = _ranges(str.islower)
"""Lower-case letters (with ß, which has no upper case of its own), as the inside of `[...]`."""
