"""Masking inside JSON text (tool-call arguments) that keeps the text valid JSON.

Tool-call arguments travel as JSON text. A span found in that text can cut through an escape
(`\\n` before an e-mail address, `\\u0040`), or cover a bare number (a card number sent as a
JSON number). Splicing `[REDACTED:...]` in there blindly gives text the provider rejects;
searching the decoded value for the raw span instead finds nothing, and the value leaks.

So the text is tokenised once, linearly, and each span becomes one of two edits:
inside a single string, it is widened to whole escapes and replaced by an escaped
replacement; anywhere else, every value token it touches is replaced whole by a JSON string.
Structural characters are never touched, so valid JSON in means valid JSON out.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence

import orjson

Span = tuple[int, int, str]
Render = Callable[[int, int, str], str]
"""(start, end, tag) of the text being replaced -> replacement text (not JSON-escaped)."""

_STRUCTURAL = frozenset("{}[]:, \t\r\n")


def is_json(text: str) -> bool:
    try:
        orjson.loads(text)
    except orjson.JSONDecodeError:
        return False
    return True


def value_tokens(text: str) -> list[tuple[int, int]]:
    """(start, end) of every string (quotes included), number and literal, in order.

    Assumes `text` is valid JSON (check with `is_json` first); one left-to-right pass.
    """
    tokens: list[tuple[int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if ch in _STRUCTURAL:
            i += 1
        elif ch == '"':
            j = text.find('"', i + 1)
            while j != -1 and _escaped(text, j):
                j = text.find('"', j + 1)
            end = n if j == -1 else j + 1
            tokens.append((i, end))
            i = end
        else:
            j = i + 1
            while j < n and text[j] not in _STRUCTURAL and text[j] != '"':
                j += 1
            tokens.append((i, j))
            i = j
    return tokens


def _escaped(text: str, quote: int) -> bool:
    """Whether the quote at `quote` is preceded by an odd number of backslashes."""
    k = quote
    while k > 0 and text[k - 1] == "\\":
        k -= 1
    return (quote - k) % 2 == 1


def _escape_bounds(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Escape sequences in text[start:end] (a string token's interior); a surrogate pair
    written as two `\\u` escapes counts as one, since half of one is not valid JSON."""
    out: list[tuple[int, int]] = []
    i = text.find("\\", start, end)
    while i != -1:
        size = 6 if text[i + 1 : i + 2] == "u" else 2
        if size == 6 and _high_surrogate(text[i + 2 : i + 6]) and text[i + 6 : i + 8] == "\\u":
            size = 12
        out.append((i, i + size))
        i = text.find("\\", i + size, end)
    return out


def _high_surrogate(hex4: str) -> bool:
    try:
        return 0xD800 <= int(hex4, 16) <= 0xDBFF
    except ValueError:
        return False


def _widen(escapes: list[tuple[int, int]], start: int, end: int) -> tuple[int, int]:
    for a, b in escapes:
        if a < start < b:
            start = a
        if a < end < b:
            end = b
    return start, end


def _edits(text: str, spans: Sequence[Span]) -> list[tuple[int, int, str, bool]]:
    """(start, end, tag, whole_token) edits, sorted, overlapping ones merged."""
    tokens = value_tokens(text)
    token_starts = [t[0] for t in tokens]
    edits: list[tuple[int, int, str, bool]] = []
    for start, end, tag in spans:
        start, end = max(0, start), min(len(text), end)
        if end <= start:
            continue
        k = bisect_right(token_starts, start) - 1
        if k >= 0 and text[tokens[k][0]] == '"' and tokens[k][0] < start and end < tokens[k][1]:
            a, b = tokens[k][0] + 1, tokens[k][1] - 1
            start, end = _widen(_escape_bounds(text, a, b), start, end)
            edits.append((start, end, tag, False))
            continue
        for t_start, t_end in tokens[max(k, 0) :]:
            if t_start >= end:
                break
            if t_end > start:
                edits.append((t_start, t_end, tag, True))
    edits.sort()
    merged: list[tuple[int, int, str, bool]] = []
    for edit in edits:
        if merged and edit[0] < merged[-1][1]:
            s, e, tag, whole = merged[-1]
            merged[-1] = (s, max(e, edit[1]), tag, whole or edit[3])
        else:
            merged.append(edit)
    return merged


def mask_json(text: str, spans: Sequence[Span], render: Render) -> str:
    """Replace `spans` in the JSON text `text`; the result is valid JSON if `text` was.

    `render` gets the (start, end) actually replaced (a string token's interior when a
    whole string is replaced) and returns the replacement; it is JSON-escaped here.
    """
    out: list[str] = []
    pos = 0
    for start, end, tag, whole in _edits(text, spans):
        out.append(text[pos:start])
        if whole and text[start] == '"':
            value = render(start + 1, end - 1, tag)
        else:
            value = render(start, end, tag)
        encoded = orjson.dumps(value).decode()
        out.append(encoded if whole else encoded[1:-1])
        pos = end
    out.append(text[pos:])
    return "".join(out)
