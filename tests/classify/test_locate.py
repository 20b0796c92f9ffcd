"""Where a match starts: start-of-match windows that grow until every hit is resolved."""

from __future__ import annotations

import base64
import binascii
import codecs
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sidecar.classify import Classifier, Segment
from sidecar.classify.decode import decode_base64
from sidecar.classify.detectors import DEFAULT_DETECTORS, Detector
from sidecar.classify.engine import WINDOW

CLASSIFIER = Classifier()


def _b64(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def _jwt(payload_chars: int) -> str:
    header = _b64({"alg": "HS256", "typ": "JWT"})
    payload = _b64({"sub": "u" * payload_chars, "name": "Jane"})
    return f"{header}.{payload}.{'S' * 43}"


@pytest.mark.parametrize("payload_chars", [20, 300, 1200])
def test_a_jwt_is_found_whatever_its_length(payload_chars: int) -> None:
    """A JWT's first possible end lies after its payload, hundreds of bytes past its start:
    a start-of-match window of a fixed size loses the "eyJ" it must start with."""
    token = _jwt(payload_chars)
    text = f"Authorization header was {token} yesterday"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [("secret.jwt", token)]
    assert len(token) > 2 * WINDOW or payload_chars == 20


def test_a_long_key_after_a_long_run_keeps_its_own_start() -> None:
    """A window that begins inside a run of key characters must not make a match start
    there: only the true start counts."""
    key = "ghp_" + "A1b2" * 9
    text = "x" * 500 + " token " + key + " and more"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [("secret.github_token", key)]


def test_a_card_number_is_located_exactly_among_digits() -> None:
    """The bounded window of a card number (its longest match and a byte) starts inside
    the digits before it; the match's real start is still the one reported."""
    text = "ref 2024 then card 4111 1111 1111 1111 exp"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [
        ("pci.pan", "4111 1111 1111 1111")
    ]


OPAQUE = [d for d in DEFAULT_DETECTORS if d.opaque]


def _head_rules_out_text(value: str) -> bool:
    """Whether the first four characters alone keep `value` from decoding to text: their
    bytes are no UTF-8 whatever follows, or hold more control bytes than the 5% a decoded
    text of this length may have."""
    head = binascii.a2b_base64(value[:4].translate(str.maketrans("-_", "+/")))
    try:
        chars = codecs.getincrementaldecoder("utf-8")().decode(head, final=False)
    except UnicodeDecodeError:
        return True
    control = sum(not (c.isprintable() or c in "\n\r\t") for c in chars)
    return control > 0.05 * (len(value) * 3 // 4)


@pytest.mark.parametrize("detector", OPAQUE, ids=lambda d: d.tag)
@settings(max_examples=200, deadline=None)
@given(data=st.data())
def test_an_opaque_value_never_decodes_to_text(detector: Detector, data: st.DataObject) -> None:
    """Opaque values are not decoded as base64, which is only sound if no such value is
    base64 of text, whatever its variable part: every generated value of every pattern."""
    pattern = data.draw(st.sampled_from(detector.patterns)).replace(r"\b", "")
    value = data.draw(st.from_regex(pattern, fullmatch=True))
    assert _head_rules_out_text(value)
    assert decode_base64(value) is None


@pytest.mark.parametrize("value", ["xoxb-1234-5678-abcdefgh", "eyJhbGciOiJIUzI1NiJ9.e30.x"])
def test_the_opaque_rule_is_not_vacuous(value: str) -> None:
    """Slack tokens and JWTs begin with characters that decode to text, so they stay
    decoded."""
    assert not _head_rules_out_text(value)


def test_opaque_values_are_found_and_an_encoding_next_to_them_still_is() -> None:
    hidden = base64.b64encode(b"ssn 536-22-8457").decode()
    text = f"key AKIAZ4QJ7XK2MNB3PLRT then {hidden} and ghp_{'A1b2' * 9}"
    tags = sorted(f.tag for f in CLASSIFIER.scan([Segment(("m",), text)]))
    assert tags == ["pii.ssn", "secret.aws_access_key", "secret.github_token"]


@pytest.mark.parametrize("after", ["", " next", ", next", "é next", '"'])
@pytest.mark.parametrize(
    ("tag", "value"),
    [
        ("secret.openai_key", "sk-proj-" + "Ab3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dF" * 5),
        ("secret.anthropic_key", "sk-ant-api03-" + "Zq8Xw7Vu6Ts5Rq4Po3Nm2Lk1Jh0Gf9Ed" * 3 + "AA"),
        ("secret.gitlab_token", "glpat-" + "xY9wV8uT7sR6qP5oN4mL"),
    ],
)
def test_a_key_run_is_found_whole_whatever_ends_it(tag: str, value: str, after: str) -> None:
    """The fast pass looks for a key's last run followed by a character outside it (or the
    text's end); the finding is the key alone, never that character."""
    text = f"the key is {value}{after}"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [(tag, value)]


@pytest.mark.parametrize("after", ["", " then", ", then", ";", "\n"])
def test_a_password_value_ends_where_its_run_does(after: str) -> None:
    text = f"db_password=Tr0ub4dor&3xq{after}"
    findings = CLASSIFIER.scan([Segment(("m",), text)])
    assert [(f.tag, text[f.start : f.end]) for f in findings] == [
        ("secret.password_assignment", "Tr0ub4dor&3xq")
    ]
