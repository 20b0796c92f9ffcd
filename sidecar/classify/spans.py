"""Where a finding's span ends when it is more than the matched text, and the in-place
JSON unescaping that keeps offsets valid: small text walks, kept out of the engine."""

from __future__ import annotations

SEPARATOR = "\n\n"
"""Between the segments of one scan: no pattern crosses it, and no span runs past it."""

JSON_TEXT = "arguments"
"""Segments at this path are JSON text (OpenAI tool-call arguments)."""
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "b": " ", "f": " ", '"': '"', "/": "/", "\\": "\\"}


def unescape_in_place(text: str) -> str:
    """JSON escapes decoded without moving anything: `\\n` becomes a newline plus a space,
    `\\u00e9` becomes `é` plus five spaces. A value right after an escape is then found,
    and its offsets still point into the JSON text that redaction rewrites."""
    out: list[str] = []
    pos = 0
    while (i := text.find("\\", pos)) != -1:
        out.append(text[pos:i])
        nxt = text[i + 1 : i + 2]
        if nxt == "u" and i + 6 <= len(text):
            try:
                char = chr(int(text[i + 2 : i + 6], 16))
            except ValueError:
                char = " "
            out.append((char if char.isprintable() else " ") + " " * 5)
            pos = i + 6
        else:
            out.append(_ESCAPES.get(nxt, " ") + (" " if nxt else ""))
            pos = i + 2
    out.append(text[pos:])
    return "".join(out)


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
