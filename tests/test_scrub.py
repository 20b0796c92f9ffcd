"""The cleaning of upstream error text (sidecar/scrub.py), on its own: what is removed,
what is kept, the shapes rebuilt, the caps, and the cost on a large request."""

from __future__ import annotations

import time

import orjson
import pytest

from sidecar.classify import Classifier
from sidecar.classify.model import Segment
from sidecar.config import ClassificationConfig
from sidecar.scrub import MAX_MESSAGE, PLACEHOLDER, SCAN_CHARS, Scrubber
from tests.conftest import COMPILED_CACHE

KEY = "sk-or-v1-0d9c8b7a6f5e4d3c2b1a"
OTHER_KEY = "sk-ant-api03-zyxwvutsrqponm"
PROMPT = "Draft a friendly reminder to the Lisbon team about Thursday's offsite agenda"
SSN = "536-22-8457"


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.from_config(ClassificationConfig(compiled_cache_dir=str(COMPILED_CACHE)))


def scrubber(*texts: str, **kwargs: object) -> Scrubber:
    segments = [Segment(("messages", i, "content"), t) for i, t in enumerate(texts)]
    s = Scrubber(keys=lambda: [KEY, OTHER_KEY, None], segments=segments, **kwargs)  # type: ignore[arg-type]
    s.sent({"Authorization": f"Bearer {KEY}", "X-Title": "billing-app-eu", "X-Flag": "true"})
    return s


def test_every_configured_key_and_sent_header_value_goes() -> None:
    s = scrubber(PROMPT)
    out = s.text(f"bad key Bearer {KEY}; try {OTHER_KEY.upper()} from billing-app-eu, true")
    assert out == f"bad key {PLACEHOLDER}; try {PLACEHOLDER} from {PLACEHOLDER}, true"


def test_runs_shared_with_the_request_go_and_the_rest_stays() -> None:
    s = scrubber("unrelated", PROMPT)
    fragment = PROMPT[6:47]  # "friendly reminder to the Lisbon team abou"
    out = s.text(f"Invalid content near '{fragment}' in messages.1.content")
    assert out == f"Invalid content near '{PLACEHOLDER}' in messages.1.content"
    assert s.text("This model's maximum context length is 8192 tokens.") == (
        "This model's maximum context length is 8192 tokens."
    )


def test_the_whole_body_echoed_leaves_no_prompt() -> None:
    s = scrubber(PROMPT)
    body = orjson.dumps({"model": "m", "messages": [{"role": "user", "content": PROMPT}]})
    out = s.text("could not parse " + body.decode())
    assert not any(PROMPT[i : i + 8] in out for i in range(len(PROMPT) - 7)), out


def test_values_flagged_in_the_request_go_however_short(classifier: Classifier) -> None:
    text = f"the SSN is {SSN}, thanks"
    findings = classifier.classify([Segment(("messages", 0, "content"), text)]).findings
    assert findings
    s = scrubber(text, findings=findings)
    assert s.text(f"field {SSN} rejected") == f"field {PLACEHOLDER} rejected"


def test_what_the_classifier_flags_in_the_message_goes(classifier: Classifier) -> None:
    s = scrubber(PROMPT, classifier=classifier)
    assert s.text("contact jane.doe@example.com") == f"contact {PLACEHOLDER}"


def test_messages_are_capped_and_a_key_cut_by_the_cap_leaves_no_piece() -> None:
    s = scrubber(PROMPT)
    assert len(s.text("x" * 10_000)) == MAX_MESSAGE + 1
    filler = PROMPT * 8  # all shared with the request: one placeholder
    message = filler[: SCAN_CHARS - 8] + KEY + " and more"
    out = s.text(message)
    assert out.endswith("…")
    assert not any(KEY[i : i + 4] in out for i in range(len(KEY) - 3)), out


def test_openai_error_objects_keep_type_and_code_only_when_safe() -> None:
    s = scrubber(PROMPT)
    cleaned = s.error_object(
        {
            "error": {
                "message": f"denied ({KEY})",
                "type": "invalid_request_error",
                "code": KEY,
                "param": "messages",
                "metadata": {"raw": PROMPT},
            },
            "user_id": "u-1",
        }
    )
    assert cleaned == {
        "error": {
            "type": "invalid_request_error",
            "message": f"denied ({PLACEHOLDER})",
            "param": "messages",
            "code": None,
        }
    }
    numeric = s.error_object({"error": {"message": "x", "code": 402, "type": "<b>bad</b>"}})
    assert numeric["error"]["code"] == 402 and numeric["error"]["type"] == "api_error"


def test_anthropic_error_objects_keep_their_shape() -> None:
    s = scrubber(PROMPT)
    cleaned = s.error_object(
        {
            "type": "error",
            "error": {"type": "overloaded_error", "message": PROMPT, "details": PROMPT},
            "request_echo": PROMPT,
        }
    )
    assert cleaned == {
        "type": "error",
        "error": {"type": "overloaded_error", "message": PLACEHOLDER},
    }


def test_bodies_that_are_no_error_object_are_not_relayed() -> None:
    s = scrubber(PROMPT)
    assert s.error_body(b"<html>" + PROMPT.encode() + b"</html>") == b""
    assert s.error_body(orjson.dumps({"message": PROMPT})) == b""
    cleaned = orjson.loads(s.error_body(orjson.dumps({"error": "bad: " + PROMPT})))
    assert cleaned["error"]["message"] == "bad: " + PLACEHOLDER


def test_the_cost_is_bounded_on_a_ten_megabyte_request() -> None:
    """One scan of the request's text against a few hundred short literals: linear."""
    texts = [PROMPT + f" #{i} " + "lorem ipsum dolor sit amet " * 480 for i in range(800)]
    s = scrubber(*texts)
    assert sum(len(t) for t in texts) > 10_000_000
    started = time.perf_counter()
    out = s.text(("Invalid near '" + texts[5][:70] + "' ") * 40)
    elapsed = time.perf_counter() - started
    assert PROMPT[:20] not in out
    assert elapsed < 2.0, elapsed  # ~50 ms here; the body's own parse costs more


def test_an_echo_of_the_raw_json_body_is_matched_across_its_escapes() -> None:
    quoted = 'He said "ship it" on Monday\nthen "left" early'
    s = scrubber(quoted)
    out = s.text("cannot parse: " + orjson.dumps({"content": quoted}).decode())
    for piece in ("ship it", "on Monday", "left", "early"):
        assert piece not in out, out


def test_protocol_headers_the_sidecar_sets_are_no_secret() -> None:
    s = scrubber(PROMPT)
    s.sent({"Content-Type": "application/json", "anthropic-version": "2023-06-01"})
    message = "anthropic-version 2023-06-01 wants Content-Type application/json"
    assert s.text(message) == message
