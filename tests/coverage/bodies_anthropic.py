"""Anthropic request bodies: POST /v1/messages and /v1/messages/count_tokens.

Shapes follow the installed `anthropic` SDK's TypedDicts (`message_create_params`,
`message_count_tokens_params`, `*_block_param`, `tool_*_param`). Conversations are coherent
where the API checks more than the schema: every `tool_use` is answered by a `tool_result`
with its id in the next user message, every `server_tool_use` by a `web_search_tool_result`
in the same assistant message, and `thinking.budget_tokens` stays below `max_tokens`.

Beta-only shapes (MCP servers and blocks, the computer tool, context management) come only
with `beta=True`; such bodies need the `anthropic-beta` header `anthropic_betas` names.
Hypothesis chooses the structure, one seeded `rng` per body the leaves (see `primitives`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hypothesis import strategies as st

from tests.coverage.anthropic_blocks import (
    Ctx,
    assistant_content,
    text_block,
    tool_result_block,
    user_blocks,
    with_cache,
)
from tests.coverage.extras import objects_in, with_extras
from tests.coverage.primitives import (
    Draw,
    Rng,
    Table,
    flags,
    id_tail,
    identifier,
    json_object,
    json_schema,
    one_in,
    optional_fields,
    phrase,
    pick,
    rng_for,
    url,
)

Body = dict[str, Any]

ALLOWED_CALLERS = ("direct", "code_execution_20250825")
SKILLS = ("pptx", "xlsx", "docx", "pdf")
COUNTRIES = ("US", "GB", "DE", "FR", "JP")
TIMEZONES = ("America/New_York", "Europe/London", "Europe/Berlin", "Asia/Tokyo")
DISPLAYS = ((1024, 768), (1280, 800), (1920, 1080))


def _custom_tool(draw: Draw, rng: Rng, name: str) -> Body:
    tool: Body = {"name": name, "input_schema": json_schema(rng)}
    described, typed, strict, examples, eager, callers, cached = flags(draw, 7)
    if described:
        tool["description"] = phrase(rng)
    if typed:
        tool["type"] = "custom"
    if strict:
        tool["strict"] = rng.choice((True, False))
    if examples:
        tool["input_examples"] = [json_object(rng) for _ in range(rng.randint(1, 2))]
    if eager:
        tool["eager_input_streaming"] = rng.choice((True, False, None))
    if callers:
        tool["allowed_callers"] = rng.sample(ALLOWED_CALLERS, rng.randint(1, 2))
    return with_cache(rng, tool) if cached else tool


def _domains(rng: Rng) -> list[str]:
    return [f"{identifier(rng).replace('_', '-')}.example.com" for _ in range(rng.randint(1, 2))]


def _user_location(rng: Rng) -> Body:
    location: Body = {"type": "approximate"}
    for key, value in (
        ("city", phrase(rng)),
        ("region", phrase(rng)),
        ("country", rng.choice(COUNTRIES)),
        ("timezone", rng.choice(TIMEZONES)),
    ):
        if rng.random() < 0.6:
            location[key] = value
    return location


def _web_tool(draw: Draw, rng: Rng, kind: str) -> Body:
    name = "web_search" if kind == "web_search_20250305" else "web_fetch"
    tool: Body = {"type": kind, "name": name}
    uses, domains, extra = flags(draw, 3)
    if uses:
        tool["max_uses"] = rng.choice((1, 5, None))
    if domains:
        tool[rng.choice(("allowed_domains", "blocked_domains"))] = _domains(rng)
    if extra and name == "web_search":
        tool["user_location"] = _user_location(rng)
    elif extra:
        tool["citations"] = {"enabled": rng.choice((True, False))}
        tool["max_content_tokens"] = rng.choice((1000, 5000))
    return tool


SERVER_TOOLS = (
    "bash_20250124",
    "text_editor_20250728",
    "text_editor_20250124",
    "web_search_20250305",
    "web_fetch_20250910",
    "code_execution_20250825",
    "memory_20250818",
)
SERVER_TOOL_NAMES = {
    "bash_20250124": "bash",
    "text_editor_20250728": "str_replace_based_edit_tool",
    "text_editor_20250124": "str_replace_editor",
    "code_execution_20250825": "code_execution",
    "memory_20250818": "memory",
    "computer_20250124": "computer",
}


def _server_tool(draw: Draw, rng: Rng, kind: str) -> Body:
    if kind.startswith("web_"):
        tool = _web_tool(draw, rng, kind)
    else:
        tool = {"type": kind, "name": SERVER_TOOL_NAMES[kind]}
    if kind == "text_editor_20250728" and draw(st.booleans()):
        tool["max_characters"] = rng.choice((1000, 10000, None))
    if kind == "computer_20250124":
        tool["display_width_px"], tool["display_height_px"] = rng.choice(DISPLAYS)
        if draw(st.booleans()):
            tool["display_number"] = rng.choice((0, 1, None))
    return with_cache(rng, tool) if one_in(draw, 4) else tool


def _tools(draw: Draw, rng: Rng, body: Body, ctx: Ctx) -> None:
    """`tools` and `tool_choice`; records the custom tool names for `tool_use` blocks."""
    names = list(dict.fromkeys(identifier(rng) for _ in range(draw(st.integers(0, 3)))))
    ctx.tool_names = names
    tools = [_custom_tool(draw, rng, n) for n in names]
    kinds = SERVER_TOOLS + (("computer_20250124",) if ctx.beta else ())
    chosen = flags(draw, len(kinds))
    tools += [_server_tool(draw, rng, k) for k, on in zip(kinds, chosen, strict=True) if on]
    if ctx.beta and ctx.mcp_servers and draw(st.booleans()):
        toolset: Body = {"type": "mcp_toolset", "mcp_server_name": rng.choice(ctx.mcp_servers)}
        if rng.random() < 0.5:
            toolset["default_config"] = {"enabled": rng.choice((True, False))}
        tools.append(toolset)
    if not tools:
        return
    body["tools"] = tools
    choice = pick(draw, ("absent", "auto", "any", "tool", "none"))
    if choice == "absent":
        return
    named = [t["name"] for t in tools if "name" in t]  # an mcp_toolset has no name
    if choice == "tool" and not named:
        choice = "auto"
    tool_choice: Body = {"type": choice}
    if choice == "tool":
        tool_choice["name"] = rng.choice(named)
    if choice != "none" and draw(st.booleans()):
        tool_choice["disable_parallel_tool_use"] = rng.choice((True, False))
    body["tool_choice"] = tool_choice


def _system(draw: Draw, rng: Rng) -> Any:
    if draw(st.booleans()):
        return phrase(rng)
    return [text_block(draw, rng) for _ in range(draw(st.integers(1, 2)))]


def _messages(draw: Draw, rng: Rng, ctx: Ctx) -> list[Body]:
    """Alternating turns from the user; tool uses are always answered."""
    messages: list[Body] = []
    pending: list[str] = []
    for turn in range(draw(st.integers(1, 3))):
        blocks = [tool_result_block(draw, rng, ctx, i) for i in pending]
        if not pending and draw(st.booleans()):
            messages.append({"role": "user", "content": phrase(rng)})
        else:
            blocks += user_blocks(draw, rng, ctx, minimum=0 if blocks else 1)
            messages.append({"role": "user", "content": blocks})
        if turn and one_in(draw, 3):
            pending = []
            break
        content, pending = assistant_content(draw, rng, ctx)
        messages.append({"role": "assistant", "content": content})
    if pending:
        answers = [tool_result_block(draw, rng, ctx, i) for i in pending]
        messages.append({"role": "user", "content": answers})
    return messages


def _thinking(draw: Draw, rng: Rng) -> Body | None:
    kind = pick(draw, (None, "enabled", "disabled", "adaptive", "between_tools"))
    if kind is None:
        return None
    thinking: Body = {"type": kind}
    if kind == "enabled":
        thinking["budget_tokens"] = rng.choice((1024, 2048))
    if kind in ("enabled", "adaptive") and draw(st.booleans()):
        thinking["display"] = rng.choice(("summarized", "omitted", None))
    return thinking


def _container(rng: Rng) -> Any:
    if rng.random() < 0.4:
        return "container_01" + id_tail(rng, 20)
    container: Body = {}
    if rng.random() < 0.5:
        container["id"] = "container_01" + id_tail(rng, 20)
    skills = []
    for _ in range(rng.randint(0, 2)):
        if rng.random() < 0.5:
            skill: Body = {"type": "anthropic", "skill_id": rng.choice(SKILLS)}
        else:
            skill = {"type": "custom", "skill_id": "skill_01" + id_tail(rng, 20)}
        if rng.random() < 0.5:
            skill["version"] = "latest"
        skills.append(skill)
    if skills or rng.random() < 0.5:
        container["skills"] = skills
    return container


def _output_config(rng: Rng) -> Body:
    config: Body = {}
    if rng.random() < 0.6:
        config["effort"] = rng.choice(("low", "medium", "high", "xhigh", "max", None))
    if rng.random() < 0.6:
        config["format"] = {"type": "json_schema", "schema": json_schema(rng)}
    return config


def _cache_control(rng: Rng) -> Body:
    control: Body = {"type": "ephemeral"}
    if rng.random() < 0.5:
        control["ttl"] = rng.choice(("5m", "1h"))
    return control


COMMON: Table = (
    ("output_config", _output_config),
    ("cache_control", _cache_control),
    ("speed", ("standard", "fast", None)),
)
"""Optional top-level fields of both messages and count_tokens."""

MESSAGES_ONLY: Table = (
    ("metadata", lambda rng: {"user_id": phrase(rng) if rng.random() < 0.8 else None}),
    ("stop_sequences", lambda rng: [phrase(rng) for _ in range(rng.randint(1, 3))]),
    ("service_tier", ("auto", "standard_only")),
    ("inference_geo", ("us", "global", None)),
    ("container", _container),
    ("diagnostics", lambda rng: {"previous_message_id": rng.choice((None, "msg_01AbcDef"))}),
    ("stream", (True, False)),
)

SAMPLING: Table = (
    ("temperature", (0, 0.5, 1.0)),
    ("top_p", (0.1, 0.9)),
    ("top_k", (1, 40)),
)
"""Documented in Anthropic's API reference and the 0.x SDKs, gone from the installed 2.x
SDK's TypedDicts: opt-in, so default bodies validate against the installed SDK."""


def _mcp_servers(rng: Rng) -> list[Body]:
    servers = []
    for name in dict.fromkeys(identifier(rng) for _ in range(rng.randint(1, 2))):
        server: Body = {"type": "url", "url": url(rng, "/mcp"), "name": name}
        if rng.random() < 0.5:
            server["authorization_token"] = phrase(rng)
        if rng.random() < 0.5:
            config: Body = {}
            if rng.random() < 0.7:
                config["enabled"] = rng.choice((True, False, None))
            if rng.random() < 0.7:
                config["allowed_tools"] = [identifier(rng) for _ in range(rng.randint(1, 2))]
            server["tool_configuration"] = config
        servers.append(server)
    return servers


def _context_management(rng: Rng, tools: Sequence[str]) -> Body:
    edits: list[Body] = []
    if rng.random() < 0.7:
        edit: Body = {"type": "clear_tool_uses_20250919"}
        if rng.random() < 0.5:
            edit["trigger"] = rng.choice(
                ({"type": "input_tokens", "value": 30000}, {"type": "tool_uses", "value": 5})
            )
        if rng.random() < 0.5:
            edit["keep"] = {"type": "tool_uses", "value": 3}
        if rng.random() < 0.5:
            edit["clear_at_least"] = {"type": "input_tokens", "value": 5000}
        if tools and rng.random() < 0.5:
            edit["exclude_tools"] = rng.sample(list(tools), 1)
        if rng.random() < 0.5:
            edit["clear_tool_inputs"] = rng.choice((True, False, list(tools[:1])))
        edits.append(edit)
    if rng.random() < 0.5:
        keep = rng.choice(("all", {"type": "thinking_turns", "value": 1}, {"type": "all"}))
        edits.append({"type": "clear_thinking_20251015", "keep": keep})
    if rng.random() < 0.3:
        compact: Body = {"type": "compact_20260112", "pause_after_compaction": False}
        compact["instructions"] = phrase(rng)
        edits.append(compact)
    return {"edits": edits}


def _body(draw: Draw, models: Sequence[str], ctx: Ctx, *, messages: bool) -> Body:
    rng = rng_for(draw)
    body: Body = {"model": pick(draw, models)}
    if ctx.beta and draw(st.booleans()):
        servers = _mcp_servers(rng)
        body["mcp_servers"] = servers
        ctx.mcp_servers = [s["name"] for s in servers]
    _tools(draw, rng, body, ctx)
    body["messages"] = _messages(draw, rng, ctx)
    thinking = _thinking(draw, rng)
    if thinking is not None:
        body["thinking"] = thinking
    if messages:
        budget = thinking.get("budget_tokens", 0) if thinking else 0
        body["max_tokens"] = budget + rng.choice((1, 256, 1024, 4096))
    if draw(st.booleans()):
        body["system"] = _system(draw, rng)
    table = COMMON + (MESSAGES_ONLY if messages else ())
    body.update(optional_fields(draw, rng, table + (SAMPLING if ctx.sampling else ())))
    if ctx.beta and draw(st.booleans()):
        body["context_management"] = _context_management(rng, ctx.tool_names)
    return body


@st.composite
def _messages_body(draw: Draw, models: Sequence[str], beta: bool, sampling: bool) -> Body:
    return _body(draw, models, Ctx(beta=beta, sampling=sampling), messages=True)


@st.composite
def _count_tokens_body(draw: Draw, models: Sequence[str], beta: bool) -> Body:
    return _body(draw, models, Ctx(beta=beta, sampling=False), messages=False)


def anthropic_messages(
    models: Sequence[str], *, extras: bool = True, beta: bool = False, sampling: bool = False
) -> st.SearchStrategy[Body]:
    """POST /v1/messages bodies. `extras` adds unknown fields now and then; `beta` adds
    beta-only shapes (send `anthropic_betas(body)` as `anthropic-beta`); `sampling` adds
    temperature / top_p / top_k, which the installed SDK no longer lists."""
    bodies = _messages_body(tuple(models), beta, sampling)
    return with_extras(bodies) if extras else bodies


def anthropic_count_tokens(
    models: Sequence[str], *, extras: bool = True, beta: bool = False
) -> st.SearchStrategy[Body]:
    """POST /v1/messages/count_tokens bodies: the messages body minus max_tokens, stream,
    metadata, stop_sequences, service_tier, container and the other generation-only fields
    (per `MessageCountTokensParams`)."""
    bodies = _count_tokens_body(tuple(models), beta)
    return with_extras(bodies) if extras else bodies


BETAS = {
    "mcp_tool_use": "mcp-client-2025-04-04",
    "mcp_tool_result": "mcp-client-2025-04-04",
    "mcp_toolset": "mcp-client-2025-11-20",
    "computer_20250124": "computer-use-2025-01-24",
}
"""Block and tool types that exist only behind an `anthropic-beta` value."""


def anthropic_betas(body: Body) -> list[str]:
    """The `anthropic-beta` values a body (generated with `beta=True`) needs."""
    betas = {BETAS[o["type"]] for o in objects_in(body) if o.get("type") in BETAS}
    if "mcp_servers" in body:
        betas.add("mcp-client-2025-04-04")
    if "context_management" in body:
        betas.add("context-management-2025-06-27")
    return sorted(betas)
