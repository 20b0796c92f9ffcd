"""Anthropic content blocks: what user and assistant messages, tool results and system
prompts are made of (`anthropic.types.*_block_param`, `citation_*_param`, `*_source_param`).

Every block type the SDK documents for requests is here except the code-execution,
web-fetch and tool-search result blocks, which only make sense echoing a server tool's own
output (their strings are opaque ids and encrypted content).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.coverage import media
from tests.coverage.primitives import (
    Draw,
    Rng,
    flags,
    id_tail,
    identifier,
    json_object,
    one_in,
    phrase,
    pick,
    url,
)

Body = dict[str, Any]

WEB_SEARCH_ERRORS = (
    "invalid_tool_input",
    "unavailable",
    "max_uses_exceeded",
    "too_many_requests",
    "query_too_long",
    "request_too_large",
)


@dataclass
class Ctx:
    """What blocks must agree on within one body."""

    beta: bool = False
    sampling: bool = False
    tool_names: list[str] = field(default_factory=list)
    mcp_servers: list[str] = field(default_factory=list)


def opaque(rng: Rng) -> str:
    """Stand-in for signatures, redacted thinking and encrypted content: base64 of a
    phrase, so the sidecar's base64 decoding finds safe text inside."""
    return base64.b64encode(phrase(rng).encode()).decode("ascii")


def file_id(rng: Rng) -> str:
    return "file_01" + id_tail(rng, 20)


def with_cache(rng: Rng, block: Body) -> Body:
    control: Body = {"type": "ephemeral"}
    if rng.random() < 0.5:
        control["ttl"] = rng.choice(("5m", "1h"))
    block["cache_control"] = control
    return block


def maybe_cache(draw: Draw, rng: Rng, block: Body) -> Body:
    return with_cache(rng, block) if one_in(draw, 4) else block


def _title(rng: Rng) -> str | None:
    return phrase(rng) if rng.random() < 0.8 else None


CITATIONS = (
    "char_location",
    "page_location",
    "content_block_location",
    "web_search_result_location",
    "search_result_location",
)


def citation(rng: Rng, kind: str) -> Body:
    cited: Body = {"type": kind, "cited_text": phrase(rng)}
    if kind == "web_search_result_location":
        cited.update(url=url(rng), title=_title(rng), encrypted_index=opaque(rng))
        return cited
    if kind == "search_result_location":
        cited.update(source=url(rng), title=_title(rng), search_result_index=0)
        cited.update(start_block_index=0, end_block_index=1)
        return cited
    cited.update(document_index=0, document_title=_title(rng))
    if kind == "char_location":
        cited.update(start_char_index=0, end_char_index=5)
    elif kind == "page_location":
        cited.update(start_page_number=1, end_page_number=2)
    else:
        cited.update(start_block_index=0, end_block_index=1)
    return cited


def text_block(draw: Draw, rng: Rng, citations: bool = False) -> Body:
    block: Body = {"type": "text", "text": phrase(rng)}
    if citations and draw(st.booleans()):
        kinds = rng.sample(CITATIONS, draw(st.integers(1, 3)))
        block["citations"] = [citation(rng, kind) for kind in kinds]
    return maybe_cache(draw, rng, block)


def image_block(draw: Draw, rng: Rng) -> Body:
    kind = pick(draw, ("base64", "url", "file"))
    if kind == "base64":
        source: Body = {"type": "base64", "media_type": "image/png", "data": media.PNG_B64}
    elif kind == "url":
        source = {"type": "url", "url": url(rng, ".png")}
    else:
        source = {"type": "file", "file_id": file_id(rng)}
    block: Body = {"type": "image", "source": source}
    if one_in(draw, 5):
        block["transformations"] = {"oversized_image": rng.choice(("downsize", "error"))}
    return maybe_cache(draw, rng, block)


def _document_source(draw: Draw, rng: Rng) -> Body:
    kind = pick(draw, ("pdf", "text", "content", "url", "file"))
    if kind == "pdf":
        return {"type": "base64", "media_type": "application/pdf", "data": media.PDF_B64}
    if kind == "text":
        data = ". ".join(phrase(rng) for _ in range(rng.randint(1, 3)))
        return {"type": "text", "media_type": "text/plain", "data": data}
    if kind == "content":
        if draw(st.booleans()):
            return {"type": "content", "content": phrase(rng)}
        parts = [
            image_block(draw, rng) if image else text_block(draw, rng)
            for image in flags(draw, draw(st.integers(1, 2)))
        ]
        return {"type": "content", "content": parts}
    if kind == "url":
        return {"type": "url", "url": url(rng, ".pdf")}
    return {"type": "file", "file_id": file_id(rng)}


def document_block(draw: Draw, rng: Rng) -> Body:
    block: Body = {"type": "document", "source": _document_source(draw, rng)}
    titled, contextual, cited, cached = flags(draw, 4)
    if titled:
        block["title"] = _title(rng)
    if contextual:
        block["context"] = phrase(rng) if rng.random() < 0.8 else None
    if cited:
        block["citations"] = {"enabled": rng.choice((True, False))}
    return with_cache(rng, block) if cached else block


def search_result_block(draw: Draw, rng: Rng) -> Body:
    content = [text_block(draw, rng) for _ in range(draw(st.integers(1, 2)))]
    block: Body = {
        "type": "search_result",
        "source": url(rng),
        "title": phrase(rng),
        "content": content,
    }
    if draw(st.booleans()):
        block["citations"] = {"enabled": rng.choice((True, False))}
    return maybe_cache(draw, rng, block)


def container_upload_block(draw: Draw, rng: Rng) -> Body:
    return maybe_cache(draw, rng, {"type": "container_upload", "file_id": file_id(rng)})


USER_BLOCKS = {
    "text": text_block,
    "image": image_block,
    "document": document_block,
    "search_result": search_result_block,
    "container_upload": container_upload_block,
}
USER_KINDS = ("text", "image", "document", "document", "search_result", "container_upload")
"""Documents twice: they have five kinds of source, and the most fields."""


def user_blocks(draw: Draw, rng: Rng, ctx: Ctx, minimum: int = 1) -> list[Body]:
    count = draw(st.integers(minimum, 3))
    return [USER_BLOCKS[pick(draw, USER_KINDS)](draw, rng) for _ in range(count)]


def _tool_result_part(draw: Draw, rng: Rng, ctx: Ctx) -> Body:
    kind = pick(draw, ("text", "image", "document", "search_result", "tool_reference"))
    if kind == "tool_reference":
        name = rng.choice(ctx.tool_names) if ctx.tool_names else identifier(rng)
        return {"type": "tool_reference", "tool_name": name}
    return USER_BLOCKS[kind](draw, rng)


def tool_result_block(draw: Draw, rng: Rng, ctx: Ctx, tool_use_id: str) -> Body:
    block: Body = {"type": "tool_result", "tool_use_id": tool_use_id}
    kind = pick(draw, ("string", "blocks", "blocks", "absent"))
    if kind == "string":
        block["content"] = phrase(rng)
    elif kind == "blocks":
        block["content"] = [
            _tool_result_part(draw, rng, ctx) for _ in range(draw(st.integers(1, 2)))
        ]
    if draw(st.booleans()):
        block["is_error"] = rng.choice((True, False))
    return maybe_cache(draw, rng, block)


def _web_search_pair(draw: Draw, rng: Rng) -> list[Body]:
    server_id = "srvtoolu_01" + id_tail(rng, 22)
    use: Body = {
        "type": "server_tool_use",
        "id": server_id,
        "name": "web_search",
        "input": {"query": phrase(rng)},
    }
    if one_in(draw, 5):
        results: Any = {
            "type": "web_search_tool_result_error",
            "error_code": rng.choice(WEB_SEARCH_ERRORS),
        }
    else:
        results = [
            {
                "type": "web_search_result",
                "url": url(rng),
                "title": phrase(rng),
                "encrypted_content": opaque(rng),
                "page_age": rng.choice(("two days ago", "april", None)),
            }
            for _ in range(draw(st.integers(1, 2)))
        ]
    result = {"type": "web_search_tool_result", "tool_use_id": server_id, "content": results}
    return [use, result]


def _mcp_pair(draw: Draw, rng: Rng, ctx: Ctx) -> list[Body]:
    use_id = "mcptoolu_01" + id_tail(rng, 22)
    use: Body = {
        "type": "mcp_tool_use",
        "id": use_id,
        "name": identifier(rng),
        "server_name": rng.choice(ctx.mcp_servers),
        "input": json_object(rng),
    }
    result: Body = {"type": "mcp_tool_result", "tool_use_id": use_id}
    if draw(st.booleans()):
        result["content"] = phrase(rng)
    else:
        result["content"] = [text_block(draw, rng) for _ in range(draw(st.integers(1, 2)))]
    if draw(st.booleans()):
        result["is_error"] = rng.choice((True, False))
    return [use, result]


def _tool_use(draw: Draw, rng: Rng, ctx: Ctx) -> Body:
    block: Body = {
        "type": "tool_use",
        "id": "toolu_01" + id_tail(rng, 22),
        "name": rng.choice(ctx.tool_names),
        "input": json_object(rng),
    }
    if one_in(draw, 6):
        block["caller"] = {"type": "direct"}
    return maybe_cache(draw, rng, block)


def assistant_content(draw: Draw, rng: Rng, ctx: Ctx) -> tuple[Any, list[str]]:
    """An assistant turn's content and the ids of the tool uses it leaves to answer."""
    if one_in(draw, 4):
        return phrase(rng), []
    blocks: list[Body] = []
    thinking = pick(draw, (None, "thinking", "redacted_thinking"))
    if thinking == "thinking":
        blocks.append({"type": "thinking", "thinking": phrase(rng), "signature": opaque(rng)})
    elif thinking == "redacted_thinking":
        blocks.append({"type": "redacted_thinking", "data": opaque(rng)})
    thought = len(blocks)
    searched, mcp, spoke = flags(draw, 3)
    if searched:
        blocks += _web_search_pair(draw, rng)
    if mcp and ctx.beta and ctx.mcp_servers:
        blocks += _mcp_pair(draw, rng, ctx)
    count = draw(st.integers(0, 2)) if ctx.tool_names else 0
    if spoke or (len(blocks) == thought and not count):  # never thinking alone
        blocks.append(text_block(draw, rng, citations=True))
    uses = [_tool_use(draw, rng, ctx) for _ in range(count)]
    return blocks + uses, [u["id"] for u in uses]
