"""Responses API input items: function, custom, MCP and hosted-tool calls with their
outputs, reasoning, compaction and item references, around messages.

Types from `openai.types.responses.response_input_param` and the `response_*_param` modules
it names. The list is coherent where the API checks more than the schema does: every
`*_call_output` answers a call earlier in the list by its `call_id`, function and custom
calls name declared tools, MCP items name a declared server, and an approval response
answers an approval request.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from hypothesis import strategies as st

from tests.coverage import media
from tests.coverage.anthropic_blocks import opaque
from tests.coverage.primitives import (
    Draw,
    Rng,
    flags,
    identifier,
    json_schema,
    json_text,
    one_in,
    phrase,
    pick,
    url,
)
from tests.coverage.responses_messages import (
    STATUSES,
    call_id,
    file_id,
    item_id,
    message,
    parts,
    tool_output,
)

Body = dict[str, Any]


@dataclass
class Ctx:
    """What items must agree on with the tools of the same body."""

    functions: list[str] = field(default_factory=list)
    customs: list[str] = field(default_factory=list)
    servers: list[str] = field(default_factory=list)


def _function_pair(draw: Draw, rng: Rng, ctx: Ctx) -> list[Body]:
    name = rng.choice(ctx.functions) if ctx.functions else identifier(rng)
    call: Body = {
        "type": "function_call",
        "call_id": call_id(rng),
        "name": name,
        "arguments": json_text(rng),
    }
    with_id, status = flags(draw, 2)
    if with_id:
        call["id"] = item_id(rng, "fc")
    if status:
        call["status"] = rng.choice(STATUSES)
    out: Body = {
        "type": "function_call_output",
        "call_id": call["call_id"],
        "output": tool_output(draw, rng),
    }
    if one_in(draw, 4):
        out["status"] = rng.choice(STATUSES)
    return [call, out]


def _custom_pair(draw: Draw, rng: Rng, ctx: Ctx) -> list[Body]:
    name = rng.choice(ctx.customs) if ctx.customs else identifier(rng)
    call: Body = {
        "type": "custom_tool_call",
        "call_id": call_id(rng),
        "name": name,
        "input": phrase(rng),
    }
    if draw(st.booleans()):
        call["id"] = item_id(rng, "ctc")
    out = {
        "type": "custom_tool_call_output",
        "call_id": call["call_id"],
        "output": tool_output(draw, rng, image_detail=True),
    }
    return [call, out]


def _reasoning(draw: Draw, rng: Rng) -> Body:
    item: Body = {
        "type": "reasoning",
        "id": item_id(rng, "rs"),
        "summary": [
            {"type": "summary_text", "text": phrase(rng)} for _ in range(rng.randint(0, 2))
        ],
    }
    content, encrypted, status = flags(draw, 3)
    if content:
        item["content"] = [{"type": "reasoning_text", "text": phrase(rng)}]
    if encrypted:
        item["encrypted_content"] = opaque(rng)
    if status:
        item["status"] = rng.choice(STATUSES)
    return item


def _web_search_call(draw: Draw, rng: Rng) -> list[Body]:
    kind = pick(draw, ("search", "open_page", "find_in_page"))
    action: Body = {"type": kind}
    if kind == "search":
        action["query"] = phrase(rng)
        if rng.random() < 0.5:
            action["sources"] = [{"type": "url", "url": url(rng)}]
    elif kind == "open_page":
        action["url"] = url(rng)
    else:
        action.update(pattern=phrase(rng), url=url(rng))
    status = rng.choice(("completed", "searching", "failed"))
    return [
        {"type": "web_search_call", "id": item_id(rng, "ws"), "status": status, "action": action}
    ]


def _file_search_call(draw: Draw, rng: Rng) -> list[Body]:
    item: Body = {
        "type": "file_search_call",
        "id": item_id(rng, "fs"),
        "status": "completed",
        "queries": [phrase(rng) for _ in range(rng.randint(1, 2))],
    }
    if draw(st.booleans()):
        item["results"] = [
            {
                "file_id": file_id(rng),
                "filename": identifier(rng) + ".md",
                "score": 0.5,
                "text": phrase(rng),
                "attributes": {identifier(rng): phrase(rng)},
            }
        ]
    return [item]


def _computer_action(rng: Rng) -> Body:
    kind = rng.choice(
        (
            "click",
            "double_click",
            "drag",
            "keypress",
            "move",
            "screenshot",
            "scroll",
            "type",
            "wait",
        )
    )
    x, y = rng.randrange(800), rng.randrange(600)
    if kind == "click":
        return {"type": kind, "button": rng.choice(("left", "right")), "x": x, "y": y}
    if kind == "double_click":
        return {"type": kind, "x": x, "y": y, "keys": None}
    if kind == "drag":
        return {"type": kind, "path": [{"x": x, "y": y}, {"x": y, "y": x}]}
    if kind == "keypress":
        return {"type": kind, "keys": rng.sample(("ctrl", "shift", "alt", "enter"), 2)}
    if kind in ("move", "scroll"):
        point: Body = {"type": kind, "x": x, "y": y}
        if kind == "scroll":
            point.update(scroll_x=0, scroll_y=rng.randrange(500))
        return point
    if kind == "type":
        return {"type": kind, "text": phrase(rng)}
    return {"type": kind}


def _computer_pair(draw: Draw, rng: Rng) -> list[Body]:
    call: Body = {
        "type": "computer_call",
        "id": item_id(rng, "cu"),
        "call_id": call_id(rng),
        "status": "completed",
        "pending_safety_checks": [],
        "action": _computer_action(rng),
    }
    if draw(st.booleans()):
        check = {"id": item_id(rng, "cu_sc"), "code": identifier(rng), "message": phrase(rng)}
        call["pending_safety_checks"] = [check]
    screenshot: Body = {"type": "computer_screenshot"}
    if draw(st.booleans()):
        screenshot["image_url"] = media.data_url("image/png", media.PNG)
    else:
        screenshot["file_id"] = file_id(rng)
    out: Body = {"type": "computer_call_output", "call_id": call["call_id"], "output": screenshot}
    if call["pending_safety_checks"] and draw(st.booleans()):
        out["acknowledged_safety_checks"] = [dict(c) for c in call["pending_safety_checks"]]
    return [call, out]


def _image_call(draw: Draw, rng: Rng) -> list[Body]:
    item: Body = {
        "type": "image_generation_call",
        "id": item_id(rng, "ig"),
        "status": "completed",
        "result": media.PNG_B64,
    }
    if draw(st.booleans()):
        item["revised_prompt"] = phrase(rng)
    return [item]


def _code_call(draw: Draw, rng: Rng) -> list[Body]:
    outputs: list[Body] = [{"type": "logs", "logs": phrase(rng)}]
    if draw(st.booleans()):
        outputs.append({"type": "image", "url": url(rng, ".png")})
    return [
        {
            "type": "code_interpreter_call",
            "id": item_id(rng, "ci"),
            "status": "completed",
            "code": f"print('{phrase(rng)}')",
            "container_id": item_id(rng, "cntr"),
            "outputs": outputs,
        }
    ]


def _shell_pairs(draw: Draw, rng: Rng, kind: str) -> list[Body]:
    """A `local` shell call, a `shell` call or a `patch`, with its output."""
    call = call_id(rng)
    if kind == "local":
        action = {
            "type": "exec",
            "command": ["echo", phrase(rng)],
            "env": {identifier(rng): phrase(rng)},
            "working_directory": "/srv/" + identifier(rng),
        }
        return [
            {
                "type": "local_shell_call",
                "id": item_id(rng, "lsh"),
                "call_id": call,
                "status": "completed",
                "action": action,
            },
            {"type": "local_shell_call_output", "id": call, "output": phrase(rng)},
        ]
    if kind == "shell":
        run = {"stdout": phrase(rng), "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}
        return [
            {"type": "shell_call", "call_id": call, "action": {"commands": [phrase(rng)]}},
            {"type": "shell_call_output", "call_id": call, "output": [run]},
        ]
    operation = {"type": "create_file", "path": identifier(rng) + ".md", "diff": phrase(rng)}
    return [
        {
            "type": "apply_patch_call",
            "call_id": call,
            "status": "completed",
            "operation": operation,
        },
        {
            "type": "apply_patch_call_output",
            "call_id": call,
            "status": "completed",
            "output": phrase(rng),
        },
    ]


def _mcp_items(draw: Draw, rng: Rng, ctx: Ctx, kind: str) -> list[Body]:
    """A server's tool `list`, a `call`, or an `approval` request and its response."""
    server = rng.choice(ctx.servers) if ctx.servers else identifier(rng)
    name = identifier(rng)
    if kind == "list":
        tool: Body = {"name": name, "input_schema": json_schema(rng)}
        if rng.random() < 0.5:
            tool["description"] = phrase(rng)
        return [
            {
                "type": "mcp_list_tools",
                "id": item_id(rng, "mcpl"),
                "server_label": server,
                "tools": [tool],
            }
        ]
    if kind == "call":
        call: Body = {
            "type": "mcp_call",
            "id": item_id(rng, "mcp"),
            "server_label": server,
            "name": name,
            "arguments": json_text(rng),
        }
        if rng.random() < 0.7:
            call["output"] = phrase(rng)
        return [call]
    request = {
        "type": "mcp_approval_request",
        "id": item_id(rng, "mcpr"),
        "server_label": server,
        "name": name,
        "arguments": json_text(rng),
    }
    response: Body = {
        "type": "mcp_approval_response",
        "approval_request_id": request["id"],
        "approve": rng.random() < 0.5,
    }
    if rng.random() < 0.5:
        response["reason"] = phrase(rng)
    return [request, response]


def _stored(draw: Draw, rng: Rng, reference: bool) -> list[Body]:
    """Items that point at state kept by the provider: a reference, a compaction."""
    if reference:
        ref: Body = {"id": item_id(rng, "msg")}
        if draw(st.booleans()):
            ref["type"] = "item_reference"
        return [ref]
    return [{"type": "compaction", "id": item_id(rng, "cmp"), "encrypted_content": opaque(rng)}]


Turn = Callable[[Draw, Rng, Ctx], list[Body]]
TURNS: tuple[Turn, ...] = (
    lambda draw, rng, ctx: [message(draw, rng, "easy")],
    lambda draw, rng, ctx: [message(draw, rng, "input")],
    lambda draw, rng, ctx: [message(draw, rng, "output")],
    lambda draw, rng, ctx: [message(draw, rng, "output")],
    _function_pair,
    lambda draw, rng, ctx: [_reasoning(draw, rng)],
    _custom_pair,
    lambda draw, rng, ctx: _mcp_items(draw, rng, ctx, "list"),
    lambda draw, rng, ctx: _mcp_items(draw, rng, ctx, "call"),
    lambda draw, rng, ctx: _mcp_items(draw, rng, ctx, "approval"),
    lambda draw, rng, ctx: _web_search_call(draw, rng),
    lambda draw, rng, ctx: _file_search_call(draw, rng),
    lambda draw, rng, ctx: _computer_pair(draw, rng),
    lambda draw, rng, ctx: _image_call(draw, rng),
    lambda draw, rng, ctx: _code_call(draw, rng),
    lambda draw, rng, ctx: _shell_pairs(draw, rng, "local"),
    lambda draw, rng, ctx: _shell_pairs(draw, rng, "shell"),
    lambda draw, rng, ctx: _shell_pairs(draw, rng, "patch"),
    lambda draw, rng, ctx: _stored(draw, rng, reference=True),
    lambda draw, rng, ctx: _stored(draw, rng, reference=False),
)
"""Messages first: hypothesis shrinks towards them. The model's own output messages come
twice: agents replay them every turn, with their annotations."""


def input_items(draw: Draw, rng: Rng, ctx: Ctx) -> list[Body]:
    """A user message, then up to five more turns of any kind (the count and the kinds
    drawn with `pick`, which spreads them evenly: hypothesis alone favours the first)."""
    items = [{"role": "user", "content": phrase(rng) if draw(st.booleans()) else parts(draw, rng)}]
    for _ in range(pick(draw, (0, 1, 2, 3, 4, 5))):
        items.extend(pick(draw, TURNS)(draw, rng, ctx))
    return items
