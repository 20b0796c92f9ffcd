"""Where a finding's span ends when it is more than the matched text: small text walks,
kept out of the engine."""

from __future__ import annotations

SEPARATOR = "\n\n"
"""Between the segments of one scan: no pattern crosses it, and no span runs past it."""


def segment_end(text: str, pos: int) -> int:
    end = text.find(SEPARATOR, pos)
    return len(text) if end == -1 else end


def extend_to_line(text: str, end: int, marker: str) -> int:
    """Run a span through the block closed by `marker` (a PEM block's `-----END … -----`
    line, also when it sits inside a JSON string), or to the end of the segment when the
    block is cut off."""
    stop = segment_end(text, end)
    found = text.find(marker, end, stop)
    if found == -1:
        return stop
    close = text.find("-----", found + len(marker), stop)
    return stop if close == -1 else close + 5


def enclosing_object(text: str, start: int, end: int, limit: int = 1 << 16) -> tuple[int, int]:
    """The JSON object around a match (a service-account file), found by brace depth."""
    depth, i = 0, start - 1
    while i >= max(0, start - limit):
        if text[i] == "}":
            depth += 1
        elif text[i] == "{":
            if depth == 0:
                break
            depth -= 1
        i -= 1
    open_at = i if i >= 0 and text[i] == "{" else start
    depth, j = 0, end
    stop = min(len(text), end + limit)
    while j < stop:
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            if depth == 0:
                return open_at, j + 1
            depth -= 1
        j += 1
    return open_at, segment_end(text, end)
