"""Normalisation against a character-by-character reference, and its offset maps."""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.classify import Classifier, Segment
from sidecar.classify.normalize import INVISIBLE, char_offsets, normalize


def reference(char: str) -> str:
    """The specification, one character at a time."""
    if char in INVISIBLE:
        return ""
    if not char.isascii() and unicodedata.decimal(char, None) is not None:
        return str(unicodedata.decimal(char))
    return "".join(c for c in unicodedata.normalize("NFKC", char) if c not in INVISIBLE)


ALPHABET = [
    *"ab -@.19",
    "é",  # already NFKC
    "e\u0301",  # base + combining accent: stays two characters
    "ﬁ",  # expands to two
    "㍱",  # expands to three
    "\u00a0",  # NBSP -> space
    "４",  # full-width digit
    "٣",  # Arabic-Indic digit: NFKC keeps it, we do not
    "𝟓",  # mathematical bold digit (astral)
    "中",
    "😀",
    "\u200b",
    "\u00ad",
    "\u202e",
    "\ufeff",
    "\ud800",  # a lone surrogate: not UTF-8 at all
]


@settings(max_examples=400, deadline=None)
@given(st.lists(st.sampled_from(ALPHABET), max_size=120).map("".join))
def test_matches_the_reference_and_maps_every_character_back(text: str) -> None:
    result = normalize(text)
    assert result.text == "".join(reference(c) for c in text)
    produced = {i: reference(c) for i, c in enumerate(text)}
    for index, char in enumerate(result.text):
        start, end = result.span(index, index + 1)
        assert end == start + 1
        assert char in produced[start]


@settings(max_examples=200, deadline=None)
@given(
    before=st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join),
    after=st.lists(st.sampled_from(ALPHABET), max_size=30).map("".join),
)
def test_a_plain_word_maps_back_exactly(before: str, after: str) -> None:
    text = f"{before} needle {after}"
    result = normalize(text)
    start = result.text.index(" needle ") + 1
    assert result.span(start, start + 6) == (len(before) + 1, len(before) + 7)


def test_spans_cover_invisibles_inside_but_not_around() -> None:
    text = "\u200bab\u200bc\u200b"
    result = normalize(text)
    assert result.text == "abc"
    assert result.span(0, 3) == (1, 5)
    assert text[1:5] == "ab\u200bc"


def test_expansions_map_to_their_one_source_character() -> None:
    result = normalize("xﬁy")
    assert result.text == "xfiy"
    assert result.span(1, 2) == (1, 2)  # "f" of the ligature
    assert result.span(2, 4) == (1, 3)  # "i" + "y"


@pytest.mark.parametrize("text", ["plain ascii", "déjà vu, 中文, emoji 😀", ""])
def test_text_already_normal_needs_no_map(text: str) -> None:
    result = normalize(text)
    assert result.text is text
    assert result.runs is None
    assert result.span(2, 4) == (2, 4)


def test_offset_map_grows_with_changes_not_with_text() -> None:
    text = "a" * 10_000 + "ﬁ" + "b" * 10_000 + "\u200b" + "c" * 10_000
    result = normalize(text)
    assert result.runs is not None
    _, runs = result.runs
    assert len(runs) == 4  # a..., fi, b..., c...
    assert result.span(len(result.text) - 1, len(result.text)) == (len(text) - 1, len(text))


def test_span_past_the_end() -> None:
    result = normalize("ﬁ")
    assert result.span(2, 2) == (1, 1)


@pytest.mark.parametrize(
    "text", ["", "ascii only", "é中😀x" * 2000, "a" * 5000 + "é" + "b" * 5000, "\u200b" * 3]
)
def test_char_offsets_at_every_byte(text: str) -> None:
    data = text.encode("utf-8")
    to_char = char_offsets(text, data)
    expected = []
    for index, char in enumerate(text):
        expected += [index] * len(char.encode("utf-8"))
    expected.append(len(text))
    assert [to_char(offset) for offset in range(len(data) + 1)] == expected


def test_lone_surrogates_do_not_stop_the_scan() -> None:
    text = "x\ud800 536-22-8457 \udfffjane@example.com ﬁ"
    findings = Classifier().scan([Segment(("t",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [
        ("pii.ssn", "536-22-8457"),
        ("pii.email", "jane@example.com"),
    ]
