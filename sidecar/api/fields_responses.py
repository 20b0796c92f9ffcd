"""What the whole-body walk may skip or must decode in OpenAI Responses requests.

Like `fields_openai`: exemptions only. Input items of every type share one tree, as do
content parts, tool definitions and tool outputs (a known key only means its name is a
constant; each exemption keeps its validator), so an item type added next month is walked
and scanned like any unknown object. Hosted-tool definitions are the app's words and its
secrets: an MCP server's URL, headers and authorization, a web search's location, a
container's domain secrets are all scanned. Model names other than the top-level `model`
(which the pipeline checks against the catalogue) are exempt only from a fixed list.
Sources: OpenAI's API reference and the openai-python request types (`types/responses`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sidecar.api.fields_openai import CALL_ID, SCHEMA
from sidecar.classify import media
from sidecar.classify.model import JsonPath
from sidecar.classify.walk import (
    FLAG,
    JSON,
    MODEL_NAME,
    PROBABILITY,
    TEMPERATURE,
    TOKENS,
    Extraction,
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

ITEM_ID = identifier(
    "msg", "fc", "rs", "ws", "fs", "cu", "ci", "ig", "lsh", "sh", "apc", "ctc", "mcp", "mcpl",
    "mcpr", "cmp", "tsc", "tso", "cfg", "prg", "item", "call",
)  # fmt: skip
"""Ids the API mints for items (`msg_…`, `fc_…`, `rs_…`; a local shell output's `id` is its
call's `call_…`). Real ones are hex and often hold four digits in a row: those are scanned,
which costs a segment, nothing more."""
RESPONSE_ID = identifier("resp")
CONTAINER_ID = identifier("cntr")
INDEX = number(0, 100_000_000, integer=True)
"""Character offsets and positions: eight digits at most, so no SSN, phone or card fits."""
PIXELS = number(-100_000, 100_000, integer=True)
MILLISECONDS = number(0, 86_400_000, integer=True)
LEVEL = one_of("low", "medium", "high")
STATUS = one_of(
    "in_progress", "completed", "incomplete", "searching", "interpreting", "generating",
    "calling", "failed",
)  # fmt: skip
CALLERS = array(one_of("direct", "programmatic"))
CACHE_BREAKPOINT = obj(mode=one_of("explicit"), ttl=one_of("30m", "12h"))
CALLER = obj(type=one_of("direct", "program"))
"""`caller_id` of a programmatic caller is not listed: scanned."""

TYPE = one_of(
    # input items
    "message", "function_call", "function_call_output", "reasoning", "item_reference",
    "file_search_call", "computer_call", "computer_call_output", "web_search_call",
    "image_generation_call", "code_interpreter_call", "local_shell_call",
    "local_shell_call_output", "shell_call", "shell_call_output", "apply_patch_call",
    "apply_patch_call_output", "mcp_list_tools", "mcp_approval_request", "mcp_approval_response",
    "mcp_call", "custom_tool_call", "custom_tool_call_output", "compaction", "compaction_trigger",
    "tool_search_call", "tool_search_output", "additional_tools", "configuration_update",
    "program", "program_output",
    # content parts, annotations, reasoning parts
    "input_text", "input_image", "input_file", "input_audio", "output_text", "refusal",
    "summary_text", "reasoning_text", "file_citation", "url_citation", "container_file_citation",
    "file_path", "computer_screenshot", "logs", "image", "url", "timeout", "exit",
    # actions of computer, web search, shell and patch calls
    "click", "double_click", "drag", "keypress", "move", "screenshot", "scroll", "type", "wait",
    "search", "open_page", "find_in_page", "exec", "create_file", "delete_file", "update_file",
    # tools
    "function", "custom", "file_search", "computer", "computer_use_preview", "computer_use",
    "web_search", "web_search_2025_08_26", "web_search_preview", "web_search_preview_2025_03_11",
    "mcp", "code_interpreter", "image_generation", "local_shell", "shell", "namespace",
    "tool_search", "apply_patch", "programmatic_tool_calling", "allowed_tools",
    # environments, containers, formats, callers
    "auto", "container_auto", "container_reference", "local", "disabled", "allowlist",
    "skill_reference", "inline", "base64", "text", "grammar", "json_object", "json_schema",
    "direct", "approximate", "and", "or", "eq", "ne", "gt", "gte", "lt", "lte",
    "in", "nin",
)  # fmt: skip

# ---- content parts ----------------------------------------------------------------------

ANNOTATION = obj(
    free("filename", "title", "url"),
    type=TYPE,
    file_id=Field(special=media.file_ref),
    container_id=CONTAINER_ID,
    index=INDEX,
    start_index=INDEX,
    end_index=INDEX,
)
"""A URL citation's `url` is scanned like any text: the provider does not fetch it."""
PART_FIELDS: dict[str, Field] = {
    **free("text", "refusal", "filename", "logprobs"),
    "type": TYPE,
    "image_url": Field(special=media.inline_content),
    "file_data": Field(special=media.inline_content),
    "file_url": Field(special=media.remote_url),
    "file_id": Field(special=media.file_ref),
    "detail": one_of("auto", "low", "high", "original"),
    "annotations": array(ANNOTATION),
    "input_audio": obj(data=Field(special=media.inline_content), format=one_of("mp3", "wav")),
    "prompt_cache_breakpoint": CACHE_BREAKPOINT,
}
PART = Field(fields=PART_FIELDS)
"""input_text / input_image / input_file / output_text / refusal, and the reasoning-text
parts of reasoning items: `image_url` and `file_data` are data: URLs (decoded
and scanned, or declared) or URLs the provider fetches (scanned, and declared)."""
CONTENT = array(PART)
"""A string here (an easy message) is scanned; a list is walked part by part."""
OUTPUT = Field(
    fields={
        **PART_FIELDS,
        **free("stdout", "stderr"),
        "outcome": obj(type=TYPE, exit_code=number(-1024, 1024, integer=True)),
    }
)
OUTPUT.items = OUTPUT
"""Tool outputs: a string (scanned), a list of parts, a computer screenshot, shell output."""

# ---- tools ------------------------------------------------------------------------------

IMAGE_MODELS = one_of(
    "gpt-image-1", "gpt-image-1-mini", "gpt-image-1.5", "gpt-image-2", "gpt-image-2-2026-04-21",
    "gpt-image-2.5-sunburst", "gpt-image-2.5-sunburst-2026-09-08", "gpt-image-2.5-flare",
    "gpt-image-2.5-flare-2026-09-08", "gpt-image-2.6-sunburst", "gpt-image-2.6-flare",
    "chatgpt-image-latest",
)  # fmt: skip
"""No catalogue checks a hosted tool's model, so only the documented names are exempt."""
IMAGE_SIZE = one_of("1024x1024", "1024x1536", "1536x1024", "auto")
IMAGE_FORMAT = one_of("png", "webp", "jpeg", "gif", "svg")
QUALITY = one_of("low", "medium", "high", "xhigh", "max", "auto")
BACKGROUND = one_of("transparent", "opaque", "auto")
IMAGE_ACTION = one_of("generate", "edit", "auto")
EFFORT = one_of("none", "minimal", "low", "medium", "high", "xhigh", "max")
APPROVAL_FILTER = obj(free("tool_names"), read_only=FLAG)
ENVIRONMENT = obj(
    type=TYPE,
    container_id=CONTAINER_ID,
    file_ids=array(Field(special=media.file_ref)),
    memory_limit=one_of("1g", "4g", "16g", "64g"),
    network_policy=obj(type=TYPE),
)
"""A code-interpreter or shell container. `network_policy.allowed_domains` and
`domain_secrets` (credentials, by name) are not listed: scanned; so are `skills`."""
TOOL = Field()
TOOL.fields = {
    **free("name", "description", "server_label", "server_description", "authorization"),
    "type": TYPE,
    "parameters": SCHEMA,
    "output_schema": SCHEMA,
    "input_schema": SCHEMA,  # tools listed by an MCP server (mcp_list_tools items)
    "strict": FLAG,
    "defer_loading": FLAG,
    "async": FLAG,
    "allowed_callers": CALLERS,
    "format": obj(free("definition"), type=TYPE, syntax=one_of("lark", "regex")),
    "tools": array(TOOL),  # namespaces
    # file_search
    "vector_store_ids": array(identifier("vs")),
    "max_num_results": number(1, 50, integer=True),
    "ranking_options": obj(
        ranker=one_of("auto", "default-2024-11-15"),
        score_threshold=PROBABILITY,
        hybrid_search=obj(embedding_weight=PROBABILITY, text_weight=PROBABILITY),
    ),
    # computer use
    "display_width": number(1, 16384, integer=True),
    "display_height": number(1, 16384, integer=True),
    "environment": either(one_of("windows", "mac", "linux", "ubuntu", "browser"), ENVIRONMENT),
    # web search: `user_location` is where the user is, and `filters` names domains
    "search_context_size": LEVEL,
    "search_content_types": array(one_of("text", "image")),
    "external_web_access": FLAG,
    "user_location": obj(free("city", "country", "region", "timezone"), type=TYPE),
    # mcp: the URL is scanned and declared, `headers` and `authorization` scanned
    "server_url": Field(special=media.remote_url),
    "headers": open_map(),
    "connector_id": one_of(
        "connector_dropbox",
        "connector_gmail",
        "connector_googlecalendar",
        "connector_googledrive",
        "connector_microsoftteams",
        "connector_outlookcalendar",
        "connector_outlookemail",
        "connector_sharepoint",
    ),
    "allowed_tools": APPROVAL_FILTER,  # or a list of tool names: scanned
    "require_approval": either(
        one_of("always", "never"), obj(always=APPROVAL_FILTER, never=APPROVAL_FILTER)
    ),
    # code interpreter: a container id or an automatic container
    "container": either(CONTAINER_ID, ENVIRONMENT),
    # tool search
    "execution": one_of("server", "client"),
    # image generation
    "action": IMAGE_ACTION,
    "background": BACKGROUND,
    "complexity": LEVEL,
    "frame_count": number(1, 1000, integer=True),
    "frame_duration_ms": MILLISECONDS,
    "input_fidelity": one_of("high", "low"),
    "input_image_mask": obj(
        file_id=Field(special=media.file_ref), image_url=Field(special=media.inline_content)
    ),
    "model": IMAGE_MODELS,
    "moderation": one_of("auto", "low"),
    "output_compression": number(0, 100, integer=True),
    "output_format": IMAGE_FORMAT,
    "partial_images": number(0, 3, integer=True),
    "quality": QUALITY,
    "size": IMAGE_SIZE,
    "svg": obj(reasoning=obj(effort=EFFORT)),
}
"""Every tool type in one tree (function, custom, file_search, web_search, mcp,
code_interpreter, image_generation, computer, shell, namespace, tool_search...)."""

# ---- input items ------------------------------------------------------------------------

ACTION_TEXT = free(
    "text", "query", "queries", "pattern", "command", "commands", "keys", "user", "url", "env",
    "working_directory",
)  # fmt: skip
ACTION = obj(
    ACTION_TEXT,
    type=TYPE,
    button=one_of("left", "right", "wheel", "back", "forward"),
    x=PIXELS,
    y=PIXELS,
    scroll_x=PIXELS,
    scroll_y=PIXELS,
    path=array(obj(x=PIXELS, y=PIXELS)),
    timeout_ms=MILLISECONDS,
    max_output_length=INDEX,
    sources=array(obj(free("url"), type=TYPE)),
)
"""Computer, web-search and shell actions: typed text, queries, commands, `env` and the
working directory are scanned; only coordinates, buttons and limits are exempt."""


def _generated_image(
    value: Any, path: JsonPath, out: Extraction, parent: Mapping[str, Any]
) -> bool:
    """`result` of an image generation call is base64 (decoded, declared if an image); the
    `result` of a program's output is text, scanned as such."""
    if parent.get("type") != "image_generation_call":
        return False
    return media.inline_content(value, path, out, parent)


SUMMARY = array(obj(free("text"), type=TYPE))
ITEM_TEXT = free(
    "name", "namespace", "server_label", "input", "code", "queries", "revised_prompt", "reason",
    "fingerprint", "pending_safety_checks", "acknowledged_safety_checks",
)  # fmt: skip
"""Known item fields whose values are the app's (or the model's) words: scanned."""
ITEM = obj(
    ITEM_TEXT,
    type=TYPE,
    id=ITEM_ID,
    role=one_of("user", "assistant", "system", "developer"),
    status=STATUS,
    phase=one_of("commentary", "final_answer"),
    content=CONTENT,
    summary=SUMMARY,
    call_id=CALL_ID,
    caller=CALLER,
    arguments=Field(form=JSON),  # JSON in a string (function and MCP calls); an object: scanned
    output=OUTPUT,
    encrypted_content=Field(special=media.encrypted),
    result=Field(special=_generated_image),
    action=either(IMAGE_ACTION, ACTION),
    actions=array(ACTION),
    operation=obj(free("diff", "path"), type=TYPE),
    environment=ENVIRONMENT,
    container_id=CONTAINER_ID,
    outputs=array(obj(free("logs"), type=TYPE, url=Field(special=media.inline_content))),
    results=array(obj(free("filename", "text"), file_id=Field(special=media.file_ref))),
    tools=array(TOOL),
    approval_request_id=identifier("mcpr"),
    approve=FLAG,
    execution=one_of("server", "client"),
    max_output_length=INDEX,
    background=BACKGROUND,
    output_format=IMAGE_FORMAT,
    quality=QUALITY,
    size=IMAGE_SIZE,
    reasoning=obj(effort=EFFORT),
)
"""Every input item type in one tree. `output` of function, custom, computer and shell
calls, reasoning summaries, `error`s and safety checks are scanned; `encrypted_content`
(reasoning, compaction) is declared as encrypted, as for Anthropic's redacted thinking."""

# ---- the request ------------------------------------------------------------------------

TEXT_FORMAT = obj(free("name", "description"), type=TYPE, schema=SCHEMA, strict=FLAG)
"""`text.format`: text, json_object, or json_schema with the app's schema (scanned whole)."""
TOOL_CHOICE = either(
    one_of("none", "auto", "required"),
    obj(
        free("name", "server_label"),
        type=TYPE,
        mode=one_of("auto", "required"),
        tools=array(obj(free("name", "server_label"), type=TYPE)),
    ),
)
CONVERSATION_ID = identifier("conv")
INCLUDABLE = one_of(
    "file_search_call.results", "web_search_call.results", "web_search_call.action.sources",
    "message.input_image.image_url", "computer_call_output.output.image_url",
    "code_interpreter_call.outputs", "reasoning.encrypted_content",
    "message.output_text.logprobs",
)  # fmt: skip

RESPONSES = obj(
    free("instructions", "user", "safety_identifier", "prompt_cache_key"),
    model=MODEL_NAME,
    input=array(ITEM),
    tools=array(TOOL),
    tool_choice=TOOL_CHOICE,
    text=obj(format=TEXT_FORMAT, verbosity=LEVEL),
    metadata=open_map(),
    store=FLAG,
    stream=FLAG,
    stream_options=obj(include_obfuscation=FLAG),
    background=FLAG,
    parallel_tool_calls=FLAG,
    previous_response_id=RESPONSE_ID,
    include=array(INCLUDABLE),
    truncation=one_of("auto", "disabled"),
    reasoning=obj(
        effort=EFFORT,
        summary=one_of("auto", "concise", "detailed"),
        generate_summary=one_of("auto", "concise", "detailed"),
        context=one_of("auto", "current_turn", "all_turns"),
        mode=one_of("standard", "pro"),
    ),
    max_output_tokens=TOKENS,
    max_tool_calls=number(1, 10_000, integer=True),
    temperature=TEMPERATURE,
    top_p=PROBABILITY,
    top_logprobs=number(0, 20, integer=True),
    service_tier=one_of("auto", "default", "flex", "scale", "priority", "fast", "ultrafast"),
    conversation=either(CONVERSATION_ID, obj(id=CONVERSATION_ID)),
    prompt=obj(free("version"), id=identifier("pmpt"), variables=Field(values=PART)),
    prompt_cache_retention=one_of("in_memory", "24h"),
    prompt_cache_options=obj(
        mode=one_of("implicit", "explicit"),
        ttl=one_of("30m", "12h"),
        prewarm=FLAG,
        comparison_response_id=RESPONSE_ID,
    ),
    context_management=array(obj(type=one_of("compaction"), compact_threshold=TOKENS)),
    background_options=obj(completion_window=one_of("soonest", "2h", "8h")),
)
"""POST /v1/responses. `prompt.version`, `prompt.variables` (keys and values), the
`moderation` model, `background_options.continuation_id` and every field not named here are
scanned."""

DOCUMENTED = known_keys(RESPONSES)
"""Field names of Responses requests: safe to name in audit records."""
