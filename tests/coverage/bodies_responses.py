"""OpenAI Responses API request bodies: POST /v1/responses.

Shapes follow the installed `openai` SDK's TypedDicts (`response_create_params`,
`tool_param`, `tool_choice_*_param`, `response_text_config_param`); input items are built in
`responses_items` and `responses_messages`. Bodies are coherent where the API checks more
than the schema does: a named `tool_choice` names a declared tool, items call declared
functions and MCP servers, `stream_options` only comes with `stream: true`, and
`previous_response_id` and `conversation` never come together.

Continuations (`previous_response_id`, `conversation`) only make sense against stored
state: the sidecar answers an id it did not see created with a 404, so the end-to-end
oracle draws bodies with `continuations=False`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from tests.coverage import media
from tests.coverage.bodies_openai import COUNTRIES, EFFORTS, TIERS, TIMEZONES
from tests.coverage.extras import with_extras
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
    url,
)
from tests.coverage.responses_items import Ctx, input_items
from tests.coverage.responses_messages import file_id, item_id, prompt_variables

Body = dict[str, Any]

INCLUDABLE = (
    "file_search_call.results",
    "web_search_call.results",
    "web_search_call.action.sources",
    "message.input_image.image_url",
    "computer_call_output.output.image_url",
    "code_interpreter_call.outputs",
    "reasoning.encrypted_content",
    "message.output_text.logprobs",
)
IMAGE_MODELS = ("gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "chatgpt-image-latest")
CONNECTORS = ("connector_dropbox", "connector_gmail", "connector_googledrive")
HOSTED = (
    "mcp",
    "web_search",
    "web_search_preview",
    "file_search",
    "mcp",
    "code_interpreter",
    "image_generation",
    "computer_use_preview",
    "local_shell",
    "shell",
    "apply_patch",
)
"""Hosted tool kinds, `mcp` twice: its URL, headers and authorization are where an agent's
secrets sit."""


def _function_tool(draw: Draw, rng: Rng, name: str) -> Body:
    tool: Body = {"type": "function", "name": name, "parameters": None, "strict": None}
    parameterised, strict, described = flags(draw, 3)
    if parameterised:
        tool["parameters"] = json_schema(rng)
    if strict:
        tool["strict"] = rng.choice((True, False))
    if described:
        tool["description"] = phrase(rng)
    return tool


def _custom_tool(draw: Draw, rng: Rng, name: str) -> Body:
    tool: Body = {"type": "custom", "name": name}
    if draw(st.booleans()):
        tool["description"] = phrase(rng)
    kind = pick(draw, ("none", "text", "lark", "regex"))
    if kind == "text":
        tool["format"] = {"type": "text"}
    elif kind != "none":
        a, b = rng.sample(VOCABULARY, 2)
        definition = f'start: "{a}" | "{b}"' if kind == "lark" else f"({a}|{b})+"
        tool["format"] = {"type": "grammar", "syntax": kind, "definition": definition}
    return tool


def _location(rng: Rng, typed: bool) -> Body:
    location: Body = {"type": "approximate"} if typed else {}
    for key, value in (
        ("city", phrase(rng)),
        ("region", phrase(rng)),
        ("country", rng.choice(COUNTRIES)),
        ("timezone", rng.choice(TIMEZONES)),
    ):
        if rng.random() < 0.6:
            location[key] = value
    return location


def _web_search(draw: Draw, rng: Rng) -> Body:
    preview = draw(st.booleans())
    if preview:
        kind = rng.choice(("web_search_preview", "web_search_preview_2025_03_11"))
    else:
        kind = rng.choice(("web_search", "web_search_2025_08_26"))
    tool: Body = {"type": kind}
    located, sized, filtered = flags(draw, 3)
    if located:
        tool["user_location"] = _location(rng, typed=preview or rng.random() < 0.5)
    if sized:
        tool["search_context_size"] = rng.choice(("low", "medium", "high"))
    if filtered and preview:
        tool["search_content_types"] = ["text"]
    elif filtered:
        tool["filters"] = {"allowed_domains": [f"{identifier(rng).replace('_', '-')}.example.com"]}
        tool["external_web_access"] = rng.random() < 0.5
    return tool


def _file_search(draw: Draw, rng: Rng) -> Body:
    ids = [item_id(rng, "vs") for _ in range(rng.randint(1, 2))]
    tool: Body = {"type": "file_search", "vector_store_ids": ids}
    limited, ranked, filtered = flags(draw, 3)
    if limited:
        tool["max_num_results"] = rng.choice((5, 20))
    if ranked:
        tool["ranking_options"] = {"ranker": "auto", "score_threshold": 0.5}
    if filtered:
        tool["filters"] = {"type": "eq", "key": identifier(rng), "value": phrase(rng)}
    return tool


def _approval_filter(rng: Rng) -> Body:
    return {"tool_names": [identifier(rng)], "read_only": rng.random() < 0.5}


def _mcp(draw: Draw, rng: Rng, server: str) -> Body:
    """An MCP server by URL (with headers and an authorization of safe words: real ones are
    secrets, which is why they are scanned) or a connector."""
    tool: Body = {"type": "mcp", "server_label": server}
    if draw(st.booleans()):
        tool["server_url"] = url(rng)
        if rng.random() < 0.5:
            tool["headers"] = {identifier(rng).replace("_", "-"): phrase(rng)}
    else:
        tool["connector_id"] = rng.choice(CONNECTORS)
    authorised, described, allowed, approval = flags(draw, 4)
    if authorised:
        tool["authorization"] = phrase(rng)
    if described:
        tool["server_description"] = phrase(rng)
    if allowed:
        tool["allowed_tools"] = [identifier(rng)] if rng.random() < 0.5 else _approval_filter(rng)
    if approval:
        both = {"never": _approval_filter(rng), "always": _approval_filter(rng)}
        tool["require_approval"] = rng.choice(("always", "never", both))
    return tool


def _container(draw: Draw, rng: Rng) -> Any:
    if draw(st.booleans()):
        return item_id(rng, "cntr")
    container: Body = {"type": "auto"}
    if rng.random() < 0.5:
        container["file_ids"] = [file_id(rng)]
    if rng.random() < 0.5:
        container["memory_limit"] = rng.choice(("1g", "4g"))
    return container


IMAGE_GENERATION: Table = (
    ("background", ("transparent", "opaque", "auto")),
    ("model", IMAGE_MODELS),
    ("quality", ("low", "medium", "high", "auto")),
    ("size", ("1024x1024", "1024x1536", "auto")),
    ("output_format", ("png", "webp", "jpeg")),
    ("output_compression", (50, 100)),
    ("partial_images", (0, 2)),
    ("moderation", ("auto", "low")),
    ("input_fidelity", ("high", "low")),
)


def _hosted(draw: Draw, rng: Rng, kind: str, ctx: Ctx) -> Body:
    if kind in ("web_search", "web_search_preview"):
        return _web_search(draw, rng)
    if kind == "file_search":
        return _file_search(draw, rng)
    if kind == "mcp":
        server = identifier(rng)
        ctx.servers.append(server)
        return _mcp(draw, rng, server)
    if kind == "code_interpreter":
        return {"type": kind, "container": _container(draw, rng)}
    if kind == "image_generation":
        tool = {"type": kind, **optional_fields(draw, rng, IMAGE_GENERATION)}
        if one_in(draw, 4):
            tool["input_image_mask"] = {"image_url": media.data_url("image/png", media.PNG)}
        return tool
    if kind == "computer_use_preview":
        environment = rng.choice(("browser", "mac", "linux"))
        return {
            "type": kind,
            "display_width": 1024,
            "display_height": 768,
            "environment": environment,
        }
    if kind == "shell" and draw(st.booleans()):
        return {
            "type": kind,
            "environment": {"type": "container_reference", "container_id": item_id(rng, "cntr")},
        }
    return {"type": kind}


def _tools(draw: Draw, rng: Rng, body: Body, ctx: Ctx) -> None:
    """`tools` and `tool_choice`, remembering the names items may call."""
    names = list(dict.fromkeys(identifier(rng) for _ in range(draw(st.integers(0, 3)))))
    split = draw(st.integers(0, len(names)))
    ctx.functions, ctx.customs = names[:split], names[split:]
    tools = [_function_tool(draw, rng, n) for n in ctx.functions]
    tools += [_custom_tool(draw, rng, n) for n in ctx.customs]
    kinds = [pick(draw, HOSTED) for _ in range(pick(draw, (0, 1, 2, 3)))]
    tools += [_hosted(draw, rng, kind, ctx) for kind in dict.fromkeys(kinds)]
    if not tools:
        return
    body["tools"] = tools
    named: list[Body] = [{"type": "function", "name": n} for n in ctx.functions]
    named += [{"type": "custom", "name": n} for n in ctx.customs]
    named += [{"type": "mcp", "server_label": s} for s in ctx.servers]
    named += [
        {"type": t["type"]}
        for t in tools
        if t["type"]
        in (
            "file_search",
            "web_search_preview",
            "image_generation",
            "code_interpreter",
            "shell",
            "apply_patch",
        )
    ]
    choice = pick(draw, ("absent", "none", "auto", "required", "named", "allowed"))
    if choice in ("none", "auto", "required"):
        body["tool_choice"] = choice
    elif choice == "named" and named:
        body["tool_choice"] = dict(rng.choice(named))
    elif choice == "allowed" and named:
        chosen = [dict(t) for t in rng.sample(named, rng.randint(1, len(named)))]
        body["tool_choice"] = {
            "type": "allowed_tools",
            "mode": rng.choice(("auto", "required")),
            "tools": chosen,
        }
    if draw(st.booleans()):
        body["parallel_tool_calls"] = rng.choice((True, False, None))


def _text(draw: Draw, rng: Rng) -> Body:
    text: Body = {}
    formatted, verbose = flags(draw, 2)
    if formatted:
        kind = pick(draw, ("text", "json_object", "json_schema"))
        fmt: Body = {"type": kind}
        if kind == "json_schema":
            fmt.update(name=identifier(rng), schema=json_schema(rng))
            if rng.random() < 0.5:
                fmt["description"] = phrase(rng)
            if rng.random() < 0.5:
                fmt["strict"] = rng.choice((True, False, None))
        text["format"] = fmt
    if verbose:
        text["verbosity"] = rng.choice(("low", "medium", "high"))
    return text


def _reasoning(rng: Rng) -> Body:
    reasoning: Body = {}
    for key, values in (
        ("effort", EFFORTS),
        ("summary", ("auto", "concise", "detailed")),
        ("generate_summary", ("auto", "concise", "detailed")),
    ):
        if rng.random() < 0.5:
            reasoning[key] = rng.choice(values)
    return reasoning


def _metadata(rng: Rng) -> dict[str, str]:
    return {identifier(rng): phrase(rng) for _ in range(rng.randint(0, 3))}


def _prompt(rng: Rng) -> Body:
    prompt: Body = {"id": "pmpt_" + id_tail(rng, 24)}
    if rng.random() < 0.5:
        prompt["version"] = rng.choice(("1", "2", "7"))
    return prompt


RESPONSES: Table = (
    ("instructions", phrase),
    ("metadata", _metadata),
    ("store", (None, True, False)),
    ("background", (None, False)),
    ("include", lambda rng: rng.sample(INCLUDABLE, rng.randint(1, 3))),
    ("truncation", ("auto", "disabled")),
    ("reasoning", _reasoning),
    ("max_output_tokens", (16, 1024, 4096)),
    ("max_tool_calls", (1, 5)),
    ("temperature", (0, 0.2, 1.0, 2)),
    ("top_p", (0.1, 0.9, 1)),
    ("top_logprobs", (0, 5, 20)),
    ("user", phrase),
    ("safety_identifier", phrase),
    ("prompt_cache_key", phrase),
    ("service_tier", TIERS),
    ("prompt_cache_retention", ("in_memory", "24h")),
)
"""Optional fields that need no structure of their own, with the values to draw from."""


def _continuation(draw: Draw, rng: Rng, body: Body) -> None:
    kind = pick(draw, ("none", "previous", "conversation", "conversation_object"))
    if kind == "previous":
        body["previous_response_id"] = item_id(rng, "resp")
    elif kind == "conversation":
        body["conversation"] = item_id(rng, "conv")
    elif kind == "conversation_object":
        body["conversation"] = {"id": item_id(rng, "conv")}


@st.composite
def _responses(draw: Draw, models: Sequence[str], continuations: bool) -> Body:
    rng = rng_for(draw)
    ctx = Ctx()
    body: Body = {"model": pick(draw, models)}
    _tools(draw, rng, body, ctx)
    body["input"] = phrase(rng) if one_in(draw, 4) else input_items(draw, rng, ctx)
    body.update(optional_fields(draw, rng, RESPONSES))
    texted, prompted = flags(draw, 2)
    if texted:
        body["text"] = _text(draw, rng)
    if prompted:
        body["prompt"] = _prompt(rng)
        if draw(st.booleans()):
            body["prompt"]["variables"] = prompt_variables(draw, rng)
    if continuations:
        _continuation(draw, rng, body)
    stream = pick(draw, ("absent", None, False, True))
    if stream != "absent":
        body["stream"] = stream
    if stream is True and draw(st.booleans()):
        body["stream_options"] = {"include_obfuscation": rng.random() < 0.5}
    return body


def openai_responses(
    models: Sequence[str], *, extras: bool = True, continuations: bool = True
) -> st.SearchStrategy[Body]:
    """POST /v1/responses bodies; `extras` adds unknown fields now and then, and
    `continuations=False` leaves out `previous_response_id` and `conversation`."""
    bodies = _responses(tuple(models), continuations)
    return with_extras(bodies) if extras else bodies
