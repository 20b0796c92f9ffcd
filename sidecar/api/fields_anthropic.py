"""What the whole-body walk may skip or must decode in Anthropic Messages requests.

Like `fields_openai`: exemptions only. Content blocks of every type share one tree (a
known key only means its name is a constant; each exemption keeps its validator), so a
block type added next month is walked and scanned like any unknown object.
Sources: Anthropic's Messages API reference and the anthropic-python request types.
"""

from __future__ import annotations

from sidecar.api.fields_openai import SCHEMA
from sidecar.classify import media
from sidecar.classify.walk import (
    FLAG,
    MODEL_NAME,
    PROBABILITY,
    TOKENS,
    Field,
    array,
    either,
    free,
    identifier,
    known_keys,
    matching,
    number,
    obj,
    one_of,
    open_map,
)

BLOCK_ID = identifier("toolu", "srvtoolu", "mcptoolu", "call", "fc")
SERVER_TOOL_TYPE = matching(r"[a-z][a-z_]{1,40}_20[0-9]{6}", 64)
"""Versioned server tools: `web_search_20250305`, `bash_20250124`, `computer_20250124`."""
BLOCK_TYPES = one_of(
    "text",
    "image",
    "document",
    "search_result",
    "tool_use",
    "tool_result",
    "thinking",
    "redacted_thinking",
    "server_tool_use",
    "web_search_tool_result",
    "web_search_result",
    "web_fetch_tool_result",
    "code_execution_tool_result",
    "mcp_tool_use",
    "mcp_tool_result",
    "container_upload",
    "char_location",
    "page_location",
    "content_block_location",
    "search_result_location",
    "web_search_result_location",
    "base64",
    "url",
    "file",
    "content",
    "ephemeral",
)
CACHE = obj(type=one_of("ephemeral"), ttl=one_of("5m", "1h"))
SOURCE_FIELDS: dict[str, Field] = dict(
    type=BLOCK_TYPES,
    media_type=one_of(
        "image/jpeg", "image/png", "image/gif", "image/webp", "application/pdf", "text/plain"
    ),
    data=Field(special=media.inline_content),
    url=Field(special=media.remote_url),
    file_id=Field(special=media.file_ref),
)
BLOCK = Field()
SOURCE = obj(SOURCE_FIELDS, content=BLOCK)  # `content`: a document made of content blocks
BLOCK.fields = {
    **free(
        "text",
        "thinking",
        "signature",
        "name",
        "title",
        "context",
        "server_name",
        "cited_text",
        "document_title",
        "page_age",
        "error_code",
        "input",
    ),
    "type": BLOCK_TYPES,
    "id": BLOCK_ID,
    "tool_use_id": BLOCK_ID,
    "cache_control": CACHE,
    "citations": Field(fields={"enabled": FLAG}, items=BLOCK),
    "source": SOURCE,
    "content": BLOCK,
    "is_error": FLAG,
    "data": Field(special=media.encrypted),
    "encrypted_content": Field(special=media.encrypted),
    "encrypted_index": Field(special=media.encrypted),
    "file_id": Field(special=media.file_ref),
    "url": Field(special=media.remote_url),
    "start_char_index": number(0, 2**31, integer=True),
    "end_char_index": number(0, 2**31, integer=True),
    "start_page_number": number(0, 2**31, integer=True),
    "end_page_number": number(0, 2**31, integer=True),
    "document_index": number(0, 2**31, integer=True),
    "start_block_index": number(0, 2**31, integer=True),
    "end_block_index": number(0, 2**31, integer=True),
    "search_result_index": number(0, 2**31, integer=True),
}
BLOCK.items = BLOCK  # `content` of a tool result or search result: a list of blocks
"""`input` of tool_use blocks is the app's own JSON: not listed, so scanned as a whole."""

MESSAGE = obj(role=one_of("user", "assistant"), content=BLOCK)
TOOL = obj(
    free("name", "description"),
    type=either(one_of("custom"), SERVER_TOOL_TYPE),
    input_schema=SCHEMA,
    cache_control=CACHE,
    max_uses=number(1, 1000, integer=True),
    display_width_px=number(1, 16384, integer=True),
    display_height_px=number(1, 16384, integer=True),
    display_number=number(0, 64, integer=True),
    max_characters=number(1, 10_000_000, integer=True),
    user_location=obj(type=one_of("approximate")),
)
TOOL_CHOICE = obj(
    free("name"), type=one_of("auto", "any", "tool", "none"), disable_parallel_tool_use=FLAG
)
MCP_SERVER = obj(
    free("name", "authorization_token"),
    type=one_of("url"),
    url=Field(special=media.remote_url),
    tool_configuration=obj(enabled=FLAG),
)

MESSAGES = obj(
    free("stop_sequences", "container"),
    model=MODEL_NAME,
    max_tokens=TOKENS,
    messages=array(MESSAGE),
    system=BLOCK,
    tools=array(TOOL),
    tool_choice=TOOL_CHOICE,
    metadata=open_map(),
    temperature=PROBABILITY,
    top_p=PROBABILITY,
    top_k=number(0, 1000, integer=True),
    stream=FLAG,
    thinking=obj(type=one_of("enabled", "disabled"), budget_tokens=TOKENS),
    service_tier=one_of("auto", "standard_only"),
    mcp_servers=array(MCP_SERVER),
    output_config=obj(format=obj(type=one_of("json_schema"), schema=SCHEMA)),
)
"""POST /v1/messages and /v1/messages/count_tokens."""

DOCUMENTED = known_keys(MESSAGES)
"""Field names of Anthropic requests: safe to name in audit records."""
