"""OpenAI's wire format as spoken to applications: chat completions, legacy completions
and embeddings.

Validation is deliberately shallow but strict about what the sidecar relies on (model,
messages, stream flags): a malformed request is refused with a 400. Every other field is
accepted, and scanned by the whole-body walk (`fields_openai` lists what it may skip).
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.api import fields_openai
from sidecar.api.base import ParsedRequest
from sidecar.api.jsonbody import load_object
from sidecar.errors import RouterError, bad_request

ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


def require_model(body: dict[str, Any]) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise bad_request("'model' is required and must be a non-empty string", param="model")
    return model


def optional_bool(body: dict[str, Any], key: str) -> bool:
    value = body.get(key)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise bad_request(f"'{key}' must be a boolean", param=key)
    return value


def _check_content(content: Any, where: str) -> None:
    if content is None or isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_request(f"'{where}.content' must be a string or an array of parts", param=where)
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise bad_request(
                f"'{where}.content[{j}]' must be an object with a 'type'", param=where
            )
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise bad_request(f"'{where}.content[{j}].text' must be a string", param=where)


def _check_tool_calls(calls: Any, where: str) -> None:
    if not isinstance(calls, list):
        raise bad_request(f"'{where}.tool_calls' must be an array", param=where)
    for j, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if fn is not None and not (
            isinstance(fn, dict) and isinstance(fn.get("arguments", ""), str)
        ):
            raise bad_request(f"'{where}.tool_calls[{j}].function.arguments' must be a string")


def _check_messages(messages: Any) -> None:
    if not isinstance(messages, list) or not messages:
        raise bad_request("'messages' is required and must be a non-empty array", param="messages")
    for i, msg in enumerate(messages):
        where = f"messages[{i}]"
        if not isinstance(msg, dict):
            raise bad_request(f"'{where}' must be an object", param="messages")
        role = msg.get("role")
        if not isinstance(role, str) or role not in ROLES:
            raise bad_request(f"'{where}.role' must be one of {sorted(ROLES)}", param="messages")
        _check_content(msg.get("content"), where)
        if "tool_calls" in msg and msg["tool_calls"] is not None:
            _check_tool_calls(msg["tool_calls"], where)


def _check_tools(tools: Any) -> None:
    if tools is None:
        return
    if not isinstance(tools, list):
        raise bad_request("'tools' must be an array", param="tools")
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict):
            raise bad_request(f"'tools[{i}]' must be an object", param="tools")


class _OpenAIErrors:
    """OpenAI's error body: {"error": {"message", "type", "param", "code"}}."""

    def error_object(self, err: RouterError, decision_id: str) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": err.message,
            "type": err.kind,
            "param": err.param,
            "code": err.code,
            "decision_id": decision_id,
        }
        error.update(err.details)
        return error

    def error_body(self, err: RouterError, decision_id: str) -> bytes:
        return orjson.dumps({"error": self.error_object(err, decision_id)})

    def stream_error(self, err: RouterError, decision_id: str) -> bytes:
        # The openai SDK raises APIError for an SSE data event carrying an "error" object.
        return b"data: " + self.error_body(err, decision_id) + b"\n\n"


class ChatCompletions(_OpenAIErrors):
    name = "openai.chat_completions"
    schema = "openai"
    endpoint = "chat_completions"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        model = require_model(body)
        _check_messages(body.get("messages"))
        _check_tools(body.get("tools"))
        stream = optional_bool(body, "stream")
        options = body.get("stream_options")
        if options is not None and not isinstance(options, dict):
            raise bad_request("'stream_options' must be an object", param="stream_options")
        return ParsedRequest.walked(body, model, stream, fields_openai.CHAT)


class Embeddings(_OpenAIErrors):
    name = "openai.embeddings"
    schema = "openai"
    endpoint = "embeddings"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        model = require_model(body)
        _require_prompt(body, "input")
        return ParsedRequest.walked(body, model, False, fields_openai.EMBEDDINGS)


class Completions(_OpenAIErrors):
    """The legacy text completions API (`prompt` instead of `messages`), still served by
    OpenAI and OpenRouter; it has no Anthropic translation."""

    name = "openai.completions"
    schema = "openai"
    endpoint = "completions"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        model = require_model(body)
        _require_prompt(body, "prompt")
        stream = optional_bool(body, "stream")
        return ParsedRequest.walked(body, model, stream, fields_openai.COMPLETIONS)


def _require_prompt(body: dict[str, Any], key: str) -> None:
    """Embeddings' `input` and completions' `prompt`: text, texts, or token ids."""
    if not _prompt_ok(body.get(key)):
        raise bad_request(
            f"'{key}' must be a string, an array of strings, or token arrays", param=key
        )


def _prompt_ok(value: Any) -> bool:
    return isinstance(value, str) or (
        isinstance(value, list)
        and bool(value)
        and (
            all(isinstance(v, str) for v in value)
            or all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or all(
                isinstance(v, list)
                and all(isinstance(t, int) and not isinstance(t, bool) for t in v)
                for v in value
            )
        )
    )


CHAT_COMPLETIONS = ChatCompletions()
COMPLETIONS = Completions()
EMBEDDINGS = Embeddings()
