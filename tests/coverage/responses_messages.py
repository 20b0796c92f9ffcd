"""Responses API messages and their parts: input_text, input_image and input_file parts,
output_text with annotations and logprobs, refusals, and the ids items carry.

Types from `openai.types.responses` (`easy_input_message_param`, `response_input_*_param`,
`response_output_*_param`). Tool outputs and saved-prompt variables are made of the same
input parts.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.coverage import media
from tests.coverage.primitives import (
    Draw,
    Rng,
    flags,
    id_tail,
    identifier,
    one_in,
    phrase,
    pick,
    url,
)

Body = dict[str, Any]

IMAGE_DETAILS = ("auto", "low", "high", "original")
STATUSES = ("in_progress", "completed", "incomplete")


def item_id(rng: Rng, prefix: str) -> str:
    return f"{prefix}_" + id_tail(rng, 24)


def call_id(rng: Rng) -> str:
    return "call_" + id_tail(rng, 24)


def file_id(rng: Rng) -> str:
    return "file-" + id_tail(rng, 22)


def _breakpoint(draw: Draw, rng: Rng, part: Body) -> Body:
    if one_in(draw, 6):
        point: Body = {"mode": "explicit"}
        if rng.random() < 0.5:
            point["ttl"] = rng.choice(("30m", "12h"))
        part["prompt_cache_breakpoint"] = point
    return part


def input_part(draw: Draw, rng: Rng, *, image_detail: bool = True) -> Body:
    """input_text, input_image (data: URL, https URL or file id) or input_file (inline PDF
    or text, URL or file id). `detail` is required on message images, optional in tool
    outputs (`image_detail=False`)."""
    kind = pick(
        draw,
        (
            "text",
            "image_data",
            "image_url",
            "image_file",
            "file_pdf",
            "file_text",
            "file_url",
            "file_id",
        ),
    )
    part: Body
    if kind == "text":
        part = {"type": "input_text", "text": phrase(rng)}
    elif kind.startswith("image"):
        part = {"type": "input_image"}
        if kind == "image_data":
            part["image_url"] = media.data_url("image/png", media.PNG)
        elif kind == "image_url":
            part["image_url"] = url(rng, ".png")
        else:
            part["file_id"] = file_id(rng)
        if image_detail or draw(st.booleans()):
            part["detail"] = rng.choice(IMAGE_DETAILS)
    else:
        part = {"type": "input_file"}
        name = identifier(rng)
        if kind == "file_pdf":
            part["file_data"] = media.data_url("application/pdf", media.PDF)
            part["filename"] = name + ".pdf"
        elif kind == "file_text":
            part["file_data"] = media.data_url("text/plain", phrase(rng).encode())
            part["filename"] = name + ".txt"
        elif kind == "file_url":
            part["file_url"] = url(rng, ".pdf")
        else:
            part["file_id"] = file_id(rng)
        if one_in(draw, 4):
            part["detail"] = rng.choice(("auto", "low", "high"))
    return _breakpoint(draw, rng, part)


def parts(draw: Draw, rng: Rng) -> list[Body]:
    return [input_part(draw, rng) for _ in range(draw(st.integers(1, 3)))]


ANNOTATIONS = ("file_citation", "url_citation", "container_file_citation", "file_path")


def _annotation(rng: Rng, kind: str) -> Body:
    if kind == "file_citation":
        return {
            "type": kind,
            "file_id": file_id(rng),
            "filename": identifier(rng) + ".txt",
            "index": rng.randrange(100),
        }
    if kind == "url_citation":
        start = rng.randrange(50)
        return {
            "type": kind,
            "url": url(rng),
            "title": phrase(rng),
            "start_index": start,
            "end_index": start + rng.randrange(1, 50),
        }
    if kind == "container_file_citation":
        return {
            "type": kind,
            "container_id": item_id(rng, "cntr"),
            "file_id": file_id(rng),
            "filename": identifier(rng) + ".csv",
            "start_index": 0,
            "end_index": 9,
        }
    return {"type": kind, "file_id": file_id(rng), "index": rng.randrange(100)}


def _logprobs(rng: Rng) -> list[Body]:
    def one(top: bool) -> Body:
        token = rng.choice(phrase(rng).split())
        entry: Body = {"token": token, "bytes": list(token.encode()), "logprob": -0.5}
        if top:
            entry["top_logprobs"] = [one(False) for _ in range(rng.randint(0, 2))]
        return entry

    return [one(True) for _ in range(rng.randint(1, 2))]


MESSAGES = ("easy", "input", "output")


def message(draw: Draw, rng: Rng, kind: str) -> Body:
    """An `easy` message (string or parts, any role), an `input` message (parts, no
    assistant) or an `output` message (an assistant's output_text and refusal parts, with an
    id)."""
    if kind == "output":
        content = []
        for refusal in flags(draw, draw(st.integers(1, 2))):
            if refusal:
                content.append({"type": "refusal", "refusal": phrase(rng)})
                continue
            text: Body = {"type": "output_text", "text": phrase(rng), "annotations": []}
            if not one_in(draw, 3):
                kinds = rng.sample(ANNOTATIONS, rng.randint(1, len(ANNOTATIONS)))
                text["annotations"] = [_annotation(rng, kind) for kind in kinds]
            if one_in(draw, 2):
                text["logprobs"] = _logprobs(rng)
            content.append(text)
        message: Body = {
            "id": item_id(rng, "msg"),
            "type": "message",
            "role": "assistant",
            "status": rng.choice(STATUSES),
            "content": content,
        }
        if one_in(draw, 3):
            message["phase"] = rng.choice(("commentary", "final_answer"))
        return message
    if kind == "input":
        message = {
            "role": pick(draw, ("user", "system", "developer")),
            "content": parts(draw, rng),
        }
        typed, status = flags(draw, 2)
        if status:
            message["status"] = rng.choice(STATUSES)
    else:
        role = pick(draw, ("user", "assistant", "system", "developer"))
        message = {"role": role}
        message["content"] = parts(draw, rng) if draw(st.booleans()) else phrase(rng)
        typed, phased = flags(draw, 2)
        if phased and role == "assistant":
            message["phase"] = rng.choice(("commentary", "final_answer", None))
    if typed:
        message["type"] = "message"
    return message


def tool_output(draw: Draw, rng: Rng, *, image_detail: bool = False) -> Any:
    """A tool's output: a string, or input_text / input_image / input_file parts (a custom
    tool's images need their `detail`, a function's need not)."""
    if draw(st.booleans()):
        return phrase(rng)
    count = draw(st.integers(1, 2))
    return [input_part(draw, rng, image_detail=image_detail) for _ in range(count)]


def prompt_variables(draw: Draw, rng: Rng) -> dict[str, Any]:
    """A saved prompt's variables: strings, or input_text / input_image / input_file parts."""
    return {
        identifier(rng): phrase(rng) if rng.random() < 0.5 else input_part(draw, rng)
        for _ in range(draw(st.integers(1, 2)))
    }
