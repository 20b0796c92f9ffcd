"""Upstream error text, cleaned of what the sidecar sent before an app sees it.

Why: a provider's error message is text the provider chose, and providers quote what they
were sent ("invalid value 'Patient John Smith, MRN…'"). A hostile or buggy upstream, or a
proxy in front of one, can quote more: a stub that echoed its `Authorization` header
delivered the sidecar's OpenRouter and Anthropic keys to the app. The app must never learn
a provider key, and the prompt text must not come back through a channel the policy did
not reason about (an error can be logged by the app where a completion would not be).

So an upstream error keeps its status and the shape of the provider's error object, the
provider's `type`, `code` and `param` only when each is a short identifier nothing of the
request is in, and a `message` from which everything below was replaced by `[redacted]`:

- every configured provider key (all providers', not only the route's: an aggregator may
  hold others) and every header value the sidecar sent upstream (auth, static headers);
- every run of 15 or more characters it shares with the request's scanned text (the
  prompt, tool arguments, forwarded header values), case-insensitively; every value the
  classifier flagged in the request, however short;
- anything the classifier flags in the message itself (an email, a key, an SSN...).

Cost is bounded and paid only when an upstream error is relayed, never on success: the
message is cut to `SCAN_CHARS` before any matching; its 12-character windows at every
4th position (a few hundred at most) become one Hyperscan literal database, and the
request's text is scanned once against it, in linear time whatever its size. Everything
else the upstream sent in its error (OpenRouter's `metadata.raw`, a request echo under
another key) is dropped, and the message relayed is at most `MAX_MESSAGE` characters.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import hyperscan
import orjson

from sidecar.classify import Classifier
from sidecar.classify.model import Finding, Segment

MAX_MESSAGE = 300
"""Characters of an upstream message an app may see (then `…`)."""
SCAN_CHARS = 2 * MAX_MESSAGE
"""Characters of an upstream message that are examined; the rest is never relayed."""
RUN = 12
STRIDE = 4
"""Windows of `RUN` characters taken every `STRIDE` characters: any run of at least
RUN + STRIDE - 1 characters shared with the request contains one of them."""
TAIL = RUN + STRIDE
"""A message cut at `SCAN_CHARS` loses its last TAIL characters too: a shared run or a key
the cut split may have a piece there too short to be recognised."""
MIN_EXACT = 6
"""Sent header values and flagged values shorter than this are not searched for: a value
like `true` or `2023-06-01` is no secret, and would blank out ordinary words."""
MAX_EXACT = 256
"""Flagged values searched for exactly; beyond that, the shared-run and classifier checks
still apply."""
PLACEHOLDER = "[redacted]"
FALLBACK_TYPE = "api_error"
FALLBACK_MESSAGE = "upstream error"

_WORD = re.compile(r"[A-Za-z0-9_.:\[\]-]{1,64}")
"""What a relayed `type`, `code` or `param` may look like."""
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)
"""Length-preserving (unlike str.lower, which turns some characters into two)."""
_FLAGS = hyperscan.HS_FLAG_SINGLEMATCH | hyperscan.HS_FLAG_CASELESS
_PROTOCOL = frozenset({"content-type", "accept", "anthropic-version"})

Span = tuple[int, int]


def _no_keys() -> Iterable[str | None]:
    return ()


class Scrubber:
    """What the sidecar sent for one request, and how to take it out of error text.

    Built per request from references only (the keys are read when needed, so a rotated
    key is covered); the work happens on the first error, the success path pays nothing.
    """

    __slots__ = ("_classifier", "_corpus", "_findings", "_keys", "_segments", "_sent")

    def __init__(
        self,
        *,
        keys: Callable[[], Iterable[str | None]] = _no_keys,
        segments: Sequence[Segment] = (),
        findings: Sequence[Finding] = (),
        classifier: Classifier | None = None,
    ) -> None:
        self._keys = keys
        self._segments = segments
        self._findings = findings
        self._classifier = classifier
        self._sent: list[Mapping[str, str]] = []
        self._corpus: bytes | None = None

    def sent(self, headers: Mapping[str, str]) -> None:
        """The headers of one attempt, as they went upstream (the key among them). The
        protocol's own (`Content-Type: application/json`...) say nothing and are kept."""
        self._sent.append({k: v for k, v in headers.items() if k.lower() not in _PROTOCOL})

    # ---- public -------------------------------------------------------------------------

    def text(self, text: str) -> str:
        """`text` with what the request contained replaced, at most MAX_MESSAGE long."""
        window = text[:SCAN_CHARS]
        end = len(window) - TAIL if len(text) > SCAN_CHARS else len(window)
        return _cap(_replace(window, self._spans([window])[0], end), len(text) > end)

    def error_object(self, obj: Mapping[str, Any]) -> dict[str, Any]:
        """An error object in OpenAI's (`{"error": {...}}`) or Anthropic's (`{"type":
        "error", "error": {...}}`) shape, rebuilt in the same shape from its cleaned
        message and the identifiers that are safe to relay; nothing else is kept."""
        inner = obj.get("error")
        # The Responses API's `error` event has its fields at the top level.
        responses_event = obj.get("type") == "error" and inner is None and "message" in obj
        if responses_event:
            inner = obj
        if isinstance(inner, str):
            inner = {"message": inner}
        elif not isinstance(inner, Mapping):
            inner = {}
        raw = inner.get("message")
        message = raw if isinstance(raw, str) and raw.strip() else FALLBACK_MESSAGE
        window = message[:SCAN_CHARS]
        end = len(window) - TAIL if len(message) > SCAN_CHARS else len(window)
        words = {k: inner.get(k) for k in ("type", "code", "param")}
        texts = [k for k, v in words.items() if isinstance(v, str) and _WORD.fullmatch(v)]
        spans = self._spans([window, *(str(words[k]) for k in texts)])
        safe = {k: words[k] for k, found in zip(texts, spans[1:], strict=True) if not found}
        code = words["code"]
        if isinstance(code, int) and not isinstance(code, bool) and -1_000_000 < code < 1_000_000:
            safe["code"] = code  # OpenRouter's codes are HTTP statuses
        error: dict[str, Any] = {
            "type": safe.get("type", FALLBACK_TYPE),
            "message": _cap(_replace(window, spans[0], end), len(message) > end),
        }
        if responses_event:
            error["param"], error["code"] = safe.get("param"), safe.get("code")
            return _responses_error_event(error, obj.get("sequence_number"))
        if obj.get("type") == "error":  # Anthropic's shape
            if "code" in safe:
                error["code"] = safe["code"]
            return {"type": "error", "error": error}
        error["param"] = safe.get("param")
        error["code"] = safe.get("code")
        return {"error": error}

    def error_body(self, body: bytes) -> bytes:
        """A cleaned error body, or b"" when `body` is no JSON error object (the caller
        then renders an error of its own)."""
        try:
            parsed = orjson.loads(body)
        except orjson.JSONDecodeError:
            return b""
        if not isinstance(parsed, dict) or not isinstance(parsed.get("error"), dict | str):
            return b""
        return orjson.dumps(self.error_object(parsed))

    # ---- matching -----------------------------------------------------------------------

    def _spans(self, texts: list[str]) -> list[list[Span]]:
        """For each text, the spans to replace."""
        found: list[list[Span]] = [[] for _ in texts]
        exact = self._exact_values()
        for i, text in enumerate(texts):
            lowered = text.translate(_ASCII_LOWER)
            for value in exact:
                at = lowered.find(value)
                while at >= 0:
                    found[i].append((at, at + len(value)))
                    at = lowered.find(value, at + 1)
        for (i, start), end in _shared(texts, self._corpora()):
            found[i].append((start, end))
        if self._classifier is not None:
            segments = [Segment(("upstream_error", i), t) for i, t in enumerate(texts)]
            for f in self._classifier.scan(segments):
                found[f.segment].append((f.start, f.end))
        return found

    def _exact_values(self) -> list[str]:
        values = {k for k in self._keys() if k and len(k) >= 4}  # a key, however short
        values.update(v for h in self._sent for v in h.values() if len(v) >= MIN_EXACT)
        for f in self._findings[:MAX_EXACT]:
            if 0 <= f.segment < len(self._segments):
                value = self._segments[f.segment].text[f.start : f.end]
                if len(value) >= MIN_EXACT:
                    values.add(value)
        return sorted({v.translate(_ASCII_LOWER) for v in values}, key=len, reverse=True)

    def _corpora(self) -> list[bytes]:
        """Everything the upstream may quote: the request's text, also as it reads inside
        the JSON body (an echo of the raw body has `\\"` and `\\n` where the text has `"` and
        a line break), joined once per request; and the keys and sent header values.
        Separated so that no run spans two of them."""
        if self._corpus is None:
            texts = [s.text for s in self._segments]
            escaped = [e for e in map(_json_escaped, texts) if b"\\" in e]
            self._corpus = b"\x00".join([t.encode("utf-8", "replace") for t in texts] + escaped)
        extra = [k for k in self._keys() if k]
        extra.extend(v for h in self._sent for v in h.values())
        return [self._corpus, "\x00".join(extra).encode("utf-8", "replace")]


def _json_escaped(text: str) -> bytes:
    try:
        return orjson.dumps(text)[1:-1]
    except TypeError:  # a lone surrogate from a decoded file: no JSON form
        return b""


def _shared(texts: list[str], corpora: list[bytes]) -> list[tuple[tuple[int, int], int]]:
    """((text index, start), end) of the RUN-character windows of `texts` that occur in
    one of `corpora`, case-insensitively. First the windows every STRIDE characters; then,
    so that a shared run is found to its exact ends, the few unaligned windows just past
    the ends of what the first pass found. Each pass is one literal database and one
    linear scan of each corpus."""
    corpora = [c for c in corpora if c]
    if not corpora:
        return []
    aligned: list[tuple[int, int]] = []
    for i, text in enumerate(texts):
        if len(text) >= RUN:
            starts = range(0, len(text) - RUN + 1, STRIDE)
            aligned.extend((i, s) for s in starts)
            if starts[-1] != len(text) - RUN:
                aligned.append((i, len(text) - RUN))
    found = _found(texts, aligned, corpora)
    edges: list[tuple[int, int]] = []
    for i, start in found:
        last = len(texts[i]) - RUN
        if (i, start - STRIDE) not in found:  # where a run begins
            edges.extend((i, s) for s in range(max(0, start - STRIDE + 1), start))
        if (i, start + STRIDE) not in found:  # where it ends
            edges.extend((i, s) for s in range(start + 1, min(last, start + STRIDE - 1) + 1))
    found |= _found(texts, edges, corpora)
    return [(place, place[1] + RUN) for place in found]


def _found(
    texts: list[str], places: list[tuple[int, int]], corpora: list[bytes]
) -> set[tuple[int, int]]:
    """The (text index, start) of each RUN-character window that occurs in a corpus."""
    at: dict[bytes, list[tuple[int, int]]] = {}
    for i, start in places:
        window = texts[i][start : start + RUN]
        if sum(c.isalnum() for c in window) >= 3:  # not a run of spaces or dashes
            key = window.translate(_ASCII_LOWER).encode("utf-8", "replace")
            at.setdefault(key, []).append((i, start))
    if not at:
        return set()
    patterns = list(at)
    db = hyperscan.Database(mode=hyperscan.HS_MODE_BLOCK)
    db.compile(
        expressions=patterns,
        ids=list(range(len(patterns))),
        elements=len(patterns),
        flags=[_FLAGS] * len(patterns),
        literal=True,
    )
    hits: set[int] = set()
    for corpus in corpora:
        db.scan(corpus, match_event_handler=lambda pid, *_: hits.add(pid))
    return {place for pid in hits for place in at[patterns[pid]]}


def _is_word(c: str) -> bool:
    return c.isalnum() or c == "_"


def _replace(text: str, spans: list[Span], end: int) -> str:
    """`text[:end]` with each span, widened to whole words and merged with its neighbours,
    replaced by one PLACEHOLDER. A span reaching past `end` still blanks out up to it."""
    widened: list[list[int]] = []
    for a, b in sorted(spans):
        while a > 0 and _is_word(text[a - 1]) and _is_word(text[a]):
            a -= 1
        while b < len(text) and _is_word(text[b]) and _is_word(text[b - 1]):
            b += 1
        gap = text[widened[-1][1] : a] if widened else None  # "" when they overlap
        if gap is not None and len(gap) <= 3 and not any(_is_word(c) for c in gap):
            widened[-1][1] = max(widened[-1][1], b)
        else:
            widened.append([a, b])
    out: list[str] = []
    pos = 0
    for a, b in widened:
        if a >= end:
            break
        out.append(text[pos:a])
        out.append(PLACEHOLDER)
        pos = b
    if pos < end:
        out.append(text[pos:end])
    return "".join(out)


def _cap(text: str, cut: bool) -> str:
    if len(text) > MAX_MESSAGE:
        return text[:MAX_MESSAGE] + "…"
    return text + "…" if cut else text


def _responses_error_event(error: dict[str, Any], sequence: Any) -> dict[str, Any]:
    """The Responses API's `error` event from cleaned fields, with the `error` object the
    openai SDK raises on (as the sidecar's own stream errors carry it)."""
    event: dict[str, Any] = {
        "type": "error",
        "code": error["code"],
        "message": error["message"],
        "param": error["param"],
        "error": error,
    }
    if isinstance(sequence, int) and not isinstance(sequence, bool):
        event["sequence_number"] = sequence
    return event
