"""A detector, Presidio-style: patterns find candidates, a validator and context confirm them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

Validator = Callable[[str], bool]
Narrow = Callable[[str], tuple[int, int]]


@dataclass(frozen=True, slots=True)
class Detector:
    tag: str
    patterns: tuple[str, ...]
    """Hyperscan expressions (linear time; no lookaround, no backreferences)."""
    validator: Validator | None = None
    context: tuple[str, ...] = ()
    """Lower-case words; when set, one must appear shortly before the candidate, as a word of
    its own ("dob" is not found in "Adobe", "mrn" not in "mRNA"). A trailing `*` marks a
    stem that may run on ("diagnos*" for diagnosis, diagnosed)."""
    confidence: float = 0.9
    context_window: int = 48
    extend_to: str | None = None
    """If set, the finding's span runs to the end of this marker's line (PEM blocks), or
    `{}` for the enclosing JSON object (service-account files)."""
    narrow: Narrow | None = None
    """Maps the matched text to the (start, end) of the sensitive value inside it, e.g. the
    password in `password = "hunter2"`: only that is reported and redacted."""
    near: tuple[str, ...] = ()
    """Only kept when a finding with one of these tags (or tag prefixes ending in '.')
    exists: within `near_window` characters, or anywhere in the request when None."""
    near_window: int | None = None
    caseless: bool = False
    whole: bool = False
    """Only the longest match counts: a shorter one would be a piece of something else."""
    continues: Callable[[str, int], bool] | None = None
    """For a match shorter than the longest one at its start: True when the text from `end`
    on shows that the value goes on (the next digit group of a card number), so the shorter
    match is a piece of something longer, not a value of its own."""
    suppress: bool = False
    """A shape that is known not to be sensitive (an order id, an IBAN failing its check):
    it swallows the candidates inside it during overlap resolution and is never reported."""

    @property
    def category(self) -> str:
        return self.tag.split(".", 1)[0]


def _is_word_char(char: str) -> bool:
    return char.isalnum()


def has_context(text: str, start: int, words: tuple[str, ...], window: int) -> bool:
    """Whether one of `words` (see `Detector.context`) ends within `window` characters
    before `start`, standing as a word of its own: a substring check would take the "born"
    in "stubborn" or the "dea" in "Deal" for context."""
    lo = max(0, start - window)
    region = text[lo:start].lower()
    for word in words:
        stem = word.endswith("*")
        literal = word[:-1] if stem else word
        at = region.find(literal)
        while at != -1:
            end = at + len(literal)
            before = region[at - 1] if at else (text[lo - 1] if lo else " ")
            after = region[end] if end < len(region) else text[start : start + 1] or " "
            starts_word = not (_is_word_char(literal[0]) and _is_word_char(before))
            ends_word = stem or not (_is_word_char(literal[-1]) and _is_word_char(after))
            if starts_word and ends_word:
                return True
            at = region.find(literal, at + 1)
    return False


def after_separator(text: str) -> tuple[int, int]:
    """The value of `key = value` / `key: "value"`: after the first `=` or `:`, unquoted
    (the value itself may contain either, e.g. base64 padding)."""
    cuts = [i for i in (text.find("="), text.find(":")) if i != -1]
    cut = min(cuts) if cuts else -1
    start = cut + 1
    while start < len(text) and text[start] in " \t\"'":
        start += 1
    end = len(text)
    while end > start and text[end - 1] in "\"'":
        end -= 1
    return start, end


TOKEN_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-.")


def value_after_key(text: str) -> tuple[int, int]:
    """The token at the end of `key = value`, `key: "value"` or, in prose, "key is value":
    the trailing run of token characters, after the `=` that ends the key when the run
    still holds it (an `=` followed only by `=` is base64 padding and stays)."""
    end = len(text)
    while end > 0 and text[end - 1] in "\"'":
        end -= 1
    start = end
    while start > 0 and text[start - 1] in TOKEN_CHARS:
        start -= 1
    at = text.find("=", start, end)
    while at != -1 and at + 1 < end and text[at + 1] == "=":
        at += 1
    if at != -1 and at + 1 < end:
        start = at + 1
    return start, end


def trailing_digits(text: str) -> tuple[int, int]:
    """The number at the end of `CVV: 123` / `exp 04/27`."""
    end = len(text)
    start = end
    while start > 0 and (text[start - 1].isdigit() or text[start - 1] in "/ "):
        start -= 1
    while start < end and text[start] == " ":
        start += 1
    return start, end
