"""Shared by the reliability tests: the sidecar as a real `llm-router serve` process, and
strict checks of what an app receives in OpenAI's and Anthropic's wire formats."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import orjson
import yaml

from tests.conftest import Emulator, config_dict
from tests.serve_process import spawn_serve, wait_started

ERROR_LOG_MARKERS = (
    "Traceback",
    "internal_error",
    "Unhandled exception",
    "Error handling request",
    "Task exception was never retrieved",
    "Exception ignored",
    '"level":"error"',
    '"level": "error"',
)
"""What must never appear in the sidecar's diagnostic log (stderr)."""


@dataclass
class SidecarProcess:
    """`llm-router serve` in a child process, reading the given config."""

    config: dict[str, Any]
    workdir: Path
    proc: asyncio.subprocess.Process | None = None
    listen: str = ""
    admin: str = ""
    stderr_lines: list[bytes] = field(default_factory=list)
    _reader: asyncio.Task[None] | None = None

    @property
    def audit_path(self) -> Path:
        return self.workdir / "audit.jsonl"

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    async def start(self) -> SidecarProcess:
        cfg = {**self.config, "audit": {"sink": "file", "path": str(self.audit_path)}}
        cfg_file = self.workdir / "config.yaml"
        cfg_file.write_text(yaml.safe_dump(cfg))
        self.proc = await spawn_serve(cfg_file)
        started = await wait_started(self.proc, self.stderr_lines)
        self.listen, self.admin = started["listen"], started["admin"]
        self._reader = asyncio.create_task(self._read_rest())
        return self

    async def _read_rest(self) -> None:
        assert self.proc is not None and self.proc.stderr is not None
        while line := await self.proc.stderr.readline():
            self.stderr_lines.append(line)

    def log_events(self) -> Iterator[dict[str, Any]]:
        for line in self.stderr_lines:
            event = _json_line(line)
            if event:
                yield event

    def log_problems(self) -> list[str]:
        text = [line.decode("utf-8", "replace") for line in self.stderr_lines]
        return [line for line in text if any(m in line for m in ERROR_LOG_MARKERS)]

    def terminate(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)

    async def wait(self, within_s: float = 60) -> int:
        assert self.proc is not None
        code = await asyncio.wait_for(self.proc.wait(), within_s)
        if self._reader is not None:
            await asyncio.wait_for(self._reader, within_s)
        return code

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()
        if self._reader is not None:
            self._reader.cancel()

    def audit_records(self) -> list[dict[str, Any]]:
        if not self.audit_path.exists():
            return []
        return [orjson.loads(line) for line in self.audit_path.read_bytes().splitlines()]

    def rss_bytes(self) -> int:
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
        raise AssertionError("no VmRSS")

    def open_fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    async def readyz(self, session: aiohttp.ClientSession) -> tuple[int, dict[str, Any]]:
        async with session.get(self.admin + "/readyz") as resp:
            return resp.status, orjson.loads(await resp.read())

    async def metric(self, session: aiohttp.ClientSession, name: str) -> float:
        """Sum of every sample of `name` on /metrics."""
        async with session.get(self.admin + "/metrics") as resp:
            text = (await resp.read()).decode()
        total = 0.0
        for line in text.splitlines():
            if line.startswith(name) and line[len(name) : len(name) + 1] in (" ", "{"):
                total += float(line.rsplit(" ", 1)[1])
        return total


def _json_line(line: bytes) -> dict[str, Any]:
    try:
        event = orjson.loads(line)
    except orjson.JSONDecodeError:
        return {}
    return event if isinstance(event, dict) else {}


def providers_with(upstreams: dict[str, Emulator], **settings: Any) -> dict[str, Any]:
    """The fixture's providers with extra settings (e.g. timeouts) on each of them, for
    `make_harness(providers=...)`."""
    providers: dict[str, Any] = config_dict({n: e.base_url for n, e in upstreams.items()})[
        "providers"
    ]
    for provider in providers.values():
        provider.update(settings)
    return providers


# ---- what an app may receive ---------------------------------------------------------------


class WireError(AssertionError):
    """The app received something its SDK could not make sense of."""


def sse_events(raw: bytes) -> list[tuple[str | None, Any]]:
    """Strictly parse a whole SSE body: every event complete, every data payload JSON or
    `[DONE]`. Returns (event name, parsed data) pairs; comments are skipped."""
    text = raw.replace(b"\r\n", b"\n")
    if text and not text.endswith(b"\n\n"):
        raise WireError(f"the stream ends inside an event: {text[-80:]!r}")
    events: list[tuple[str | None, Any]] = []
    for block in text.split(b"\n\n"):
        if not block:
            continue
        name: str | None = None
        data: list[bytes] = []
        for line in block.split(b"\n"):
            if not line or line.startswith(b":"):  # blank lines only separate events
                continue
            key, colon, value = line.partition(b":")
            if not colon:
                raise WireError(f"not an SSE field: {line[:80]!r}")
            value = value[1:] if value.startswith(b" ") else value
            if key == b"event":
                name = value.decode()
            elif key == b"data":
                data.append(value)
            elif key not in (b"id", b"retry"):
                raise WireError(f"unknown SSE field: {line[:80]!r}")
        if not data:
            continue
        payload = b"\n".join(data)
        if payload == b"[DONE]":
            events.append((name, "[DONE]"))
            continue
        try:
            events.append((name, orjson.loads(payload)))
        except orjson.JSONDecodeError:
            raise WireError(f"an event whose data is not JSON: {payload[:80]!r}") from None
    return events


def openai_error(body: Any) -> dict[str, Any]:
    """OpenAI's error object: {"error": {"message", "type", "code", ...}}."""
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        raise WireError(f"not an OpenAI error body: {str(body)[:200]}")
    error: dict[str, Any] = body["error"]
    if not isinstance(error.get("message"), str) or "type" not in error:
        raise WireError(f"OpenAI error without message/type: {error}")
    return error


def anthropic_error(body: Any) -> dict[str, Any]:
    """Anthropic's error object: {"type": "error", "error": {"type", "message"}}."""
    if not isinstance(body, dict) or body.get("type") != "error":
        raise WireError(f"not an Anthropic error body: {str(body)[:200]}")
    error = body.get("error")
    if not isinstance(error, dict) or not isinstance(error.get("type"), str):
        raise WireError(f"Anthropic error without type: {body}")
    if not isinstance(error.get("message"), str):
        raise WireError(f"Anthropic error without message: {body}")
    return error


@dataclass
class Outcome:
    """What the app got, reduced to what the audit record must agree with."""

    status: int
    complete: bool
    error_code: str | None
    route: str | None
    decision_id: str | None
    text: str = ""


def _whole_body(
    status: int, headers: Any, raw: bytes, error_of: Callable[[Any], dict[str, Any]]
) -> tuple[Any, Outcome | None]:
    """A reply that is one JSON body: the body, and the outcome when it is an error."""
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise WireError(f"status {status} with a body that is not JSON: {raw[:120]!r}") from None
    if status != 200:
        code = error_of(body).get("code")
        return body, Outcome(status, False, code, *_ids(headers))
    return body, None


def _ids(headers: Any) -> tuple[str | None, str | None]:
    return headers.get("x-llm-router-route"), headers.get("x-llm-router-decision-id")


def check_openai(status: int, headers: Any, raw: bytes, stream: bool) -> Outcome:
    route, decision = _ids(headers)
    if status != 200 or not stream:
        body, failed = _whole_body(status, headers, raw, openai_error)
        if failed is not None:
            return failed
        if body.get("object") != "chat.completion":
            raise WireError(f"not a chat.completion: {str(body)[:200]}")
        text = body["choices"][0]["message"]["content"]
        if not isinstance(text, str):
            raise WireError("a completion without text content")
        return Outcome(200, True, None, route, decision, text)
    events = sse_events(raw)
    datas = [data for _, data in events]
    errors = [d for d in datas if isinstance(d, dict) and "error" in d]
    if errors:
        if len(errors) != 1 or datas[-1] is not errors[0] or "[DONE]" in datas:
            raise WireError("an error event that is not the stream's single last event")
        return Outcome(200, False, openai_error(errors[0]).get("code"), route, decision)
    if not datas or datas[-1] != "[DONE]" or datas.count("[DONE]") != 1:
        raise WireError("a stream that neither completes with [DONE] nor ends with an error")
    text = ""
    for data in datas[:-1]:
        if data.get("object") != "chat.completion.chunk":
            raise WireError(f"not a chunk: {str(data)[:200]}")
        for choice in data.get("choices") or []:
            text += choice.get("delta", {}).get("content") or ""
    return Outcome(200, True, None, route, decision, text)


def check_anthropic(status: int, headers: Any, raw: bytes, stream: bool) -> Outcome:
    route, decision = _ids(headers)
    if status != 200 or not stream:
        body, failed = _whole_body(status, headers, raw, anthropic_error)
        if failed is not None:
            return failed
        if body.get("type") != "message" or not isinstance(body.get("content"), list):
            raise WireError(f"not a message: {str(body)[:200]}")
        text = "".join(b.get("text", "") for b in body["content"] if b.get("type") == "text")
        return Outcome(200, True, None, route, decision, text)
    events = sse_events(raw)
    names = [name for name, _ in events]
    if any(name is None for name in names):
        raise WireError("an Anthropic stream event without a name")
    if "error" in names:
        if names.count("error") != 1 or names[-1] != "error" or "message_stop" in names:
            raise WireError("an error event that is not the stream's single last event")
        return Outcome(200, False, anthropic_error(events[-1][1]).get("code"), route, decision)
    if not names or names[0] != "message_start" or names[-1] != "message_stop":
        raise WireError(f"an incomplete Anthropic stream: {names}")
    text = "".join(
        data["delta"].get("text", "")
        for name, data in events
        if name == "content_block_delta" and data["delta"].get("type") == "text_delta"
    )
    return Outcome(200, True, None, route, decision, text)
