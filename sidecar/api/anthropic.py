"""Anthropic's Messages API as spoken to applications: messages and count_tokens.

Errors use Anthropic's shape, `{"type": "error", "error": {"type", "message"}}`, so the
anthropic SDK raises the exception class its users expect for each status.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.api import fields_anthropic
from sidecar.api.base import ParsedRequest
from sidecar.api.jsonbody import load_object
from sidecar.api.openai import optional_bool, require_model
from sidecar.errors import RouterError, bad_request

ROLES = frozenset({"user", "assistant"})
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    408: "invalid_request_error",
    413: "request_too_large",
    415: "invalid_request_error",
    429: "rate_limit_error",
    500: "api_error",
    503: "overloaded_error",
    504: "timeout_error",
    529: "overloaded_error",
}
"""Anthropic's error `type` by HTTP status (its documented table, plus the statuses the
sidecar itself answers with: 408 and 415 are request errors, 503 is overload); anything
else is `api_error`."""


def _check_blocks(content: Any, where: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_request(f"{where}.content: must be a string or a list of content blocks")
    for j, block in enumerate(content):
        if not isinstance(block, dict) or not isinstance(block.get("type"), str):
            raise bad_request(f"{where}.content.{j}: must be an object with a 'type'")
        if block["type"] == "text" and not isinstance(block.get("text"), str):
            raise bad_request(f"{where}.content.{j}.text: must be a string")
        if block["type"] == "tool_use" and not isinstance(block.get("input"), dict):
            raise bad_request(f"{where}.content.{j}.input: must be an object")
        if block["type"] == "tool_result":
            inner = block.get("content")
            if inner is not None:
                _check_blocks(inner, f"{where}.content.{j}")


def _check_messages(body: dict[str, Any]) -> None:
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise bad_request("messages: Field required (a non-empty list)", param="messages")
    for i, msg in enumerate(messages):
        where = f"messages.{i}"
        if not isinstance(msg, dict) or not isinstance(msg.get("role"), str):
            raise bad_request(f"{where}.role: must be 'user' or 'assistant'", param="messages")
        if msg["role"] not in ROLES:
            raise bad_request(f"{where}.role: must be 'user' or 'assistant'", param="messages")
        _check_blocks(msg.get("content"), where)
    system = body.get("system")
    if system is not None:
        _check_blocks(system, "system")
    tools = body.get("tools")
    if tools is not None and (
        not isinstance(tools, list) or not all(isinstance(t, dict) for t in tools)
    ):
        raise bad_request("tools: must be a list of objects", param="tools")


class _AnthropicErrors:
    def _error(self, err: RouterError, decision_id: str) -> dict[str, Any]:
        kind = (
            "policy_denied"
            if err.code == "policy_denied"
            else ERROR_TYPES.get(err.status, "api_error")
        )
        error: dict[str, Any] = {
            "type": kind,
            "message": err.message,
            "code": err.code,
            "decision_id": decision_id,
        }
        error.update(err.details)
        return {"type": "error", "error": error}

    def error_body(self, err: RouterError, decision_id: str) -> bytes:
        return orjson.dumps(self._error(err, decision_id))

    def stream_error(self, err: RouterError, decision_id: str) -> bytes:
        return b"event: error\ndata: " + self.error_body(err, decision_id) + b"\n\n"


class Messages(_AnthropicErrors):
    name = "anthropic.messages"
    schema = "anthropic"
    endpoint = "messages"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        model = require_model(body)
        max_tokens = body.get("max_tokens")
        if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
            raise bad_request("max_tokens: Field required (a positive integer)", param="max_tokens")
        _check_messages(body)
        stream = optional_bool(body, "stream")
        return ParsedRequest.walked(body, model, stream, fields_anthropic.MESSAGES)


class CountTokens(_AnthropicErrors):
    name = "anthropic.count_tokens"
    schema = "anthropic"
    endpoint = "count_tokens"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        model = require_model(body)
        _check_messages(body)
        return ParsedRequest.walked(body, model, False, fields_anthropic.MESSAGES)


MESSAGES = Messages()
COUNT_TOKENS = CountTokens()
