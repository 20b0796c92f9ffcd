"""What both translated Responses routes read from a request in the same way: which fields
a translated route can serve at all, the input as a list of items, the function tools, and
the tool choice and output format in Chat Completions' terms (which the Anthropic route
hands on to the helpers of openai_anthropic.py, as an OpenAI chat request would).

A translated route keeps no state, runs no hosted tool and renders no stored prompt, so a
request that needs any of that raises UnsupportedFeature: the route is skipped, never
silently degraded.
"""

from __future__ import annotations

from typing import Any

from sidecar.classify.walk import named_fields
from sidecar.providers.base import UnsupportedFeature
from sidecar.providers.responses_events import ENCRYPTED_REASONING

DOCUMENTED = frozenset(
    {
        "access_programs",
        "background",
        "background_options",
        "context_management",
        "conversation",
        "image",
        "include",
        "input",
        "instructions",
        "max_output_tokens",
        "max_tool_calls",
        "metadata",
        "model",
        "moderation",
        "parallel_tool_calls",
        "previous_response_id",
        "prompt",
        "prompt_cache_key",
        "prompt_cache_options",
        "prompt_cache_retention",
        "reasoning",
        "safety_identifier",
        "service_tier",
        "store",
        "stream",
        "stream_options",
        "temperature",
        "text",
        "tool_choice",
        "tools",
        "top_logprobs",
        "top_p",
        "truncation",
        "user",
    }
)
"""The Responses API's request fields (openai-python's ResponseCreateParams): named in an
audit record, where any other field name the app sent is only counted."""

TRANSLATED = frozenset(
    {
        "model",
        "input",
        "instructions",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "text",
        "max_output_tokens",
        "temperature",
        "top_p",
        "reasoning",
        "metadata",
        "user",
        "safety_identifier",
        "stream",
        "stream_options",
        "store",
        "include",
        "truncation",
    }
)
"""What both translated routes serve. `store` is read and not sent (nothing is stored),
`metadata` only labels the Response, `stream_options` asks only about obfuscation padding,
which a translated stream never adds."""

STATEFUL = {
    "previous_response_id": "previous_response_id: a translated route keeps no responses",
    "conversation": "conversation: a translated route keeps no conversations",
    "prompt": "prompt: a translated route has no stored prompt templates",
    "background": "background: a translated route cannot run a response in the background",
}
FUNCTION_TOOL_FIELDS = frozenset({"type", "name", "description", "parameters", "strict"})
REASONING_FIELDS = frozenset({"effort"})


def check_request(body: dict[str, Any], accepted: frozenset[str], target: str) -> None:
    """Raises UnsupportedFeature for anything `target` cannot serve at the request's top."""
    for key, reason in STATEFUL.items():
        if body.get(key) not in (None, False):
            raise UnsupportedFeature(reason)
    unknown = sorted(k for k, v in body.items() if k not in accepted and v is not None)
    if unknown:
        raise UnsupportedFeature(
            f"{target} cannot express: " + ", ".join(unknown),
            audit=f"{target} cannot express: " + named_fields(unknown, DOCUMENTED),
        )
    for entry in body.get("include") or []:
        # Reasoning is returned as text; encrypted content is the upstream's signature, if any.
        if entry != ENCRYPTED_REASONING:
            raise UnsupportedFeature(f"include {entry!r}", audit="an include entry")
    if body.get("truncation") not in (None, "disabled"):
        raise UnsupportedFeature("truncation 'auto': the upstream does not drop old turns")


def reasoning_effort(reasoning: Any) -> str | None:
    """The requested effort; a summary (or any other reasoning option) has no equivalent."""
    if not reasoning:
        return None
    extra = sorted(k for k, v in reasoning.items() if k not in REASONING_FIELDS and v is not None)
    if extra:
        raise UnsupportedFeature(
            "reasoning options: " + ", ".join(extra), audit="reasoning options beyond effort"
        )
    effort = reasoning.get("effort")
    return effort if isinstance(effort, str) else None


def input_items(body: dict[str, Any]) -> list[dict[str, Any]]:
    value = body.get("input")
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": value}]
    return list(value or [])


def item_type(item: dict[str, Any]) -> str:
    """An item's type; the easy message form ({role, content}) may leave it out."""
    kind = item.get("type")
    return kind if isinstance(kind, str) else "message"


def content_parts(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "input_text", "text": content}]
    return list(content or [])


def plain_text(parts: list[dict[str, Any]], where: str) -> str:
    """The text of parts that may only be text (a system message, say)."""
    texts = []
    for part in parts:
        if part.get("type") not in ("input_text", "output_text"):
            raise UnsupportedFeature(f"{where} content part of type {part.get('type')!r}")
        texts.append(part.get("text") or "")
    return "\n".join(texts)


def image_url(part: dict[str, Any]) -> str:
    """An input image's URL. A file id names a file stored at OpenAI, which no translated
    route can read."""
    if part.get("file_id"):
        raise UnsupportedFeature("input_image by file_id: the file is stored at OpenAI")
    url = part.get("image_url")
    if not isinstance(url, str) or not url:
        raise UnsupportedFeature("input_image without an image_url")
    return url


def function_tools(tools: Any) -> list[dict[str, Any]]:
    """The request's tools, which must all be function tools in Responses' flat shape."""
    out = []
    for tool in tools or []:
        kind = tool.get("type")
        if kind != "function":
            raise UnsupportedFeature(
                f"tool of type {kind!r}: a translated route runs no hosted tools",
                audit="a tool that is not a function (hosted, custom)",
            )
        extra = sorted(
            k for k, v in tool.items() if k not in FUNCTION_TOOL_FIELDS and v is not None
        )
        if extra:
            raise UnsupportedFeature(
                "function tool fields: " + ", ".join(extra),
                audit="function tool fields beyond name, description, parameters, strict",
            )
        out.append(tool)
    return out


def chat_tool_choice(choice: Any) -> Any:
    """Responses' tool_choice in Chat Completions' shape (None: not given)."""
    if choice is None or choice in ("auto", "none", "required"):
        return choice
    kind = choice.get("type") if isinstance(choice, dict) else None
    if kind == "function":
        return {"type": "function", "function": {"name": choice.get("name")}}
    if kind == "allowed_tools" and choice.get("mode") in ("auto", "required"):
        allowed = []
        for tool in choice.get("tools") or []:
            if tool.get("type") != "function":
                raise UnsupportedFeature("allowed_tools naming a tool that is not a function")
            allowed.append({"type": "function", "function": {"name": tool.get("name")}})
        return {
            "type": "allowed_tools",
            "allowed_tools": {"mode": choice["mode"], "tools": allowed},
        }
    raise UnsupportedFeature(f"tool_choice {choice!r}", audit="tool_choice of this shape")


def chat_response_format(text: Any) -> dict[str, Any] | None:
    """`text.format` as Chat Completions' response_format (None: plain text)."""
    fmt = text.get("format") if isinstance(text, dict) else None
    kind = fmt.get("type") if isinstance(fmt, dict) else None
    if fmt is None or kind == "text":
        return None
    if kind == "json_object":
        return {"type": "json_object"}
    if kind == "json_schema":
        schema: dict[str, Any] = {
            "name": fmt.get("name") or "output",
            "schema": fmt.get("schema") or {"type": "object"},
        }
        for key in ("description", "strict"):
            if fmt.get(key) is not None:
                schema[key] = fmt[key]
        return {"type": "json_schema", "json_schema": schema}
    raise UnsupportedFeature(f"text.format of type {kind!r}")
