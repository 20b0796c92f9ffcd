"""Offsets through normalisation, extraction shapes, and the level/declared/floor rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.classify import (
    Classifier,
    Segment,
    parse_declared,
)
from tests.classify.extraction import chat_segments, embedding_segments

CLASSIFIER = Classifier()
FULL_WIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def found(text: str) -> list[tuple[str, str]]:
    return [(f.tag, text[f.start : f.end]) for f in CLASSIFIER.scan([Segment(("t",), text)])]


@pytest.mark.parametrize(
    ("text", "tag", "value"),
    [
        # expansions before the value shift every later offset
        ("ﬁﬂ ㍱ ⑴ jane@example.com", "pii.email", "jane@example.com"),
        # a combining sequence before the value
        ("cafe\u0301 536-22-8457", "pii.ssn", "536-22-8457"),
        ("card\u00a04111 1111 1111 1111", "pci.pan", "4111 1111 1111 1111"),
        ("ＳＳＮ ５３６-２２-８４５７.", "pii.ssn", "５３６-２２-８４５７"),
        (
            "x " + "4111111111111111".translate(FULL_WIDTH),
            "pci.pan",
            "４１１１１１１１１１１１１１１１",
        ),
        (
            "a \u200b4111\u200c1111\u200d1111\ufeff1111 b",
            "pci.pan",
            "4111\u200c1111\u200d1111\ufeff1111",
        ),
        ("ja\u00adne@exa\u2060mple.com", "pii.email", "ja\u00adne@exa\u2060mple.com"),
        ("\u202e536-22-8457\u202c tail", "pii.ssn", "536-22-8457"),
        ("𝟓𝟑𝟔-𝟐𝟐-𝟖𝟒𝟓𝟕 (math bold)", "pii.ssn", "𝟓𝟑𝟔-𝟐𝟐-𝟖𝟒𝟓𝟕"),
    ],
)
def test_findings_point_into_the_original_text(text: str, tag: str, value: str) -> None:
    assert found(text) == [(tag, value)]


INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u200e", "\u200f", "\u2060", "\ufeff", "\u00ad"]
NOISE = st.text(
    alphabet=st.sampled_from([*"abc xyz,.;:()", "é", "ﬁ", "\u00a0", "Ж", "中", *INVISIBLE]),
    max_size=40,
)


@settings(max_examples=150, deadline=None)
@given(
    before=NOISE,
    after=NOISE,
    body=st.text(alphabet="0123456789", min_size=14, max_size=14),
    sep=st.sampled_from(["", " ", "-"]),
    zw=st.sampled_from(["", *INVISIBLE]),
    wide=st.booleans(),
)
def test_planted_card_is_found_at_its_original_offsets(
    before: str, after: str, body: str, sep: str, zw: str, wide: bool
) -> None:
    digits = _luhn("4" + body)
    groups = [digits[i : i + 4] for i in range(0, 16, 4)]
    pan = (zw + sep).join(groups)
    if wide:
        pan = pan.translate(FULL_WIDTH)
    text = f"{before} {pan} {after}"
    assert [v for t, v in found(text) if t == "pci.pan"] == [pan]


@settings(max_examples=150, deadline=None)
@given(
    before=NOISE,
    after=NOISE,
    user=st.from_regex(r"[a-z][a-z0-9._]{0,10}[a-z0-9]", fullmatch=True),
    domain=st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True),
    tld=st.sampled_from(["com", "org", "co.uk", "io"]),
    zw=st.sampled_from(["", *INVISIBLE]),
)
def test_planted_email_is_found_at_its_original_offsets(
    before: str, after: str, user: str, domain: str, tld: str, zw: str
) -> None:
    if ".." in user:
        return
    email = f"{user}{zw}@{domain}.{tld}"
    text = f"{before} {email} {after}"
    assert [v for t, v in found(text) if t == "pii.email"] == [email]


def _luhn(body: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return body + str((10 - total % 10) % 10)


def test_chat_extraction_covers_every_field_names_included() -> None:
    """Names, ids of no known shape and whole schemas are scanned; roles and types are not
    (they pass their validators)."""
    body = {
        "messages": [
            {"role": "system", "name": "jane@example.com", "content": "sys"},
            {"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]},
            {"role": "assistant", "content": None, "function_call": {"arguments": '{"x": 1}'}},
            {"role": "tool", "tool_call_id": "1", "content": "tool says"},
            {"role": "user", "content": "", "name": "n"},
        ],
        "functions": [{"name": "g", "description": "legacy", "parameters": {"b": 1, "a": 2}}],
    }
    assert [(s.path, s.text, s.form) for s in chat_segments(body)] == [
        (("messages", 0, "name"), "jane@example.com", "text"),
        (("messages", 0, "content"), "sys", "text"),
        (("messages", 1, "content", 0, "text"), "a", "text"),
        (("messages", 2, "function_call", "arguments"), '{"x": 1}', "json"),
        (("messages", 3, "tool_call_id"), "1", "text"),
        (("messages", 3, "content"), "tool says", "text"),
        (("messages", 4, "name"), "n", "text"),
        (("functions", 0, "name"), "g", "text"),
        (("functions", 0, "description"), "legacy", "text"),
        (("functions", 0, "parameters"), '{"b":1,"a":2}', "dump"),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({}, []),
        ({"messages": None}, []),
        ({"messages": {"role": "user"}}, [("role", "key"), ("user", "text")]),
        (
            {"messages": ["junk", 3, None, {"content": 5}, {"content": [None, "s", {"text": 7}]}]},
            [("junk", "text"), ("3", "number"), ("5", "number"), ("s", "text"), ("7", "number")],
        ),
        (
            {"tools": [None, "x", {"function": None}, {"function": {"parameters": []}}]},
            [("x", "text")],
        ),
        ({"functions": "nope"}, [("nope", "text")]),
    ],
)
def test_odd_shapes_do_not_crash_and_are_scanned(
    body: dict[str, object], expected: list[tuple[str, str]]
) -> None:
    """A shape the tree does not expect is walked like any unknown value: all scanned."""
    assert [(s.text, s.form) for s in chat_segments(body)] == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("abc", [(("input",), "abc")]),
        (["a", 1, "b", None], [(("input", 0), "a"), (("input", 1), "1"), (("input", 2), "b")]),
        ([1, 2, 3], []),
        ([[1, 2], [3]], []),
        (None, []),
        ("", []),
    ],
)
def test_embeddings_input_shapes(value: object, expected: list[tuple[object, str]]) -> None:
    assert [(s.path, s.text) for s in embedding_segments({"input": value})] == expected


HELLO = [Segment(("t",), "hello")]
EMAIL = [Segment(("t",), "mail jane@example.com and bob@example.org")]


@pytest.mark.parametrize(
    ("segments", "declared", "floor", "level", "categories", "sources"),
    [
        (HELLO, None, None, "public", (), ("content",)),
        (HELLO, "internal", None, "internal", (), ("content", "declared")),
        (HELLO, " Confidential ", None, "confidential", (), ("content", "declared")),
        (HELLO, "pci", None, "regulated", ("pci",), ("content", "declared")),
        (HELLO, None, "internal", "internal", (), ("content", "workload")),
        (
            HELLO,
            "internal",
            "confidential",
            "confidential",
            (),
            ("content", "declared", "workload"),
        ),
        (HELLO, "confidential", "internal", "confidential", (), ("content", "declared")),
        (EMAIL, "public", None, "regulated", ("pii",), ("content", "declared")),
        (EMAIL, "phi", "internal", "regulated", ("phi", "pii"), ("content", "declared")),
        (EMAIL, None, "regulated", "regulated", ("pii",), ("content",)),
    ],
)
def test_levels_only_go_up(
    segments: list[Segment],
    declared: str | None,
    floor: str | None,
    level: str,
    categories: tuple[str, ...],
    sources: tuple[str, ...],
) -> None:
    result = CLASSIFIER.classify(segments, declared=declared, floor=floor)
    assert (result.level, result.categories, result.sources) == (level, categories, sources)


def test_tags_are_counted_and_sorted() -> None:
    segments = [*EMAIL, Segment(("u",), "ssn 536-22-8457")]
    result = CLASSIFIER.classify(segments)
    assert list(result.tags.items()) == [("pii.email", 2), ("pii.ssn", 1)]
    assert result.to_policy_input()["tags"] == {"pii.email": 2, "pii.ssn": 1}


@pytest.mark.parametrize("value", ["", "top-secret", "pii,phi", "public!", "restricted"])
def test_unknown_declarations_are_errors(value: str) -> None:
    with pytest.raises(ValueError):
        parse_declared(value)
    with pytest.raises(ValueError):
        CLASSIFIER.classify(HELLO, declared=value)


@pytest.mark.parametrize("value", ["public", "INTERNAL", " regulated ", "Phi", "pci", "secret"])
def test_known_declarations(value: str) -> None:
    assert parse_declared(value) == value.strip().lower()
