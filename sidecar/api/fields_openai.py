"""What the whole-body walk may skip or must decode in OpenAI requests.

These trees list exemptions, not content: every field not named here is scanned, and a
named field is skipped only when its validator passes (see `sidecar.classify.walk`).
Free-text fields (names, `user`, `stop`, metadata, descriptions) are absent on purpose.
Sources: OpenAI's API reference and the openai-python request types.
"""

from __future__ import annotations

from sidecar.classify import media
from sidecar.classify.walk import (
    ANY,
    FLAG,
    JSON,
    MODEL_NAME,
    PENALTY,
    PROBABILITY,
    SMALL_COUNT,
    TEMPERATURE,
    TOKENS,
    Field,
    array,
    either,
    free,
    identifier,
    known_keys,
    number,
    obj,
    one_of,
    open_map,
)

CALL_ID = identifier("call", "fc", "toolu", "srvtoolu", "mcptoolu")
"""Tool-call ids as OpenAI, Anthropic and OpenRouter mint them."""
AUDIO_ID = identifier("audio")
SEED = number(-(2**31), 2**31, integer=True)
"""Narrower than the API allows: a 16-digit card number sent as a seed is scanned."""
SCHEMA = ANY
"""A JSON Schema (tool parameters, structured outputs): scanned whole, as one JSON text.
Its property names, descriptions, enums and defaults are the app's own words."""

FUNCTION = obj(free("name", "description"), parameters=SCHEMA, strict=FLAG)
TOOL_CALL = obj(
    id=CALL_ID,
    type=one_of("function", "custom"),
    function=obj(free("name"), arguments=Field(form=JSON)),
    custom=obj(free("name", "input")),
    index=SMALL_COUNT,
)
IMAGE_URL = obj(url=Field(special=media.inline_content), detail=one_of("auto", "low", "high"))
PART = obj(
    free("text", "refusal"),
    type=one_of("text", "image_url", "input_audio", "file", "refusal"),
    image_url=IMAGE_URL,
    input_audio=obj(
        data=Field(special=media.inline_content), format=one_of("wav", "mp3", "flac", "opus")
    ),
    file=obj(
        free("filename"),
        file_data=Field(special=media.inline_content),
        file_id=Field(special=media.file_ref),
    ),
)
CONTENT = array(PART)
MESSAGE = obj(
    free("name", "refusal"),
    role=one_of("system", "developer", "user", "assistant", "tool", "function"),
    content=CONTENT,
    tool_calls=array(TOOL_CALL),
    tool_call_id=CALL_ID,
    function_call=obj(free("name"), arguments=Field(form=JSON)),
    audio=obj(id=AUDIO_ID),
)
TOOL = obj(
    type=one_of("function", "custom"),
    function=FUNCTION,
    custom=obj(
        format=obj(type=one_of("text", "grammar"), grammar=obj(syntax=one_of("lark", "regex")))
    ),
)
RESPONSE_FORMAT = obj(
    type=one_of("text", "json_object", "json_schema"),
    json_schema=obj(free("name", "description"), schema=SCHEMA, strict=FLAG),
)
TOOL_CHOICE = either(
    one_of("auto", "none", "required"),
    obj(
        type=one_of("function", "custom", "allowed_tools"),
        function=obj(free("name")),
        custom=obj(free("name")),
        allowed_tools=obj(
            mode=one_of("auto", "required"), tools=array(obj(type=one_of("function")))
        ),
    ),
)
SAMPLING: dict[str, Field] = {
    **free("user", "stop", "safety_identifier", "prompt_cache_key", "suffix"),
    "metadata": open_map(),
    "model": MODEL_NAME,
    "temperature": TEMPERATURE,
    "top_p": PROBABILITY,
    "frequency_penalty": PENALTY,
    "presence_penalty": PENALTY,
    "n": SMALL_COUNT,
    "max_tokens": TOKENS,
    "seed": SEED,
    "stream": FLAG,
    "stream_options": obj(include_usage=FLAG, include_obfuscation=FLAG),
    "logprobs": FLAG,
    "top_logprobs": SMALL_COUNT,
    "logit_bias": ANY,
    "service_tier": one_of("auto", "default", "flex", "scale", "priority"),
}

CHAT = obj(
    SAMPLING,
    messages=array(MESSAGE),
    max_completion_tokens=TOKENS,
    tools=array(TOOL),
    functions=array(FUNCTION),
    tool_choice=TOOL_CHOICE,
    function_call=one_of("auto", "none"),
    parallel_tool_calls=FLAG,
    response_format=RESPONSE_FORMAT,
    store=FLAG,
    modalities=array(one_of("text", "audio")),
    audio=obj(format=one_of("wav", "aac", "mp3", "flac", "opus", "pcm16")),
    reasoning_effort=one_of("none", "minimal", "low", "medium", "high", "xhigh"),
    verbosity=one_of("low", "medium", "high"),
    prediction=obj(type=one_of("content"), content=CONTENT),
    web_search_options=obj(
        search_context_size=one_of("low", "medium", "high"),
        user_location=obj(type=one_of("approximate"), approximate=open_map()),
    ),
)
"""POST /v1/chat/completions."""

PROMPT = Field(special=media.token_ids)
COMPLETIONS = obj(
    SAMPLING,
    prompt=PROMPT,
    best_of=SMALL_COUNT,
    echo=FLAG,
    logprobs=SMALL_COUNT,
)
"""POST /v1/completions (legacy): `prompt` may be token ids, declared as such."""

EMBEDDINGS = obj(
    model=MODEL_NAME,
    input=PROMPT,
    encoding_format=one_of("float", "base64"),
    dimensions=number(1, 65_536, integer=True),
)
"""POST /v1/embeddings."""

DOCUMENTED = known_keys(CHAT, COMPLETIONS, EMBEDDINGS)
"""Field names of OpenAI requests: safe to name in audit records."""
