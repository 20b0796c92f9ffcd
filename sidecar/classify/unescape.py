"""JSON escapes decoded before scanning, with a map back to the escaped text.

Tool-call arguments are JSON text inside a JSON string: `"john\\u0040example.com"` is an
e-mail address to the model, and `\\n123-45-6789` is a newline and an SSN. A scanner that
reads the escaped text sees neither. So the text is decoded (repeatedly, for JSON inside
JSON), scanned, and each finding is mapped back to the escapes it came from, which is what
redaction rewrites (`jsontext.mask_json` widens a span to whole escapes).
"""

from __future__ import annotations

import unicodedata
from bisect import bisect_right
from dataclasses import dataclass
from typing import Protocol

_SIMPLE = {"n": "\n", "t": "\t", "r": "\r", "b": " ", "f": " ", '"': '"', "/": "/", "\\": "\\"}
MAX_DEPTH = 3
"""JSON in JSON in JSON: each level adds one round of escapes."""


class Spanned(Protocol):
    """Text scanned in place of another, with a map back (see `normalize.Normalized`)."""

    @property
    def text(self) -> str: ...

    def span(self, start: int, end: int) -> tuple[int, int]: ...


@dataclass(frozen=True, slots=True)
class Unescaped:
    text: str
    starts: list[int]
    """Decoded index of each character that came from an escape, ascending."""
    raws: list[tuple[int, int]]
    """The (start, end) of that escape in the escaped text."""
    original_length: int

    def _origin(self, index: int) -> tuple[int, int]:
        k = bisect_right(self.starts, index) - 1
        if k < 0:
            return index, index + 1
        if self.starts[k] == index:
            return self.raws[k]
        raw = self.raws[k][1] + index - self.starts[k] - 1
        return raw, raw + 1

    def span(self, start: int, end: int) -> tuple[int, int]:
        if start >= len(self.text):
            return self.original_length, self.original_length
        first = self._origin(start)[0]
        if end <= start:
            return first, first
        return first, self._origin(end - 1)[1]


@dataclass(frozen=True, slots=True)
class Chained:
    """`outer` was computed from `inner.text`: spans go through both maps."""

    inner: Spanned
    outer: Spanned

    @property
    def text(self) -> str:
        return self.outer.text

    def span(self, start: int, end: int) -> tuple[int, int]:
        return self.inner.span(*self.outer.span(start, end))


def _hex(text: str, at: int) -> int | None:
    digits = text[at : at + 4]
    if len(digits) != 4:
        return None
    try:
        return int(digits, 16)
    except ValueError:
        return None


def unescape_once(text: str) -> Unescaped | None:
    """One round of JSON escapes decoded; None when there is none. Backslashes that start
    no JSON escape stay as they are (this also runs over prose)."""
    pos = text.find("\\")
    if pos == -1:
        return None
    out: list[str] = []
    starts: list[int] = []
    raws: list[tuple[int, int]] = []
    length, done = 0, 0
    while pos != -1:
        nxt = text[pos + 1 : pos + 2]
        char, size = None, 2
        if nxt in _SIMPLE:
            char = _SIMPLE[nxt]
        elif nxt == "u" and (code := _hex(text, pos + 2)) is not None:
            size = 6
            low = _hex(text, pos + 8) if text[pos + 6 : pos + 8] == "\\u" else None
            if 0xD800 <= code <= 0xDBFF and low is not None and 0xDC00 <= low <= 0xDFFF:
                code, size = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00), 12
            char = chr(code) if not 0xD800 <= code <= 0xDFFF else " "
            if char not in "\n\t\r" and unicodedata.category(char) == "Cc":
                char = " "  # a control; format characters (U+200B) stay for normalize
        if char is None:
            pos = text.find("\\", pos + 1)
            continue
        out.append(text[done:pos])
        length += pos - done
        starts.append(length)
        raws.append((pos, pos + size))
        out.append(char)
        length += 1
        done = pos + size
        pos = text.find("\\", done)
    if not starts:
        return None
    out.append(text[done:])
    return Unescaped("".join(out), starts, raws, len(text))


def unescape(text: str, depth: int = MAX_DEPTH) -> Spanned | None:
    """Escapes decoded round after round (at most `depth`); None when there were none."""
    result: Spanned | None = None
    current = text
    for _ in range(depth):
        step = unescape_once(current)
        if step is None:
            break
        result = step if result is None else Chained(result, step)
        current = step.text
    return result
