"""OpenAI's Responses API as spoken to applications (`POST /v1/responses`).

Validation is shallow but strict about what the sidecar relies on: the model, the shape of
`input` and its items, the stream flag, `store` and `previous_response_id`. Every other
field is accepted and scanned by the whole-body walk (`fields_responses` lists what it may
skip). Three facts of a Responses request are compliance facts the policy must see, so the
parser hands them on (`ParsedRequest.facts`, then `input.request`):

- `store`: the Responses API keeps the conversation at the provider unless told not to (it
  defaults to true), so the effective value is passed, never the absent one;
- `previous_response_id`: a continuation can only be served where the response it continues
  is stored (see sidecar/continuations.py);
- the kinds of hosted tools (`mcp`, `web_search`, `file_search`, ...): the provider sends
  data to third parties the sidecar never sees.
"""

from __future__ import annotations

from typing import Any

import orjson

from sidecar.api import fields_responses
from sidecar.api.base import ParsedRequest
from sidecar.api.jsonbody import load_object
from sidecar.api.openai import _OpenAIErrors, optional_bool, require_model
from sidecar.errors import RouterError, bad_request

CLIENT_TOOLS = frozenset({"function", "custom"})
"""Tools the app runs itself; every other tool type is run by the provider (hosted)."""
ITEM_ROLES = frozenset({"user", "assistant", "system", "developer"})


def _check_content(content: Any, where: str) -> None:
    if isinstance(content, str):
        return
    if not isinstance(content, list):
        raise bad_request(f"'{where}.content' must be a string or an array of parts", param=where)
    for j, part in enumerate(content):
        if not isinstance(part, dict) or not isinstance(part.get("type"), str):
            raise bad_request(
                f"'{where}.content[{j}]' must be an object with a 'type'", param=where
            )
        if part["type"] in ("input_text", "output_text") and not isinstance(part.get("text"), str):
            raise bad_request(f"'{where}.content[{j}].text' must be a string", param=where)


def _check_item(item: Any, where: str) -> None:
    if not isinstance(item, dict):
        raise bad_request(f"'{where}' must be an object", param="input")
    kind = item.get("type", "message")
    if not isinstance(kind, str):
        raise bad_request(f"'{where}.type' must be a string", param="input")
    if kind == "message" or "role" in item:
        role = item.get("role")
        if role not in ITEM_ROLES:
            raise bad_request(f"'{where}.role' must be one of {sorted(ITEM_ROLES)}", param="input")
        _check_content(item.get("content"), where)
    elif kind == "function_call" and not isinstance(item.get("arguments"), str):
        raise bad_request(f"'{where}.arguments' must be a string", param="input")
    elif kind == "function_call_output" and not isinstance(item.get("call_id"), str):
        raise bad_request(f"'{where}.call_id' must be a string", param="input")


def _check_input(value: Any) -> None:
    if isinstance(value, str):
        return
    if not isinstance(value, list) or not value:
        raise bad_request(
            "'input' is required and must be a string or a non-empty array of items",
            param="input",
        )
    for i, item in enumerate(value):
        _check_item(item, f"input[{i}]")


def hosted_tools(tools: Any) -> list[str]:
    """The kinds of the provider-run tools a request declares, sorted and distinct."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise bad_request("'tools' must be an array", param="tools")
    kinds: set[str] = set()
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("type"), str):
            raise bad_request(f"'tools[{i}]' must be an object with a 'type'", param="tools")
        if tool["type"] not in CLIENT_TOOLS:
            kinds.add(tool["type"])
    return sorted(kinds)


class Responses(_OpenAIErrors):
    name = "openai.responses"
    schema = "openai"
    endpoint = "responses"

    def parse(self, raw: bytes, max_depth: int) -> ParsedRequest:
        body = load_object(raw, max_depth)
        model = require_model(body)
        _check_input(body.get("input"))
        instructions = body.get("instructions")
        if instructions is not None and not isinstance(instructions, str):
            raise bad_request("'instructions' must be a string", param="instructions")
        stream = optional_bool(body, "stream")
        store = body.get("store")
        if store is not None and not isinstance(store, bool):
            raise bad_request("'store' must be a boolean", param="store")
        previous = body.get("previous_response_id")
        if previous is not None and (not isinstance(previous, str) or not previous):
            raise bad_request(
                "'previous_response_id' must be a non-empty string", param="previous_response_id"
            )
        parsed = ParsedRequest.walked(body, model, stream, fields_responses.RESPONSES)
        parsed.facts = {
            "store": store is not False,  # the API's default is to store
            "previous_response_id": previous,
            "hosted_tools": hosted_tools(body.get("tools")),
        }
        return parsed

    def stream_error(self, err: RouterError, decision_id: str) -> bytes:
        """The documented `error` event, plus the `error` object the openai SDK raises on."""
        error = self.error_object(err, decision_id)
        event = {
            "type": "error",
            "code": err.code,
            "message": err.message,
            "param": err.param,
            "sequence_number": 0,
            "error": error,
        }
        return b"event: error\ndata: " + orjson.dumps(event) + b"\n\n"


RESPONSES_API = Responses()
