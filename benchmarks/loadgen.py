"""The load generator: fixed request lists at fixed concurrency over keep-alive connections.

Each batch stops by itself when its list is done. CPU of the proxy under test is read
before and after the batch, together with everything else that ran on its core, so a
report can tell a slow proxy from a busy machine.
"""

from __future__ import annotations

import asyncio
import dataclasses
import random
import statistics
import time
from dataclasses import dataclass, field

import orjson
from procs import PROXY_CPU, Proc, core_busy_seconds
from rawhttp import ClientConnection, Response, post

WORDS = (
    "the quarterly report shows steady growth in subscriptions while churn fell slightly after "
    "the onboarding redesign and support response times improved across regions"
).split(" ")
PII = "contact jane.doe@example.com about DE89370400440532013000"


def prompt(rng: random.Random, pii: bool, size: int = 4096) -> str:
    """`size` bytes of business prose; with `pii`, an e-mail address and an IBAN inside."""
    words: list[str] = []
    while sum(len(w) + 1 for w in words) < size:
        words.append(rng.choice(WORDS))
    if pii:
        words.insert(len(words) // 2, PII)
    return " ".join(words)[:size]


@dataclass(frozen=True)
class Api:
    """A client API the benchmark speaks, so that one workload can be sent in each: the
    same prompt as one user message, and streams of the same number of SSE events (the
    upstream sends as many content events as the request's token limit, `limit_key`,
    framed by `framing_events` others; see upstream.py)."""

    name: str
    path: str
    items_key: str
    limit_key: str
    framing_events: int
    stream_end: bytes
    """What only the last event of a whole stream carries."""
    audit_api: str
    """How the sidecar's audit records name it."""
    stream_fields: tuple[tuple[str, object], ...] = ()

    def body(self, text: str, *, stream_events: int | None = None) -> bytes:
        body: dict[str, object] = {
            "model": "gpt-4o",
            self.items_key: [{"role": "user", "content": text}],
        }
        if stream_events is not None:
            body["stream"] = True
            body.update(self.stream_fields)
            body[self.limit_key] = max(1, stream_events - self.framing_events)
        return orjson.dumps(body)


CHAT = Api(
    name="chat",
    path="/v1/chat/completions",
    items_key="messages",
    limit_key="max_tokens",
    framing_events=4,  # role, finish, usage, [DONE]
    stream_end=b"[DONE]",
    audit_api="openai.chat_completions",
    stream_fields=(("stream_options", {"include_usage": True}),),
)
RESPONSES = Api(
    name="responses",
    path="/v1/responses",
    items_key="input",  # the item-list form, as agents send it
    limit_key="max_output_tokens",
    framing_events=8,  # created, in_progress, 2 added, text done, 2 done, completed
    stream_end=b"response.completed",
    audit_api="openai.responses",
)


@dataclass
class Target:
    name: str
    port: int
    key: str
    proc: Proc | None = None
    """The process whose CPU a batch measures (None: the upstream itself)."""
    api: Api = CHAT

    def speaking(self, api: Api) -> Target:
        return dataclasses.replace(self, api=api)

    def request(self, body: bytes) -> bytes:
        return post(self.api.path, body, host=f"127.0.0.1:{self.port}", key=self.key)


@dataclass
class Batch:
    responses: list[Response]
    wall: float
    cpu: float = 0.0
    foreign_cpu: float = 0.0
    """CPU time of other processes on the proxy's core during the batch."""
    errors: list[str] = field(default_factory=list)

    def latencies(self) -> list[float]:
        return [r.latency for r in self.responses if r.status == 200]

    def ttfbs(self) -> list[float]:
        return [r.ttfb for r in self.responses if r.status == 200]

    @property
    def rps(self) -> float:
        return len(self.responses) / self.wall if self.wall else 0.0

    @property
    def cpu_per_request(self) -> float:
        return self.cpu / len(self.responses) if self.responses else 0.0

    @classmethod
    def pooled(cls, batches: list[Batch]) -> Batch:
        """Batches of several rounds as one: their requests, time and CPU summed."""
        return cls(
            [r for b in batches for r in b.responses],
            sum(b.wall for b in batches),
            sum(b.cpu for b in batches),
            sum(b.foreign_cpu for b in batches),
            [e for b in batches for e in b.errors],
        )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> float:
    return round(seconds * 1000, 3)


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": ms(percentile(values, 0.5)),
        "p99_ms": ms(percentile(values, 0.99)),
        "mean_ms": ms(statistics.fmean(values)) if values else float("nan"),
    }


def _check(batch: Batch, end: bytes | None) -> None:
    """Non-200s and, with the `end` of a whole stream, streams cut short."""
    for r in batch.responses:
        if r.status != 200:
            batch.errors.append(f"status {r.status}: {bytes(r.body[:200])!r}")
        elif end is not None and end not in r.body:
            batch.errors.append(f"stream without {end.decode()}: {bytes(r.body[-200:])!r}")


class _Meter:
    def __init__(self, proc: Proc | None) -> None:
        self.proc = proc
        self.t0 = time.perf_counter()
        self.cpu0 = proc.cpu() if proc else 0.0
        self.busy0 = core_busy_seconds(PROXY_CPU)

    def finish(self, responses: list[Response], end: bytes | None) -> Batch:
        wall = time.perf_counter() - self.t0
        cpu = self.proc.cpu() - self.cpu0 if self.proc else 0.0
        busy = core_busy_seconds(PROXY_CPU) - self.busy0
        batch = Batch(responses, wall, cpu, max(0.0, busy - cpu) if self.proc else 0.0)
        _check(batch, end)
        return batch


async def run_batch(
    target: Target, bodies: list[bytes], concurrency: int, *, stream: bool = False
) -> Batch:
    """Send every body once, `concurrency` at a time, each connection kept alive."""
    requests = [target.request(b) for b in bodies]
    conns = [await ClientConnection.open("127.0.0.1", target.port) for _ in range(concurrency)]
    results: list[Response | None] = [None] * len(requests)
    indices = iter(range(len(requests)))

    async def worker(conn: ClientConnection) -> None:
        for i in indices:
            results[i] = await conn.request(requests[i])

    meter = _Meter(target.proc)
    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for c in conns:
            c.close()
    end = target.api.stream_end if stream else None
    return meter.finish([r for r in results if r is not None], end)


async def run_pairs(
    direct: Target, through: Target, bodies: list[bytes], *, stream: bool = False
) -> tuple[Batch, Batch]:
    """Concurrency 1, each body first directly then through the proxy, so that both see
    the same moment of the machine; the proxy's CPU covers the whole interleaved run."""
    d_conn = await ClientConnection.open("127.0.0.1", direct.port)
    t_conn = await ClientConnection.open("127.0.0.1", through.port)
    d_requests = [direct.request(b) for b in bodies]
    t_requests = [through.request(b) for b in bodies]
    d_out: list[Response] = []
    t_out: list[Response] = []
    meter = _Meter(through.proc)
    try:
        for d_req, t_req in zip(d_requests, t_requests, strict=True):
            d_out.append(await d_conn.request(d_req))
            t_out.append(await t_conn.request(t_req))
    finally:
        d_conn.close()
        t_conn.close()
    through_batch = meter.finish(t_out, through.api.stream_end if stream else None)
    direct_batch = Batch(d_out, through_batch.wall)
    _check(direct_batch, direct.api.stream_end if stream else None)
    return direct_batch, through_batch
