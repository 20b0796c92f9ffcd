"""The whole-body walk as the app-facing APIs run it, for tests that start from a body."""

from __future__ import annotations

from typing import Any

from sidecar.api import fields_anthropic, fields_openai
from sidecar.classify.model import Segment
from sidecar.classify.walk import walk


def chat_segments(body: dict[str, Any]) -> list[Segment]:
    return walk(body, fields_openai.CHAT).segments


def embedding_segments(body: dict[str, Any]) -> list[Segment]:
    return walk(body, fields_openai.EMBEDDINGS).segments


def anthropic_segments(body: dict[str, Any]) -> list[Segment]:
    return walk(body, fields_anthropic.MESSAGES).segments
