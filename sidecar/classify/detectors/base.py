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
    """Lower-case words; when set, one must appear shortly before the candidate."""
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
    suppress: bool = False
    """A shape that is known not to be sensitive (an order id, an IBAN failing its check):
    it swallows the candidates inside it during overlap resolution and is never reported."""

    @property
    def category(self) -> str:
        return self.tag.split(".", 1)[0]


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


def trailing_digits(text: str) -> tuple[int, int]:
    """The number at the end of `CVV: 123` / `exp 04/27`."""
    end = len(text)
    start = end
    while start > 0 and (text[start - 1].isdigit() or text[start - 1] in "/ "):
        start -= 1
    while start < end and text[start] == " ":
        start += 1
    return start, end
