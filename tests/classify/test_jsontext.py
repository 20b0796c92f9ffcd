"""Masking inside JSON text: valid JSON stays valid, and a masked value is really gone."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.classify.jsontext import is_json, mask_json, value_tokens

PAN = "4111111111111111"


def tag_only(start: int, end: int, tag: str) -> str:
    return f"[REDACTED:{tag}]"


def span_of(text: str, value: str, tag: str = "t") -> tuple[int, int, str]:
    start = text.index(value)
    return start, start + len(value), tag


def test_value_tokens_cover_strings_numbers_and_literals() -> None:
    text = '{"a": "x\\"y", "b": [1.5e3, true, null], "c\\\\": -2}'
    assert [text[s:e] for s, e in value_tokens(text)] == [
        '"a"',
        '"x\\"y"',
        '"b"',
        "1.5e3",
        "true",
        "null",
        '"c\\\\"',
        "-2",
    ]


def test_span_inside_a_string_is_replaced_in_place() -> None:
    text = '{"note": "mail jane@example.com now"}'
    out = mask_json(text, [span_of(text, "jane@example.com", "pii.email")], tag_only)
    assert orjson.loads(out) == {"note": "mail [REDACTED:pii.email] now"}


def test_span_cutting_an_escape_is_widened_to_the_whole_escape() -> None:
    text = json.dumps({"note": "hi\njane@example.com"})
    # what a scanner over the raw text sees: the "n" of the escape glued to the address
    out = mask_json(text, [span_of(text, "njane@example.com", "pii.email")], tag_only)
    assert orjson.loads(out) == {"note": "hi[REDACTED:pii.email]"}


def test_half_of_a_surrogate_pair_is_widened_to_the_pair() -> None:
    text = json.dumps({"s": "a\U0001f600b"})  # "a\ud83d\ude00b"
    start = text.index("ude00")
    out = mask_json(text, [(start, start + 2, "t")], tag_only)
    assert orjson.loads(out) == {"s": "a[REDACTED:t]b"}


def test_a_number_is_replaced_by_a_string() -> None:
    text = json.dumps({"card": int(PAN), "n": 2})
    out = mask_json(text, [span_of(text, PAN, "pci.pan")], tag_only)
    assert orjson.loads(out) == {"card": "[REDACTED:pci.pan]", "n": 2}


def test_part_of_a_number_replaces_the_whole_number() -> None:
    text = json.dumps({"amount": float(PAN + ".25")})
    out = mask_json(text, [(text.index("41"), text.index("41") + 4, "t")], tag_only)
    assert orjson.loads(out) == {"amount": "[REDACTED:t]"}


def test_span_across_structure_replaces_each_value_it_touches() -> None:
    text = '{"a": "x 536-22-", "b": "8457 y", "c": "keep"}'
    start, end = text.index("536"), text.index("8457") + 4
    out = mask_json(text, [(start, end, "pii.ssn")], tag_only)
    assert orjson.loads(out) == {
        "a": "[REDACTED:pii.ssn]",
        "[REDACTED:pii.ssn]": "[REDACTED:pii.ssn]",
        "c": "keep",
    }


def test_overlapping_and_adjacent_spans() -> None:
    text = '{"s": "aaa bbb ccc"}'
    a = text.index("aaa")
    out = mask_json(text, [(a, a + 5, "x"), (a + 4, a + 7, "y"), (a + 8, a + 11, "z")], tag_only)
    assert orjson.loads(out) == {"s": "[REDACTED:x] [REDACTED:z]"}


def test_replacement_text_is_escaped() -> None:
    text = '{"s": "secret"}'
    out = mask_json(text, [span_of(text, "secret")], lambda s, e, t: 'a"b\\c\n')
    assert orjson.loads(out) == {"s": 'a"b\\c\n'}


def test_render_gets_the_string_interior_when_a_whole_string_is_replaced() -> None:
    seen: list[str] = []
    text = '{"k": 1, "v": "abc"}'
    start = text.index("1")

    def render(s: int, e: int, tag: str) -> str:
        seen.append(text[s:e])
        return "x"

    mask_json(text, [(start, text.index("abc") + 1, "t")], render)
    assert seen == ["1", "v", "abc"]


def test_is_json() -> None:
    assert is_json('{"a": [1, "b"]}')
    assert not is_json('{"a": ')
    assert not is_json('"\\ud83d"')  # a lone surrogate escape


json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53), max_value=2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
)
json_values = st.recursive(
    json_scalars,
    lambda kids: (
        st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=6), kids, max_size=4)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(value=json_values, ascii_only=st.booleans(), data=st.data())
def test_any_spans_keep_valid_json_valid(value: Any, ascii_only: bool, data: st.DataObject) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    if not is_json(text):
        return
    spans = []
    for _ in range(data.draw(st.integers(0, 3))):
        start = data.draw(st.integers(0, len(text)))
        end = data.draw(st.integers(start, len(text)))
        spans.append((start, end, "t"))
    orjson.loads(mask_json(text, spans, tag_only))


def _strings_and_numbers(node: Any) -> list[str]:
    if isinstance(node, dict):
        return [s for k, v in node.items() for s in (k, *_strings_and_numbers(v))]
    if isinstance(node, list):
        return [s for v in node for s in _strings_and_numbers(v)]
    return [str(node)]


@settings(max_examples=200, deadline=None)
@given(
    value=json_values,
    before=st.sampled_from(["", " ", "\n", "\t", '"', "\\", "é", "\u2028"]),
    as_number=st.booleans(),
    ascii_only=st.booleans(),
)
def test_a_planted_value_is_gone_after_masking(
    value: Any, before: str, as_number: bool, ascii_only: bool
) -> None:
    planted: Any = int(PAN) if as_number else f"{before}{PAN} tail"
    doc = {"x": value, "card": planted}
    text = json.dumps(doc, ensure_ascii=ascii_only)
    # the scanner's view can include the character just before (the "n" of "\n")
    start = text.index(PAN)
    spans = [(start - (1 if before and not as_number else 0), start + len(PAN), "pci.pan")]
    out = orjson.loads(mask_json(text, spans, tag_only))
    assert not any(PAN in s for s in _strings_and_numbers(out["card"]))


@pytest.mark.parametrize("text", ['{"a": "b"}', "[1, 2]", '"s"', "12"])
def test_no_spans_no_change(text: str) -> None:
    assert mask_json(text, [], tag_only) == text
