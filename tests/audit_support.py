"""Test helpers for the audit trail: complete sample records, a loopback collector that
can fail, stall, lose acknowledgements and recover, and a stream whose writes block.

The collector behaves like a log collector's HTTP input that de-duplicates on the record's
`hash`: it stores a batch and answers 200 (`ok`), answers 500 without storing (`fail`),
holds the request until the client gives up and stores nothing (`stall`), or stores the
batch and then answers 500 (`ack_lost`: the sender must resend, and the duplicates are
counted rather than stored twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import threading
import uuid
from typing import Any, Literal

import orjson
from aiohttp import web

from sidecar.audit.record import Attempt, AuditRecord

Mode = Literal["ok", "fail", "stall", "ack_lost"]


def sample_record(**overrides: Any) -> AuditRecord:
    """A complete record, as the pipeline writes for an allowed, served request."""
    record = AuditRecord(
        decision_id=uuid.uuid4().hex,
        api="openai.chat_completions",
        workload={
            "namespace": "claims",
            "pod": "claims-api-1",
            "service_account": "claims",
            "labels": {},
        },
        model_requested="gpt-4o",
        model="gpt-4o",
        decision="allow",
        classification={
            "level": "regulated",
            "categories": ["pii"],
            "tags": {"pii.email": 1},
            "sources": ["content"],
            "truncated": False,
        },
        policy={
            "engine": "embedded",
            "revision": "abc123",
            "allow": True,
            "routes": ["openai:gpt-4o"],
            "reasons": ["pii requires a route with dpa"],
            "obligations": {"redact": [], "provider_preferences": {}},
            "eval_ms": 0.12,
            "error": None,
            "engine_decision_id": None,
        },
        attempts=[Attempt("openai:gpt-4o", "openai", "direct", "ok", 200, 3.1)],
        outcome={
            "status": 200,
            "error_code": None,
            "route": "openai:gpt-4o",
            "provider": "openai",
            "route_kind": "direct",
            "sent_to_aggregator": False,
            "ttfb_ms": 3.6,
            "duration_ms": 3.7,
            "overhead_ms": 0.41,
            "usage": {"prompt_tokens": 12, "completion_tokens": 9, "total_tokens": 21},
        },
        content={"sha256": "0" * 64, "bytes": 123},
    )
    for key, value in overrides.items():
        setattr(record, key, value)
    return record


class Collector:
    """A loopback HTTP collector: POST /ingest with NDJSON (or a JSON array)."""

    def __init__(self, mode: Mode = "ok", stall_seconds: float = 5.0) -> None:
        self.mode: Mode = mode
        self.stall_seconds = stall_seconds
        self.stored: dict[str, dict[str, Any]] = {}
        """Records by hash, in arrival order."""
        self.duplicates = 0
        self.requests: list[tuple[Mode, int]] = []
        """(mode, records in the batch) per request received."""
        self.headers: list[dict[str, str]] = []
        self.url = ""
        self._runner: web.AppRunner | None = None
        self._release = asyncio.Event()

    async def start(self) -> Collector:
        app = web.Application(client_max_size=64 << 20)
        app.router.add_post("/ingest", self._ingest)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}/ingest"
        return self

    async def stop(self) -> None:
        self._release.set()  # stalled requests end now
        if self._runner is not None:
            await self._runner.cleanup()

    def records(self) -> list[dict[str, Any]]:
        return list(self.stored.values())

    def lines(self) -> list[bytes]:
        return [orjson.dumps(r) + b"\n" for r in self.stored.values()]

    async def _ingest(self, request: web.Request) -> web.Response:
        raw = await request.read()
        if request.content_type == "application/json":
            batch = orjson.loads(raw)
        else:
            batch = [orjson.loads(line) for line in raw.splitlines() if line.strip()]
        mode = self.mode
        self.requests.append((mode, len(batch)))
        self.headers.append(dict(request.headers))
        if mode == "fail":
            return web.Response(status=500)
        if mode == "stall":
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._release.wait(), self.stall_seconds)
            return web.Response(status=503)
        for record in batch:
            key = record.get("hash") or record["llm_router"]["hash"]
            if key in self.stored:
                self.duplicates += 1
            else:
                self.stored[key] = record
        if mode == "ack_lost":
            return web.Response(status=500)
        return web.Response(status=200)


class GatedStream(io.RawIOBase):
    """A binary stream whose writes block until `gate` is set: a stdout pipe nobody reads,
    or a log agent that stopped taking lines. `entered` is set once a write is waiting."""

    def __init__(self) -> None:
        super().__init__()
        self.gate = threading.Event()
        self.entered = threading.Event()
        self.lines: list[bytes] = []
        self.threads: set[threading.Thread] = set()
        """The threads that wrote."""

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        self.threads.add(threading.current_thread())
        self.entered.set()
        self.gate.wait()
        self.lines.append(bytes(data))
        return len(data)


def body_size(record: AuditRecord) -> int:
    """What a record takes in the audit buffer: its JSON before the chain fields are set."""
    doc = record.to_dict()
    doc["config_revision"] = "0" * 12
    return len(orjson.dumps(doc))
