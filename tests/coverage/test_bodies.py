"""The body generators themselves: valid per the SDKs, safe, varied, and plantable.

The coverage oracle trusts these generators twice: that a body is valid (so a sidecar 400
is a sidecar bug, not a generator bug) and that it reaches every documented shape (so a
silent pass means the shape was scanned, not that it never came up).
"""

from __future__ import annotations

import base64
import io
import random
import re
import struct
import wave
import zlib
from collections.abc import Iterator
from functools import partial
from typing import Any

import orjson
import pytest
from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from tests.coverage import media
from tests.coverage.bodies import ENDPOINTS, anthropic_betas, sdk_params
from tests.coverage.extras import add_extras, objects_in, with_extras
from tests.coverage.primitives import VOCABULARY
from tests.coverage.sites import HOWS, Site, insert, plant, planted, string_sites, value_at
from tests.coverage.strict import is_valid, schema_errors

MODELS = {
    "/v1/chat/completions": ["gpt-4o", "openai/gpt-4o"],
    "/v1/completions": ["gpt-3.5-turbo-instruct"],
    "/v1/embeddings": ["text-embedding-3-small"],
    "/v1/responses": ["gpt-4o", "openai/gpt-4o"],
    "/v1/messages": ["claude-sonnet-5"],
    "/v1/messages/count_tokens": ["claude-sonnet-5"],
}
VARIANTS = [(path, False) for path in ENDPOINTS] + [
    ("/v1/messages", True),
    ("/v1/messages/count_tokens", True),
]
MARKER = "qzvmarkerqzv"
FAST = settings(max_examples=50, deadline=None, database=None)
SURVEY = settings(FAST, derandomize=True, phases=[Phase.generate, Phase.shrink])
"""Derandomized, so the shapes one run reaches are the shapes every run reaches."""
SURVEY_SIZE = {"/v1/responses": 200}
"""Bodies per survey (beta bodies, a superset, take 25): a Responses body has some forty item,
part and tool shapes, and surveying them is cheaper than searching for each one it missed."""
FIND = settings(SURVEY, max_examples=100, phases=[Phase.generate])
"""For `find`: the first example found will do, shrinking it would only cost time."""
SEARCH = settings(FIND, max_examples=500)
BASE64_PAYLOAD = re.compile(r"(?:[A-Za-z0-9+/]{4})+(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?")
VERSIONED_TYPE = re.compile(r"[a-z_]+_20[0-9]{6}|[a-z_]+_20[0-9]{2}_[0-9]{2}_[0-9]{2}")
IMAGE_SIZE = re.compile(r"[0-9]{4}x[0-9]{4}")
TOKEN_ID = re.compile(r"[0-9]{1,4}")  # logit_bias keys


def _clean(path: str, beta: bool = False) -> st.SearchStrategy[dict[str, Any]]:
    factory = ENDPOINTS[path]
    if beta:
        return factory(MODELS[path], extras=False, beta=True)
    return factory(MODELS[path], extras=False)


def _strings(node: Any) -> Iterator[str]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, str):
            yield item


@pytest.mark.parametrize(("path", "beta"), VARIANTS)
def test_bodies_are_valid_safe_and_reach_every_documented_shape(path: str, beta: bool) -> None:
    """Each body is JSON, valid per the SDK's TypedDicts (strictly: no unknown keys), free
    of anything a detector could take for data; together they reach every shape listed in
    EXPECTED. Adding unknown fields and stripping them again gives the body back."""
    seen: set[str] = set()

    @settings(SURVEY, max_examples=25 if beta else SURVEY_SIZE.get(path, 50))
    @given(_clean(path, beta), st.integers(0, 2**32), st.integers(0, 3))
    def survey(body: dict[str, Any], seed: int, count: int) -> None:
        assert orjson.loads(orjson.dumps(body)) == body
        containers = [*objects_in(body), *_lists(body)]
        assert len({id(c) for c in containers}) == len(containers), "no shared sub-objects"
        params = sdk_params(path, body, beta=beta)
        assert schema_errors(params, body) == []
        assert beta or not anthropic_betas(body)
        seen.update(features(body))

        extended = add_extras(body, random.Random(seed), count, root=True)
        _assert_safe(extended)
        added = set(extended) - set(body)
        assert added and all(set(key.split("_")) <= set(VOCABULARY) for key in added)
        strip_nested(extended, body)
        assert extended == body

    survey()
    if path == "/v1/messages/count_tokens":
        assert not seen & {"top:max_tokens", "top:stream", "top:metadata"}
    for feature in sorted((BETA_EXPECTED if beta else EXPECTED[path]) - seen):
        # Rarer shapes the survey happened to miss: a targeted search must find each.
        find(_clean(path, beta), partial(_has, feature), settings=SEARCH)


def _has(feature: str, body: dict[str, Any]) -> bool:
    return feature in features(body)


def _lists(node: Any) -> list[list[Any]]:
    found = []
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            found.append(item)
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.values())
    return found


def _assert_safe(body: dict[str, Any]) -> None:
    """No `@` and no run of three digits anywhere but in versioned tool types, token ids
    and image sizes: nothing a detector could take for data, even once decoded."""
    for value in _strings(body):
        if any(p.fullmatch(value) for p in (VERSIONED_TYPE, TOKEN_ID, IMAGE_SIZE)):
            continue
        readable = _readable(value)
        assert "@" not in readable, value
        assert not re.search(r"[0-9]{3}", readable), value


def _readable(value: str) -> str:
    """What a scanner would read in `value`: decoded base64 text, JSON text's strings."""
    if " " in value and not value.startswith("{"):
        return value  # a phrase
    payload = value.partition(",")[2] if value.startswith("data:") else value
    if BASE64_PAYLOAD.fullmatch(payload):
        raw = base64.b64decode(payload)
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return ""  # binary: an image, audio or the PDF
    if value.startswith("{"):  # JSON text: its escapes and numbers are not free text
        return " ".join(_strings(orjson.loads(value)))
    return value


def strip_nested(extended: Any, clean: Any) -> None:
    """Remove from `extended` every key `clean` lacks, at every depth."""
    if isinstance(extended, dict):
        for key in set(extended) - set(clean):
            del extended[key]
        for key in extended:
            strip_nested(extended[key], clean[key])
    elif isinstance(extended, list):
        for a, b in zip(extended, clean, strict=True):
            strip_nested(a, b)


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/v1/chat/completions", "messages"),
        ("/v1/messages", "messages"),
        ("/v1/responses", "input"),
    ],
)
def test_extras_reach_nested_objects(path: str, field: str) -> None:
    """Unknown fields land inside messages, items and blocks too, not only at the top level."""
    pairs = st.tuples(_clean(path), st.integers(0, 2**32), st.integers(1, 3)).map(
        lambda t: (t[0], add_extras(t[0], random.Random(t[1]), t[2], root=False))
    )
    find(pairs, lambda pair: pair[0][field] != pair[1][field], settings=FIND)


@pytest.mark.parametrize(("path", "beta"), VARIANTS)
def test_unknown_fields_do_not_validate(path: str, beta: bool) -> None:
    """The strict validator really is strict: why extras must be stripped before it."""
    body = find(_clean(path, beta), lambda _: True, settings=FIND)
    params = sdk_params(path, body, beta=beta)
    assert is_valid(params, body)
    assert not is_valid(params, {**body, "amber_glen": "moss"})
    for nested in objects_in(body)[1:]:
        if "type" in nested or "role" in nested:  # a message, block, tool or source
            nested["amber_glen"] = "moss"
            assert not is_valid(params, body), nested
            del nested["amber_glen"]


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_with_extras_adds_unknown_fields(path: str) -> None:
    def unknown(body: dict[str, Any]) -> bool:
        return not is_valid(sdk_params(path, body), body)

    find(with_extras(_clean(path)), unknown, settings=FIND)


@pytest.mark.parametrize("path", list(ENDPOINTS))
@FAST
@given(data=st.data())
def test_plant_puts_the_marker_exactly_where_the_site_says(path: str, data: st.DataObject) -> None:
    body = data.draw(ENDPOINTS[path](MODELS[path]))
    sites = string_sites(body)
    assert len(sites) == sum(1 for _ in _strings(body))
    site = data.draw(st.sampled_from(sites))
    how = data.draw(st.sampled_from(HOWS))
    before = orjson.dumps(body)
    out = plant(body, site, MARKER, how)
    assert orjson.dumps(body) == before, "plant must not touch its input"
    assert orjson.dumps(out).count(MARKER.encode()) == 1
    *parents, last = site.path
    if site.is_key:
        parent = value_at(out, tuple(parents))
        renamed = insert(str(last), MARKER, how)
        assert list(parent) == [renamed if k == last else k for k in value_at(body, tuple(parents))]
        assert parent[renamed] == value_at(body, site.path)
    else:
        assert value_at(out, site.path) == insert(value_at(body, site.path), MARKER, how)


@pytest.mark.parametrize("path", list(ENDPOINTS))
def test_planted_reaches_every_kind_of_site_and_says_where(path: str) -> None:
    kinds: set[str] = set()
    strategy = planted(ENDPOINTS[path](MODELS[path]), MARKER)

    @settings(SURVEY, max_examples=30)
    @given(strategy)
    def survey(pair: tuple[dict[str, Any], Site]) -> None:
        body, site = pair
        assert orjson.dumps(body).count(MARKER.encode()) == 1
        text = str(site.path[-1]) if site.is_key else value_at(body, site.path)
        value_at(body, site.path)  # a renamed key still leads to its value
        kinds.add("key" if site.is_key else "value")
        kinds.add(_how(text))

    survey()
    for kind in sorted({"key", "value", *HOWS} - kinds):  # missed by chance: search for it
        find(strategy, partial(_is_kind, kind), settings=SEARCH)


def _is_kind(kind: str, pair: tuple[dict[str, Any], Site]) -> bool:
    body, site = pair
    if kind in ("key", "value"):
        return site.is_key == (kind == "key")
    return _how(str(site.path[-1]) if site.is_key else value_at(body, site.path)) == kind


def _how(text: str) -> str:
    if text == MARKER:
        return "replace"
    if text.startswith(MARKER):
        return "prefix"
    return "suffix" if text.endswith(MARKER) else "middle"


def features(body: Any) -> set[str]:
    """Discriminators, roles and keys present anywhere in `body`."""
    found = {f"top:{key}" for key in body}
    for obj in objects_in(body):
        for key, value in obj.items():
            found.add(f"key:{key}")
            if key in ("type", "role") and isinstance(value, str):
                found.add(f"{key}:{value}")
    return found


EXPECTED = {
    "/v1/chat/completions": {
        *(f"role:{r}" for r in ("system", "developer", "user", "assistant", "tool", "function")),
        *(f"type:{t}" for t in ("text", "image_url", "input_audio", "file", "refusal")),
        *(f"type:{t}" for t in ("function", "custom", "allowed_tools", "grammar", "approximate")),
        *(f"type:{t}" for t in ("json_object", "json_schema", "content")),
        *(f"key:{k}" for k in ("file_data", "file_id", "filename", "detail", "tool_calls")),
        *(f"key:{k}" for k in ("function_call", "audio", "tool_call_id", "name", "strict")),
        *(f"key:{k}" for k in ("anyOf", "$defs", "$ref", "enum", "items", "required")),
        *(f"key:{k}" for k in ("prompt_cache_breakpoint", "description", "format")),
        *(
            f"top:{k}"
            for k in (
                "tools tool_choice parallel_tool_calls functions function_call response_format "
                "metadata user safety_identifier prompt_cache_key stop prediction logit_bias "
                "logprobs top_logprobs seed n temperature top_p frequency_penalty "
                "presence_penalty max_tokens max_completion_tokens stream stream_options store "
                "modalities audio reasoning_effort verbosity service_tier web_search_options "
                "moderation prompt_cache_options prompt_cache_retention"
            ).split()
        ),
    },
    "/v1/completions": {
        *(
            f"top:{k}"
            for k in (
                "prompt suffix echo best_of logprobs stop user max_tokens temperature top_p n "
                "seed logit_bias frequency_penalty presence_penalty stream stream_options"
            ).split()
        ),
    },
    "/v1/embeddings": {"top:input", "top:encoding_format", "top:dimensions", "top:user"},
    "/v1/responses": {
        *(f"role:{r}" for r in ("user", "assistant", "system", "developer")),
        *(
            f"type:{t}"
            for t in (
                "input_text input_image input_file output_text refusal message function_call "
                "function_call_output reasoning summary_text reasoning_text item_reference "
                "compaction web_search_call file_search_call computer_call computer_call_output "
                "computer_screenshot image_generation_call code_interpreter_call "
                "local_shell_call local_shell_call_output shell_call shell_call_output "
                "apply_patch_call apply_patch_call_output mcp_list_tools mcp_call "
                "mcp_approval_request mcp_approval_response custom_tool_call "
                "custom_tool_call_output url_citation file_citation function custom web_search "
                "web_search_preview file_search mcp code_interpreter image_generation "
                "computer_use_preview local_shell shell apply_patch allowed_tools grammar "
                "json_schema json_object approximate auto container_reference"
            ).split()
        ),
        *(
            f"key:{k}"
            for k in (
                "server_url headers authorization connector_id require_approval allowed_tools "
                "vector_store_ids user_location encrypted_content annotations logprobs file_data "
                "file_url file_id image_url detail prompt_cache_breakpoint variables phase "
                "pending_safety_checks acknowledged_safety_checks"
            ).split()
        ),
        *(
            f"top:{k}"
            for k in (
                "input instructions tools tool_choice parallel_tool_calls text metadata store "
                "stream stream_options background include truncation reasoning "
                "max_output_tokens max_tool_calls temperature top_p top_logprobs user "
                "safety_identifier prompt_cache_key service_tier prompt_cache_retention prompt "
                "previous_response_id conversation"
            ).split()
        ),
    },
    "/v1/messages": {
        "role:user",
        "role:assistant",
        *(
            f"type:{t}"
            for t in (
                "text image document search_result tool_use tool_result thinking "
                "redacted_thinking server_tool_use web_search_tool_result web_search_result "
                "container_upload tool_reference base64 url file content ephemeral custom "
                "char_location page_location content_block_location search_result_location "
                "web_search_result_location bash_20250124 text_editor_20250728 "
                "web_search_20250305 web_fetch_20250910 code_execution_20250825 "
                "memory_20250818 auto any tool none enabled disabled adaptive approximate "
                "json_schema"
            ).split()
        ),
        *(
            f"key:{k}"
            for k in (
                "cache_control ttl citations title context input_schema input_examples "
                "allowed_domains blocked_domains user_location max_uses is_error "
                "disable_parallel_tool_use budget_tokens user_id signature"
            ).split()
        ),
        *(
            f"top:{k}"
            for k in (
                "system tools tool_choice metadata stop_sequences thinking service_tier stream "
                "container output_config cache_control speed inference_geo diagnostics max_tokens"
            ).split()
        ),
    },
    "/v1/messages/count_tokens": {
        "type:tool_use",
        "type:tool_result",
        "type:document",
        *(f"top:{k}" for k in "system tools tool_choice thinking output_config".split()),
    },
}
BETA_EXPECTED = {
    "type:mcp_tool_use",
    "type:mcp_tool_result",
    "type:computer_20250124",
    "type:mcp_toolset",
    "top:mcp_servers",
    "top:context_management",
    "key:tool_configuration",
    "key:authorization_token",
    "type:clear_tool_uses_20250919",
}


def test_media_fixtures_are_valid_files() -> None:
    assert media.PNG.startswith(b"\x89PNG\r\n\x1a\n")
    length, kind = struct.unpack(">I4s", media.PNG[8:16])
    assert kind == b"IHDR" and length == 13
    idat = media.PNG.index(b"IDAT")
    (size,) = struct.unpack(">I", media.PNG[idat - 4 : idat])
    assert zlib.decompress(media.PNG[idat + 4 : idat + 4 + size]) == b"\x00\x80"
    with wave.open(io.BytesIO(media.WAV)) as audio:
        assert (audio.getnchannels(), audio.getframerate(), audio.getnframes()) == (1, 8000, 16)
    assert media.MP3[:2] == b"\xff\xfb" and len(media.MP3) == 417
    pypdf = pytest.importorskip("pypdf")
    reader = pypdf.PdfReader(io.BytesIO(media.PDF), strict=True)
    assert [page.extract_text() for page in reader.pages] == ["hello from a tiny page"]
    with pytest.raises(UnicodeDecodeError):
        media.PDF.decode("utf-8")  # binary on purpose: see media.py
