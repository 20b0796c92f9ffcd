"""A detector, Presidio-style: patterns find candidates, a validator and context confirm them."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

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
    context_after: int = 0
    """When set, a context word up to this many characters after the candidate counts too,
    in the same paragraph ("... 3700 0000 0000 002 as the test Amex card")."""
    veto: tuple[str, ...] = ()
    """Words (like `context`) that rule a candidate out when one ends within `veto_window`
    characters before it: "version 10.2.0.1" is no host address. Checked in Python on a
    candidate only, so it costs the fast pass nothing."""
    veto_window: int = 16
    veto_after: int = 0
    """When set, a veto word up to this many characters after the candidate counts too."""
    veto_if: Validator | None = None
    """When set, the veto applies only to candidates it accepts (a published test card
    number, not every card number, is ruled out by documentation words)."""
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
    one_value: bool = False
    """The context word labels one value: a candidate with another number (four digits or
    more) between it and its word belongs to the next label, as the account number in
    "routing 011000015, account 123456789" does."""
    continues: Callable[[str, int, int], bool] | None = None
    """For a match text[start:end] shorter than the longest one at its start: True when the
    text from `end` on shows that the value goes on (the next digit group of a card number),
    so the shorter match is a piece of something longer, not a value of its own."""
    later_starts: Callable[[str, int, int], list[int]] | None = None
    """When every match from the leftmost start fails: later positions in text[start:end]
    to try again from. Hyperscan reports only the leftmost start for an end, and that may
    belong to a number in front of the value ("1984 4111 1111 1111 1111")."""
    run: str | None = None
    """The character class (as inside `[...]`) of the unbounded run every pattern of the
    detector ends with, e.g. `A-Za-z0-9_\\-` for API keys. Hyperscan reports a match at
    every character of such a run past its shortest length; the fast pass therefore looks
    for the run followed by a character outside the class (or the text's end), one report
    where the run ends, and the start-of-match pass, with the pattern as written, confirms
    it. Only the whole run is found: a shorter match inside it is not tried."""
    opaque: bool = False
    """Its values never decode from base64 to text: their fixed first characters decode to
    bytes that are no UTF-8, or to more control bytes than a text of their length may hold.
    A base64 run that is exactly such a value is not decoded; a test holds every opaque
    detector to this."""
    suppress: bool = False
    """A shape that is known not to be sensitive (an order id, an IBAN failing its check):
    it swallows the candidates inside it during overlap resolution and is never reported."""

    @property
    def category(self) -> str:
        return self.tag.split(".", 1)[0]


def _is_word_char(char: str) -> bool:
    return char.isalnum()


def context_distance(text: str, start: int, words: tuple[str, ...], window: int) -> int | None:
    """How far before `start` the nearest of `words` (see `Detector.context`) ends, or None
    when none does within `window` characters. A word counts only as a word of its own (a
    substring check would take the "born" in "stubborn" or the "dea" in "Deal" for context)
    and only in the same paragraph: a label does not reach across a blank line."""
    lo = max(0, start - window)
    region = text[lo:start].lower()
    paragraph = region.rfind("\n\n")
    nearest: int | None = None
    for word in words:
        stem = word.endswith("*")
        literal = word[:-1] if stem else word
        at = region.rfind(literal)
        while at > paragraph:
            end = at + len(literal)
            before = region[at - 1] if at else (text[lo - 1] if lo else " ")
            after = region[end] if end < len(region) else text[start : start + 1] or " "
            starts_word = not (_is_word_char(literal[0]) and _is_word_char(before))
            ends_word = stem or not (_is_word_char(literal[-1]) and _is_word_char(after))
            if starts_word and ends_word:
                distance = len(region) - end
                nearest = distance if nearest is None else min(nearest, distance)
                break
            at = region.rfind(literal, 0, at + len(literal) - 1) if at else -1
    return nearest


def has_context(text: str, start: int, detector: Detector, end: int | None = None) -> bool:
    """Whether `detector`'s context is in place before a candidate at `start` (or, with
    `context_after`, after it ends at `end`)."""
    distance = context_distance(text, start, detector.context, detector.context_window)
    if distance is None:
        return bool(
            detector.context_after
            and end is not None
            and words_after(text, end, detector.context, detector.context_after)
        )
    return not detector.one_value or not _has_number(text, start - distance, start)


@lru_cache(maxsize=64)
def _words_regex(words: tuple[str, ...]) -> re.Pattern[str]:
    """One regex for `words` as words of their own (a trailing `*` marks a stem)."""
    alternatives = []
    for word in words:
        stem = word.endswith("*")
        literal = re.escape(word[:-1] if stem else word)
        alternatives.append(rf"(?<!\w){literal}" + ("" if stem else r"(?!\w)"))
    return re.compile("|".join(alternatives))


def words_after(text: str, end: int, words: tuple[str, ...], window: int) -> bool:
    """One of `words` (as in `Detector.context`), as a word of its own, within `window`
    characters after `end` and before the next blank line."""
    region = text[end : end + window].lower().split("\n\n", 1)[0]
    if not any(w.rstrip("*") in region for w in words):  # the common case, at C speed
        return False
    return _words_regex(words).search(region) is not None


def _any_before(text: str, start: int, words: tuple[str, ...], window: int) -> bool:
    region = text[max(0, start - window) : start].lower()
    return any(w.rstrip("*") in region for w in words)


def vetoed(text: str, start: int, end: int, detector: Detector) -> bool:
    """Whether `detector.veto` rules out the candidate at [start, end) (see the field)."""
    if detector.veto_if is not None and not detector.veto_if(text[start:end]):
        return False
    if _any_before(text, start, detector.veto, detector.veto_window) and (
        context_distance(text, start, detector.veto, detector.veto_window) is not None
    ):
        return True
    return bool(detector.veto_after) and words_after(text, end, detector.veto, detector.veto_after)


def _has_number(text: str, start: int, end: int, digits: int = 4) -> bool:
    run = 0
    for char in text[start:end]:
        run = run + 1 if char.isdigit() else 0
        if run >= digits:
            return True
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
