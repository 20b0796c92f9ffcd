"""OpenAI request bodies: chat completions, legacy completions and embeddings.

Shapes follow the installed `openai` SDK's TypedDicts (`openai.types.chat.*_param`,
`completion_create_params`, `embedding_create_params`), which are generated from OpenAI's
OpenAPI spec; messages are built in `openai_messages`. Bodies are coherent where the API
checks more than the schema does: named `tool_choice`s name a declared tool, and
`stream_options`, `top_logprobs` and `parallel_tool_calls` only appear beside what they
qualify.

Hypothesis chooses the structure (which roles, parts, tools and fields); one seeded `rng`
per body fills in the leaves (see `primitives`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from tests.coverage.extras import with_extras
from tests.coverage.openai_messages import content, conversation
from tests.coverage.primitives import (
    VOCABULARY,
    Draw,
    Rng,
    Table,
    flags,
    id_tail,
    identifier,
    json_schema,
    one_in,
    optional_fields,
    phrase,
    pick,
    rng_for,
)

Body = dict[str, Any]

COUNTRIES = ("US", "GB", "DE", "FR", "JP")
TIMEZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo")
VOICES = ("alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar")
EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh", "max")
TIERS = ("auto", "default", "flex", "scale", "priority", "fast")
AUDIO_FORMATS = ("wav", "aac", "mp3", "flac", "opus", "pcm16")


def _function_definition(draw: Draw, rng: Rng, name: str, strict: bool) -> Body:
    fn: Body = {"name": name}
    described, parameterised, strictness = flags(draw, 3)
    if described:
        fn["description"] = phrase(rng)
    if parameterised:
        fn["parameters"] = json_schema(rng)
    if strict and strictness:
        fn["strict"] = rng.choice((True, False, None))
    return fn


def _custom_tool(draw: Draw, rng: Rng, name: str) -> Body:
    custom: Body = {"name": name}
    if draw(st.booleans()):
        custom["description"] = phrase(rng)
    kind = pick(draw, ("none", "text", "lark", "regex"))
    if kind == "text":
        custom["format"] = {"type": "text"}
    elif kind != "none":
        a, b = rng.sample(VOCABULARY, 2)
        definition = f'start: "{a}" | "{b}"' if kind == "lark" else f"({a}|{b})+"
        grammar = {"syntax": kind, "definition": definition}
        custom["format"] = {"type": "grammar", "grammar": grammar}
    return {"type": "custom", "custom": custom}


def _named_choice(kind: str, name: str) -> Body:
    return {"type": kind, kind: {"name": name}}


def _tools(draw: Draw, rng: Rng, body: Body) -> tuple[list[str], list[str]]:
    """Adds `tools`, `tool_choice`, `parallel_tool_calls`, `functions`, `function_call`;
    returns the function and custom tool names the conversation may call."""
    names = list(dict.fromkeys(identifier(rng) for _ in range(draw(st.integers(0, 4)))))
    split = draw(st.integers(0, len(names)))
    functions, customs = names[:split], names[split:]
    if names:
        tools = [
            {"type": "function", "function": _function_definition(draw, rng, n, strict=True)}
            for n in functions
        ]
        body["tools"] = tools + [_custom_tool(draw, rng, n) for n in customs]
        listed = [_named_choice("function", n) for n in functions]
        listed += [_named_choice("custom", n) for n in customs]
        choice = pick(draw, ("absent", "none", "auto", "required", "named", "allowed"))
        if choice in ("none", "auto", "required"):
            body["tool_choice"] = choice
        elif choice == "named":
            body["tool_choice"] = rng.choice(listed)
        elif choice == "allowed":
            chosen = rng.sample(listed, rng.randint(1, len(listed)))
            allowed = {"mode": rng.choice(("auto", "required")), "tools": chosen}
            body["tool_choice"] = {"type": "allowed_tools", "allowed_tools": allowed}
        if draw(st.booleans()):
            body["parallel_tool_calls"] = rng.choice((True, False))
    if one_in(draw, 3):
        legacy = [f"legacy_{identifier(rng)}" for _ in range(draw(st.integers(1, 2)))]
        legacy = list(dict.fromkeys(legacy))
        body["functions"] = [_function_definition(draw, rng, n, strict=False) for n in legacy]
        choice = pick(draw, ("absent", "none", "auto", "named"))
        if choice == "named":
            body["function_call"] = {"name": rng.choice(legacy)}
        elif choice != "absent":
            body["function_call"] = choice
        functions = functions + legacy
    return functions, customs


def _response_format(draw: Draw, rng: Rng) -> Body:
    kind = pick(draw, ("text", "json_object", "json_schema"))
    if kind != "json_schema":
        return {"type": kind}
    spec: Body = {"name": identifier(rng)}
    described, schema, strict = flags(draw, 3)
    if described:
        spec["description"] = phrase(rng)
    if schema:
        spec["schema"] = json_schema(rng)
    if strict:
        spec["strict"] = rng.choice((True, False, None))
    return {"type": "json_schema", "json_schema": spec}


def _user_location(rng: Rng) -> Body | None:
    if rng.random() < 0.1:
        return None
    approx = {
        "city": phrase(rng),
        "country": rng.choice(COUNTRIES),
        "region": phrase(rng),
        "timezone": rng.choice(TIMEZONES),
    }
    approx = {k: v for k, v in approx.items() if rng.random() < 0.7}
    return {"type": "approximate", "approximate": approx}


WEB_SEARCH: Table = (
    ("search_context_size", ("low", "medium", "high")),
    ("user_location", _user_location),
)


def _stream(draw: Draw, rng: Rng, body: Body) -> None:
    stream = pick(draw, ("absent", None, False, True))
    if stream != "absent":
        body["stream"] = stream
    if stream is True and draw(st.booleans()):
        keys = ("include_usage", "include_obfuscation")
        body["stream_options"] = {k: rng.random() < 0.5 for k in keys if rng.random() < 0.6}


def _stop(rng: Rng) -> Any:
    kind = rng.randrange(3)
    if kind == 0:
        return None
    if kind == 1:
        return phrase(rng)
    return [phrase(rng) for _ in range(rng.randint(1, 4))]


def _logit_bias(rng: Rng) -> dict[str, int]:
    return {str(rng.randrange(10000)): rng.randint(-100, 100) for _ in range(rng.randint(0, 3))}


SAMPLING: Table = (
    ("temperature", (0, 0.2, 1.0, 2)),
    ("top_p", (0.1, 0.9, 1)),
    ("frequency_penalty", (-2.0, 0, 0.5, 2)),
    ("presence_penalty", (-2.0, 0, 0.5, 2)),
    ("seed", (0, 7, 999)),
    ("n", (1, 2, 3)),
    ("stop", _stop),
    ("logit_bias", _logit_bias),
    ("user", phrase),
)
"""Optional knobs chat and legacy completions share, with the values to draw from."""


def _metadata(rng: Rng) -> dict[str, str]:
    return {identifier(rng): phrase(rng) for _ in range(rng.randint(0, 3))}


def _moderation(rng: Rng) -> Body:
    moderation: Body = {"model": "omni-moderation-latest"}
    if rng.random() < 0.5:
        modes = ("score", "block")
        moderation["policy"] = {k: {"mode": rng.choice(modes)} for k in ("input", "output")}
    return moderation


def _voice(rng: Rng) -> Any:
    return rng.choice(VOICES) if rng.random() < 0.7 else {"id": "voice_" + id_tail(rng, 8)}


CHAT: Table = (
    ("metadata", _metadata),
    ("safety_identifier", phrase),
    ("prompt_cache_key", phrase),
    ("store", (None, True, False)),
    ("reasoning_effort", EFFORTS),
    ("verbosity", ("low", "medium", "high")),
    ("service_tier", TIERS),
    ("moderation", _moderation),
    ("prompt_cache_options", ({}, {"mode": "implicit"}, {"mode": "explicit", "ttl": "30m"})),
    ("prompt_cache_retention", ("in_memory", "24h")),
)


def _output(draw: Draw, rng: Rng, body: Body) -> None:
    """Token limits, logprobs and modalities: the fields whose validity depends on others."""
    limit = pick(draw, (None, "max_tokens", "max_completion_tokens"))
    if limit:
        body[limit] = rng.choice((1, 256, 4096))
    logprobs = pick(draw, ("absent", None, False, True, "top"))
    if logprobs == "top":
        body["logprobs"], body["top_logprobs"] = True, rng.choice((0, 5, 20))
    elif logprobs != "absent":
        body["logprobs"] = logprobs
    modalities = pick(draw, ("absent", "text", "audio"))
    if modalities == "audio":
        body["modalities"] = ["text", "audio"]
        body["audio"] = {"format": rng.choice(AUDIO_FORMATS), "voice": _voice(rng)}
    elif modalities == "text":
        body["modalities"] = ["text"]


@st.composite
def _chat(draw: Draw, models: Sequence[str]) -> Body:
    rng = rng_for(draw)
    body: Body = {"model": pick(draw, models)}
    functions, customs = _tools(draw, rng, body)
    body["messages"] = conversation(draw, rng, functions, customs)
    body.update(optional_fields(draw, rng, SAMPLING + CHAT))
    _output(draw, rng, body)
    formatted, predicted, searched = flags(draw, 3)
    if formatted:
        body["response_format"] = _response_format(draw, rng)
    if predicted:
        body["prediction"] = {"type": "content", "content": content(draw, rng)}
    if searched:
        body["web_search_options"] = optional_fields(draw, rng, WEB_SEARCH)
    _stream(draw, rng, body)
    return body


def _token_inputs(draw: Draw, rng: Rng) -> Any:
    """A string, strings, token ids, or lists of token ids: prompts and embedding inputs."""
    kind = pick(draw, ("text", "texts", "tokens", "token_lists"))
    if kind == "text":
        return phrase(rng)
    if kind == "texts":
        return [phrase(rng) for _ in range(rng.randint(1, 3))]
    if kind == "tokens":
        return [rng.randrange(10000) for _ in range(rng.randint(1, 5))]
    return [
        [rng.randrange(10000) for _ in range(rng.randint(1, 4))] for _ in range(rng.randint(1, 3))
    ]


COMPLETIONS: Table = (
    ("best_of", (3, 4)),  # never below n, which stays <= 3
    ("echo", (True, False)),
    ("logprobs", (None, 0, 5)),
    ("max_tokens", (1, 16, 4096)),
    ("suffix", lambda rng: phrase(rng) if rng.random() < 0.8 else None),
)


@st.composite
def _completions(draw: Draw, models: Sequence[str]) -> Body:
    rng = rng_for(draw)
    body: Body = {"model": pick(draw, models), "prompt": _token_inputs(draw, rng)}
    body.update(optional_fields(draw, rng, SAMPLING + COMPLETIONS))
    _stream(draw, rng, body)
    return body


EMBEDDINGS: Table = (
    ("encoding_format", ("float", "base64")),
    ("dimensions", (1, 256, 3072)),
    ("user", phrase),
)


@st.composite
def _embeddings(draw: Draw, models: Sequence[str]) -> Body:
    rng = rng_for(draw)
    body: Body = {"model": pick(draw, models), "input": _token_inputs(draw, rng)}
    body.update(optional_fields(draw, rng, EMBEDDINGS))
    return body


def _finish(bodies: st.SearchStrategy[Body], extras: bool) -> st.SearchStrategy[Body]:
    return with_extras(bodies) if extras else bodies


def openai_chat(models: Sequence[str], *, extras: bool = True) -> st.SearchStrategy[Body]:
    """POST /v1/chat/completions bodies; `extras` adds unknown fields now and then."""
    return _finish(_chat(tuple(models)), extras)


def openai_completions(models: Sequence[str], *, extras: bool = True) -> st.SearchStrategy[Body]:
    """POST /v1/completions (legacy) bodies."""
    return _finish(_completions(tuple(models)), extras)


def openai_embeddings(models: Sequence[str], *, extras: bool = True) -> st.SearchStrategy[Body]:
    """POST /v1/embeddings bodies."""
    return _finish(_embeddings(tuple(models)), extras)
